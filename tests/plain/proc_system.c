/* system(): the statuses it reports, the signals it ignores in the caller and resets in the
 * shell, and, while a command runs, the process's other threads keep running (a thread that
 * waits for the command must not hold up the rest). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "proc_util.h"

static atomic_int started, done;

static void *run_command(void *arg)
{
    atomic_store(&started, 1);
    int status = system((const char *)arg);
    atomic_store(&done, 1);
    CHECK(WIFEXITED(status));
    return (void *)(intptr_t)WEXITSTATUS(status);
}

static void on_signal(int sig) { (void)sig; }

static void *handler_of(int sig)
{
    struct sigaction sa;
    CHECK_EQ(sigaction(sig, NULL, &sa), 0);
    return (void *)sa.sa_handler;
}

/* Waits (up to ~5 s) until a system() call that just began ignores SIGINT. */
static void wait_ignored(void)
{
    for (int i = 0; handler_of(SIGINT) != (void *)SIG_IGN; i++) {
        CHECK(i < 5000);
        sleep_ms(1);
    }
}

static int sigchld_blocked(void)
{
    sigset_t cur;
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, NULL, &cur), 0);
    return sigismember(&cur, SIGCHLD);
}

static void statuses(void)
{
    CHECK(system(NULL) != 0);
    CHECK_EQ(system("exit 0"), 0);

    int st = system("exit 3");
    CHECK_EXITED(st, 3);

    st = system("exit 255");
    CHECK_EXITED(st, 255);

    st = system("kill -KILL $$");
    CHECK_KILLED(st, SIGKILL);

    st = system("exec /nonexistent/command 2>/dev/null");
    CHECK_EXITED(st, 127);

    /* SIGINT is reset to its default in the shell, which it therefore kills... */
    st = system("kill -INT $$; exit 9");
    CHECK_KILLED(st, SIGINT);
    /* ...unless the program ignores it: then the shell inherits SIG_IGN. */
    signal(SIGINT, SIG_IGN);
    st = system("kill -INT $$; exit 9");
    CHECK_EXITED(st, 9);
    signal(SIGINT, SIG_DFL);

    /* The shell gets the caller's signal mask (SIGUSR1 blocked: bit 9 of SigBlk), without the
     * SIGCHLD that system() blocks meanwhile. */
    sigset_t usr1, old;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, &usr1, &old), 0);
    st = system("test \"$(sed -n 's/^SigBlk:[[:space:]]*//p' /proc/$$/status)\" = 0000000000000200");
    CHECK_EQ(st, 0);
    CHECK_EQ(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
    CHECK(!sigchld_blocked());
}

/* Two overlapping calls: SIGINT and SIGQUIT are ignored until the last one returns, then the
 * program's handlers are back; SIGCHLD is not left blocked. */
static void overlapping(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    CHECK_EQ(sigaction(SIGINT, &sa, NULL), 0);
    CHECK_EQ(sigaction(SIGQUIT, &sa, NULL), 0);

    pthread_t longer, shorter;
    atomic_store(&started, 0);
    CHECK_EQ(pthread_create(&longer, NULL, run_command, "sleep 1.2; exit 5"), 0);
    wait_ignored();
    CHECK(handler_of(SIGQUIT) == (void *)SIG_IGN);
    void *res;
    CHECK_EQ(pthread_create(&shorter, NULL, run_command, "sleep 0.2; exit 6"), 0);
    CHECK_EQ(pthread_join(shorter, &res), 0);
    CHECK_EQ((intptr_t)res, 6);
    CHECK(handler_of(SIGINT) == (void *)SIG_IGN); /* the longer one still runs */
    CHECK_EQ(pthread_join(longer, &res), 0);
    CHECK_EQ((intptr_t)res, 5);
    CHECK(handler_of(SIGINT) == (void *)on_signal);
    CHECK(handler_of(SIGQUIT) == (void *)on_signal);
    CHECK(!sigchld_blocked());

    /* The first to begin ends first this time; nothing is left blocked or ignored after. */
    pthread_t first, second;
    CHECK_EQ(pthread_create(&first, NULL, run_command, "sleep 0.4; exit 1"), 0);
    wait_ignored();
    CHECK_EQ(pthread_create(&second, NULL, run_command, "sleep 0.8; exit 2"), 0);
    sleep_ms(100);
    CHECK_EQ(pthread_join(first, &res), 0);
    CHECK_EQ((intptr_t)res, 1);
    CHECK_EQ(pthread_join(second, &res), 0);
    CHECK_EQ((intptr_t)res, 2);
    CHECK(handler_of(SIGINT) == (void *)on_signal);
    CHECK(!sigchld_blocked());
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
}

/* While one thread is in system("sleep 2"), another completes 200 round trips. */
static void concurrent(void)
{
    struct roundtrip rt;
    roundtrip_start(&rt);
    atomic_store(&started, 0);
    atomic_store(&done, 0);
    double t0 = now_seconds(CLOCK_MONOTONIC);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, run_command, "sleep 2"), 0);
    wait_flag(&started);
    sleep_ms(100);
    roundtrip_run(&rt, 200);
    check_os_threads();
    CHECK(!atomic_load(&done)); /* the round trips did not wait for the command */
    void *res;
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK_EQ((intptr_t)res, 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - t0 >= 1.9);
    roundtrip_stop(&rt);
}

/* A child forked while another thread is in system() starts with the forking thread's mask,
 * in which SIGCHLD is not blocked. */
static void fork_meanwhile(void)
{
    atomic_store(&started, 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, run_command, "sleep 0.5"), 0);
    wait_ignored();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(sigchld_blocked() ? 1 : 0);
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK_EXITED(st, 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
}

/* system() is a cancellation point: the cancelled caller's command is killed and reaped, and
 * SIGINT and SIGQUIT get their dispositions back. */
static void *run_forever(void *arg)
{
    (void)arg;
    system("sleep 5");
    return NULL;
}

static void cancelled(void)
{
    double t0 = now_seconds(CLOCK_MONOTONIC);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, run_forever, NULL), 0);
    wait_ignored();
    sleep_ms(100); /* into its wait, most likely (the cancellation is due either way) */
    CHECK_EQ(pthread_cancel(t), 0);
    void *res;
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK(res == PTHREAD_CANCELED);
    CHECK(now_seconds(CLOCK_MONOTONIC) - t0 < 3);
    CHECK(handler_of(SIGINT) == (void *)SIG_DFL);
    CHECK(handler_of(SIGQUIT) == (void *)SIG_DFL);
    CHECK(!sigchld_blocked());
    errno = 0;
    CHECK_EQ(waitpid(-1, NULL, WNOHANG), -1); /* the shell was reaped */
    CHECK_EQ(errno, ECHILD);
}

int main(void)
{
    statuses();
    overlapping();
    concurrent();
    fork_meanwhile();
    cancelled();
    return 0;
}
