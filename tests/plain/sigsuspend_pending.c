/* sigsuspend with a signal already pending that its mask unblocks: the handler runs and
 * sigsuspend returns -1 with EINTR at once, as the unblocking and the wait are one step.  Both
 * for a signal raised while blocked, and for SIGCHLD of a child that exited while it was blocked
 * (what timeout(1) waits for).  A pending signal whose disposition is to ignore it does not end
 * the wait: the next one does.  SIGALRM after 10 s ends a wait that never returns. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/wait.h>

#include "plain.h"

static volatile sig_atomic_t handled_usr1, handled_chld, handled_usr2;

static void on_usr1(int sig) { (void)sig; handled_usr1++; }
static void on_chld(int sig) { (void)sig; handled_chld++; }
static void on_usr2(int sig) { (void)sig; handled_usr2++; }

static void set_handler(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(sig, &sa, NULL) == 0);
}

static void *send_usr2_later(void *arg)
{
    (void)arg;
    usleep(50000);
    kill(getpid(), SIGUSR2);
    return NULL;
}

int main(void)
{
    alarm(10);
    set_handler(SIGUSR1, on_usr1);
    set_handler(SIGCHLD, on_chld);
    set_handler(SIGUSR2, on_usr2);
    sigset_t blocked, none;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR1);
    sigaddset(&blocked, SIGCHLD);
    sigaddset(&blocked, SIGWINCH);
    sigemptyset(&none);
    CHECK(sigprocmask(SIG_BLOCK, &blocked, NULL) == 0);

    raise(SIGUSR1);
    CHECK_EQ(handled_usr1, 0);
    errno = 0;
    CHECK_EQ(sigsuspend(&none), -1);
    CHECK_EQ(errno, EINTR);
    CHECK_EQ(handled_usr1, 1);

    CHECK(sigprocmask(SIG_BLOCK, &blocked, NULL) == 0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0)
        _exit(0);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    CHECK(waitid(P_PID, child, &info, WEXITED | WNOWAIT) == 0);  /* it has exited: SIGCHLD pends */
    CHECK_EQ(sigsuspend(&none), -1);
    CHECK_EQ(errno, EINTR);
    CHECK_EQ(handled_chld, 1);
    CHECK(waitpid(child, NULL, 0) == child);

    /* SIGWINCH, pending with its default action (ignore): the wait goes on to SIGUSR2. */
    CHECK(sigprocmask(SIG_BLOCK, &blocked, NULL) == 0);
    raise(SIGWINCH);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, send_usr2_later, NULL) == 0);
    CHECK_EQ(sigsuspend(&none), -1);
    CHECK_EQ(errno, EINTR);
    CHECK_EQ(handled_usr2, 1);
    CHECK(pthread_join(t, NULL) == 0);
    puts("ok");
    return 0;
}
