/* Switch cost between two threads, as a plain program (it knows nothing of libgreen).
 *
 *   switch yield N     two threads alternate through sched_yield, N yields each
 *   switch condvar N   two threads ping-pong through a mutex and two condition variables,
 *                      N round trips (2N switches)
 *
 * Prints "ns_per_switch <value>".  Run under taskset -c 0 so that real threads share one core,
 * as green threads do. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long rounds;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond[2] = {PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};
static int turn;

static void *yielder(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++)
        sched_yield();
    return NULL;
}

static void *pinger(void *arg)
{
    int me = (int)(long)arg;
    pthread_mutex_lock(&lock);
    for (long i = 0; i < rounds; i++) {
        while (turn != me)
            pthread_cond_wait(&cond[me], &lock);
        turn = !me;
        pthread_cond_signal(&cond[!me]);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "yield") && strcmp(argv[1], "condvar"))) {
        fprintf(stderr, "usage: switch yield|condvar N\n");
        return 2;
    }
    int yield = strcmp(argv[1], "yield") == 0;
    rounds = atol(argv[2]);
    pthread_t t[2];
    double start = now();
    for (long i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, yield ? yielder : pinger, (void *)i);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    double took = now() - start;
    printf("ns_per_switch %.1f\n", took * 1e9 / (2.0 * rounds));
    return 0;
}
