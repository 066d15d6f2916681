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
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plain.h"

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

/* poll with nothing ready returns 0 once the timeout has passed (never before), revents 0. */
static void test_poll_timeout(void)
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

    /* Timeout 0: at once. */
    start = now_seconds(CLOCK_MONOTONIC);
    for (int k = 0; k < 100; k++)
        CHECK_EQ(poll(p, NS, 0), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start < 1.0);
    for (int i = 0; i < NS; i++)
        close_pair(s[i]);
}

/* poll returns when another thread writes to one of the sockets: that one POLLIN, others 0. */
static void test_poll_wakeup(void)
{
    int s[NS][2];
    for (int i = 0; i < NS; i++)
        pair(s[i]);
    struct pollfd p[NS];
    for (int i = 0; i < NS; i++) {
        p[i].fd = s[i][0];
        p[i].events = POLLIN;
        p[i].revents = 0;
    }
    struct delayed_write w;
    pthread_t t = write_later(&w, s[1][1], 30);
    double start = now_seconds(CLOCK_MONOTONIC);
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

    /* Infinite timeout. */
    t = write_later(&w, s[2][1], 20);
    CHECK_EQ(poll(p, NS, -1), 1);
    CHECK_EQ(p[2].revents, POLLIN);
    CHECK_EQ(pthread_join(t, NULL), 0);
    consume_byte(s[2][0]);
    for (int i = 0; i < NS; i++)
        close_pair(s[i]);
}

/* poll for POLLOUT on sockets with buffer room returns at once, all of them POLLOUT. */
static void test_poll_pollout(void)
{
    int s[NS][2];
    struct pollfd p[NS];
    for (int i = 0; i < NS; i++) {
        pair(s[i]);
        p[i].fd = s[i][0];
        p[i].events = POLLOUT;
        p[i].revents = 0;
    }
    double start = now_seconds(CLOCK_MONOTONIC);
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

/* An AF_UNIX stream peer's close gives POLLHUP|POLLRDHUP|POLLIN; POLLHUP even if not asked. */
static void test_poll_hangup_unix(void)
{
    int sv[2];
    pair(sv);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, close_later_body, &sv[1]), 0);
    struct pollfd p = {sv[0], POLLIN | POLLRDHUP, 0};
    CHECK_EQ(poll(&p, 1, 10000), 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK(p.revents & POLLRDHUP);
    CHECK(p.revents & POLLIN); /* a read would return 0 */
    CHECK(p.revents & POLLHUP);
    p.events = 0;
    CHECK_EQ(poll(&p, 1, 0), 1);
    CHECK_EQ(p.revents, POLLHUP);
    char c;
    CHECK_EQ(read(sv[0], &c, 1), 0);
    CHECK_EQ(close(sv[0]), 0);
}

/* A TCP peer's close gives POLLIN|POLLRDHUP, no POLLHUP; POLLHUP once we shut down writing too. */
static void test_poll_hangup_tcp(void)
{
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

    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, close_later_body, &s1), 0);
    struct pollfd p = {c1, POLLIN | POLLRDHUP, 0};
    CHECK_EQ(poll(&p, 1, 10000), 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
    /* The peer's FIN (all it sent was read: no reset) makes both POLLIN and POLLRDHUP. */
    CHECK(p.revents & POLLIN);
    CHECK(p.revents & POLLRDHUP);
    CHECK_EQ(p.revents & POLLHUP, 0);
    char c;
    CHECK_EQ(read(c1, &c, 1), 0);
    CHECK_EQ(shutdown(c1, SHUT_WR), 0);
    p.events = POLLIN;
    CHECK_EQ(poll(&p, 1, 10000), 1);
    CHECK(p.revents & POLLHUP);
    CHECK_EQ(close(c1), 0);
}

/* poll: a closed fd number gives POLLNVAL (counted); negative fds are ignored (not counted). */
static void test_poll_nval_negative(void)
{
    int sv[2];
    pair(sv);
    /* A closed number far above the ones in use, so that nothing reuses it meanwhile. */
    struct rlimit rl;
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
    int dead = fcntl(sv[0], F_DUPFD, rl.rlim_cur > 1000 ? 900 : (int)rl.rlim_cur / 2);
    CHECK(dead >= 0);
    CHECK_EQ(close(dead), 0);
    CHECK_EQ(write(sv[1], "!", 1), 1);
    struct pollfd p[4] = {
        {-1, POLLIN, (short)0x7fff},
        {dead, POLLIN, 0},
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

/* ppoll: a timespec timeout (never early, left unchanged), NULL waits, with a signal mask. */
static void test_ppoll(void)
{
    int sv[2];
    pair(sv);
    struct pollfd p = {sv[0], POLLIN, 0};
    struct timespec ts = {0, 50 * 1000000L};
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(ppoll(&p, 1, &ts, NULL), 0); /* never early, and ts is left as it was */
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

/* select: 0 after the timeout (never early), sets cleared; woken by another thread's write. */
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
    /* Linux stores the time not slept in the timeval: none is left. */
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
    CHECK(tv_ms(tv) <= 10000 && tv_ms(tv) > 5000); /* what was left of the 10 s */
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

    /* NULL sets: a sleep of at least the timeout. */
    tv.tv_sec = 0;
    tv.tv_usec = 60000;
    start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(select(0, NULL, NULL, NULL, &tv), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start >= 0.060);
    close_pair(a);
    close_pair(b);
}

/* pselect: like select (0 after the timeout, woken by a write), its timespec left unchanged. */
static void test_pselect(void)
{
    int a[2], b[2];
    pair(a);
    pair(b);
    int maxfd = (a[0] > b[0] ? a[0] : b[0]) + 1;
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(a[0], &rd);
    FD_SET(b[0], &rd);
    struct timespec ts = {0, 50 * 1000000L};
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(pselect(maxfd, &rd, NULL, NULL, &ts, NULL), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start >= 0.050);
    CHECK(!FD_ISSET(a[0], &rd) && !FD_ISSET(b[0], &rd));
    CHECK_EQ(ts.tv_nsec, 50 * 1000000L);

    sigset_t mask;
    sigemptyset(&mask);
    struct delayed_write w;
    pthread_t t = write_later(&w, a[1], 30);
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

    /* No sets: a sleep of at least the timeout. */
    ts.tv_sec = 0;
    ts.tv_nsec = 60 * 1000000L;
    start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(pselect(0, NULL, NULL, NULL, &ts, NULL), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start >= 0.060);

    close_pair(a);
    close_pair(b);
}

/* An epoll instance with NS member sockets (data.u64 = 1000 + index), in s. */
static int epoll_with_members(int s[NS][2])
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0);
    for (int i = 0; i < NS; i++) {
        pair(s[i]);
        struct epoll_event ev = {0};
        ev.events = EPOLLIN;
        ev.data.u64 = 1000 + (uint64_t)i;
        CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, s[i][0], &ev), 0);
    }
    return ep;
}

static void close_epoll(int ep, int s[NS][2])
{
    for (int i = 0; i < NS; i++)
        close_pair(s[i]);
    CHECK_EQ(close(ep), 0);
}

/* epoll_wait: timeout 0 returns at once, 50 ms returns 0 no earlier, -1 waits for a member. */
static void test_epoll_wait(void)
{
    int s[NS][2];
    int ep = epoll_with_members(s);
    CHECK(fcntl(ep, F_GETFD) & FD_CLOEXEC);
    struct epoll_event out[8];
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(epoll_wait(ep, out, 8, 0), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start < 1.0);
    start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(epoll_wait(ep, out, 8, 50), 0);
    double took = now_seconds(CLOCK_MONOTONIC) - start;
    CHECK(took >= 0.050);
    CHECK(took < 5.0);

    /* The member another thread writes to is reported, with its data and EPOLLIN. */
    struct delayed_write w;
    pthread_t t = write_later(&w, s[2][1], 30);
    CHECK_EQ(epoll_wait(ep, out, 8, -1), 1);
    CHECK_EQ(out[0].data.u64, 1002);
    CHECK_EQ(out[0].events, EPOLLIN);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(epoll_wait(ep, out, 8, 0), 1); /* level-triggered: until read */
    consume_byte(s[2][0]);
    CHECK_EQ(epoll_wait(ep, out, 8, 0), 0);
    close_epoll(ep, s);
}

/* epoll_ctl: adding twice is EEXIST, deleting a non-member ENOENT; DEL and MOD take effect. */
static void test_epoll_ctl(void)
{
    int s[NS][2];
    int ep = epoll_with_members(s);
    struct epoll_event ev = {0};
    ev.events = EPOLLIN;
    errno = 0;
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, s[0][0], &ev), -1);
    CHECK_EQ(errno, EEXIST);
    errno = 0;
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, s[0][1], NULL), -1);
    CHECK_EQ(errno, ENOENT);

    struct epoll_event out[8];
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, s[0][0], NULL), 0);
    CHECK_EQ(write(s[0][1], "!", 1), 1);
    CHECK_EQ(epoll_wait(ep, out, 8, 20), 0);
    consume_byte(s[0][0]);

    ev.events = EPOLLIN;
    ev.data.u64 = 77;
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_MOD, s[1][0], &ev), 0);
    struct delayed_write w;
    pthread_t t = write_later(&w, s[1][1], 30);
    CHECK_EQ(epoll_wait(ep, out, 8, 10000), 1);
    CHECK_EQ(out[0].data.u64, 77);
    CHECK_EQ(pthread_join(t, NULL), 0);
    consume_byte(s[1][0]);
    close_epoll(ep, s);
}

/* epoll_pwait (ms and a signal mask) and epoll_pwait2 (a timespec, NULL = infinite) alike. */
static void test_epoll_pwait(void)
{
    int s[NS][2];
    int ep = epoll_with_members(s);
    struct epoll_event out[8];
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(epoll_pwait(ep, out, 8, 40, &mask), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start >= 0.040);
    struct delayed_write w;
    pthread_t t = write_later(&w, s[1][1], 30);
    CHECK_EQ(epoll_pwait(ep, out, 8, -1, &mask), 1);
    CHECK_EQ(out[0].data.u64, 1001);
    CHECK_EQ(pthread_join(t, NULL), 0);
    consume_byte(s[1][0]);

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
    t = write_later(&w, s[0][1], 30);
    ts.tv_sec = 10;
    ts.tv_nsec = 0;
    CHECK_EQ(epoll_pwait2(ep, out, 8, &ts, NULL), 1);
    CHECK_EQ(out[0].data.u64, 1000);
    CHECK_EQ(pthread_join(t, NULL), 0);
    consume_byte(s[0][0]);
    close_epoll(ep, s);
}

/* An epoll fd is itself pollable: POLLIN once a member is ready, not before. */
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

/* 100 threads each in poll on their own socketpair: a write wakes that one only, any order. */
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
    test_poll_timeout();
    test_poll_wakeup();
    test_poll_pollout();
    test_poll_hangup_unix();
    test_poll_hangup_tcp();
    test_poll_nval_negative();
    test_ppoll();
    test_select();
    test_pselect();
    test_epoll_wait();
    test_epoll_ctl();
    test_epoll_pwait();
    test_epoll_in_poll();
    test_many_pollers();
    return 0;
}
