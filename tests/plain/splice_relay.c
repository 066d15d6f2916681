/* splice, tee and vmsplice block as the kernel's do, and under libgreen without stopping the
 * other threads: a relay moves 4 MiB from a TCP connection through a pipe to a UNIX socket
 * whose reader is slow (so both the socket input and the socket output make the relay wait),
 * byte-exact; tee waits for data and leaves it in its input; vmsplice waits for room. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "pipe_util.h"

#define TOTAL (4u << 20)

static atomic_int ticks, stop;

static void *ticker(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        sleep_ms(2);
        atomic_fetch_add(&ticks, 1);
    }
    return NULL;
}

/* The source writes after a pause, so that the relay first waits for the TCP socket. */
static void *late_source(void *arg)
{
    sleep_ms(50);
    return pattern_writer_body(arg);
}

struct relay {
    int in, out;
    size_t moved;
};

/* socket -> pipe -> socket with splice, until the input ends. */
static void *relay_body(void *arg)
{
    struct relay *r = arg;
    int p[2];
    CHECK_EQ(pipe(p), 0);
    for (;;) {
        ssize_t n = splice(r->in, NULL, p[1], NULL, 65536, SPLICE_F_MOVE);
        CHECK(n >= 0);
        if (n == 0)
            break;
        while (n > 0) {
            ssize_t m = splice(p[0], NULL, r->out, NULL, (size_t)n, SPLICE_F_MOVE);
            CHECK(m > 0);
            n -= m;
            r->moved += (size_t)m;
        }
    }
    CHECK_EQ(shutdown(r->out, SHUT_WR), 0);
    CHECK_EQ(close(p[0]), 0);
    CHECK_EQ(close(p[1]), 0);
    return NULL;
}

/* Reads the pattern slowly: the relay's output socket fills up. */
static void *slow_sink(void *arg)
{
    int fd = *(int *)arg;
    unsigned char buf[16384];
    size_t off = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        CHECK(n >= 0);
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != pattern(off + (size_t)i)) {
                fprintf(stderr, "FAIL: byte %zu differs\n", off + (size_t)i);
                exit(1);
            }
        off += (size_t)n;
        if ((off / sizeof buf) % 4 == 0)
            sleep_ms(1);
    }
    CHECK_EQ(off, TOTAL);
    return NULL;
}

static void test_relay(void)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(l >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    CHECK_EQ(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    CHECK_EQ(listen(l, 1), 0);
    CHECK_EQ(getsockname(l, (struct sockaddr *)&a, &alen), 0);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(c >= 0);
    CHECK_EQ(connect(c, (struct sockaddr *)&a, sizeof a), 0);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    int u[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, u), 0);

    struct pattern_writer w = {c, TOTAL, 8192, 1};
    struct relay r = {s, u[0], 0};
    pthread_t src, rel, sink;
    int before = atomic_load(&ticks);
    double t0 = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(pthread_create(&sink, NULL, slow_sink, &u[1]), 0);
    CHECK_EQ(pthread_create(&rel, NULL, relay_body, &r), 0);
    CHECK_EQ(pthread_create(&src, NULL, late_source, &w), 0);
    sleep_ms(100);
    check_os_threads();
    CHECK_EQ(pthread_join(src, NULL), 0);
    CHECK_EQ(pthread_join(rel, NULL), 0);
    CHECK_EQ(pthread_join(sink, NULL), 0);
    CHECK_EQ(r.moved, TOTAL);
    CHECK(now_seconds(CLOCK_MONOTONIC) - t0 > 0.1);
    CHECK(atomic_load(&ticks) - before >= 20); /* the ticker ran while the relay waited */
    CHECK(!has_nonblock(s) && !has_nonblock(u[0])); /* flags as the program left them */
    int fds[] = {l, c, s, u[0], u[1]};
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        CHECK_EQ(close(fds[i]), 0);
}

static int tp[2], tq[2];

static void *tee_body(void *arg)
{
    (void)arg;
    ssize_t n = tee(tp[0], tq[1], 100, 0); /* waits: tp is empty */
    return (void *)(intptr_t)n;
}

/* tee waits for data in its input, copies it, and leaves it there. */
static void test_tee(void)
{
    CHECK_EQ(pipe(tp), 0);
    CHECK_EQ(pipe(tq), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, tee_body, NULL), 0);
    int before = atomic_load(&ticks);
    sleep_ms(50);
    CHECK_EQ(write(tp[1], "teedata", 7), 7);
    void *res;
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK_EQ((intptr_t)res, 7);
    CHECK(atomic_load(&ticks) - before >= 5);
    char a[8] = {0}, b[8] = {0};
    CHECK_EQ(read(tp[0], a, 7), 7);
    CHECK_EQ(read(tq[0], b, 7), 7);
    CHECK(memcmp(a, "teedata", 7) == 0 && memcmp(b, "teedata", 7) == 0);
    /* The input's writer gone and nothing left: tee returns 0. */
    CHECK_EQ(close(tp[1]), 0);
    CHECK_EQ(tee(tp[0], tq[1], 100, 0), 0);
    CHECK_EQ(close(tp[0]), 0);
    CHECK_EQ(close(tq[0]), 0);
    CHECK_EQ(close(tq[1]), 0);
}

static int vp[2];
static char vbuf[1000];

static void *vmsplice_body(void *arg)
{
    (void)arg;
    struct iovec iov = {vbuf, sizeof vbuf};
    ssize_t n = vmsplice(vp[1], &iov, 1, 0); /* waits: the pipe is full */
    return (void *)(intptr_t)n;
}

/* vmsplice into a full pipe waits until the reader makes room. */
static void test_vmsplice(void)
{
    CHECK_EQ(pipe(vp), 0);
    int size = fcntl(vp[1], F_GETPIPE_SZ);
    CHECK(size > 0);
    char *fill = calloc(1, (size_t)size);
    CHECK(fill != NULL);
    write_all(vp[1], fill, (size_t)size);
    memset(vbuf, 'v', sizeof vbuf);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, vmsplice_body, NULL), 0);
    int before = atomic_load(&ticks);
    sleep_ms(50);
    read_exact(vp[0], fill, (size_t)size);
    void *res;
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK_EQ((intptr_t)res, (intptr_t)sizeof vbuf);
    CHECK(atomic_load(&ticks) - before >= 5);
    char got[sizeof vbuf];
    read_exact(vp[0], got, sizeof got);
    CHECK(memcmp(got, vbuf, sizeof got) == 0);
    free(fill);
    CHECK_EQ(close(vp[0]), 0);
    CHECK_EQ(close(vp[1]), 0);
}

int main(void)
{
    alarm(30);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, ticker, NULL), 0);
    test_relay();
    test_tee();
    test_vmsplice();
    atomic_store(&stop, 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
    return 0;
}
