/* waitpid, wait, wait3, wait4, waitid: children's exits and deaths reported exactly, stops and
 * continuations, WNOHANG, WNOWAIT, ECHILD and EINVAL, SIGCHLD left to the program, a
 * cancelled waiter; and while a thread waits for a child the process's other threads run. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "proc_util.h"

static pid_t child_exiting(int code, long after_ms)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (after_ms)
            sleep_ms(after_ms);
        _exit(code);
    }
    return pid;
}

static pid_t child_pausing(void)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        for (;;)
            pause();
    return pid;
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    CHECK(d != NULL);
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void exits_and_deaths(void)
{
    int codes[] = {0, 3, 255};
    for (int i = 0; i < 3; i++) {
        pid_t pid = child_exiting(codes[i], 0);
        int st = -1;
        CHECK_EQ(waitpid(pid, &st, 0), pid);
        CHECK_EXITED(st, codes[i]);
    }
    int sigs[] = {SIGKILL, SIGTERM};
    for (int i = 0; i < 2; i++) {
        pid_t pid = child_pausing();
        CHECK_EQ(kill(pid, sigs[i]), 0);
        int st = -1;
        CHECK_EQ(waitpid(pid, &st, 0), pid);
        CHECK_KILLED(st, sigs[i]);
    }
}

/* Three children, reaped by an any-child wait in whatever order they end. */
static void any_child(pid_t (*reap)(int *))
{
    pid_t pids[3];
    for (int i = 0; i < 3; i++)
        pids[i] = child_exiting(10 + i, 50 * i);
    int seen = 0;
    for (int k = 0; k < 3; k++) {
        int st = -1;
        pid_t p = reap(&st);
        int i = 0;
        while (i < 3 && pids[i] != p)
            i++;
        CHECK(i < 3);
        CHECK(!(seen & (1 << i)));
        seen |= 1 << i;
        CHECK_EXITED(st, 10 + i);
    }
    errno = 0;
    CHECK_EQ(reap(NULL), -1);
    CHECK_EQ(errno, ECHILD);
}

static pid_t reap_waitpid(int *st) { return waitpid(-1, st, 0); }
static pid_t reap_wait(int *st) { return wait(st); }
static pid_t reap_wait3(int *st) { return wait3(st, 0, NULL); }
static pid_t reap_wait4(int *st) { return wait4(-1, st, 0, NULL); }
static pid_t reap_own_group(int *st) { return waitpid(0, st, 0); }
static pid_t reap_group(int *st) { return waitpid(-getpgrp(), st, 0); }
static pid_t reap_waitid_group(int *st)
{
    siginfo_t si;
    if (waitid(P_PGID, (id_t)getpgrp(), &si, WEXITED) != 0)
        return -1;
    CHECK_EQ(si.si_code, CLD_EXITED);
    if (st)
        *st = si.si_status << 8;
    return si.si_pid;
}

static void rusage_filled(void)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        double end = now_seconds(CLOCK_PROCESS_CPUTIME_ID) + 0.1;
        while (now_seconds(CLOCK_PROCESS_CPUTIME_ID) < end)
            ;
        _exit(4);
    }
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    int st = -1;
    CHECK_EQ(wait4(pid, &st, 0, &ru), pid);
    CHECK_EXITED(st, 4);
    CHECK(ru.ru_maxrss > 0);
    CHECK(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec > 0 ||
          ru.ru_utime.tv_usec + ru.ru_stime.tv_usec > 50000);

    pid = child_exiting(0, 20);
    memset(&ru, 0, sizeof ru);
    CHECK_EQ(wait3(&st, 0, &ru), pid);
    CHECK(ru.ru_maxrss > 0);
}

static void with_waitid(void)
{
    siginfo_t si;
    pid_t pid = child_exiting(3, 30);
    memset(&si, 0xff, sizeof si);
    CHECK_EQ(waitid(P_PID, (id_t)pid, &si, WEXITED), 0);
    CHECK_EQ(si.si_pid, pid);
    CHECK_EQ(si.si_signo, SIGCHLD);
    CHECK_EQ(si.si_code, CLD_EXITED);
    CHECK_EQ(si.si_status, 3);
    CHECK_EQ(si.si_uid, getuid());

    pid = child_pausing();
    CHECK_EQ(kill(pid, SIGKILL), 0);
    CHECK_EQ(waitid(P_PID, (id_t)pid, &si, WEXITED), 0);
    CHECK_EQ(si.si_pid, pid);
    CHECK_EQ(si.si_code, CLD_KILLED);
    CHECK_EQ(si.si_status, SIGKILL);

    pid = child_exiting(6, 30);
    CHECK_EQ(waitid(P_ALL, 0, &si, WEXITED), 0);
    CHECK_EQ(si.si_pid, pid);
    CHECK_EQ(si.si_code, CLD_EXITED);
    CHECK_EQ(si.si_status, 6);

    /* WNOWAIT leaves the child to be waited for again. */
    pid = child_exiting(8, 30);
    CHECK_EQ(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
    CHECK_EQ(si.si_pid, pid);
    int st = -1;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK_EXITED(st, 8);

    /* A pidfd of the program's own: waited on while the child runs; made non-blocking, it
     * says EAGAIN instead. */
    pid = child_exiting(7, 100);
    int pfd = pidfd_open(pid, 0);
    CHECK(pfd >= 0);
    int npfd = pidfd_open(pid, PIDFD_NONBLOCK);
    CHECK(npfd >= 0);
    errno = 0;
    CHECK_EQ(waitid(P_PIDFD, (id_t)npfd, &si, WEXITED), -1);
    CHECK_EQ(errno, EAGAIN);
    CHECK_EQ(waitid(P_PIDFD, (id_t)pfd, &si, WEXITED), 0);
    CHECK_EQ(si.si_pid, pid);
    CHECK_EQ(si.si_status, 7);
    close(npfd);
    close(pfd);

    /* Linux accepts a null siginfo. */
    pid = child_exiting(0, 30);
    CHECK_EQ(waitid(P_PID, (id_t)pid, NULL, WEXITED), 0);
    errno = 0;
    CHECK_EQ(waitpid(pid, NULL, WNOHANG), -1);
    CHECK_EQ(errno, ECHILD);
}

static void nohang_and_errors(void)
{
    pid_t pid = child_exiting(2, 300);
    int st = -1;
    CHECK_EQ(waitpid(pid, &st, WNOHANG), 0);
    CHECK_EQ(waitpid(-1, &st, WNOHANG), 0);
    siginfo_t si;
    memset(&si, 0xff, sizeof si);
    CHECK_EQ(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG), 0);
    CHECK_EQ(si.si_pid, 0);
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK_EXITED(st, 2);

    /* No children at all. */
    errno = 0;
    CHECK_EQ(waitpid(-1, &st, 0), -1);
    CHECK_EQ(errno, ECHILD);
    errno = 0;
    CHECK_EQ(wait(NULL), -1);
    CHECK_EQ(errno, ECHILD);
    errno = 0;
    CHECK_EQ(waitpid(getppid(), &st, 0), -1); /* a process, but not a child */
    CHECK_EQ(errno, ECHILD);
    errno = 0;
    CHECK_EQ(waitid(P_ALL, 0, &si, WEXITED), -1);
    CHECK_EQ(errno, ECHILD);
    errno = 0;
    CHECK_EQ(waitid(P_PID, 1, &si, WEXITED), -1);
    CHECK_EQ(errno, ECHILD);

    /* Bad arguments. */
    pid = child_exiting(0, 100);
    errno = 0;
    CHECK_EQ(waitpid(pid, &st, 0x100), -1);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK_EQ(waitid(P_PID, (id_t)pid, &si, 0), -1); /* no WEXITED, WSTOPPED or WCONTINUED */
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK_EQ(waitid(P_PID, 0, &si, WEXITED), -1);
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(waitpid(pid, &st, 0), pid);
}

struct stop_wait {
    pid_t pid;
    int options;
    int status;
};

static void *wait_in_thread(void *arg)
{
    struct stop_wait *w = arg;
    CHECK_EQ(waitpid(w->pid, &w->status, w->options), w->pid);
    return NULL;
}

/* The waiter is already waiting when the child stops or continues. */
static int stop_status(pid_t pid, int sig, int options)
{
    struct stop_wait w = {pid, options, -1};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, wait_in_thread, &w), 0);
    sleep_ms(100);
    CHECK_EQ(kill(pid, sig), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    return w.status;
}

static void stops(void)
{
    pid_t pid = child_pausing();
    int st = stop_status(pid, SIGSTOP, WUNTRACED);
    CHECK(WIFSTOPPED(st));
    CHECK_EQ(WSTOPSIG(st), SIGSTOP);
    st = stop_status(pid, SIGCONT, WCONTINUED);
    CHECK(WIFCONTINUED(st));

    siginfo_t si;
    CHECK_EQ(kill(pid, SIGSTOP), 0);
    CHECK_EQ(waitid(P_PID, (id_t)pid, &si, WSTOPPED), 0);
    CHECK_EQ(si.si_code, CLD_STOPPED);
    CHECK_EQ(si.si_status, SIGSTOP);
    CHECK_EQ(kill(pid, SIGCONT), 0);
    CHECK_EQ(waitid(P_ALL, 0, &si, WCONTINUED), 0);
    CHECK_EQ(si.si_pid, pid);
    CHECK_EQ(si.si_code, CLD_CONTINUED);
    CHECK_EQ(si.si_status, SIGCONT);

    st = stop_status(pid, SIGTERM, 0);
    CHECK_KILLED(st, SIGTERM);
}

static atomic_int chld_signals;
static void on_chld(int sig)
{
    (void)sig;
    atomic_fetch_add(&chld_signals, 1);
}

/* The program's own SIGCHLD handler still runs, and with SIGCHLD ignored a wait for a child
 * ends, when it exits, with ECHILD (the kernel reaped it). */
static void sigchld_is_the_programs(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_chld;
    sa.sa_flags = SA_RESTART;
    CHECK_EQ(sigaction(SIGCHLD, &sa, NULL), 0);
    pid_t pid = child_exiting(0, 50);
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    for (int i = 0; i < 1000 && !atomic_load(&chld_signals); i++)
        sleep_ms(1);
    CHECK(atomic_load(&chld_signals) >= 1);

    signal(SIGCHLD, SIG_IGN);
    pid = child_exiting(0, 200);
    double t0 = now_seconds(CLOCK_MONOTONIC);
    errno = 0;
    CHECK_EQ(waitpid(pid, &st, 0), -1);
    CHECK_EQ(errno, ECHILD);
    CHECK(now_seconds(CLOCK_MONOTONIC) - t0 >= 0.15);
    signal(SIGCHLD, SIG_DFL);
}

/* While a thread waits for a child, another completes 200 round trips.  The child lives until
 * the round trips are done (it is told so: a time of its own would be too short when the
 * machine's load slows the round trips down), and at most 30 s: a wait that blocked every
 * thread would let them run only once the child ended, and the check that it has not yet ended
 * fails. */
enum { BY_PID, BY_ANY, BY_WAITID_PID, BY_WAITID_ALL };
static atomic_int waited;

struct busy_wait {
    int how;
    pid_t pid;
};

static void *wait_long(void *arg)
{
    struct busy_wait *w = arg;
    int st = -1;
    siginfo_t si;
    switch (w->how) {
    case BY_PID: CHECK_EQ(waitpid(w->pid, &st, 0), w->pid); break;
    case BY_ANY: CHECK_EQ(waitpid(-1, &st, 0), w->pid); break;
    case BY_WAITID_PID:
        CHECK_EQ(waitid(P_PID, (id_t)w->pid, &si, WEXITED), 0);
        st = si.si_status << 8;
        break;
    case BY_WAITID_ALL:
        CHECK_EQ(waitid(P_ALL, 0, &si, WEXITED), 0);
        CHECK_EQ(si.si_pid, w->pid);
        st = si.si_status << 8;
        break;
    }
    atomic_store(&waited, 1);
    CHECK_EXITED(st, 1);
    return NULL;
}

static void others_run(void)
{
    struct roundtrip rt;
    roundtrip_start(&rt);
    for (int how = BY_PID; how <= BY_WAITID_ALL; how++) {
        atomic_store(&waited, 0);
        int release[2];
        CHECK_EQ(pipe2(release, O_CLOEXEC), 0);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            close(release[1]);
            struct pollfd p = {release[0], POLLIN, 0};
            poll(&p, 1, 30000);
            _exit(1);
        }
        close(release[0]);
        struct busy_wait w = {how, pid};
        pthread_t t;
        CHECK_EQ(pthread_create(&t, NULL, wait_long, &w), 0);
        sleep_ms(100);
        roundtrip_run(&rt, 200);
        check_os_threads();
        CHECK(!atomic_load(&waited));
        close(release[1]);
        CHECK_EQ(pthread_join(t, NULL), 0);
    }
    roundtrip_stop(&rt);
}

/* A thread cancelled in waitpid ends, and leaves no descriptor behind. */
static void *wait_forever(void *arg)
{
    pid_t pid = *(pid_t *)arg;
    waitpid(pid, NULL, 0);
    return NULL;
}

static void cancelled(void)
{
    int before = open_fds();
    pid_t pid = child_pausing();
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, wait_forever, &pid), 0);
    sleep_ms(100);
    CHECK_EQ(pthread_cancel(t), 0);
    void *res;
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK(res == PTHREAD_CANCELED);
    CHECK_EQ(open_fds(), before);
    CHECK_EQ(kill(pid, SIGKILL), 0);
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK_KILLED(st, SIGKILL);
}

int main(void)
{
    exits_and_deaths();
    any_child(reap_waitpid);
    any_child(reap_wait);
    any_child(reap_wait3);
    any_child(reap_wait4);
    any_child(reap_own_group);
    any_child(reap_group);
    any_child(reap_waitid_group);
    rusage_filled();
    with_waitid();
    nohang_and_errors();
    stops();
    sigchld_is_the_programs();
    others_run();
    cancelled();
    return 0;
}
