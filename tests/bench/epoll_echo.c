/* A hand-written epoll echo server: the baseline for scripts/bench_echo.sh, the upper limit of
 * what one core does with this protocol (one thread), or each core (EPOLL_ECHO_THREADS=N: N
 * threads, each with a listening socket of its own on the same port, SO_REUSEPORT, and an epoll
 * set of its own: the kernel spreads the connections).
 *
 *   [EPOLL_ECHO_THREADS=N] epoll_echo serve PORT [READYFILE]
 *
 * Same command line and same statistics protocol as tests/plain/echo_server.c: binds
 * 127.0.0.1:PORT (0 = any free port) with a backlog of 4096; writes the actual port to READYFILE
 * (through READYFILE.tmp and rename) or, without it, prints it on stdout.  A connection whose
 * first 5 bytes are "STAT\n" gets one line instead of an echo:
 *
 *   conns_open N conns_total M os_threads T rss_kib R cpu_ms C
 *
 * (the statistics connection itself is not counted; os_threads is N here).
 *
 * Each thread: one level-triggered epoll set, non-blocking sockets with TCP_NODELAY.  A readable
 * connection gets one read of up to 16 KiB into a shared buffer, which is written back at once;
 * whatever the socket does not take is copied to the connection's own pending buffer, and the
 * connection then waits for EPOLLOUT only (it is not read again until everything it sent has
 * been echoed: the client's own send buffer is the back-pressure).  Idle connections hold no
 * buffer, only their small struct.
 *
 * EPOLL_ECHO_CONN_BUF=1 gives each connection a 16 KiB read buffer of its own instead of the
 * shared one, as a thread per connection has on its stack: the part of a thread-per-connection
 * server's cost that is its design (distinct buffers touched per round trip), not its runtime's.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../plain/plain.h"

#define BUF_SIZE 16384
#define LISTEN_BACKLOG 4096
#define MAX_EVENTS 1024
#define STAT_REQUEST "STAT\n"
#define STAT_REQUEST_LEN 5

struct conn {
    int fd;
    int checked;      /* the first bytes have been told apart from a statistics request */
    size_t npre;      /* bytes of a possible "STAT\n" prefix held back in pre */
    char pre[STAT_REQUEST_LEN];
    char *pending;    /* bytes read but not yet written back (NULL when none) */
    size_t off, len;  /* pending[off..len) is still to be written */
    char *buf;        /* its own read buffer (EPOLL_ECHO_CONN_BUF=1), else NULL: scratch */
};

static __thread int epfd;
static atomic_long conns_open, conns_total;
static __thread char scratch[BUF_SIZE];
/* The listening socket's epoll data: a marker that no connection struct can be. */
static char listener_marker;
/* EPOLL_ECHO_CONN_BUF=1: a read buffer per connection (see the top). */
static int conn_buf;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void close_conn(struct conn *c)
{
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->pending);
    free(c->buf);
    free(c);
    conns_open--;
}

/* The statistics answer: one short line on a fresh socket, whose send buffer takes it at once. */
static void send_stats(struct conn *c)
{
    /* Not an echo connection: take it out of the counts (close_conn takes it out of open). */
    conns_total--;
    struct rusage ru;
    long cpu_ms = -1;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        cpu_ms = (long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
                 (long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
    char line[256];
    int n = snprintf(line, sizeof line,
                     "conns_open %ld conns_total %ld os_threads %d rss_kib %ld cpu_ms %ld\n",
                     conns_open - 1, conns_total, os_thread_count(), status_kib("VmRSS:"), cpu_ms);
    if (n > 0 && (size_t)n < sizeof line) {
        ssize_t w;
        do
            w = send(c->fd, line, (size_t)n, MSG_NOSIGNAL);
        while (w < 0 && errno == EINTR);
    }
    close_conn(c);
}

/* Writes data[0..n) now; keeps what the socket does not take in c->pending and switches the
 * connection to EPOLLOUT.  Returns 0, or -1 when the connection has failed (and is closed). */
static int echo_out(struct conn *c, const char *data, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = send(c->fd, data + done, n - done, MSG_NOSIGNAL);
        if (w > 0) {
            done += (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            close_conn(c);
            return -1;
        }
    }
    if (done == n)
        return 0;
    c->pending = malloc(BUF_SIZE);
    if (!c->pending)
        die("epoll_echo: malloc");
    c->len = n - done;
    c->off = 0;
    memcpy(c->pending, data + done, c->len);
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        die("epoll_echo: epoll_ctl");
    return 0;
}

/* EPOLLOUT with pending bytes: write on; once all is out, free the buffer and read again. */
static void on_writable(struct conn *c)
{
    while (c->off < c->len) {
        ssize_t w = send(c->fd, c->pending + c->off, c->len - c->off, MSG_NOSIGNAL);
        if (w > 0) {
            c->off += (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        } else {
            close_conn(c);
            return;
        }
    }
    free(c->pending);
    c->pending = NULL;
    c->off = c->len = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        die("epoll_echo: epoll_ctl");
}

/* EPOLLIN (or a hang-up or error, which the read reports): one read, echoed back at once. */
static void on_readable(struct conn *c)
{
    char *buf = c->buf ? c->buf : scratch;
    size_t have = c->npre;
    memcpy(buf, c->pre, have);
    ssize_t r;
    do
        r = recv(c->fd, buf + have, BUF_SIZE - have, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (r <= 0) {
        /* End of file or error.  Like echo_server, echo a held-back prefix first (best effort). */
        if (have > 0)
            send(c->fd, buf, have, MSG_NOSIGNAL | MSG_DONTWAIT);
        close_conn(c);
        return;
    }
    have += (size_t)r;
    if (!c->checked) {
        if (have < STAT_REQUEST_LEN && memcmp(buf, STAT_REQUEST, have) == 0) {
            memcpy(c->pre, buf, have); /* a proper prefix of "STAT\n": wait for more */
            c->npre = have;
            return;
        }
        c->checked = 1;
        c->npre = 0;
        if (have >= STAT_REQUEST_LEN && memcmp(buf, STAT_REQUEST, STAT_REQUEST_LEN) == 0) {
            send_stats(c);
            return;
        }
    }
    echo_out(c, buf, have);
}

static void on_listener(int lfd)
{
    for (int i = 0; i < MAX_EVENTS; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                perror("epoll_echo: accept");
                struct timespec ts = {0, 10 * 1000000L};
                nanosleep(&ts, NULL);
                return;
            }
            die("epoll_echo: accept");
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (!c)
            die("epoll_echo: calloc");
        c->fd = fd;
        if (conn_buf && !(c->buf = malloc(BUF_SIZE)))
            die("epoll_echo: malloc");
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
            die("epoll_echo: epoll_ctl");
        conns_open++;
        conns_total++;
    }
}

static int listen_on(int port, int *actual_port, int reuseport)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("epoll_echo: socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        die("epoll_echo: SO_REUSEPORT");
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0)
        die("epoll_echo: bind");
    if (listen(fd, LISTEN_BACKLOG) != 0)
        die("epoll_echo: listen");
    socklen_t len = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        die("epoll_echo: getsockname");
    *actual_port = ntohs(a.sin_port);
    return fd;
}

static void write_ready_file(const char *path, int port)
{
    size_t len = strlen(path) + 5;
    char *tmp = malloc(len);
    if (!tmp)
        die("epoll_echo: malloc");
    snprintf(tmp, len, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "epoll_echo: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    free(tmp);
}

/* One thread's loop: its listening socket and its connections, in its own epoll set. */
static void *serve(void *arg)
{
    int lfd = (int)(intptr_t)arg;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        die("epoll_echo: epoll_create1");
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &listener_marker};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev) != 0)
        die("epoll_echo: epoll_ctl");
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int k = epoll_wait(epfd, events, MAX_EVENTS, -1);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_echo: epoll_wait");
        }
        for (int e = 0; e < k; e++) {
            if (events[e].data.ptr == &listener_marker) {
                on_listener(lfd);
                continue;
            }
            struct conn *c = events[e].data.ptr;
            /* A connection closed earlier in this batch cannot appear later in it: a closed
             * descriptor leaves the epoll set, and epoll_wait's batch holds each one at most
             * once.  Its events are for the mode it is in. */
            if (c->pending)
                on_writable(c);
            else
                on_readable(c);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || strcmp(argv[1], "serve") != 0) {
        fprintf(stderr, "usage: [EPOLL_ECHO_THREADS=N] epoll_echo serve PORT [READYFILE]\n");
        return 2;
    }
    char *end;
    long port = strtol(argv[2], &end, 10);
    if (*argv[2] == '\0' || *end != '\0' || port < 0 || port > 65535) {
        fprintf(stderr, "usage: [EPOLL_ECHO_THREADS=N] epoll_echo serve PORT [READYFILE]\n");
        return 2;
    }
    const char *t = getenv("EPOLL_ECHO_THREADS");
    int threads = t && *t ? atoi(t) : 1;
    if (threads < 1 || threads > 256) {
        fprintf(stderr, "epoll_echo: EPOLL_ECHO_THREADS must be 1 to 256\n");
        return 2;
    }
    const char *b = getenv("EPOLL_ECHO_CONN_BUF");
    conn_buf = b && *b == '1';
    signal(SIGPIPE, SIG_IGN);
    int actual;
    int lfd = listen_on((int)port, &actual, threads > 1);
    for (int i = 1; i < threads; i++) {
        int ignored, fd = listen_on(actual, &ignored, 1);
        pthread_t th;
        if (pthread_create(&th, NULL, serve, (void *)(intptr_t)fd) != 0)
            die("epoll_echo: pthread_create");
    }
    if (argc == 4) {
        write_ready_file(argv[3], actual);
    } else {
        printf("%d\n", actual);
        fflush(stdout);
    }
    serve((void *)(intptr_t)lfd);
    return 0;
}
