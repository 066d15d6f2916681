/* Readiness waiting: poll, ppoll, select, pselect, epoll_wait, epoll_pwait, epoll_pwait2 -
 * timeouts (never early, 0 = immediate), readiness caused by another thread, POLLOUT, hang-up,
 * POLLNVAL, ignored negative fds, an epoll fd inside poll, and 100 threads each waiting in poll. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plain.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void pair(int sv[2])
{
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

static void close_pair(int sv[2])
{
    CHECK_EQ(close(sv[0]), 0);
    CHECK_EQ(close(sv[1]), 0);
}

struct delayed_write {
    int fd;
    long delay_ms;
};

static void *delayed_write_body(void *arg)
{
    struct delayed_write *w = arg;
    sleep_ms(w->delay_ms);
    CHECK_EQ(write(w->fd, "!", 1), 1);
    return NULL;
}

/* Starts a thread that writes one byte to fd after delay_ms. */
static pthread_t write_later(struct delayed_write *w, int fd, long delay_ms)
{
    pthread_t t;
    w->fd = fd;
    w->delay_ms = delay_ms;
    CHECK_EQ(pthread_create(&t, NULL, delayed_write_body, w), 0);
    return t;
}

static void consume_byte(int fd)
{
    char c;
    CHECK_EQ(read(fd, &c, 1), 1);
    CHECK_EQ(c, '!');
}

#define NS 3

/* poll: with nothing ready it returns 0 once the timeout has passed (never before) and clears
 * revents; timeout 0 returns at once; a byte written by another thread makes exactly that
 * socket POLLIN; a socket with buffer room is POLLOUT at once. */
static void test_poll_basic(void)
{
    int s[NS][2];
    for (int i = 0; i < NS; i++)
        pair(s[i]);
    struct pollfd p[NS];
    for (int i = 0; i < NS; i++) {
        p[i].fd = s[i][0];
        p[i].events = POLLIN;
        p[i].revents = (short)0x7fff;
    }
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(poll(p, NS, 50), 0);
    double took = now_seconds(CLOCK_MONOTONIC) - start;
    CHECK(took >= 0.050);
    CHECK(took < 5.0);
    for (int i = 0; i < NS; i++)
        CHECK_EQ(p[i].revents, 0);

    start = now_seconds(CLOCK_MONOTONIC);
    for (int k = 0; k < 100; k++)
        CHECK_EQ(poll(p, NS, 0), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start < 1.0);

    struct delayed_write w;
    pthread_t t = write_later(&w, s[1][1], 30);
    start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(poll(p, NS, 10000), 1);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start < 5.0);
    CHECK_EQ(p[0].revents, 0);
    CHECK_EQ(p[1].revents, POLLIN);
    CHECK_EQ(p[2].revents, 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    /* Level-triggered: still ready until read. */
    CHECK_EQ(poll(p, NS, 0), 1);
    consume_byte(s[1][0]);
    CHECK_EQ(poll(p, NS, 0), 0);

    /* Infinite timeout with a thread's write. */
    t = write_later(&w, s[2][1], 20);
    CHECK_EQ(poll(p, NS, -1), 1);
    CHECK_EQ(p[2].revents, POLLIN);
    CHECK_EQ(pthread_join(t, NULL), 0);
    consume_byte(s[2][0]);

    for (int i = 0; i < NS; i++)
        p[i].events = POLLOUT;
    start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(poll(p, NS, -1), NS);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start < 1.0);
    for (int i = 0; i < NS; i++)
        CHECK_EQ(p[i].revents, POLLOUT);

    for (int i = 0; i < NS; i++)
        close_pair(s[i]);
}

static void *close_later_body(void *arg)
{
    sleep_ms(30);
    CHECK_EQ(close(*(int *)arg), 0);
    return NULL;
}

/* Hang-up: when the peer of an AF_UNIX stream socket closes (here from another thread, while
 * we wait), poll reports POLLHUP and POLLRDHUP (POLLIN too: a read returns 0); for TCP a peer's
 * close is POLLRDHUP|POLLIN, and POLLHUP once our side has shut down writing as well.  POLLHUP
 * is reported even when not requested. */
static void test_poll_hangup(void)
{
    int sv[2];
    pair(sv);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, close_later_body, &sv[1]), 0);
    struct pollfd p = {sv[0], POLLIN | POLLRDHUP, 0};
    CHECK_EQ(poll(&p, 1, 10000), 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK(p.revents & POLLRDHUP);
    CHECK(p.revents & POLLIN);
    CHECK(p.revents & POLLHUP);
    p.events = 0;
    CHECK_EQ(poll(&p, 1, 0), 1);
    CHECK_EQ(p.revents, POLLHUP);
    char c;
    CHECK_EQ(read(sv[0], &c, 1), 0);
    CHECK_EQ(close(sv[0]), 0);

    /* TCP over loopback. */
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(l >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t alen = sizeof a;
    CHECK_EQ(getsockname(l, (struct sockaddr *)&a, &alen), 0);
    CHECK_EQ(listen(l, 4), 0);
    int c1 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(c1 >= 0);
    CHECK_EQ(connect(c1, (struct sockaddr *)&a, sizeof a), 0);
    int s1 = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    CHECK(s1 >= 0);
    CHECK_EQ(close(l), 0);

    CHECK_EQ(pthread_create(&t, NULL, close_later_body, &s1), 0);
    p.fd = c1;
    p.events = POLLIN | POLLRDHUP;
    p.revents = 0;
    CHECK_EQ(poll(&p, 1, 10000), 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK(p.revents & POLLIN);
    /* The FIN that makes POLLIN is also what makes POLLRDHUP. */
    CHECK(p.revents & POLLRDHUP);
    CHECK_EQ(p.revents & POLLHUP, 0);
    CHECK_EQ(read(c1, &c, 1), 0);
    CHECK_EQ(shutdown(c1, SHUT_WR), 0);
    p.events = POLLIN;
    CHECK_EQ(poll(&p, 1, 10000), 1);
    CHECK(p.revents & POLLHUP);
    CHECK_EQ(close(c1), 0);
}

/* A closed descriptor number gives POLLNVAL (counted in the result, whatever was asked);
 * negative fds are ignored (revents 0, not counted). */
static void test_poll_nval_negative(void)
{
    int sv[2];
    pair(sv);
    int dead[2];
    pair(dead);
    close_pair(dead); /* dead[0] is now a closed number (nothing else opens fds meanwhile) */
    CHECK_EQ(write(sv[1], "!", 1), 1);
    struct pollfd p[4] = {
        {-1, POLLIN, (short)0x7fff},
        {dead[0], POLLIN, 0},
        {sv[0], POLLIN, 0},
        {-12345, POLLIN | POLLOUT, (short)0x7fff},
    };
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(poll(p, 4, 5000), 2);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start < 1.0);
    CHECK_EQ(p[0].revents, 0);
    CHECK_EQ(p[1].revents, POLLNVAL);
    CHECK_EQ(p[2].revents, POLLIN);
    CHECK_EQ(p[3].revents, 0);

    /* Only negative fds: a pure sleep for the timeout. */
    struct pollfd neg = {-1, POLLIN, 0};
    start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(poll(&neg, 1, 40), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start >= 0.040);
    start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(poll(NULL, 0, 40), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start >= 0.040);
    close_pair(sv);
}

/* ppoll: a timespec timeout (0 when nothing is ready, never early, and the caller's timespec is
 * left as it was), NULL = wait for another thread's write, a zero timespec returns at once, and
 * a signal mask argument is accepted. */
static void test_ppoll(void)
{
    int sv[2];
    pair(sv);
    struct pollfd p = {sv[0], POLLIN, 0};
    struct timespec ts = {0, 50 * 1000000L};
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(ppoll(&p, 1, &ts, NULL), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start >= 0.050);
    CHECK_EQ(ts.tv_sec, 0);
    CHECK_EQ(ts.tv_nsec, 50 * 1000000L);

    struct timespec zero = {0, 0};
    start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(ppoll(&p, 1, &zero, NULL), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start < 1.0);

    struct delayed_write w;
    pthread_t t = write_later(&w, sv[1], 30);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    CHECK_EQ(ppoll(&p, 1, NULL, &mask), 1);
    CHECK_EQ(p.revents, POLLIN);
    CHECK_EQ(pthread_join(t, NULL), 0);
    consume_byte(sv[0]);

    t = write_later(&w, sv[1], 30);
    struct timespec longer = {10, 0};
    CHECK_EQ(ppoll(&p, 1, &longer, &mask), 1);
    CHECK_EQ(p.revents, POLLIN);
    CHECK_EQ(pthread_join(t, NULL), 0);
    consume_byte(sv[0]);
    close_pair(sv);
}

static int tv_ms(struct timeval tv)
{
    return (int)(tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

/* select: with nothing ready on two sockets it returns 0 after the 50 ms timeout (never early),
 * clears the fd set, and (Linux) leaves the timeout at zero; another thread's write makes it
 * return 1 with just that fd set, the timeout reduced by the time waited; with NULL sets it is
 * a sleep of at least the timeout.  pselect likewise, with its timespec left unchanged. */
static void test_select(void)
{
    int a[2], b[2];
    pair(a);
    pair(b);
    int maxfd = (a[0] > b[0] ? a[0] : b[0]) + 1;
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(a[0], &rd);
    FD_SET(b[0], &rd);
    struct timeval tv = {0, 50000};
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(select(maxfd, &rd, NULL, NULL, &tv), 0);
    double took = now_seconds(CLOCK_MONOTONIC) - start;
    CHECK(took >= 0.050);
    CHECK(took < 5.0);
    CHECK(!FD_ISSET(a[0], &rd));
    CHECK(!FD_ISSET(b[0], &rd));
    CHECK_EQ(tv.tv_sec, 0);
    CHECK_EQ(tv.tv_usec, 0);

    struct delayed_write w;
    pthread_t t = write_later(&w, b[1], 30);
    FD_ZERO(&rd);
    FD_SET(a[0], &rd);
    FD_SET(b[0], &rd);
    tv.tv_sec = 10;
    tv.tv_usec = 0;
    CHECK_EQ(select(maxfd, &rd, NULL, NULL, &tv), 1);
    CHECK(!FD_ISSET(a[0], &rd));
    CHECK(FD_ISSET(b[0], &rd));
    CHECK(tv_ms(tv) <= 10000 && tv_ms(tv) > 5000);
    CHECK_EQ(pthread_join(t, NULL), 0);
    consume_byte(b[0]);

    /* NULL timeout: wait as long as needed; writefds ready at once. */
    t = write_later(&w, a[1], 20);
    FD_ZERO(&rd);
    FD_SET(a[0], &rd);
    FD_SET(b[0], &rd);
    CHECK_EQ(select(maxfd, &rd, NULL, NULL, NULL), 1);
    CHECK(FD_ISSET(a[0], &rd));
    CHECK(!FD_ISSET(b[0], &rd));
    CHECK_EQ(pthread_join(t, NULL), 0);
    consume_byte(a[0]);
    fd_set wr;
    FD_ZERO(&wr);
    FD_SET(a[0], &wr);
    FD_SET(b[0], &wr);
    FD_ZERO(&rd);
    FD_SET(a[0], &rd);
    tv.tv_sec = 5;
    tv.tv_usec = 0;
    CHECK_EQ(select(maxfd, &rd, &wr, NULL, &tv), 2);
    CHECK(FD_ISSET(a[0], &wr) && FD_ISSET(b[0], &wr) && !FD_ISSET(a[0], &rd));

    tv.tv_sec = 0;
    tv.tv_usec = 60000;
    start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(select(0, NULL, NULL, NULL, &tv), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start >= 0.060);

    /* pselect. */
    FD_ZERO(&rd);
    FD_SET(a[0], &rd);
    FD_SET(b[0], &rd);
    struct timespec ts = {0, 50 * 1000000L};
    start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(pselect(maxfd, &rd, NULL, NULL, &ts, NULL), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start >= 0.050);
    CHECK(!FD_ISSET(a[0], &rd) && !FD_ISSET(b[0], &rd));
    CHECK_EQ(ts.tv_nsec, 50 * 1000000L);

    sigset_t mask;
    sigemptyset(&mask);
    t = write_later(&w, a[1], 30);
    FD_ZERO(&rd);
    FD_SET(a[0], &rd);
    FD_SET(b[0], &rd);
    ts.tv_sec = 10;
    ts.tv_nsec = 0;
    CHECK_EQ(pselect(maxfd, &rd, NULL, NULL, &ts, &mask), 1);
    CHECK(FD_ISSET(a[0], &rd) && !FD_ISSET(b[0], &rd));
    CHECK_EQ(ts.tv_sec, 10);
    CHECK_EQ(pthread_join(t, NULL), 0);
    consume_byte(a[0]);

    ts.tv_sec = 0;
    ts.tv_nsec = 60 * 1000000L;
    start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(pselect(0, NULL, NULL, NULL, &ts, NULL), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start >= 0.060);

    close_pair(a);
    close_pair(b);
}

/* epoll: epoll_create1(EPOLL_CLOEXEC) sets FD_CLOEXEC; with 3 member sockets epoll_wait with
 * timeout 0 returns 0 at once, with 50 ms returns 0 no earlier, with -1 returns the member
 * another thread wrote to (its data and EPOLLIN); adding twice is EEXIST, deleting a
 * non-member ENOENT; a deleted member is no longer reported; epoll_pwait and epoll_pwait2 (a
 * timespec, NULL = infinite) behave the same. */
static void test_epoll(void)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0);
    CHECK(fcntl(ep, F_GETFD) & FD_CLOEXEC);
    int s[NS][2];
    for (int i = 0; i < NS; i++) {
        pair(s[i]);
        struct epoll_event ev = {0};
        ev.events = EPOLLIN;
        ev.data.u64 = 1000 + (uint64_t)i;
        CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, s[i][0], &ev), 0);
    }
    struct epoll_event ev = {0};
    ev.events = EPOLLIN;
    errno = 0;
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, s[0][0], &ev), -1);
    CHECK_EQ(errno, EEXIST);
    errno = 0;
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, s[0][1], NULL), -1);
    CHECK_EQ(errno, ENOENT);

    struct epoll_event out[8];
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(epoll_wait(ep, out, 8, 0), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start < 1.0);
    start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(epoll_wait(ep, out, 8, 50), 0);
    double took = now_seconds(CLOCK_MONOTONIC) - start;
    CHECK(took >= 0.050);
    CHECK(took < 5.0);

    struct delayed_write w;
    pthread_t t = write_later(&w, s[2][1], 30);
    CHECK_EQ(epoll_wait(ep, out, 8, -1), 1);
    CHECK_EQ(out[0].data.u64, 1002);
    CHECK_EQ(out[0].events, EPOLLIN);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(epoll_wait(ep, out, 8, 0), 1); /* level-triggered */
    consume_byte(s[2][0]);
    CHECK_EQ(epoll_wait(ep, out, 8, 0), 0);

    /* Deleted members are not reported; modified ones report their new data. */
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, s[0][0], NULL), 0);
    CHECK_EQ(write(s[0][1], "!", 1), 1);
    CHECK_EQ(epoll_wait(ep, out, 8, 20), 0);
    consume_byte(s[0][0]);
    ev.events = EPOLLIN;
    ev.data.u64 = 77;
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_MOD, s[1][0], &ev), 0);

    /* epoll_pwait: like epoll_wait, with a signal mask. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(epoll_pwait(ep, out, 8, 40, &mask), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start >= 0.040);
    t = write_later(&w, s[1][1], 30);
    CHECK_EQ(epoll_pwait(ep, out, 8, -1, &mask), 1);
    CHECK_EQ(out[0].data.u64, 77);
    CHECK_EQ(pthread_join(t, NULL), 0);
    consume_byte(s[1][0]);

    /* epoll_pwait2: a timespec timeout. */
    struct timespec ts = {0, 50 * 1000000L};
    start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(epoll_pwait2(ep, out, 8, &ts, NULL), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start >= 0.050);
    struct timespec zero = {0, 0};
    start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(epoll_pwait2(ep, out, 8, &zero, NULL), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start < 1.0);
    t = write_later(&w, s[2][1], 30);
    CHECK_EQ(epoll_pwait2(ep, out, 8, NULL, &mask), 1);
    CHECK_EQ(out[0].data.u64, 1002);
    CHECK_EQ(pthread_join(t, NULL), 0);
    consume_byte(s[2][0]);
    t = write_later(&w, s[1][1], 30);
    ts.tv_sec = 10;
    ts.tv_nsec = 0;
    CHECK_EQ(epoll_pwait2(ep, out, 8, &ts, NULL), 1);
    CHECK_EQ(out[0].data.u64, 77);
    CHECK_EQ(pthread_join(t, NULL), 0);
    consume_byte(s[1][0]);

    for (int i = 0; i < NS; i++)
        close_pair(s[i]);
    CHECK_EQ(close(ep), 0);
}

/* An epoll fd is itself pollable: poll (and an outer epoll) report it readable (POLLIN) once a
 * member is ready - here after another thread writes - and not before. */
static void test_epoll_in_poll(void)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0);
    int sv[2];
    pair(sv);
    struct epoll_event ev = {0};
    ev.events = EPOLLIN;
    ev.data.fd = sv[0];
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev), 0);

    struct pollfd p = {ep, POLLIN, 0};
    CHECK_EQ(poll(&p, 1, 30), 0);
    struct delayed_write w;
    pthread_t t = write_later(&w, sv[1], 30);
    CHECK_EQ(poll(&p, 1, 10000), 1);
    CHECK_EQ(p.revents, POLLIN);
    CHECK_EQ(pthread_join(t, NULL), 0);
    struct epoll_event out;
    CHECK_EQ(epoll_wait(ep, &out, 1, 0), 1);
    CHECK_EQ(out.data.fd, sv[0]);

    int outer = epoll_create1(EPOLL_CLOEXEC);
    CHECK(outer >= 0);
    ev.data.fd = ep;
    CHECK_EQ(epoll_ctl(outer, EPOLL_CTL_ADD, ep, &ev), 0);
    CHECK_EQ(epoll_wait(outer, &out, 1, 1000), 1);
    CHECK_EQ(out.data.fd, ep);
    consume_byte(sv[0]);
    CHECK_EQ(epoll_wait(outer, &out, 1, 20), 0);
    CHECK_EQ(poll(&p, 1, 0), 0);

    CHECK_EQ(close(outer), 0);
    CHECK_EQ(close(ep), 0);
    close_pair(sv);
}

#define N_POLLERS 100

static int pollers[N_POLLERS][2];
static int poller_ready[2]; /* each poller writes one byte here before it polls */
static int woken;           /* how many pollers have returned from poll (under woken_lock) */
static pthread_mutex_t woken_lock = PTHREAD_MUTEX_INITIALIZER;

static void *poller_body(void *arg)
{
    int i = (int)(intptr_t)arg;
    int fd = pollers[i][0];
    CHECK_EQ(write(poller_ready[1], "r", 1), 1);
    struct pollfd p = {fd, POLLIN, 0};
    CHECK_EQ(poll(&p, 1, -1), 1);
    CHECK_EQ(p.revents, POLLIN);
    pthread_mutex_lock(&woken_lock);
    woken++;
    pthread_mutex_unlock(&woken_lock);
    char c;
    CHECK_EQ(read(fd, &c, 1), 1);
    CHECK_EQ(c, (char)i);
    CHECK_EQ(write(fd, &c, 1), 1); /* the acknowledgement */
    return NULL;
}

/* 100 threads each wait in poll (no timeout) on their own socketpair; writing to one wakes that
 * one only (a poll with nothing ready and no timeout does not return), in any order chosen. */
static void test_many_pollers(void)
{
    CHECK_EQ(pipe2(poller_ready, O_CLOEXEC), 0);
    pthread_t t[N_POLLERS];
    for (int i = 0; i < N_POLLERS; i++) {
        pair(pollers[i]);
        CHECK_EQ(pthread_create(&t[i], NULL, poller_body, (void *)(intptr_t)i), 0);
    }
    for (int i = 0; i < N_POLLERS; i++) {
        char c;
        CHECK_EQ(read(poller_ready[0], &c, 1), 1);
    }
    sleep_ms(20); /* most are in poll by now (not required) */
    check_os_threads();
    for (int k = 0; k < N_POLLERS; k++) {
        int i = (k * 37 + 11) % N_POLLERS; /* a permutation: 37 is prime to 100 */
        char c = (char)i;
        CHECK_EQ(write(pollers[i][1], &c, 1), 1);
        char ack;
        CHECK_EQ(read(pollers[i][1], &ack, 1), 1);
        CHECK_EQ(ack, c);
        pthread_mutex_lock(&woken_lock);
        int n = woken;
        pthread_mutex_unlock(&woken_lock);
        CHECK_EQ(n, k + 1);
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    }
    for (int i = 0; i < N_POLLERS; i++)
        close_pair(pollers[i]);
    CHECK_EQ(close(poller_ready[0]), 0);
    CHECK_EQ(close(poller_ready[1]), 0);
}

int main(void)
{
    alarm(20);
    test_poll_basic();
    test_poll_hangup();
    test_poll_nval_negative();
    test_ppoll();
    test_select();
    test_epoll();
    test_epoll_in_poll();
    test_many_pollers();
    return 0;
}
