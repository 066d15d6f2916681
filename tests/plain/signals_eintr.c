/* Signals and blocking calls, as with real threads:
 *  - a handler without SA_RESTART makes the main thread's blocked accept fail with EINTR when
 *    another thread sends the process a signal (Linux gives a process-directed signal to the
 *    main thread); with SA_RESTART the accept goes on and returns the next connection;
 *  - poll is never restarted (EINTR even with SA_RESTART); nanosleep reports what was left;
 *    waitpid is restarted with SA_RESTART, and fails with EINTR without; alarm's SIGALRM
 *    interrupts a read;
 *  - pthread_kill interrupts the thread it names: pause and sem_wait end with EINTR;
 *  - a thread in sigwait takes a blocked signal while other threads go on;
 *  - sigaction reports the handler and flags the program set, signal() the previous handler;
 *  - signal masks are per thread, and inherited by new threads.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "plain.h"

static atomic_int handled;

static void on_usr1(int sig)
{
    (void)sig;
    atomic_fetch_add(&handled, 1);
}

static void set_handler(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = flags;
    CHECK_EQ(sigaction(sig, &sa, NULL), 0);
}

static int listener(struct sockaddr_in *a)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    socklen_t len = sizeof *a;
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(bind(fd, (struct sockaddr *)a, sizeof *a), 0);
    CHECK_EQ(listen(fd, 8), 0);
    CHECK_EQ(getsockname(fd, (struct sockaddr *)a, &len), 0);
    return fd;
}

/* After a pause, sends the process SIGUSR1; with connect_to, then connects there.  Without,
 * again every 100 ms until the call to interrupt returned (done): on a loaded machine the
 * signal may come before the call started, which then waits for the next one. */
struct kick {
    struct sockaddr_in *connect_to;
    int fd;
    atomic_int done;
};

static void *kicker(void *arg)
{
    struct kick *k = arg;
    for (int i = 0; i < 100 && !atomic_load(&k->done); i++) {
        sleep_ms(100);
        if (atomic_load(&k->done))
            break;
        CHECK_EQ(kill(getpid(), SIGUSR1), 0);
        if (k->connect_to)
            break;
    }
    if (k->connect_to) {
        sleep_ms(100);
        k->fd = socket(AF_INET, SOCK_STREAM, 0);
        CHECK_EQ(connect(k->fd, (struct sockaddr *)k->connect_to, sizeof *k->connect_to), 0);
    }
    return NULL;
}

static void accept_interrupted(int restart)
{
    struct sockaddr_in a;
    int l = listener(&a);
    set_handler(SIGUSR1, on_usr1, restart ? SA_RESTART : 0);
    int before = atomic_load(&handled);
    struct kick k = {restart ? &a : NULL, -1, 0};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, kicker, &k), 0);
    check_os_threads();
    errno = 0;
    int c = accept(l, NULL, NULL);
    atomic_store(&k.done, 1);
    if (restart) {
        CHECK(c >= 0);  /* the handler ran, the accept went on */
        close(c);
    } else {
        CHECK_EQ(c, -1);
        CHECK_EQ(errno, EINTR);
    }
    CHECK_EQ(pthread_join(t, NULL), 0);
    if (restart)
        CHECK_EQ(atomic_load(&handled), before + 1);
    else
        CHECK(atomic_load(&handled) >= before + 1);
    if (k.fd >= 0)
        close(k.fd);
    close(l);
}

static void poll_and_sleep_interrupted(void)
{
    set_handler(SIGUSR1, on_usr1, SA_RESTART);
    struct kick k = {NULL, -1, 0};
    pthread_t t;
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CHECK_EQ(pthread_create(&t, NULL, kicker, &k), 0);
    struct pollfd p = {sv[0], POLLIN, 0};
    errno = 0;
    CHECK_EQ(poll(&p, 1, 5000), -1);  /* never restarted, SA_RESTART or not */
    atomic_store(&k.done, 1);
    CHECK_EQ(errno, EINTR);
    CHECK_EQ(pthread_join(t, NULL), 0);

    atomic_store(&k.done, 0);
    CHECK_EQ(pthread_create(&t, NULL, kicker, &k), 0);
    struct timespec req = {5, 0}, rem = {0, 0};
    errno = 0;
    CHECK_EQ(nanosleep(&req, &rem), -1);
    atomic_store(&k.done, 1);
    CHECK_EQ(errno, EINTR);
    CHECK(rem.tv_sec >= 3 && rem.tv_sec <= 5);  /* about 4.9 s were left */
    CHECK_EQ(pthread_join(t, NULL), 0);
    close(sv[0]);
    close(sv[1]);
}

/* waitpid: EINTR without SA_RESTART; with it the wait goes on to the child's end. */
static void waitpid_interrupted(void)
{
    for (int restart = 0; restart <= 1; restart++) {
        set_handler(SIGUSR1, on_usr1, restart ? SA_RESTART : 0);
        pid_t child = fork();
        CHECK(child >= 0);
        if (child == 0) {
            sleep_ms(400);
            _exit(7);
        }
        struct kick k = {NULL, -1, 0};
        pthread_t t;
        CHECK_EQ(pthread_create(&t, NULL, kicker, &k), 0);
        int status = 0;
        errno = 0;
        pid_t r = waitpid(child, &status, 0);
        atomic_store(&k.done, 1);
        if (!restart) {
            CHECK_EQ(r, -1);
            CHECK_EQ(errno, EINTR);
            CHECK_EQ(waitpid(child, &status, 0), child);
        } else {
            CHECK_EQ(r, child);
        }
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7);
        CHECK_EQ(pthread_join(t, NULL), 0);
    }
}

/* alarm: SIGALRM (process-directed, from the kernel) interrupts a read on an empty pipe. */
static void alarm_interrupts_read(void)
{
    set_handler(SIGALRM, on_usr1, 0);
    int p[2];
    CHECK_EQ(pipe(p), 0);
    int before = atomic_load(&handled);
    alarm(1);
    char c;
    errno = 0;
    CHECK_EQ(read(p[0], &c, 1), -1);
    CHECK_EQ(errno, EINTR);
    CHECK_EQ(atomic_load(&handled), before + 1);
    close(p[0]);
    close(p[1]);
}

static atomic_int target_waiting;
static sem_t sem;

static void *pauser(void *arg)
{
    (void)arg;
    atomic_store(&target_waiting, 1);
    errno = 0;
    CHECK_EQ(pause(), -1);
    CHECK_EQ(errno, EINTR);
    atomic_store(&target_waiting, 2);
    errno = 0;
    CHECK_EQ(sem_wait(&sem), -1);  /* without SA_RESTART */
    CHECK_EQ(errno, EINTR);
    return NULL;
}

static void pthread_kill_interrupts(void)
{
    set_handler(SIGUSR1, on_usr1, 0);
    CHECK_EQ(sem_init(&sem, 0, 0), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, pauser, NULL), 0);
    wait_flag(&target_waiting);
    sleep_ms(50);
    CHECK_EQ(pthread_kill(t, SIGUSR1), 0);
    for (int i = 0; atomic_load(&target_waiting) != 2; i++) {
        CHECK(i < 5000);
        sleep_ms(1);
    }
    sleep_ms(50);
    CHECK_EQ(pthread_kill(t, SIGUSR1), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    sem_destroy(&sem);
}

static void *sigwaiter(void *arg)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    int sig = 0;
    CHECK_EQ(sigwait(&set, &sig), 0);
    CHECK_EQ(sig, SIGUSR2);
    atomic_store((atomic_int *)arg, 1);
    return NULL;
}

static void sigwait_thread(void)
{
    /* blocked in every thread, taken by the waiting one */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, &set, &old), 0);
    atomic_int got = 0;
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, sigwaiter, &got), 0);
    /* meanwhile this thread goes on: socket round trips */
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    for (int i = 0; i < 200; i++) {
        char c = (char)i, d;
        write_all(sv[0], &c, 1);
        read_exact(sv[1], &d, 1);
        CHECK_EQ(c, d);
    }
    CHECK_EQ(atomic_load(&got), 0);
    CHECK_EQ(kill(getpid(), SIGUSR2), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(atomic_load(&got), 1);
    struct timespec zero = {0, 0};
    errno = 0;
    CHECK_EQ(sigtimedwait(&set, NULL, &zero), -1);  /* nothing left pending */
    CHECK_EQ(errno, EAGAIN);
    CHECK_EQ(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
    close(sv[0]);
    close(sv[1]);
}

/* Masks are per thread: a thread that blocks SIGUSR1 does not block it for the others, a new
 * thread inherits its creator's mask, and a process-directed SIGUSR1 still interrupts the main
 * thread's accept while a worker blocks it. */
static atomic_int worker_blocked;
static atomic_int worker_done;

static void *blocking_worker(void *arg)
{
    (void)arg;
    sigset_t set, cur;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, &set, NULL), 0);
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, NULL, &cur), 0);
    CHECK_EQ(sigismember(&cur, SIGUSR1), 1);
    atomic_store(&worker_blocked, 1);
    for (int i = 0; i < 300 && !atomic_load(&worker_done); i++)
        sleep_ms(1);  /* runs (and switches) while the main thread waits */
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, NULL, &cur), 0);
    CHECK_EQ(sigismember(&cur, SIGUSR1), 1);
    return NULL;
}

static void *mask_reporter(void *arg)
{
    sigset_t cur;
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, NULL, &cur), 0);
    return (void *)(intptr_t)sigismember(&cur, *(int *)arg);
}

static void masks_per_thread(void)
{
    set_handler(SIGUSR1, on_usr1, 0);
    pthread_t w;
    CHECK_EQ(pthread_create(&w, NULL, blocking_worker, NULL), 0);
    wait_flag(&worker_blocked);
    sigset_t cur;
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, NULL, &cur), 0);
    CHECK_EQ(sigismember(&cur, SIGUSR1), 0);  /* the worker's block is its own */
    struct sockaddr_in a;
    int l = listener(&a);
    struct kick k = {NULL, -1, 0};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, kicker, &k), 0);
    errno = 0;
    CHECK_EQ(accept(l, NULL, NULL), -1);
    atomic_store(&k.done, 1);
    CHECK_EQ(errno, EINTR);
    atomic_store(&worker_done, 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(pthread_join(w, NULL), 0);
    close(l);
    /* inheritance */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, &set, &old), 0);
    int sig = SIGWINCH;
    CHECK_EQ(in_thread(mask_reporter, &sig), 1);
    CHECK_EQ(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
    CHECK_EQ(in_thread(mask_reporter, &sig), 0);
}

static void on_info(int sig, siginfo_t *si, void *ctx)
{
    (void)sig, (void)si, (void)ctx;
}

static void actions_reported(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGTERM);
    CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
    CHECK_EQ(sigaction(SIGUSR1, NULL, &old), 0);
    CHECK(old.sa_sigaction == on_info);
    CHECK(old.sa_flags & SA_SIGINFO);
    CHECK(old.sa_flags & SA_RESTART);
    CHECK_EQ(sigismember(&old.sa_mask, SIGTERM), 1);
    CHECK((void *)signal(SIGUSR1, on_usr1) == (void *)on_info);
    CHECK(signal(SIGUSR1, SIG_DFL) == on_usr1);
    CHECK_EQ(sigaction(SIGUSR1, NULL, &old), 0);
    CHECK(old.sa_handler == SIG_DFL);
    errno = 0;
    CHECK_EQ(sigaction(SIGKILL, &sa, NULL), -1);
    CHECK_EQ(errno, EINVAL);
}

int main(void)
{
    actions_reported();
    accept_interrupted(0);
    accept_interrupted(1);
    poll_and_sleep_interrupted();
    waitpid_interrupted();
    masks_per_thread();
    alarm_interrupts_read();
    pthread_kill_interrupts();
    sigwait_thread();
    puts("signals_eintr: ok");
    return 0;
}
