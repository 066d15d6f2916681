/* Thread start and exit, as a plain program.
 *
 *   spawn N BATCH   starts BATCH threads (default attributes), joins them all, and again, until
 *                   N threads have run; prints "ns_per_thread <v>" (create + run + join).
 *
 * Each thread touches 16 KiB of its stack, as a thread that does some work would, so that a
 * stack's pages count: faulted in when fresh, given back or kept when the thread ends. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void *work(void *arg)
{
    volatile char scratch[16 * 1024];
    memset((char *)scratch, 1, sizeof scratch);
    return arg;
}

int main(int argc, char **argv)
{
    long n = argc == 3 ? atol(argv[1]) : 0, batch = argc == 3 ? atol(argv[2]) : 0;
    if (n <= 0 || batch <= 0 || batch > 100000) {
        fprintf(stderr, "usage: spawn N BATCH\n");
        return 2;
    }
    pthread_t *t = calloc((size_t)batch, sizeof *t);
    if (!t)
        return 1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long done = 0;
    while (done < n) {
        long k = n - done < batch ? n - done : batch;
        for (long i = 0; i < k; i++) {
            int rc = pthread_create(&t[i], NULL, work, (void *)i);
            if (rc != 0) {
                fprintf(stderr, "spawn: pthread_create: %s\n", strerror(rc));
                return 1;
            }
        }
        for (long i = 0; i < k; i++) {
            void *r;
            if (pthread_join(t[i], &r) != 0 || r != (void *)i) {
                fprintf(stderr, "spawn: join of thread %ld failed\n", i);
                return 1;
            }
        }
        done += k;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
    printf("threads %ld batch %ld ns_per_thread %.0f\n", n, batch, ns / (double)n);
    free(t);
    return 0;
}
