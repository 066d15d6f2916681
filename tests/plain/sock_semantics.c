/* Socket semantics that blocking I/O between threads must keep: errors (ECONNREFUSED,
 * ECONNRESET, EPIPE, EBADF), accept4 flags, user-visible O_NONBLOCK (fcntl, FIONBIO) and its
 * absence on blocking sockets, SO_RCVTIMEO / SO_SNDTIMEO, a large write completing against a
 * slow reader, half-close, shutdown waking a blocked reader, and non-blocking connect. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plain.h"

/* A TCP listener on 127.0.0.1 with a kernel-chosen port; *addr gets its address. */
static int tcp_listener(struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(bind(fd, (struct sockaddr *)addr, sizeof *addr), 0);
    socklen_t len = sizeof *addr;
    CHECK_EQ(getsockname(fd, (struct sockaddr *)addr, &len), 0);
    CHECK(addr->sin_port != 0);
    CHECK_EQ(listen(fd, 16), 0);
    return fd;
}

/* A connected pair of blocking TCP sockets over loopback (the kernel completes the handshake
 * from the backlog, so connect then accept in one thread is fine). */
static void tcp_pair(int *client, int *server)
{
    struct sockaddr_in addr;
    int l = tcp_listener(&addr);
    *client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(*client >= 0);
    CHECK_EQ(connect(*client, (struct sockaddr *)&addr, sizeof addr), 0);
    *server = accept(l, NULL, NULL);
    CHECK(*server >= 0);
    CHECK_EQ(close(l), 0);
}

/* An address on 127.0.0.1 where nothing listens: *holder is a socket bound there but not
 * listening, so no other program can take the port while the test uses it. */
static void closed_port(struct sockaddr_in *addr, int *holder)
{
    *holder = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(*holder >= 0);
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(bind(*holder, (struct sockaddr *)addr, sizeof *addr), 0);
    socklen_t len = sizeof *addr;
    CHECK_EQ(getsockname(*holder, (struct sockaddr *)addr, &len), 0);
}

static void *connect_refused_body(void *arg)
{
    struct sockaddr_in *addr = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    errno = 0;
    CHECK_EQ(connect(fd, (struct sockaddr *)addr, sizeof *addr), -1);
    CHECK_EQ(errno, ECONNREFUSED);
    CHECK_EQ(close(fd), 0);
    return NULL;
}

/* A blocking connect to a loopback port with no listener fails with ECONNREFUSED. */
static void test_connect_refused(void)
{
    struct sockaddr_in addr;
    int holder;
    closed_port(&addr, &holder);
    connect_refused_body(&addr);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, connect_refused_body, &addr), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(close(holder), 0);
}

static void *connect_after_delay_body(void *arg)
{
    struct sockaddr_in *addr = arg;
    sleep_ms(30);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    CHECK_EQ(connect(fd, (struct sockaddr *)addr, sizeof *addr), 0);
    CHECK_EQ(write(fd, "hello", 5), 5);
    char c;
    CHECK_EQ(read(fd, &c, 1), 0); /* the server closes */
    CHECK_EQ(close(fd), 0);
    return NULL;
}

/* accept4(SOCK_CLOEXEC|SOCK_NONBLOCK) sets FD_CLOEXEC and O_NONBLOCK; accept sets neither. */
static void test_accept4_flags(void)
{
    struct sockaddr_in addr;
    int l = tcp_listener(&addr);
    pthread_t t;

    CHECK_EQ(pthread_create(&t, NULL, connect_after_delay_body, &addr), 0);
    int s = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK); /* blocks: l is blocking */
    CHECK(s >= 0);
    CHECK(has_cloexec(s));
    CHECK(has_nonblock(s));
    /* Non-blocking: reading before the data is there may give EAGAIN; poll, then read. */
    struct pollfd pfd = {s, POLLIN, 0};
    CHECK_EQ(poll(&pfd, 1, 10000), 1);
    char buf[8];
    size_t got = 0;
    while (got < 5) {
        ssize_t n = read(s, buf + got, sizeof buf - got);
        if (n < 0) {
            CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
            CHECK_EQ(poll(&pfd, 1, 10000), 1);
            continue;
        }
        CHECK(n > 0);
        got += (size_t)n;
    }
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_EQ(close(s), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);

    CHECK_EQ(pthread_create(&t, NULL, connect_after_delay_body, &addr), 0);
    s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    CHECK(!has_cloexec(s));
    CHECK(!has_nonblock(s));
    read_exact(s, buf, 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_EQ(close(s), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK(has_cloexec(l));
    CHECK(!has_nonblock(l));
    CHECK_EQ(close(l), 0);

    s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(s >= 0);
    CHECK(has_cloexec(s));
    CHECK(has_nonblock(s));
    CHECK_EQ(close(s), 0);
    s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s >= 0);
    CHECK(!has_cloexec(s));
    CHECK(!has_nonblock(s));
    CHECK_EQ(close(s), 0);
}

struct delayed_write {
    int fd;
    long delay_ms;
    const char *data;
};

static void *delayed_write_body(void *arg)
{
    struct delayed_write *w = arg;
    sleep_ms(w->delay_ms);
    write_all(w->fd, w->data, strlen(w->data));
    return NULL;
}

/* With O_NONBLOCK, read and recv with no data fail at once with EAGAIN. */
static void check_eagain_at_once(int a)
{
    char buf[16];
    double start = now_seconds(CLOCK_MONOTONIC);
    errno = 0;
    CHECK_EQ(read(a, buf, sizeof buf), -1);
    CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
    errno = 0;
    CHECK_EQ(recv(a, buf, sizeof buf, 0), -1);
    CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start < 1.0);
}

/* Blocking: a read on a waits (at least 50 ms) for the bytes another thread writes to b. */
static void check_read_blocks(int a, int b)
{
    char buf[4];
    pthread_t t;
    struct delayed_write w = {b, 50, "abc"};
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(pthread_create(&t, NULL, delayed_write_body, &w), 0);
    read_exact(a, buf, 3);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start >= 0.045);
    CHECK(memcmp(buf, "abc", 3) == 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
}

static void set_nonblock(int fd, int on, int use_ioctl)
{
    if (use_ioctl) {
        CHECK_EQ(ioctl(fd, FIONBIO, &on), 0);
    } else {
        int fl = fcntl(fd, F_GETFL);
        CHECK(fl != -1);
        CHECK_EQ(fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK), 0);
    }
}

/* Sets O_NONBLOCK on a blocking TCP socket (F_SETFL or FIONBIO), checks its effects, clears it. */
static void check_user_nonblock(int use_ioctl)
{
    int a, b;
    tcp_pair(&a, &b);
    CHECK(!has_nonblock(a));
    set_nonblock(a, 1, use_ioctl);
    CHECK(has_nonblock(a));
    CHECK(!has_nonblock(b)); /* the peer is another file */
    check_eagain_at_once(a);

    /* Fill the send buffer until the non-blocking write fails with EAGAIN. */
    static char chunk[65536];
    size_t total = 0;
    for (;;) {
        ssize_t n = write(a, chunk, sizeof chunk);
        if (n < 0) {
            CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
            break;
        }
        CHECK(n > 0);
        total += (size_t)n;
        CHECK(total < (size_t)1 << 30);
    }
    CHECK(total > 0);
    /* Drain it at the peer (blocking reads of a known amount). */
    while (total > 0) {
        size_t want = total < sizeof chunk ? total : sizeof chunk;
        ssize_t n = read(b, chunk, want);
        CHECK(n > 0);
        total -= (size_t)n;
    }

    set_nonblock(a, 0, use_ioctl);
    CHECK(!has_nonblock(a));
    check_read_blocks(a, b);
    CHECK_EQ(close(a), 0);
    CHECK_EQ(close(b), 0);
}

/* O_NONBLOCK set with F_SETFL shows in F_GETFL and gives EAGAIN at once; cleared, reads block. */
static void test_fcntl_nonblock(void)
{
    check_user_nonblock(0);
}

/* ioctl(FIONBIO) sets and clears O_NONBLOCK just like F_SETFL, as F_GETFL shows. */
static void test_fionbio(void)
{
    check_user_nonblock(1);
}

/* O_NONBLOCK belongs to the open file description: set through a dup, the original has it. */
static void test_nonblock_shared_by_dup(void)
{
    int a, b;
    tcp_pair(&a, &b);
    int d = dup(a);
    CHECK(d >= 0);
    set_nonblock(d, 1, 0);
    CHECK(has_nonblock(a));
    check_eagain_at_once(a);
    set_nonblock(a, 0, 1);
    CHECK(!has_nonblock(d));
    check_read_blocks(d, b);
    CHECK_EQ(close(d), 0);
    CHECK_EQ(close(a), 0);
    CHECK_EQ(close(b), 0);
}

static atomic_int flags_reader_in_read;

static void *blocked_reader_body(void *arg)
{
    int fd = *(int *)arg;
    char buf[4];
    atomic_store(&flags_reader_in_read, 1);
    read_exact(fd, buf, 4);
    CHECK(memcmp(buf, "ping", 4) == 0);
    write_all(fd, "pong", 4);
    return NULL;
}

/* A blocking socket never shows O_NONBLOCK, neither while nor after threads block on it. */
static void test_blocking_flags_stay(void)
{
    int a, b;
    tcp_pair(&a, &b);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, blocked_reader_body, &a), 0);
    while (!atomic_load(&flags_reader_in_read))
        sleep_ms(1);
    sleep_ms(20); /* very likely blocked in read by now */
    check_os_threads(); /* the peak: main and one blocked reader */
    CHECK(!has_nonblock(a));
    CHECK(!has_nonblock(b));
    write_all(b, "ping", 4);
    char buf[4];
    read_exact(b, buf, 4);
    CHECK(memcmp(buf, "pong", 4) == 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK(!has_nonblock(a));
    CHECK(!has_nonblock(b));
    int fl = fcntl(a, F_GETFL);
    CHECK_EQ(fl & O_ACCMODE, O_RDWR);
    CHECK_EQ(close(a), 0);
    CHECK_EQ(close(b), 0);
}

static void set_timeout(int fd, int opt, long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    CHECK_EQ(setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv), 0);
}

static long get_timeout_ms(int fd, int opt)
{
    struct timeval tv = {-1, -1};
    socklen_t len = sizeof tv;
    CHECK_EQ(getsockopt(fd, SOL_SOCKET, opt, &tv, &len), 0);
    CHECK_EQ(len, sizeof tv);
    return tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* The kernel counts socket timeouts in scheduler ticks (CONFIG_HZ), not exact time, and does
 * not document rounding; 5 ms of slack (one tick at HZ >= 200) keeps the bound safe. */
#define TICK_SLACK 0.005

/* SO_RCVTIMEO: a read with no data fails with EAGAIN once the timeout has passed. */
static void test_rcvtimeo(void)
{
    int a, b;
    tcp_pair(&a, &b);
    CHECK_EQ(get_timeout_ms(a, SO_RCVTIMEO), 0);
    set_timeout(a, SO_RCVTIMEO, 100);
    CHECK_EQ(get_timeout_ms(a, SO_RCVTIMEO), 100);
    CHECK(!has_nonblock(a));

    char buf[16];
    for (int i = 0; i < 2; i++) {
        double start = now_seconds(CLOCK_MONOTONIC);
        errno = 0;
        ssize_t n = i == 0 ? read(a, buf, sizeof buf) : recv(a, buf, sizeof buf, 0);
        double took = now_seconds(CLOCK_MONOTONIC) - start;
        CHECK_EQ(n, -1);
        CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
        CHECK(took >= 0.100 - TICK_SLACK);
        CHECK(took < 5.0);
    }

    /* Data written by another thread before the timeout is read normally. */
    set_timeout(a, SO_RCVTIMEO, 5000);
    CHECK_EQ(get_timeout_ms(a, SO_RCVTIMEO), 5000);
    pthread_t t;
    struct delayed_write w = {b, 30, "late"};
    CHECK_EQ(pthread_create(&t, NULL, delayed_write_body, &w), 0);
    read_exact(a, buf, 4);
    CHECK(memcmp(buf, "late", 4) == 0);
    CHECK_EQ(pthread_join(t, NULL), 0);

    set_timeout(a, SO_RCVTIMEO, 0); /* 0 means: no timeout */
    CHECK_EQ(get_timeout_ms(a, SO_RCVTIMEO), 0);
    CHECK_EQ(close(a), 0);
    CHECK_EQ(close(b), 0);
}

/* SO_SNDTIMEO: a write that cannot finish returns a partial count or EAGAIN after the timeout. */
static void test_sndtimeo(void)
{
    int a, b;
    tcp_pair(&a, &b);
    int small = 4096;
    CHECK_EQ(setsockopt(a, SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    CHECK_EQ(setsockopt(b, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    set_timeout(a, SO_SNDTIMEO, 100);
    CHECK_EQ(get_timeout_ms(a, SO_SNDTIMEO), 100);
    CHECK_EQ(get_timeout_ms(a, SO_RCVTIMEO), 0);

    size_t len = 4 << 20;
    char *buf = calloc(1, len);
    CHECK(buf != NULL);
    int saw_eagain = 0;
    for (int i = 0; i < 5 && !saw_eagain; i++) {
        double start = now_seconds(CLOCK_MONOTONIC);
        errno = 0;
        ssize_t n = write(a, buf, len);
        double took = now_seconds(CLOCK_MONOTONIC) - start;
        if (n < 0) {
            CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
            saw_eagain = 1;
        } else {
            CHECK(n > 0 && (size_t)n < len);
        }
        CHECK(took >= 0.100 - TICK_SLACK);
        CHECK(took < 5.0);
    }
    CHECK(saw_eagain);
    CHECK(!has_nonblock(a));
    free(buf);
    CHECK_EQ(close(a), 0);
    CHECK_EQ(close(b), 0);
}

#define BIG (8 << 20)

static unsigned char big_pattern(size_t i)
{
    return (unsigned char)(i * 13 + (i >> 11) * 7 + 5);
}

static void *slow_reader_body(void *arg)
{
    int fd = *(int *)arg;
    unsigned char *buf = malloc(65536);
    CHECK(buf != NULL);
    size_t off = 0;
    while (off < BIG) {
        ssize_t n = read(fd, buf, 65536);
        CHECK(n > 0);
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != big_pattern(off + (size_t)i)) {
                fprintf(stderr, "FAIL: byte %zu of the big write is wrong\n", off + (size_t)i);
                exit(1);
            }
        off += (size_t)n;
        sleep_ms(1);
    }
    char c;
    CHECK_EQ(read(fd, &c, 1), 0);
    free(buf);
    return NULL;
}

/* A blocking 8 MiB write to a slow reader returns 8 MiB, and every byte arrives in order. */
static void test_big_write(void)
{
    int a, b;
    tcp_pair(&a, &b);
    unsigned char *buf = malloc(BIG);
    CHECK(buf != NULL);
    for (size_t i = 0; i < BIG; i++)
        buf[i] = big_pattern(i);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, slow_reader_body, &b), 0);
    CHECK_EQ(write(a, buf, BIG), BIG);
    CHECK_EQ(shutdown(a, SHUT_WR), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    free(buf);
    CHECK_EQ(close(a), 0);
    CHECK_EQ(close(b), 0);
}

static void *reset_closer_body(void *arg)
{
    int fd = *(int *)arg;
    sleep_ms(50);
    struct linger lg = {1, 0};
    CHECK_EQ(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    CHECK_EQ(close(fd), 0); /* linger 0: the connection is reset (RST), not closed (FIN) */
    return NULL;
}

/* A peer closing with SO_LINGER {1,0} resets: read fails with ECONNRESET, then write with EPIPE. */
static void test_peer_reset(void)
{
    int a, b;
    tcp_pair(&a, &b);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, reset_closer_body, &b), 0);
    char buf[16];
    errno = 0;
    CHECK_EQ(read(a, buf, sizeof buf), -1);
    CHECK_EQ(errno, ECONNRESET);
    CHECK_EQ(pthread_join(t, NULL), 0);

    /* SIGPIPE ignored, only for this write: it then reports EPIPE instead of killing us. */
    struct sigaction ign = {0}, old;
    ign.sa_handler = SIG_IGN;
    CHECK_EQ(sigaction(SIGPIPE, &ign, &old), 0);
    errno = 0;
    CHECK_EQ(write(a, "x", 1), -1);
    CHECK_EQ(errno, EPIPE);
    CHECK_EQ(sigaction(SIGPIPE, &old, NULL), 0);
    CHECK_EQ(close(a), 0);
}

static void *half_close_peer_body(void *arg)
{
    int fd = *(int *)arg;
    char buf[64];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, buf + got, sizeof buf - got);
        CHECK(n >= 0);
        if (n == 0)
            break;
        got += (size_t)n;
    }
    CHECK_EQ(got, 7);
    CHECK(memcmp(buf, "request", 7) == 0);
    write_all(fd, "reply after EOF", 15); /* our direction is still open */
    CHECK_EQ(close(fd), 0);
    return NULL;
}

/* After shutdown(SHUT_WR) the peer reads EOF but can still write back, and we read that. */
static void test_half_close(void)
{
    int a, b;
    tcp_pair(&a, &b);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, half_close_peer_body, &b), 0);
    write_all(a, "request", 7);
    CHECK_EQ(shutdown(a, SHUT_WR), 0);
    char buf[32];
    read_exact(a, buf, 15);
    CHECK(memcmp(buf, "reply after EOF", 15) == 0);
    CHECK_EQ(read(a, buf, sizeof buf), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(close(a), 0);
}

static void *read_until_eof_body(void *arg)
{
    int fd = *(int *)arg;
    char buf[16];
    CHECK_EQ(read(fd, buf, sizeof buf), 0);
    return NULL;
}

/* shutdown(SHUT_RDWR) by another thread wakes a thread blocked in read on it: read returns 0. */
static void test_shutdown_wakes_reader(void)
{
    for (int kind = 0; kind < 2; kind++) {
        int a, b;
        if (kind == 0) {
            tcp_pair(&a, &b);
        } else {
            int sv[2];
            CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
            a = sv[0];
            b = sv[1];
        }
        pthread_t t;
        CHECK_EQ(pthread_create(&t, NULL, read_until_eof_body, &a), 0);
        sleep_ms(50);
        double start = now_seconds(CLOCK_MONOTONIC);
        CHECK_EQ(shutdown(a, SHUT_RDWR), 0);
        CHECK_EQ(pthread_join(t, NULL), 0);
        CHECK(now_seconds(CLOCK_MONOTONIC) - start < 5.0);
        CHECK_EQ(close(a), 0);
        CHECK_EQ(close(b), 0);
    }
}

/* After close, the descriptor number is invalid: read and write on it fail with EBADF. */
static void test_read_after_close(void)
{
    int a, b;
    tcp_pair(&a, &b);
    CHECK_EQ(close(a), 0);
    char buf[4];
    errno = 0;
    CHECK_EQ(read(a, buf, sizeof buf), -1);
    CHECK_EQ(errno, EBADF);
    errno = 0;
    CHECK_EQ(recv(a, buf, sizeof buf, 0), -1);
    CHECK_EQ(errno, EBADF);
    errno = 0;
    CHECK_EQ(write(a, buf, sizeof buf), -1);
    CHECK_EQ(errno, EBADF);
    errno = 0;
    CHECK_EQ(close(a), -1);
    CHECK_EQ(errno, EBADF);
    CHECK_EQ(close(b), 0);
}

static int so_error(int fd)
{
    int err = -1;
    socklen_t len = sizeof err;
    CHECK_EQ(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
    return err;
}

/* Non-blocking connect: EINPROGRESS, then POLLOUT and SO_ERROR 0, then the connection works. */
static void test_nonblocking_connect(void)
{
    struct sockaddr_in addr;
    int l = tcp_listener(&addr);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(c >= 0);
    int fl = fcntl(c, F_GETFL);
    CHECK_EQ(fcntl(c, F_SETFL, fl | O_NONBLOCK), 0);
    errno = 0;
    int r = connect(c, (struct sockaddr *)&addr, sizeof addr);
    CHECK(r == 0 || (r == -1 && errno == EINPROGRESS));
    struct pollfd pfd = {c, POLLOUT, 0};
    CHECK_EQ(poll(&pfd, 1, 10000), 1);
    CHECK(pfd.revents & POLLOUT);
    CHECK_EQ(so_error(c), 0);
    CHECK(has_nonblock(c));
    CHECK_EQ(fcntl(c, F_SETFL, fl), 0); /* blocking from now on */
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    write_all(c, "nbc", 3);
    char buf[4];
    read_exact(s, buf, 3);
    CHECK(memcmp(buf, "nbc", 3) == 0);
    write_all(s, "ok", 2);
    read_exact(c, buf, 2);
    CHECK(memcmp(buf, "ok", 2) == 0);
    CHECK_EQ(close(s), 0);
    CHECK_EQ(close(c), 0);
    CHECK_EQ(close(l), 0);
}

/* Non-blocking connect to a port with no listener: SO_ERROR becomes ECONNREFUSED (read once). */
static void test_nonblocking_connect_refused(void)
{
    struct sockaddr_in addr;
    int holder;
    closed_port(&addr, &holder);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(c >= 0);
    errno = 0;
    CHECK_EQ(connect(c, (struct sockaddr *)&addr, sizeof addr), -1);
    if (errno == EINPROGRESS) { /* what Linux does, even on loopback */
        struct pollfd pfd = {c, POLLOUT, 0};
        CHECK_EQ(poll(&pfd, 1, 10000), 1);
        CHECK(pfd.revents & (POLLOUT | POLLERR | POLLHUP));
        CHECK_EQ(so_error(c), ECONNREFUSED);
        CHECK_EQ(so_error(c), 0); /* reading SO_ERROR clears it */
    } else {
        CHECK_EQ(errno, ECONNREFUSED); /* also allowed by POSIX */
    }
    CHECK_EQ(close(c), 0);
    CHECK_EQ(close(holder), 0);
}

int main(void)
{
    alarm(20);
    test_connect_refused();
    test_accept4_flags();
    test_fcntl_nonblock();
    test_fionbio();
    test_nonblock_shared_by_dup();
    test_blocking_flags_stay();
    test_rcvtimeo();
    test_sndtimeo();
    test_big_write();
    test_peer_reset();
    test_half_close();
    test_shutdown_wakes_reader();
    test_read_after_close();
    test_nonblocking_connect();
    test_nonblocking_connect_refused();
    return 0;
}
