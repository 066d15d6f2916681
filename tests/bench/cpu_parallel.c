/* Threads of pure computation, as a plain program.
 *
 *   cpu_parallel THREADS ITERATIONS   starts THREADS threads, each running ITERATIONS rounds of
 *                                      an integer hash with no call into the C library in the
 *                                      loop, joins them; prints "wall_ms <v>" and a checksum.
 *
 * With real threads on a machine of C cores the wall time is about THREADS/C rounds' worth;
 * under libgreen it shows whether green threads run on every core (GREEN_WORKERS). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long iterations;

static void *work(void *arg)
{
    uint64_t x = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
    for (long i = 0; i < iterations; i++) {
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdull;
        x ^= x >> 29;
    }
    return (void *)(uintptr_t)x;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    int n = argc == 3 ? atoi(argv[1]) : 0;
    iterations = argc == 3 ? atol(argv[2]) : 0;
    if (n <= 0 || n > 1024 || iterations <= 0) {
        fprintf(stderr, "usage: cpu_parallel THREADS ITERATIONS\n");
        return 2;
    }
    pthread_t t[1024];
    double start = now_ms();
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, work, (void *)(uintptr_t)(i + 1)) != 0) {
            fprintf(stderr, "cpu_parallel: pthread_create failed\n");
            return 1;
        }
    uint64_t sum = 0;
    for (int i = 0; i < n; i++) {
        void *r;
        pthread_join(t[i], &r);
        sum += (uint64_t)(uintptr_t)r;
    }
    printf("wall_ms %.1f\nchecksum %llx\n", now_ms() - start, (unsigned long long)sum);
    return 0;
}
