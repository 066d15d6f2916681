/* Load generator for an echo server (single-threaded, non-blocking, epoll; one or more processes).
 *
 *   echo_load HOST PORT CONNS ROUNDS MSGSIZE [PROCS [HOLD_SECONDS]]
 *
 * Opens CONNS connections to HOST:PORT (numeric IPv4), spread over PROCS worker processes
 * (default 1), at most 512 connection attempts in flight at once over all processes.  When every
 * connection of every process is established, all of them run at once: each does ROUNDS round
 * trips of MSGSIZE bytes, a message whose bytes derive from (connection index, round, offset),
 * read back and verified byte by byte.  Connections stay open until every connection of every
 * process has finished its rounds; then "STAT\n" is sent on a fresh connection, and only after the
 * server's answer has arrived are the connections closed.  Prints one line
 *
 *   conns N rounds R msgsize S round_trips T seconds W rt_per_sec X errors E
 *
 * (W = wall time of the round-trip phase, from the moment all connections are established until
 * the last round trip is done) and then the server's statistics line prefixed with "server: ".
 * Exit status 0 only when every connection succeeded and every byte was verified; otherwise 1,
 * with the reason on stderr.
 *
 * HOLD_SECONDS (default 0: no hold): after the round trips, the parent prints
 * "holding N connections for S s" on stdout (flushed) and waits that long before it asks for the
 * statistics and releases the connections, so that a caller can measure the system's memory
 * while every connection is open.
 *
 * Processes: the parent forks the workers and only coordinates.  Each worker connects its share,
 * reports on the "up" pipe, waits for a byte on the "go" pipe, runs its rounds, reports on the "up"
 * pipe again, waits for a byte on the "release" pipe, closes everything and exits.  Results go
 * through a shared anonymous mapping.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTS_IN_FLIGHT 512
#define IDLE_TIMEOUT_S 60     /* a worker fails when nothing at all happens for this long */
#define STAT_TIMEOUT_S 10
#define SCRATCH_SIZE (64 * 1024)
#define MAX_EVENTS 1024

/* Per-worker results, in memory shared with the parent. */
struct result {
    long conns_ok;      /* connections that completed all their rounds */
    long round_trips;   /* verified round trips */
    long errors;        /* failed connections */
    int exited_cleanly; /* set just before a worker exits normally */
    char reason[256];   /* first error */
};

enum state { IDLE, CONNECTING, CONNECTED, RUNNING, DONE, FAILED };

struct conn {
    int fd;
    enum state state;
    long index;  /* global connection index */
    long round;
    size_t sent; /* bytes of this round's message written */
    size_t recvd;
};

static struct sockaddr_in server;
static long rounds;
static size_t msgsize;
static unsigned char *scratch_out, *scratch_in;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- The message pattern ------------------------------------------------------------------ */

/* byte(off) = s + k*off + m*(off >> 8) + l*(off >> 16)  (mod 256), with s, k, m, l taken from a
 * hash of (connection, round) and k, m, l odd: crossed connections, reordered or lost bytes are
 * detected, and since consecutive bytes of the first 256 differ by the constant k, no message
 * starts with "STAT\n". */
struct pattern {
    uint8_t s, k, m, l;
};

static struct pattern pattern_of(long conn, long round)
{
    uint64_t h = (uint64_t)conn * 0x9E3779B97F4A7C15ull ^ (uint64_t)round * 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    struct pattern p = {(uint8_t)h, (uint8_t)(h >> 8) | 1, (uint8_t)(h >> 16) | 1,
                        (uint8_t)(h >> 24) | 1};
    return p;
}

/* Fills out[0..n) with the pattern's bytes at offsets off..off+n. */
static void pattern_fill(struct pattern p, size_t off, unsigned char *out, size_t n)
{
    while (n > 0) {
        size_t block = off >> 8;
        size_t in_block = 256 - (off & 255);
        if (in_block > n)
            in_block = n;
        uint8_t base = (uint8_t)(p.s + p.m * (uint8_t)block + p.l * (uint8_t)(off >> 16));
        uint8_t o = (uint8_t)(off & 255);
        for (size_t i = 0; i < in_block; i++)
            out[i] = (uint8_t)(base + p.k * (uint8_t)(o + i));
        off += in_block;
        out += in_block;
        n -= in_block;
    }
}

/* ---- A worker ----------------------------------------------------------------------------- */

static struct result *me;
static int epfd;
static long n_active; /* connections neither DONE nor FAILED */

static void fail_conn(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail_conn(struct conn *c, const char *fmt, ...)
{
    if (me->errors == 0) {
        char what[200];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        snprintf(me->reason, sizeof me->reason, "connection %ld round %ld: %s", c->index,
                 c->round, what);
    }
    me->errors++;
    if (c->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    c->state = FAILED;
    n_active--;
}

/* Starts a non-blocking connect; returns 0, or -1 when it failed at once (the conn is FAILED). */
static int start_connect(struct conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        fail_conn(c, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->state = CONNECTING;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        fail_conn(c, "epoll_ctl: %s", strerror(errno));
        return -1;
    }
    int r;
    do
        r = connect(c->fd, (struct sockaddr *)&server, sizeof server);
    while (r != 0 && errno == EINTR);
    if (r == 0) {
        c->state = CONNECTED;
        return 0;
    }
    if (errno != EINPROGRESS) {
        fail_conn(c, "connect: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* The connection may be readable or writable: push its round trips on until it would block. */
static void drive(struct conn *c)
{
    struct pattern p = pattern_of(c->index, c->round);
    for (;;) {
        int write_blocked = 1, read_blocked = 1;
        if (c->sent < msgsize) {
            size_t n = msgsize - c->sent;
            if (n > SCRATCH_SIZE)
                n = SCRATCH_SIZE;
            pattern_fill(p, c->sent, scratch_out, n);
            ssize_t w = send(c->fd, scratch_out, n, MSG_NOSIGNAL);
            if (w > 0) {
                c->sent += (size_t)w;
                write_blocked = 0;
            } else if (w < 0 && errno == EINTR) {
                write_blocked = 0;
            } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                fail_conn(c, "send: %s", strerror(errno));
                return;
            }
        }
        if (c->recvd < c->sent) {
            size_t n = msgsize - c->recvd; /* the server never sends more than it got */
            if (n > SCRATCH_SIZE)
                n = SCRATCH_SIZE;
            ssize_t r = recv(c->fd, scratch_in, n, 0);
            if (r > 0) {
                read_blocked = 0;
                pattern_fill(p, c->recvd, scratch_out, (size_t)r);
                if (memcmp(scratch_in, scratch_out, (size_t)r) != 0) {
                    size_t i = 0;
                    while (scratch_in[i] == scratch_out[i])
                        i++;
                    fail_conn(c, "byte %zu: expected 0x%02x, got 0x%02x", c->recvd + i,
                              scratch_out[i], scratch_in[i]);
                    return;
                }
                c->recvd += (size_t)r;
                if (c->recvd == msgsize) {
                    me->round_trips++;
                    if (++c->round == rounds) {
                        /* Finished: keep the connection open, but stop listening to it. */
                        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
                        c->state = DONE;
                        me->conns_ok++;
                        n_active--;
                        return;
                    }
                    c->sent = c->recvd = 0;
                    p = pattern_of(c->index, c->round);
                }
            } else if (r == 0) {
                fail_conn(c, "server closed the connection after %zu of %zu bytes", c->recvd,
                          msgsize);
                return;
            } else if (errno == EINTR) {
                read_blocked = 0;
            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                fail_conn(c, "recv: %s", strerror(errno));
                return;
            }
        }
        if (write_blocked && read_blocked)
            return;
    }
}

/* Waits for one byte on fd; returns 0, or -1 on end of file (the parent is gone). */
static int wait_byte(int fd)
{
    char b;
    for (;;) {
        ssize_t r = read(fd, &b, 1);
        if (r == 1)
            return 0;
        if (r < 0 && errno == EINTR)
            continue;
        return -1;
    }
}

static void send_byte(int fd, char b)
{
    while (write(fd, &b, 1) != 1 && errno == EINTR)
        ;
}

/* With next_to_connect: starts the connections from *next_to_connect on, at most max_in_flight at
 * a time, and returns when all are established or failed.  Without: runs the round trips until
 * every connection is DONE or FAILED.  After IDLE_TIMEOUT_S seconds without any event, fails
 * whatever is still pending. */
static void event_loop(struct conn *conns, long n, long *next_to_connect, long max_in_flight)
{
    struct epoll_event events[MAX_EVENTS];
    long in_flight = 0;
    double last_event = now();
    for (;;) {
        /* Connect phase: keep up to max_in_flight connects going. */
        while (next_to_connect && *next_to_connect < n && in_flight < max_in_flight) {
            struct conn *c = &conns[(*next_to_connect)++];
            if (start_connect(c) == 0 && c->state == CONNECTING)
                in_flight++;
        }
        int waiting = next_to_connect ? (in_flight > 0 || *next_to_connect < n) : (n_active > 0);
        if (!waiting)
            return;
        int k = epoll_wait(epfd, events, MAX_EVENTS, 1000);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            perror("echo_load: epoll_wait");
            exit(1);
        }
        if (k == 0) {
            if (now() - last_event > IDLE_TIMEOUT_S) {
                for (long i = 0; i < n; i++) {
                    struct conn *c = &conns[i];
                    if (next_to_connect ? c->state == CONNECTING : c->state == RUNNING) {
                        if (c->state == CONNECTING)
                            in_flight--;
                        fail_conn(c, "timed out after %d s without progress", IDLE_TIMEOUT_S);
                    }
                }
            }
            continue;
        }
        last_event = now();
        for (int e = 0; e < k; e++) {
            struct conn *c = events[e].data.ptr;
            if (c->state == CONNECTING) {
                int err = 0;
                socklen_t len = sizeof err;
                if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
                    err = errno;
                if (err == 0 && !(events[e].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
                    continue; /* not finished yet */
                in_flight--;
                if (err != 0)
                    fail_conn(c, "connect: %s", strerror(err));
                else if (events[e].events & (EPOLLERR | EPOLLHUP))
                    fail_conn(c, "connect: connection hung up");
                else
                    c->state = CONNECTED;
            } else if (c->state == RUNNING) {
                drive(c);
            }
            /* CONNECTED (waiting for the round phase): nothing to do; edge-triggered events that
             * arrive meanwhile are made up for by the drive() that starts each connection. */
        }
    }
}

static void worker(long first, long n, long max_in_flight, int up, int go, int release)
{
    struct conn *conns = calloc((size_t)(n > 0 ? n : 1), sizeof *conns);
    scratch_out = malloc(SCRATCH_SIZE);
    scratch_in = malloc(SCRATCH_SIZE);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!conns || !scratch_out || !scratch_in || epfd < 0) {
        snprintf(me->reason, sizeof me->reason, "worker setup failed: %s", strerror(errno));
        me->errors = n > 0 ? n : 1;
        _exit(1);
    }
    for (long i = 0; i < n; i++) {
        conns[i].fd = -1;
        conns[i].state = IDLE;
        conns[i].index = first + i;
    }
    n_active = n;

    /* Phase 1: connect. */
    long next = 0;
    event_loop(conns, n, &next, max_in_flight);
    send_byte(up, 'c');
    if (wait_byte(go) != 0)
        _exit(1);

    /* Phase 2: the round trips, all connections at once. */
    for (long i = 0; i < n; i++) {
        struct conn *c = &conns[i];
        if (c->state != CONNECTED)
            continue;
        c->state = RUNNING;
        if (rounds == 0) {
            epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
            c->state = DONE;
            me->conns_ok++;
            n_active--;
            continue;
        }
        drive(c);
    }
    event_loop(conns, n, NULL, 0);
    send_byte(up, 'd');

    /* Phase 3: hold every connection open until the parent has the server's statistics. */
    wait_byte(release);
    for (long i = 0; i < n; i++)
        if (conns[i].fd >= 0)
            close(conns[i].fd);
    me->exited_cleanly = 1;
    _exit(me->errors == 0 && me->conns_ok == n ? 0 : 1);
}

/* ---- The parent --------------------------------------------------------------------------- */

static pid_t *pids;
static long procs;
static struct result *results;

static void kill_workers(void)
{
    for (long i = 0; i < procs; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGKILL);
    for (long i = 0; i < procs; i++)
        if (pids[i] > 0)
            waitpid(pids[i], NULL, 0);
}

/* Collects `count` bytes from the up pipe; fails when a worker dies before. */
static void collect(int up, long count, const char *phase)
{
    while (count > 0) {
        struct pollfd pfd = {.fd = up, .events = POLLIN};
        int r = poll(&pfd, 1, 1000);
        if (r < 0 && errno != EINTR) {
            perror("echo_load: poll");
            kill_workers();
            exit(1);
        }
        if (r > 0) {
            char buf[64];
            ssize_t got = read(up, buf, (size_t)(count < 64 ? count : 64));
            if (got > 0)
                count -= got;
            continue;
        }
        for (long i = 0; i < procs; i++) {
            int status;
            if (pids[i] > 0 && waitpid(pids[i], &status, WNOHANG) == pids[i]) {
                pids[i] = 0;
                fprintf(stderr, "echo_load: worker %ld died during the %s phase (%s %d)%s%s\n", i,
                        phase, WIFSIGNALED(status) ? "signal" : "status",
                        WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
                        results[i].reason[0] ? ": " : "", results[i].reason);
                kill_workers();
                exit(1);
            }
        }
    }
}

/* Sends "STAT\n" on a fresh connection and reads the answer up to end of file into line. */
static int request_stats(char *line, size_t size, char *why, size_t why_size)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, why_size, "socket: %s", strerror(errno));
        return -1;
    }
    struct timeval tv = {STAT_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int r;
    do
        r = connect(fd, (struct sockaddr *)&server, sizeof server);
    while (r != 0 && errno == EINTR);
    if (r != 0) {
        snprintf(why, why_size, "connect: %s", strerror(errno));
        close(fd);
        return -1;
    }
    const char *req = "STAT\n";
    size_t off = 0;
    while (off < 5) {
        ssize_t w = send(fd, req + off, 5 - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(why, why_size, "send: %s", strerror(errno));
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    size_t have = 0;
    for (;;) {
        if (have >= size - 1) {
            snprintf(why, why_size, "answer too long");
            close(fd);
            return -1;
        }
        ssize_t got = recv(fd, line + have, size - 1 - have, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(why, why_size, "recv: %s", strerror(errno));
            close(fd);
            return -1;
        }
        if (got == 0)
            break;
        have += (size_t)got;
    }
    close(fd);
    while (have > 0 && (line[have - 1] == '\n' || line[have - 1] == '\r'))
        have--;
    line[have] = '\0';
    if (have == 0) {
        snprintf(why, why_size, "empty answer");
        return -1;
    }
    return 0;
}

static long parse_long(const char *s, const char *what, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
        fprintf(stderr, "echo_load: bad %s: %s\n", what, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 6 || argc > 8) {
        fprintf(stderr,
                "usage: echo_load HOST PORT CONNS ROUNDS MSGSIZE [PROCS [HOLD_SECONDS]]\n");
        return 2;
    }
    memset(&server, 0, sizeof server);
    server.sin_family = AF_INET;
    if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) {
        fprintf(stderr, "echo_load: HOST must be a numeric IPv4 address: %s\n", argv[1]);
        return 2;
    }
    server.sin_port = htons((uint16_t)parse_long(argv[2], "PORT", 1, 65535));
    long conns = parse_long(argv[3], "CONNS", 1, 10000000);
    rounds = parse_long(argv[4], "ROUNDS", 0, 1000000000);
    msgsize = (size_t)parse_long(argv[5], "MSGSIZE", 1, 1L << 30);
    procs = argc >= 7 ? parse_long(argv[6], "PROCS", 1, 1024) : 1;
    long hold_seconds = argc >= 8 ? parse_long(argv[7], "HOLD_SECONDS", 0, 86400) : 0;
    if (procs > conns)
        procs = conns;

    /* Every worker must stay within its descriptor limit. */
    long per_proc = (conns + procs - 1) / procs;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (rlim_t)per_proc + 16 > rl.rlim_cur) {
        fprintf(stderr,
                "echo_load: %ld connections per process exceed the descriptor limit %llu; "
                "use more PROCS\n",
                per_proc, (unsigned long long)rl.rlim_cur);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    results = mmap(NULL, (size_t)procs * sizeof *results, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pids = calloc((size_t)procs, sizeof *pids);
    int up[2], go[2], release[2];
    if (results == MAP_FAILED || !pids || pipe(up) != 0 || pipe(go) != 0 || pipe(release) != 0) {
        perror("echo_load: setup");
        return 1;
    }
    long max_in_flight = MAX_CONNECTS_IN_FLIGHT / procs;
    if (max_in_flight < 1)
        max_in_flight = 1;

    fflush(stdout);
    fflush(stderr);
    long first = 0;
    for (long i = 0; i < procs; i++) {
        long n = conns / procs + (i < conns % procs ? 1 : 0);
        pid_t pid = fork();
        if (pid < 0) {
            perror("echo_load: fork");
            kill_workers();
            return 1;
        }
        if (pid == 0) {
            close(up[0]);
            close(go[1]);
            close(release[1]);
            me = &results[i];
            worker(first, n, max_in_flight, up[1], go[0], release[0]);
        }
        pids[i] = pid;
        first += n;
    }
    close(up[1]);
    close(go[0]);
    close(release[0]);

    collect(up[0], procs, "connect");
    double t0 = now();
    for (long i = 0; i < procs; i++)
        send_byte(go[1], 'g');
    collect(up[0], procs, "round-trip");
    double seconds = now() - t0;

    if (hold_seconds > 0) {
        printf("holding %ld connections for %ld s\n", conns, hold_seconds);
        fflush(stdout);
        struct timespec hold = {hold_seconds, 0};
        while (nanosleep(&hold, &hold) != 0 && errno == EINTR)
            ;
    }

    /* All connections of all workers are still open. */
    char stat_line[512], why[256];
    int stat_ok = request_stats(stat_line, sizeof stat_line, why, sizeof why) == 0;

    for (long i = 0; i < procs; i++)
        send_byte(release[1], 'r');
    int failed = 0;
    for (long i = 0; i < procs; i++) {
        int status;
        while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(status) || !results[i].exited_cleanly) {
            fprintf(stderr, "echo_load: worker %ld did not exit cleanly\n", i);
            failed = 1;
        }
    }

    long round_trips = 0, errors = 0, ok = 0;
    for (long i = 0; i < procs; i++) {
        round_trips += results[i].round_trips;
        errors += results[i].errors;
        ok += results[i].conns_ok;
        if (results[i].reason[0])
            fprintf(stderr, "echo_load: worker %ld: %ld errors, first: %s\n", i,
                    results[i].errors, results[i].reason);
    }
    printf("conns %ld rounds %ld msgsize %zu round_trips %ld seconds %.3f rt_per_sec %.0f "
           "errors %ld\n",
           conns, rounds, msgsize, round_trips, seconds,
           seconds > 0 ? (double)round_trips / seconds : 0.0, errors);
    printf("server: %s\n", stat_ok ? stat_line : "(no statistics)");
    fflush(stdout);

    if (!stat_ok) {
        fprintf(stderr, "echo_load: statistics request failed: %s\n", why);
        failed = 1;
    }
    if (errors != 0 || ok != conns || round_trips != conns * rounds) {
        fprintf(stderr, "echo_load: %ld of %ld connections completed, %ld of %ld round trips\n",
                ok, conns, round_trips, conns * rounds);
        failed = 1;
    }
    return failed ? 1 : 0;
}
