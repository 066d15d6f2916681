/* Time slices, measured (scripts/bench_slice.sh):
 *
 *   slice sleeper SECONDS   one thread computes for SECONDS (no call in its loop) while the main
 *                           thread sleeps 1 ms at a time: how late each sleep ends
 *                           (late_median_ms, late_p99_ms, late_worst_ms, sleeps)
 *   slice libc SECONDS      the same, but the computing thread spends its time inside the C
 *                           library: memset of 16 MiB in a loop
 *   slice spinners SECONDS  two threads compute for SECONDS: each one's share of the work done
 *                           (share_a, share_b, in %)
 *
 * Run it under GREEN_WORKERS=1 to put every thread on one OS thread; plain, the kernel's own
 * time slices (and the second core) are the baseline. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_int stop;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *spin(void *arg)
{
    long n = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed))
        n++;
    *(long *)arg = n;
    return NULL;
}

static void *memsets(void *arg)
{
    enum { kSize = 16 << 20 };
    char *buf = malloc(kSize);
    long n = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed))
        memset(buf, (int)n++, kSize);
    *(long *)arg = n + buf[kSize - 1];
    free(buf);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: slice sleeper|libc|spinners SECONDS\n");
        return 2;
    }
    double seconds = atof(argv[2]);
    long counts[2] = {0, 0};
    pthread_t t[2];
    if (strcmp(argv[1], "sleeper") == 0 || strcmp(argv[1], "libc") == 0) {
        size_t cap = (size_t)(seconds * 2000) + 16, n = 0;
        double *late = malloc(cap * sizeof *late);
        pthread_create(&t[0], NULL, argv[1][0] == 's' ? spin : memsets, &counts[0]);
        double end = now() + seconds;
        while (n < cap && now() < end) {
            double before = now();
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
            late[n++] = (now() - before - 0.001) * 1e3;
        }
        atomic_store(&stop, 1);
        pthread_join(t[0], NULL);
        qsort(late, n, sizeof *late, cmp);
        printf("late_median_ms %.2f late_p99_ms %.2f late_worst_ms %.2f sleeps %zu\n", late[n / 2],
               late[n * 99 / 100], late[n - 1], n);
        return 0;
    }
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, spin, &counts[i]);
    struct timespec wait = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&wait, NULL);
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    double total = (double)(counts[0] + counts[1]);
    printf("share_a %.1f share_b %.1f\n", counts[0] * 100 / total, counts[1] * 100 / total);
    return 0;
}
