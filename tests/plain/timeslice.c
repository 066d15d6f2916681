/* Threads that compute without ever calling the C library share the CPU with the others, as
 * the kernel's time slices make them: a thread sleeping 1 ms at a time beside one that
 * computes wakes close to on time, also beside one that loops in the C library's memset,
 * memcpy, strlen and memcmp; two computing threads both make progress; each finds its
 * registers, floating-point and vector state, errno and signal mask as it left them; a
 * blocking read beside them is not interrupted; a SIGURG the program raises reaches its own
 * handler, once.
 *
 * The bounds are generous (the machine may be loaded): without time slices on one OS thread,
 * the sleeper waits for the whole computation (seconds) and a spinner gets nothing. */
#include <signal.h>
#include <stdatomic.h>

#include "plain.h"

typedef double v4 __attribute__((vector_size(32)));

static atomic_int stop;

/* A computation that calls nothing: counts, and keeps a double and a vector in step with the
 * count, so that a register or FP/SSE state lost or mixed with another thread's shows. */
struct spin {
    long n;
    double acc;
    v4 v;
    int errno_kept;
    int mask_kept;
};

static void *spinner(void *arg)
{
    struct spin *s = arg;
    sigset_t usr1, now;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    CHECK(pthread_sigmask(SIG_BLOCK, &usr1, NULL) == 0);
    errno = EDOM;
    long n = 0;
    double acc = 0;
    v4 v = {0, 0, 0, 0}, d = {1, 2, 3, 4};
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        n++;
        acc += 0.5;
        v += d;
    }
    s->errno_kept = errno == EDOM;
    CHECK(pthread_sigmask(SIG_BLOCK, NULL, &now) == 0);
    s->mask_kept = sigismember(&now, SIGUSR1) == 1;
    s->n = n;
    s->acc = acc;
    s->v = v;
    return NULL;
}

static void check_spin(const struct spin *s)
{
    CHECK(s->n > 0);
    CHECK(s->acc == 0.5 * (double)s->n);
    for (int i = 0; i < 4; i++)
        CHECK(s->v[i] == (double)(i + 1) * (double)s->n);
    CHECK(s->errno_kept);
    CHECK(s->mask_kept);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

enum { kSleeps = 100 };

/* Sleeps 1 ms kSleeps times and records how late each wake-up is, in seconds. */
static void sleep_and_measure(double late[kSleeps])
{
    for (int i = 0; i < kSleeps; i++) {
        double before = now_seconds(CLOCK_MONOTONIC);
        struct timespec ms = {0, 1000000};
        CHECK(nanosleep(&ms, NULL) == 0);
        late[i] = now_seconds(CLOCK_MONOTONIC) - before - 0.001;
    }
}

/* Prints the median, p99 and worst lateness after "what:" and checks the worst. */
static void report_lateness(const char *what, double late[kSleeps])
{
    qsort(late, kSleeps, sizeof late[0], cmp_double);
    printf("%s: median %.1f ms, p99 %.1f ms, worst %.1f ms late\n", what, late[kSleeps / 2] * 1e3,
           late[kSleeps - 2] * 1e3, late[kSleeps - 1] * 1e3);
    CHECK(late[kSleeps - 1] < 0.5);
}

/* One thread computes; this one sleeps 1 ms a hundred times and measures how late it wakes. */
static void sleeper_beside_computation(void)
{
    struct spin s = {0};
    pthread_t t;
    atomic_store(&stop, 0);
    CHECK(pthread_create(&t, NULL, spinner, &s) == 0);
    double late[kSleeps];
    sleep_and_measure(late);
    atomic_store(&stop, 1);
    CHECK(pthread_join(t, NULL) == 0);
    check_spin(&s);
    report_lateness("sleeper", late);
}

/* A thread that spends nearly all its time inside the C library's memory and string routines
 * (large memset, memcpy, strlen and memcmp calls in a loop), checking every result. */
enum { kBuf = 4 << 20 };

static void *libc_looper(void *arg)
{
    long *rounds = arg;
    char *a = malloc(kBuf), *b = malloc(kBuf);
    CHECK(a && b);
    long n = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        int c = 'a' + (int)(n % 26);
        CHECK(memset(a, c, kBuf - 1) == a);
        a[kBuf - 1] = '\0';
        CHECK(memcpy(b, a, kBuf) == b);
        CHECK(strlen(b) == kBuf - 1);
        CHECK(b[n % (kBuf - 1)] == c);
        CHECK(memcmp(a, b, kBuf) == 0);
        n++;
    }
    free(a);
    free(b);
    *rounds = n;
    return NULL;
}

/* The same sleeper beside a thread looping in the C library. */
static void sleeper_beside_libc_loop(void)
{
    long rounds = 0;
    pthread_t t;
    atomic_store(&stop, 0);
    CHECK(pthread_create(&t, NULL, libc_looper, &rounds) == 0);
    double late[kSleeps];
    sleep_and_measure(late);
    atomic_store(&stop, 1);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(rounds > 0);
    report_lateness("sleeper beside the C library", late);
}

/* Two computing threads for 600 ms: each gets a fair part of the CPU. */
static void two_spinners(void)
{
    struct spin s[2] = {{0}};
    pthread_t t[2];
    atomic_store(&stop, 0);
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&t[i], NULL, spinner, &s[i]) == 0);
    check_os_threads();
    struct timespec wait = {0, 600000000};
    CHECK(nanosleep(&wait, NULL) == 0);
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++) {
        CHECK(pthread_join(t[i], NULL) == 0);
        check_spin(&s[i]);
    }
    double share = (double)s[0].n / (double)(s[0].n + s[1].n);
    printf("spinners: %.1f%% and %.1f%%\n", share * 100, (1 - share) * 100);
    CHECK(share > 0.2 && share < 0.8);
}

static int pipe_fds[2];

static void *late_writer(void *arg)
{
    (void)arg;
    struct timespec wait = {0, 300000000};
    CHECK(nanosleep(&wait, NULL) == 0);
    CHECK(write(pipe_fds[1], "x", 1) == 1);
    return NULL;
}

/* A blocking read waits 300 ms beside a computation: it returns its byte, never EINTR. */
static void read_beside_computation(void)
{
    struct spin s = {0};
    pthread_t spin_t, writer_t;
    CHECK(pipe(pipe_fds) == 0);
    atomic_store(&stop, 0);
    CHECK(pthread_create(&spin_t, NULL, spinner, &s) == 0);
    CHECK(pthread_create(&writer_t, NULL, late_writer, NULL) == 0);
    char c = 0;
    ssize_t n = read(pipe_fds[0], &c, 1);
    CHECK(n == 1 && c == 'x');
    atomic_store(&stop, 1);
    CHECK(pthread_join(spin_t, NULL) == 0);
    CHECK(pthread_join(writer_t, NULL) == 0);
    check_spin(&s);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

static atomic_int urg_handled;

static void on_urg(int sig)
{
    (void)sig;
    atomic_fetch_add(&urg_handled, 1);
}

/* SIGURG is the program's as ever: ignored by default, its handler called for a raise. */
static void program_sigurg(void)
{
    struct sigaction sa, old;
    CHECK(sigaction(SIGURG, NULL, &old) == 0);
    CHECK(old.sa_handler == SIG_DFL);
    CHECK(raise(SIGURG) == 0);  /* ignored */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_urg;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGURG, &sa, NULL) == 0);
    CHECK(sigaction(SIGURG, NULL, &old) == 0);
    CHECK(old.sa_handler == on_urg);
    CHECK(raise(SIGURG) == 0);
    CHECK_EQ(atomic_load(&urg_handled), 1);
    /* And while threads compute beside it, no other call of its handler. */
    two_spinners();
    CHECK_EQ(atomic_load(&urg_handled), 1);
    sa.sa_handler = SIG_DFL;
    CHECK(sigaction(SIGURG, &sa, NULL) == 0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    sleeper_beside_computation();
    sleeper_beside_libc_loop();
    two_spinners();
    read_beside_computation();
    program_sigurg();
    return 0;
}
