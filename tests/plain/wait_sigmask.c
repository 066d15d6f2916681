/* ppoll, pselect and epoll_pwait apply their signal mask for the whole wait: a signal blocked in
 * the process but unblocked by the call's mask, sent while the call waits, runs its handler and
 * ends the call with EINTR; afterwards the thread's own mask is back.  A signal the call's mask
 * keeps blocked stays pending and does not end the wait. */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "plain.h"

static atomic_int handled;

static void on_usr1(int sig)
{
    (void)sig;
    atomic_fetch_add(&handled, 1);
}

/* Sends SIGUSR1 to the process once the main thread very likely waits. */
static void *killer(void *arg)
{
    (void)arg;
    sleep_ms(80);
    CHECK_EQ(kill(getpid(), SIGUSR1), 0);
    return NULL;
}

static pthread_t start_killer(void)
{
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, killer, NULL), 0);
    return t;
}

static int usr1_blocked(void)
{
    sigset_t cur;
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, NULL, &cur), 0);
    return sigismember(&cur, SIGUSR1);
}

static int usr1_pending(void)
{
    sigset_t p;
    CHECK_EQ(sigpending(&p), 0);
    return sigismember(&p, SIGUSR1);
}

int main(void)
{
    alarm(20);
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
    sigset_t block, open_mask, closed_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    /* Blocked in every thread (threads inherit the mask), so only the waiting call can take it. */
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, &block, NULL), 0);
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, NULL, &open_mask), 0);
    closed_mask = open_mask;
    sigdelset(&open_mask, SIGUSR1);

    int p[2];
    CHECK_EQ(pipe(p), 0);
    struct timespec ts = {5, 0};
    double t0;

    /* ppoll */
    pthread_t k = start_killer();
    struct pollfd pfd = {p[0], POLLIN, 0};
    t0 = now_seconds(CLOCK_MONOTONIC);
    errno = 0;
    CHECK_EQ(ppoll(&pfd, 1, &ts, &open_mask), -1);
    CHECK_EQ(errno, EINTR);
    CHECK(now_seconds(CLOCK_MONOTONIC) - t0 < 4);
    CHECK_EQ(atomic_load(&handled), 1);
    CHECK(usr1_blocked());
    check_os_threads();
    CHECK_EQ(pthread_join(k, NULL), 0);

    /* pselect */
    k = start_killer();
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    errno = 0;
    CHECK_EQ(pselect(p[0] + 1, &rd, NULL, NULL, &ts, &open_mask), -1);
    CHECK_EQ(errno, EINTR);
    CHECK_EQ(atomic_load(&handled), 2);
    CHECK(usr1_blocked());
    CHECK_EQ(pthread_join(k, NULL), 0);

    /* epoll_pwait */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = p[0]};
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), 0);
    k = start_killer();
    errno = 0;
    CHECK_EQ(epoll_pwait(ep, &ev, 1, 5000, &open_mask), -1);
    CHECK_EQ(errno, EINTR);
    CHECK_EQ(atomic_load(&handled), 3);
    CHECK(usr1_blocked());
    CHECK_EQ(pthread_join(k, NULL), 0);

    /* A mask that keeps SIGUSR1 blocked: the wait runs to its timeout, the signal stays pending. */
    k = start_killer();
    struct timespec short_ts = {0, 300000000};
    CHECK_EQ(ppoll(&pfd, 1, &short_ts, &closed_mask), 0);
    CHECK_EQ(pthread_join(k, NULL), 0);
    CHECK_EQ(atomic_load(&handled), 3);
    CHECK(usr1_pending());

    /* A pending signal the mask unblocks ends the call at once. */
    t0 = now_seconds(CLOCK_MONOTONIC);
    errno = 0;
    CHECK_EQ(ppoll(&pfd, 1, &ts, &open_mask), -1);
    CHECK_EQ(errno, EINTR);
    CHECK(now_seconds(CLOCK_MONOTONIC) - t0 < 4);
    CHECK_EQ(atomic_load(&handled), 4);
    CHECK(!usr1_pending());
    CHECK(usr1_blocked());
    close(ep);
    close(p[0]);
    close(p[1]);
    return 0;
}
