/* pthread barriers (rounds, the serial thread, bad counts) and pthread_once (one run, callers
 * wait for it). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "plain.h"

/* ------------------------------------------------------------------------------------------ */

#define BT 8
#define ROUNDS 100
static pthread_barrier_t start_barrier, round_barrier;
static int slots[BT];
static atomic_int serial_count[ROUNDS][2];

static void *round_body(void *arg)
{
    int me = (int)(intptr_t)arg;
    int r = pthread_barrier_wait(&start_barrier);
    CHECK(r == 0 || r == PTHREAD_BARRIER_SERIAL_THREAD);
    for (int round = 0; round < ROUNDS; round++) {
        slots[me] = round * 1000 + me;
        if (round % 10 == me)
            sleep_ms(1); /* a late arrival: the others must wait for it */
        for (int phase = 0; phase < 2; phase++) {
            if (phase == 1)
                for (int i = 0; i < BT; i++)
                    CHECK_EQ(slots[i], round * 1000 + i);
            r = pthread_barrier_wait(&round_barrier);
            if (r == PTHREAD_BARRIER_SERIAL_THREAD)
                atomic_fetch_add(&serial_count[round][phase], 1);
            else
                CHECK_EQ(r, 0);
        }
    }
    return NULL;
}

/* pthread_barrier_wait returns only when all `count` threads have arrived; exactly one of them
 * gets PTHREAD_BARRIER_SERIAL_THREAD, the others 0; the barrier resets for the next round. */
static void test_rounds(void)
{
    pthread_t t[BT];
    CHECK_EQ(pthread_barrier_init(&start_barrier, NULL, BT + 1), 0);
    CHECK_EQ(pthread_barrier_init(&round_barrier, NULL, BT), 0);
    for (intptr_t i = 0; i < BT; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, round_body, (void *)i), 0);
    check_os_threads(); /* none can pass start_barrier before main arrives */
    int r = pthread_barrier_wait(&start_barrier);
    CHECK(r == 0 || r == PTHREAD_BARRIER_SERIAL_THREAD);
    for (int i = 0; i < BT; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    for (int round = 0; round < ROUNDS; round++) {
        CHECK_EQ(atomic_load(&serial_count[round][0]), 1);
        CHECK_EQ(atomic_load(&serial_count[round][1]), 1);
    }
    CHECK_EQ(pthread_barrier_destroy(&round_barrier), 0);
    CHECK_EQ(pthread_barrier_destroy(&start_barrier), 0);
}

/* pthread_barrier_init with a count of 0 is EINVAL; with a count of 1, every wait returns at
 * once as the serial thread. */
static void test_counts(void)
{
    pthread_barrier_t b;
    CHECK_EQ(pthread_barrier_init(&b, NULL, 0), EINVAL);
    CHECK_EQ(pthread_barrier_init(&b, NULL, 1), 0);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(pthread_barrier_wait(&b), PTHREAD_BARRIER_SERIAL_THREAD);
    CHECK_EQ(pthread_barrier_destroy(&b), 0);
}

/* ------------------------------------------------------------------------------------------ */

#define ONCE_CALLERS 50
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_barrier_t once_gate;
static atomic_int once_runs, once_done;

static void once_init(void)
{
    atomic_fetch_add(&once_runs, 1);
    sleep_ms(100);
    atomic_store(&once_done, 1);
}

static void *once_body(void *arg)
{
    (void)arg;
    int r = pthread_barrier_wait(&once_gate);
    CHECK(r == 0 || r == PTHREAD_BARRIER_SERIAL_THREAD);
    CHECK_EQ(pthread_once(&once, once_init), 0);
    CHECK_EQ(atomic_load(&once_done), 1); /* the initializer had finished */
    CHECK_EQ(atomic_load(&once_runs), 1);
    return NULL;
}

/* pthread_once: of 50 concurrent callers, the routine runs exactly once, and no call returns
 * before it has completed; later calls do nothing. */
static void test_once(void)
{
    pthread_t t[ONCE_CALLERS];
    CHECK_EQ(pthread_barrier_init(&once_gate, NULL, ONCE_CALLERS + 1), 0);
    for (int i = 0; i < ONCE_CALLERS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, once_body, NULL), 0);
    check_os_threads(); /* all 50 are held at the gate until main arrives */
    double start = now_seconds(CLOCK_MONOTONIC);
    int r = pthread_barrier_wait(&once_gate);
    CHECK(r == 0 || r == PTHREAD_BARRIER_SERIAL_THREAD);
    for (int i = 0; i < ONCE_CALLERS; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    double took = now_seconds(CLOCK_MONOTONIC) - start;
    CHECK(took >= 0.099 && took < 5.0);
    CHECK_EQ(pthread_once(&once, once_init), 0);
    CHECK_EQ(atomic_load(&once_runs), 1);
    CHECK_EQ(pthread_barrier_destroy(&once_gate), 0);
}

int main(void)
{
    test_rounds();
    test_counts();
    test_once();
    return 0;
}
