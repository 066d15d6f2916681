/* sched_yield: returns 0, and threads that yield in a loop all make progress and finish. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "plain.h"

#define THREADS 4
#define ITERATIONS 10000

static atomic_int started, go, finished;
static long counters[THREADS];
static int failures[THREADS];

/* Each thread yields ITERATIONS times, counting in its own counter; then it waits (yielding) for
 * main to have sampled the thread count, so that all of them are alive at that moment. */
static void *yielder(void *arg)
{
    intptr_t i = (intptr_t)arg;
    atomic_fetch_add(&started, 1);
    for (int k = 0; k < ITERATIONS; k++) {
        if (sched_yield() != 0)
            failures[i]++;
        counters[i]++;
    }
    while (!atomic_load(&go))
        if (sched_yield() != 0)
            failures[i]++;
    atomic_fetch_add(&finished, 1);
    return (void *)counters[i];
}

/* 4 yielding threads all finish with the right counts; sched_yield always returns 0. */
static void test_yielders(void)
{
    CHECK_EQ(sched_yield(), 0);
    pthread_t t[THREADS];
    for (intptr_t i = 0; i < THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, yielder, (void *)i), 0);
    double deadline = now_seconds(CLOCK_MONOTONIC) + 10.0;
    while (atomic_load(&started) < THREADS) {
        CHECK(now_seconds(CLOCK_MONOTONIC) < deadline);
        CHECK_EQ(sched_yield(), 0);
    }
    check_os_threads(); /* every thread is alive until go is set */
    CHECK_EQ(atomic_load(&finished), 0);
    atomic_store(&go, 1);
    for (int i = 0; i < THREADS; i++) {
        void *res = NULL;
        CHECK_EQ(pthread_join(t[i], &res), 0);
        CHECK_EQ((intptr_t)res, ITERATIONS);
        CHECK_EQ(counters[i], ITERATIONS);
        CHECK_EQ(failures[i], 0);
    }
    CHECK_EQ(atomic_load(&finished), THREADS);
}

int main(void)
{
    test_yielders();
    return 0;
}
