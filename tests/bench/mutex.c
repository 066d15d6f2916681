/* Uncontended mutex cost, as a plain program.
 *
 *   mutex N     N lock/unlock pairs of a PTHREAD_MUTEX_INITIALIZER mutex, in a thread created
 *               with pthread_create (so that under libgreen it is a green thread)
 *
 * Prints "ns_per_pair <value>". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long rounds;
static double took;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
    (void)arg;
    double start = now();
    for (long i = 0; i < rounds; i++) {
        pthread_mutex_lock(&lock);
        pthread_mutex_unlock(&lock);
    }
    took = now() - start;
    return NULL;
}

int main(int argc, char **argv)
{
    rounds = argc > 1 ? atol(argv[1]) : 10000000;
    pthread_t t;
    pthread_create(&t, NULL, run, NULL);
    pthread_join(t, NULL);
    printf("ns_per_pair %.2f\n", took * 1e9 / rounds);
    return 0;
}
