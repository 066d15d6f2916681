/* A classic, legacy thread-per-connection TCP echo server.
 *
 *   echo_server serve PORT [READYFILE]
 *
 * binds 127.0.0.1:PORT (0 = any free port), listens with a backlog of 4096, and accepts
 * connections in a blocking loop; every connection gets its own detached thread with a 64 KiB
 * stack, which echoes with blocking read and write until the peer closes.  If READYFILE is
 * given, the actual port is written to it as one decimal line once the server listens (through
 * READYFILE.tmp and rename, so that a reader never sees a partial file); without it the port is
 * printed on stdout.
 *
 * A connection whose first 5 bytes are "STAT\n" gets one line of statistics instead of an echo:
 *
 *   conns_open N conns_total M os_threads T rss_kib R cpu_ms C
 *
 * conns_open / conns_total count the echo connections (the statistics connection itself is not
 * counted); os_threads = entries of /proc/self/task; rss_kib = VmRSS; cpu_ms = user + system
 * CPU time of the process.
 *
 * A connection whose first 5 bytes are "QUIT\n" makes the server exit with status 0 through
 * exit(3), so that what runs at exit does (atexit handlers, such as libgreen's GREEN_STATS report;
 * a tool's summary under valgrind); a signal would kill it without them.  Neither request can be
 * the start of an echo_load message (see its pattern).
 *
 * Run without arguments, the program tests itself: it serves on port 0 in a thread, 20 client
 * threads each do 100 verified round trips of 64 bytes, and it exits with status 0, printing
 * nothing, when all went well.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plain.h"

#define HANDLER_STACK_SIZE (64 * 1024)
#define LISTEN_BACKLOG 4096
#define STAT_REQUEST "STAT\n"
#define QUIT_REQUEST "QUIT\n"
#define REQUEST_LEN 5

static atomic_long conns_open, conns_total;

/* Writes all n bytes (blocking); returns 0, or -1 on error. */
static int write_fully(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads exactly n bytes (blocking); returns 0, or -1 on error or early end of file. */
static int read_fully(int fd, void *data, size_t n)
{
    char *p = data;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static void send_stats(int fd)
{
    struct rusage ru;
    long cpu_ms = -1;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        cpu_ms = (long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
                 (long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
    char line[256];
    int n = snprintf(line, sizeof line,
                     "conns_open %ld conns_total %ld os_threads %d rss_kib %ld cpu_ms %ld\n",
                     atomic_load(&conns_open), atomic_load(&conns_total), os_thread_count(),
                     status_kib("VmRSS:"), cpu_ms);
    if (n > 0 && (size_t)n < sizeof line)
        write_fully(fd, line, (size_t)n);
}

/* One connection: blocking read -> blocking write-all until end of file. */
static void *handle_connection(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[16384];
    size_t have = 0;
    ssize_t n;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    /* The first bytes: read on while what arrived is a proper prefix of a request. */
    for (;;) {
        n = read(fd, buf + have, sizeof buf - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        have += (size_t)n;
        if (have >= REQUEST_LEN ||
            (memcmp(buf, STAT_REQUEST, have) != 0 && memcmp(buf, QUIT_REQUEST, have) != 0))
            break;
    }
    if (have >= REQUEST_LEN && memcmp(buf, QUIT_REQUEST, REQUEST_LEN) == 0)
        exit(0);
    if (have >= REQUEST_LEN && memcmp(buf, STAT_REQUEST, REQUEST_LEN) == 0) {
        /* Not an echo connection: take it out of the counts. */
        atomic_fetch_sub(&conns_open, 1);
        atomic_fetch_sub(&conns_total, 1);
        send_stats(fd);
        close(fd);
        return NULL;
    }
    if (have > 0 && write_fully(fd, buf, have) != 0)
        n = -1;

    while (n > 0) {
        n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            n = 1;
            continue;
        }
        if (n > 0 && write_fully(fd, buf, (size_t)n) != 0)
            break;
    }
    close(fd);
    atomic_fetch_sub(&conns_open, 1);
    return NULL;
}

/* A listening socket on 127.0.0.1:port; stores the actual port.  Exits on failure. */
static int listen_on(int port, int *actual_port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        perror("echo_server: socket");
        exit(1);
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("echo_server: bind");
        exit(1);
    }
    if (listen(fd, LISTEN_BACKLOG) != 0) {
        perror("echo_server: listen");
        exit(1);
    }
    socklen_t len = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("echo_server: getsockname");
        exit(1);
    }
    *actual_port = ntohs(a.sin_port);
    return fd;
}

/* The blocking accept loop: one detached thread with a 64 KiB stack per connection. */
static void accept_loop(int lfd)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (pthread_attr_setstacksize(&attr, HANDLER_STACK_SIZE) != 0) {
        fprintf(stderr, "echo_server: pthread_attr_setstacksize failed\n");
        exit(1);
    }
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                perror("echo_server: accept");
                sleep_ms(10);
                continue;
            }
            perror("echo_server: accept");
            exit(1);
        }
        atomic_fetch_add(&conns_open, 1);
        atomic_fetch_add(&conns_total, 1);
        pthread_t t;
        int err = pthread_create(&t, &attr, handle_connection, (void *)(intptr_t)fd);
        if (err != 0) {
            fprintf(stderr, "echo_server: pthread_create: %s\n", strerror(err));
            atomic_fetch_sub(&conns_open, 1);
            close(fd);
        }
    }
}

static void write_ready_file(const char *path, int port)
{
    size_t len = strlen(path) + 5;
    char *tmp = malloc(len);
    CHECK(tmp != NULL);
    snprintf(tmp, len, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "echo_server: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    free(tmp);
}

static int serve(int argc, char **argv)
{
    char *end;
    long port = strtol(argv[2], &end, 10);
    if (*argv[2] == '\0' || *end != '\0' || port < 0 || port > 65535 || argc > 4) {
        fprintf(stderr, "usage: echo_server serve PORT [READYFILE]\n");
        return 2;
    }
    int actual;
    int lfd = listen_on((int)port, &actual);
    if (argc == 4) {
        write_ready_file(argv[3], actual);
    } else {
        printf("%d\n", actual);
        fflush(stdout);
    }
    accept_loop(lfd);
    return 0;
}

/* ---- Self-test ---------------------------------------------------------------------------- */

#define ST_CLIENTS 20
#define ST_ROUNDS 100
#define ST_MSG 64

static int st_port;
static pthread_mutex_t st_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t st_cond = PTHREAD_COND_INITIALIZER;
static int st_arrived, st_released;

static int st_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)st_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    return fd;
}

static void *st_accept_thread(void *arg)
{
    accept_loop((int)(intptr_t)arg);
    return NULL;
}

static void *st_client(void *arg)
{
    int id = (int)(intptr_t)arg;
    int fd = st_connect();
    unsigned char out[ST_MSG], in[ST_MSG];
    for (int round = 0; round < ST_ROUNDS; round++) {
        /* Consecutive bytes differ by a constant, so a message never starts with "STAT\n". */
        for (int i = 0; i < ST_MSG; i++)
            out[i] = (unsigned char)(id * 37 + round * 11 + i * 5 + 1);
        CHECK(write_fully(fd, out, sizeof out) == 0);
        CHECK(read_fully(fd, in, sizeof in) == 0);
        CHECK(memcmp(in, out, sizeof out) == 0);
        if (round == 0) {
            /* Every client holds its connection (and the server its handler) until the main
             * thread has counted the OS threads. */
            pthread_mutex_lock(&st_mutex);
            st_arrived++;
            pthread_cond_broadcast(&st_cond);
            while (!st_released)
                pthread_cond_wait(&st_cond, &st_mutex);
            pthread_mutex_unlock(&st_mutex);
        }
    }
    CHECK(close(fd) == 0);
    return NULL;
}

static int self_test(void)
{
    int lfd = listen_on(0, &st_port);
    pthread_t server, clients[ST_CLIENTS];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    CHECK_EQ(pthread_create(&server, &attr, st_accept_thread, (void *)(intptr_t)lfd), 0);
    pthread_attr_destroy(&attr);

    for (int i = 0; i < ST_CLIENTS; i++)
        CHECK_EQ(pthread_create(&clients[i], NULL, st_client, (void *)(intptr_t)i), 0);

    /* Peak: 20 clients connected, 20 handlers running. */
    pthread_mutex_lock(&st_mutex);
    while (st_arrived < ST_CLIENTS)
        pthread_cond_wait(&st_cond, &st_mutex);
    check_os_threads();
    CHECK_EQ(atomic_load(&conns_open), ST_CLIENTS);
    st_released = 1;
    pthread_cond_broadcast(&st_cond);
    pthread_mutex_unlock(&st_mutex);

    for (int i = 0; i < ST_CLIENTS; i++)
        CHECK_EQ(pthread_join(clients[i], NULL), 0);

    /* The statistics request. */
    int fd = st_connect();
    CHECK(write_fully(fd, STAT_REQUEST, REQUEST_LEN) == 0);
    char line[256];
    size_t have = 0;
    for (;;) {
        CHECK(have < sizeof line - 1);
        ssize_t r = read(fd, line + have, sizeof line - 1 - have);
        if (r < 0 && errno == EINTR)
            continue;
        CHECK(r >= 0);
        if (r == 0)
            break;
        have += (size_t)r;
    }
    close(fd);
    line[have] = '\0';
    long open, total, rss, cpu;
    int threads;
    CHECK(have > 0 && line[have - 1] == '\n');
    CHECK_EQ(sscanf(line, "conns_open %ld conns_total %ld os_threads %d rss_kib %ld cpu_ms %ld",
                    &open, &total, &threads, &rss, &cpu),
             5);
    CHECK_EQ(total, ST_CLIENTS);
    CHECK(open >= 0 && open <= ST_CLIENTS);
    CHECK(threads >= 1);
    CHECK(rss > 0);
    CHECK(cpu >= 0);

    /* Every handler sees the end of file of its client and closes. */
    for (int i = 0; atomic_load(&conns_open) != 0; i++) {
        CHECK(i < 10000);
        sleep_ms(1);
    }
    CHECK_EQ(atomic_load(&conns_total), ST_CLIENTS);
    return 0;
}

int main(int argc, char **argv)
{
    /* A peer that goes away must not kill the server in the middle of a write. */
    signal(SIGPIPE, SIG_IGN);
    if (argc == 1)
        return self_test();
    if (argc >= 3 && strcmp(argv[1], "serve") == 0)
        return serve(argc, argv);
    fprintf(stderr, "usage: echo_server [serve PORT [READYFILE]]\n");
    return 2;
}
