/* How late a thread that sleeps 5 ms at a time wakes while another thread is stuck in a call
 * that blocks its OS thread in the kernel.
 *
 * Usage: blocked_call fsync MiB   one thread writes MiB of fresh data to a file and fsyncs it,
 *                                 three times; the sleeper's lateness counts during the fsyncs
 *                                 (the writes themselves compute, which is the time slices' part)
 *        blocked_call raw MS      one thread sleeps MS in nanosleep made by a raw syscall
 *                                 instruction (inline assembly, no C library)
 * The sleeper runs until the blocked thread is done.  Prints one line:
 *   blocked_ms B worst_late_ms W p99_late_ms P sleeps N
 * (blocked_ms: the time in the blocking calls; sleeps: those due to end inside one, counted)
 * Under libgreen with one worker the sleeper shares the blocked thread's OS thread unless the
 * worker is handed off (hub/handoff.h).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static atomic_int done;
/* The stretches in the blocking calls; a sleep that is due to end inside one counts. */
static double from[8], to[8];
static int n_calls;
static double starts[100000], ends[100000];
static int n_sleeps;
static double blocked_ms;
static double lates[100000];
static int n_lates;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long mib = 256, raw_ms = 2000;
static const char *mode;

static void *blocked(void *arg)
{
    (void)arg;
    double t0 = now_ms();
    if (strcmp(mode, "raw") == 0) {
        struct timespec ts = {raw_ms / 1000, (raw_ms % 1000) * 1000000L};
        long ret;
        from[0] = t0;
        __asm__ volatile("syscall"
                         : "=a"(ret)
                         : "a"((long)SYS_nanosleep), "D"(&ts), "S"(0L)
                         : "rcx", "r11", "memory");
        (void)ret;
        to[0] = now_ms();
        n_calls = 1;
    } else {
        char path[] = "blocked_call.XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0) {
            perror("mkstemp");
            exit(1);
        }
        unlink(path);
        size_t chunk = 1 << 20;
        char *buf = malloc(chunk);
        blocked_ms = 0;
        for (int round = 0; round < 3; round++) {
            for (long i = 0; i < mib; i++) {
                memset(buf, (int)(i + round), chunk);
                if (pwrite(fd, buf, chunk, (off_t)(i * chunk)) != (ssize_t)chunk) {
                    perror("pwrite");
                    exit(1);
                }
            }
            /* Writing computes (the sleeper waits for it: time slices' part); let it get back
             * into its rhythm before the call. */
            struct timespec pause = {0, 20000000};
            nanosleep(&pause, NULL);
            double f0 = now_ms();
            if (fsync(fd) != 0) {
                perror("fsync");
                exit(1);
            }
            from[n_calls] = f0;
            to[n_calls++] = now_ms();
            blocked_ms += to[n_calls - 1] - f0;
        }
        close(fd);
        free(buf);
        atomic_store(&done, 1);
        return NULL;
    }
    blocked_ms = now_ms() - t0;
    atomic_store(&done, 1);
    return NULL;
}

static void *sleeper(void *arg)
{
    (void)arg;
    while (!atomic_load(&done) && n_sleeps < 100000) {
        starts[n_sleeps] = now_ms();
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
        ends[n_sleeps++] = now_ms();
    }
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "fsync") && strcmp(argv[1], "raw"))) {
        fprintf(stderr, "usage: blocked_call fsync MiB | raw MS\n");
        return 2;
    }
    mode = argv[1];
    if (strcmp(mode, "raw") == 0)
        raw_ms = atol(argv[2]);
    else
        mib = atol(argv[2]);
    pthread_t s, b;
    pthread_create(&s, NULL, sleeper, NULL);
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL); /* the sleeper is in its rhythm */
    pthread_create(&b, NULL, blocked, NULL);
    pthread_join(b, NULL);
    pthread_join(s, NULL);
    for (int i = 0; i < n_sleeps; i++) {
        double due = starts[i] + 5.0;
        for (int c = 0; c < n_calls; c++)
            if (due >= from[c] && due < to[c])
                lates[n_lates++] = ends[i] - due;
    }
    qsort(lates, n_lates, sizeof lates[0], cmp);
    printf("blocked_ms %.0f worst_late_ms %.1f p99_late_ms %.1f sleeps %d\n", blocked_ms,
           n_lates ? lates[n_lates - 1] : 0, n_lates ? lates[n_lates * 99 / 100] : 0, n_lates);
    if (n_lates == 0)
        fprintf(stderr, "blocked_call: no sleep was due inside a blocking call\n");
    return 0;
}
