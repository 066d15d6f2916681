/* Calls that wait with a signal mask of their own (sigsuspend, ppoll, pselect, epoll_pwait)
 * against a signal sent at any moment: the unblocking and the wait are one step, so however the
 * signal's arrival falls around the call (before it, pending; during the unblocking; just before
 * the wait starts; during the wait) the call returns -1 with EINTR after the handler ran, and
 * never waits for a signal that already came.
 *
 * As timeout(1) waits for its child: a child process, each time it reads a byte from a pipe,
 * sends SIGUSR2 then, after a pseudo-random delay of up to 20 us, SIGUSR1 to this process,
 * which (both blocked) writes the byte and calls the call with both unblocked (ppoll, pselect
 * and epoll_pwait on a pipe nothing is written to, without a timeout) until SIGUSR1's handler
 * ran: the first call ends with SIGUSR2, and SIGUSR1 comes about when the next one starts.
 * Rounds for a quarter of a second (at most 1,000) for each call, in the main thread, in a
 * second thread while the main thread, which blocks both, waits to join it (each signal is the
 * waiting thread's), and with the signals sent to that thread alone (pthread_kill) by a third
 * thread.  A wait that misses its signal never ends: SIGALRM after 30 s (default action) ends
 * the test. */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/wait.h>

#include "plain.h"

static volatile sig_atomic_t handled, handled2;

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

static void on_usr2(int sig)
{
    (void)sig;
    handled2++;
}

static void spin(unsigned *seed, unsigned max_ns)
{
    struct timespec a, b;
    long ns = (long)(rand_r(seed) % max_ns);
    clock_gettime(CLOCK_MONOTONIC, &a);
    do
        clock_gettime(CLOCK_MONOTONIC, &b);
    while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < ns);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The sender: a byte in, SIGUSR2 and SIGUSR1 to its parent out, until end of file. */
static void sender(int in)
{
    unsigned seed = 7;
    char c;
    while (read(in, &c, 1) == 1) {
        kill(getppid(), SIGUSR2);
        spin(&seed, 20000);
        kill(getppid(), SIGUSR1);
    }
    _exit(0);
}

/* A sender thread: a byte in, SIGUSR2 and SIGUSR1 to the target thread out, until end of file. */
struct thread_sender {
    int in;
    pthread_t target;
};

static void *thread_sender(void *arg)
{
    struct thread_sender *s = arg;
    unsigned seed = 5;
    char c;
    while (read(s->in, &c, 1) == 1) {
        CHECK_EQ(pthread_kill(s->target, SIGUSR2), 0);
        spin(&seed, 20000);
        CHECK_EQ(pthread_kill(s->target, SIGUSR1), 0);
    }
    return NULL;
}

enum { kSigsuspend, kPpoll, kPselect, kEpollPwait, kCalls };
static const char *const call_names[kCalls] = {"sigsuspend", "ppoll", "pselect", "epoll_pwait"};

struct rounds {
    int call;
    int poke;  /* the pipe to the sender */
    int idle;  /* a pipe's read end nothing is written to */
    int ep;    /* an epoll set holding idle */
    long done;
};

/* The call, with the signals unblocked: it must end with EINTR. */
static int wait_unblocked(const struct rounds *r, const sigset_t *none)
{
    switch (r->call) {
    case kSigsuspend:
        return sigsuspend(none);
    case kPpoll: {
        struct pollfd p = {r->idle, POLLIN, 0};
        return ppoll(&p, 1, NULL, none);
    }
    case kPselect: {
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(r->idle, &rd);
        return pselect(r->idle + 1, &rd, NULL, NULL, NULL, none);
    }
    default: {
        struct epoll_event ev;
        return epoll_pwait(r->ep, &ev, 1, -1, none);
    }
    }
}

/* Rounds of poke and wait, both signals blocked outside the call (the caller's mask). */
static void *waiter(void *arg)
{
    struct rounds *r = arg;
    sigset_t none;
    sigemptyset(&none);
    unsigned seed = 11;
    double end = now_s() + 0.25;
    for (long i = 0; i < 1000 && now_s() < end; i++) {
        long before = handled, before2 = handled2;
        CHECK(write(r->poke, "x", 1) == 1);
        spin(&seed, 20000);
        while (handled == before) {
            errno = 0;
            CHECK_EQ(wait_unblocked(r, &none), -1);
            CHECK_EQ(errno, EINTR);
        }
        CHECK_EQ(handled, before + 1);
        CHECK_EQ(handled2, before2 + 1);
        r->done++;
    }
    return NULL;
}

static pid_t start_sender(int *poke)
{
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p[1]);
        sender(p[0]);
    }
    close(p[0]);
    *poke = p[1];
    return pid;
}

static void stop_sender(int poke, pid_t pid)
{
    close(poke);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The three ways of sending, for one call: how many rounds each made. */
static long run_call(int call, int idle, int ep)
{
    /* The main thread waits. */
    struct rounds r = {call, -1, idle, ep, 0};
    pid_t pid = start_sender(&r.poke);
    waiter(&r);
    stop_sender(r.poke, pid);
    CHECK(r.done > 0);

    /* A second thread waits (it inherits the mask) while the main thread joins it. */
    struct rounds r2 = {call, -1, idle, ep, 0};
    pid = start_sender(&r2.poke);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, waiter, &r2) == 0);
    check_os_threads();
    CHECK(pthread_join(t, NULL) == 0);
    stop_sender(r2.poke, pid);
    CHECK(r2.done > 0);

    /* The signals sent to the waiting thread alone. */
    struct rounds r3 = {call, -1, idle, ep, 0};
    int p[2];
    CHECK(pipe(p) == 0);
    r3.poke = p[1];
    struct thread_sender ts = {p[0], 0};
    pthread_t s;
    CHECK(pthread_create(&t, NULL, waiter, &r3) == 0);
    ts.target = t;
    CHECK(pthread_create(&s, NULL, thread_sender, &ts) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    close(p[1]);
    CHECK(pthread_join(s, NULL) == 0);
    close(p[0]);
    CHECK(r3.done > 0);
    printf("signal_wait_race: %s: %ld + %ld + %ld rounds\n", call_names[call], r.done, r2.done,
           r3.done);
    return r.done + r2.done + r3.done;
}

int main(void)
{
    alarm(30);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    sa.sa_handler = on_usr2;
    CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);
    sigset_t both;
    sigemptyset(&both);
    sigaddset(&both, SIGUSR1);
    sigaddset(&both, SIGUSR2);
    CHECK(sigprocmask(SIG_BLOCK, &both, NULL) == 0);
    int idle[2];
    CHECK(pipe(idle) == 0);
    int ep = epoll_create1(0);
    CHECK(ep >= 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = idle[0]};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, idle[0], &ev) == 0);

    long rounds = 0;
    for (int call = 0; call < kCalls; call++)
        rounds += run_call(call, idle[0], ep);
    CHECK_EQ(handled, rounds);
    CHECK_EQ(handled2, rounds);
    return 0;
}
