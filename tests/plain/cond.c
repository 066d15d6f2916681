/* pthread condition variables: a bounded producer/consumer queue, timed waits on both clocks,
 * broadcast, signal without waiters, cancellation of a waiter. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "plain.h"

static void init_errorcheck(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;
    CHECK_EQ(pthread_mutexattr_init(&a), 0);
    CHECK_EQ(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK), 0);
    CHECK_EQ(pthread_mutex_init(m, &a), 0);
    CHECK_EQ(pthread_mutexattr_destroy(&a), 0);
}

/* ------------------------------------------------------------------------------------------ */

#define PRODUCERS 4
#define CONSUMERS 4
#define QCAP 8
#define ITEMS 20000

static pthread_mutex_t q_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t q_not_empty = PTHREAD_COND_INITIALIZER;
static int q_buf[QCAP], q_head, q_len;
static int q_taken;                  /* items removed so far */
static unsigned char q_seen[ITEMS + 1];
static long long q_sum;

static void *producer_body(void *arg)
{
    int p = (int)(intptr_t)arg;
    for (int i = 0; i < ITEMS / PRODUCERS; i++) {
        int item = p * (ITEMS / PRODUCERS) + i + 1; /* 1 .. ITEMS, each once */
        CHECK_EQ(pthread_mutex_lock(&q_mutex), 0);
        while (q_len == QCAP)
            CHECK_EQ(pthread_cond_wait(&q_not_full, &q_mutex), 0);
        q_buf[(q_head + q_len) % QCAP] = item;
        q_len++;
        CHECK_EQ(pthread_cond_signal(&q_not_empty), 0);
        CHECK_EQ(pthread_mutex_unlock(&q_mutex), 0);
    }
    return NULL;
}

static void *consumer_body(void *arg)
{
    (void)arg;
    long consumed = 0;
    CHECK_EQ(pthread_mutex_lock(&q_mutex), 0);
    for (;;) {
        while (q_len == 0 && q_taken < ITEMS)
            CHECK_EQ(pthread_cond_wait(&q_not_empty, &q_mutex), 0);
        if (q_len == 0)
            break; /* everything was taken */
        int item = q_buf[q_head];
        q_head = (q_head + 1) % QCAP;
        q_len--;
        q_taken++;
        CHECK(item >= 1 && item <= ITEMS);
        q_seen[item]++;
        q_sum += item;
        consumed++;
        CHECK_EQ(pthread_cond_signal(&q_not_full), 0);
        if (q_taken == ITEMS) /* wake the other consumers so that they see the end */
            CHECK_EQ(pthread_cond_broadcast(&q_not_empty), 0);
    }
    CHECK_EQ(pthread_mutex_unlock(&q_mutex), 0);
    return (void *)(intptr_t)consumed;
}

/* A mutex and two condvars make a correct bounded queue: every item is consumed exactly once. */
static void test_producer_consumer(void)
{
    pthread_t p[PRODUCERS], c[CONSUMERS];
    /* Holding the queue's mutex, no thread can make progress (or end) before the check. */
    CHECK_EQ(pthread_mutex_lock(&q_mutex), 0);
    for (intptr_t i = 0; i < CONSUMERS; i++)
        CHECK_EQ(pthread_create(&c[i], NULL, consumer_body, (void *)i), 0);
    for (intptr_t i = 0; i < PRODUCERS; i++)
        CHECK_EQ(pthread_create(&p[i], NULL, producer_body, (void *)i), 0);
    check_os_threads();
    CHECK_EQ(pthread_mutex_unlock(&q_mutex), 0);

    for (int i = 0; i < PRODUCERS; i++)
        CHECK_EQ(pthread_join(p[i], NULL), 0);
    long total = 0;
    for (int i = 0; i < CONSUMERS; i++) {
        void *res;
        CHECK_EQ(pthread_join(c[i], &res), 0);
        total += (intptr_t)res;
    }
    CHECK_EQ(total, ITEMS);
    CHECK_EQ(q_taken, ITEMS);
    CHECK_EQ(q_len, 0);
    CHECK_EQ(q_sum, (long long)ITEMS * (ITEMS + 1) / 2);
    for (int i = 1; i <= ITEMS; i++)
        CHECK_EQ(q_seen[i], 1);
}

/* ------------------------------------------------------------------------------------------ */

/* Waits on cv (whose clock is `clock`) with nobody signalling: ETIMEDOUT, not before the
 * deadline, and the (error-checking) mutex is held again on return.  `use_clockwait` selects
 * pthread_cond_clockwait(clock) instead of pthread_cond_timedwait. */
static void expect_timeout(pthread_cond_t *cv, clockid_t clock, int use_clockwait, long ms)
{
    pthread_mutex_t m;
    init_errorcheck(&m);
    CHECK_EQ(pthread_mutex_lock(&m), 0);
    struct timespec dl = abstime_in(clock, ms);
    double start = now_seconds(CLOCK_MONOTONIC);
    int r = use_clockwait ? pthread_cond_clockwait(cv, &m, clock, &dl)
                          : pthread_cond_timedwait(cv, &m, &dl);
    double took = now_seconds(CLOCK_MONOTONIC) - start;
    CHECK_EQ(r, ETIMEDOUT);
    CHECK(deadline_passed(clock, dl));
    CHECK(took >= ms / 1000.0 - 0.001 && took < 5.0);
    CHECK_EQ(pthread_mutex_lock(&m), EDEADLK); /* still ours */
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
    CHECK_EQ(pthread_mutex_unlock(&m), EPERM);
    CHECK_EQ(pthread_mutex_destroy(&m), 0);
}

/* pthread_cond_timedwait on a default (CLOCK_REALTIME) condvar: ETIMEDOUT at the deadline,
 * with the mutex re-acquired. */
static void test_timedwait_realtime(void)
{
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    expect_timeout(&cv, CLOCK_REALTIME, 0, 50);
    CHECK_EQ(pthread_cond_destroy(&cv), 0);
}

/* pthread_condattr_setclock(CLOCK_MONOTONIC): timedwait takes a monotonic deadline. */
static void test_timedwait_monotonic(void)
{
    pthread_condattr_t a;
    pthread_cond_t cv;
    clockid_t clock = -1;
    CHECK_EQ(pthread_condattr_init(&a), 0);
    CHECK_EQ(pthread_condattr_getclock(&a, &clock), 0);
    CHECK_EQ(clock, CLOCK_REALTIME);
    CHECK_EQ(pthread_condattr_setclock(&a, CLOCK_MONOTONIC), 0);
    CHECK_EQ(pthread_condattr_getclock(&a, &clock), 0);
    CHECK_EQ(clock, CLOCK_MONOTONIC);
    CHECK_EQ(pthread_cond_init(&cv, &a), 0);
    CHECK_EQ(pthread_condattr_destroy(&a), 0);
    expect_timeout(&cv, CLOCK_MONOTONIC, 0, 50);
    CHECK_EQ(pthread_cond_destroy(&cv), 0);
}

/* pthread_cond_clockwait takes its clock per call (CLOCK_MONOTONIC or CLOCK_REALTIME); an
 * unsupported clock id is EINVAL. */
static void test_clockwait(void)
{
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    expect_timeout(&cv, CLOCK_MONOTONIC, 1, 50);
    expect_timeout(&cv, CLOCK_REALTIME, 1, 30);

    pthread_mutex_t m;
    init_errorcheck(&m);
    CHECK_EQ(pthread_mutex_lock(&m), 0);
    struct timespec dl = abstime_in(CLOCK_MONOTONIC, 50);
    CHECK_EQ(pthread_cond_clockwait(&cv, &m, (clockid_t)12345, &dl), EINVAL);
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
    CHECK_EQ(pthread_mutex_destroy(&m), 0);
    CHECK_EQ(pthread_cond_destroy(&cv), 0);
}

/* A deadline already in the past gives ETIMEDOUT at once. */
static void test_past_deadline(void)
{
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    CHECK_EQ(pthread_mutex_lock(&m), 0);
    struct timespec dl = abstime_in(CLOCK_REALTIME, 0);
    dl.tv_sec -= 1;
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(pthread_cond_timedwait(&cv, &m, &dl), ETIMEDOUT);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start < 1.0);
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
}

/* ------------------------------------------------------------------------------------------ */

#define WAITERS 50
static pthread_mutex_t bc_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bc_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t bc_all_waiting = PTHREAD_COND_INITIALIZER;
static int bc_waiting, bc_go, bc_woken;

static void *bc_waiter(void *arg)
{
    (void)arg;
    /* A generous deadline so that a lost wake-up fails the test instead of hanging it. */
    struct timespec dl = abstime_in(CLOCK_REALTIME, 10000);
    CHECK_EQ(pthread_mutex_lock(&bc_mutex), 0);
    bc_waiting++;
    CHECK_EQ(pthread_cond_signal(&bc_all_waiting), 0);
    int r = 0;
    while (!bc_go && r == 0)
        r = pthread_cond_timedwait(&bc_cv, &bc_mutex, &dl);
    CHECK(bc_go);
    bc_woken++;
    CHECK_EQ(pthread_mutex_unlock(&bc_mutex), 0);
    return NULL;
}

/* pthread_cond_broadcast wakes every thread blocked on the condvar (50 of them). */
static void test_broadcast(void)
{
    pthread_t t[WAITERS];
    for (int i = 0; i < WAITERS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, bc_waiter, NULL), 0);
    CHECK_EQ(pthread_mutex_lock(&bc_mutex), 0);
    while (bc_waiting < WAITERS)
        CHECK_EQ(pthread_cond_wait(&bc_all_waiting, &bc_mutex), 0);
    /* Every waiter incremented bc_waiting under the mutex and then released it only by
     * blocking on bc_cv: all 50 are waiting now. */
    check_os_threads();
    CHECK_EQ(bc_woken, 0);
    bc_go = 1;
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(pthread_cond_broadcast(&bc_cv), 0);
    CHECK_EQ(pthread_mutex_unlock(&bc_mutex), 0);
    for (int i = 0; i < WAITERS; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start < 5.0);
    CHECK_EQ(bc_woken, WAITERS);
}

/* ------------------------------------------------------------------------------------------ */

/* pthread_cond_signal/broadcast with no thread waiting have no effect: they are not remembered
 * and a later waiter still times out. */
static void test_signal_without_waiters(void)
{
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    CHECK_EQ(pthread_cond_signal(&cv), 0);
    CHECK_EQ(pthread_cond_broadcast(&cv), 0);
    CHECK_EQ(pthread_mutex_lock(&m), 0);
    CHECK_EQ(pthread_cond_signal(&cv), 0);
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
    expect_timeout(&cv, CLOCK_REALTIME, 0, 50);
    CHECK_EQ(pthread_cond_destroy(&cv), 0);
}

/* ------------------------------------------------------------------------------------------ */

static pthread_mutex_t cancel_mutex;
static pthread_cond_t cancel_cv = PTHREAD_COND_INITIALIZER;
static int cancel_waiting;          /* under cancel_mutex */
static atomic_int cleanup_unlock = -1; /* what pthread_mutex_unlock returned in the handler */

static void cancel_cleanup(void *arg)
{
    atomic_store(&cleanup_unlock, pthread_mutex_unlock(arg));
}

static void *cancel_body(void *arg)
{
    (void)arg;
    CHECK_EQ(pthread_mutex_lock(&cancel_mutex), 0);
    pthread_cleanup_push(cancel_cleanup, &cancel_mutex);
    cancel_waiting = 1;
    for (;;) /* nobody ever signals; only cancellation ends this */
        pthread_cond_wait(&cancel_cv, &cancel_mutex);
    pthread_cleanup_pop(0);
    return NULL;
}

/* pthread_cond_wait is a cancellation point; the cancelled waiter re-acquires the mutex before
 * its cleanup handlers run (so the handler can unlock it, and then others can lock it). */
static void test_cancel_waiter(void)
{
    init_errorcheck(&cancel_mutex);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, cancel_body, NULL), 0);
    for (int i = 0;; i++) {
        CHECK(i < 10000);
        CHECK_EQ(pthread_mutex_lock(&cancel_mutex), 0);
        int w = cancel_waiting;
        CHECK_EQ(pthread_mutex_unlock(&cancel_mutex), 0);
        if (w)
            break; /* it set the flag under the mutex: it is in pthread_cond_wait now */
        struct timespec ms = {0, 1000000L};
        nanosleep(&ms, NULL);
    }
    CHECK_EQ(pthread_cancel(t), 0);
    void *res = NULL;
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK(res == PTHREAD_CANCELED);
    CHECK_EQ(atomic_load(&cleanup_unlock), 0); /* the handler held it: the unlock succeeded */
    struct timespec dl = abstime_in(CLOCK_REALTIME, 5000);
    CHECK_EQ(pthread_mutex_timedlock(&cancel_mutex, &dl), 0);
    CHECK_EQ(pthread_mutex_unlock(&cancel_mutex), 0);
    CHECK_EQ(pthread_mutex_destroy(&cancel_mutex), 0);
}

int main(void)
{
    test_producer_consumer();
    test_timedwait_realtime();
    test_timedwait_monotonic();
    test_clockwait();
    test_past_deadline();
    test_broadcast();
    test_signal_without_waiters();
    test_cancel_waiter();
    return 0;
}
