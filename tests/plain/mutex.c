/* pthread mutexes: mutual exclusion under contention, trylock/timedlock/clocklock, the error
 * checking and recursive kinds (attributes and static initializers), destroy. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "plain.h"

static void *trylock_body(void *arg)
{
    pthread_mutex_t *m = arg;
    int r = pthread_mutex_trylock(m);
    if (r == 0)
        CHECK_EQ(pthread_mutex_unlock(m), 0);
    return (void *)(intptr_t)r;
}

static void *unlock_body(void *arg)
{
    return (void *)(intptr_t)pthread_mutex_unlock(arg);
}

/* ------------------------------------------------------------------------------------------ */

#define COUNT_THREADS 200
#define COUNT_ITERS 50
static pthread_mutex_t count_mutex = PTHREAD_MUTEX_INITIALIZER;
static long counter; /* protected by count_mutex, deliberately not atomic */
static atomic_int count_started;

static void *count_body(void *arg)
{
    (void)arg;
    atomic_fetch_add(&count_started, 1);
    for (int i = 0; i < COUNT_ITERS; i++) {
        CHECK_EQ(pthread_mutex_lock(&count_mutex), 0);
        long v = counter;
        if (i % 10 == 0)
            usleep(100);
        counter = v + 1;
        CHECK_EQ(pthread_mutex_unlock(&count_mutex), 0);
    }
    return NULL;
}

/* A mutex gives mutual exclusion: 200 threads x 50 read-(sleep)-write increments are all kept. */
static void test_counter(void)
{
    pthread_t t[COUNT_THREADS];
    /* Hold the mutex while the threads start, so that all of them are alive at the check. */
    CHECK_EQ(pthread_mutex_lock(&count_mutex), 0);
    for (int i = 0; i < COUNT_THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, count_body, NULL), 0);
    for (int i = 0; atomic_load(&count_started) < COUNT_THREADS; i++) {
        CHECK(i < 10000);
        sleep_ms(1);
    }
    check_os_threads();
    CHECK_EQ(counter, 0);
    CHECK_EQ(pthread_mutex_unlock(&count_mutex), 0);
    for (int i = 0; i < COUNT_THREADS; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    CHECK_EQ(counter, (long)COUNT_THREADS * COUNT_ITERS);
}

/* ------------------------------------------------------------------------------------------ */

#define CONTENDERS 5
static pthread_mutex_t hold_mutex = PTHREAD_MUTEX_INITIALIZER;
static atomic_int hold_locked;
static int hold_released; /* set by the holder just before it unlocks */
static int hold_count;    /* incremented by each contender under the mutex */

static void *holder_body(void *arg)
{
    (void)arg;
    CHECK_EQ(pthread_mutex_lock(&hold_mutex), 0);
    atomic_store(&hold_locked, 1);
    int before = hold_count;
    sleep_ms(50);
    CHECK_EQ(hold_count, before);
    CHECK_EQ(before, 0);
    hold_released = 1;
    CHECK_EQ(pthread_mutex_unlock(&hold_mutex), 0);
    return NULL;
}

static void *contender_body(void *arg)
{
    (void)arg;
    wait_flag(&hold_locked);
    CHECK_EQ(pthread_mutex_lock(&hold_mutex), 0);
    CHECK_EQ(hold_released, 1);
    hold_count++;
    CHECK_EQ(pthread_mutex_unlock(&hold_mutex), 0);
    return NULL;
}

/* While a holder sleeps 50 ms with the mutex, contenders stay blocked in pthread_mutex_lock. */
static void test_holder_sleeps(void)
{
    pthread_t h, c[CONTENDERS];
    CHECK_EQ(pthread_create(&h, NULL, holder_body, NULL), 0);
    for (int i = 0; i < CONTENDERS; i++)
        CHECK_EQ(pthread_create(&c[i], NULL, contender_body, NULL), 0);
    CHECK_EQ(pthread_join(h, NULL), 0);
    for (int i = 0; i < CONTENDERS; i++)
        CHECK_EQ(pthread_join(c[i], NULL), 0);
    CHECK_EQ(hold_count, CONTENDERS);
}

/* ------------------------------------------------------------------------------------------ */

static pthread_mutex_t timed_mutex = PTHREAD_MUTEX_INITIALIZER;

static void *timedlock_body(void *arg)
{
    (void)arg;
    struct timespec dl = abstime_in(CLOCK_REALTIME, 50);
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(pthread_mutex_timedlock(&timed_mutex, &dl), ETIMEDOUT);
    double took = now_seconds(CLOCK_MONOTONIC) - start;
    CHECK(deadline_passed(CLOCK_REALTIME, dl));
    CHECK(took >= 0.049 && took < 5.0);
    return NULL;
}

static void *clocklock_body(void *arg)
{
    (void)arg;
    struct timespec dl = abstime_in(CLOCK_MONOTONIC, 50);
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(pthread_mutex_clocklock(&timed_mutex, CLOCK_MONOTONIC, &dl), ETIMEDOUT);
    CHECK(deadline_passed(CLOCK_MONOTONIC, dl));
    CHECK(now_seconds(CLOCK_MONOTONIC) - start < 5.0);

    dl = abstime_in(CLOCK_REALTIME, 30);
    CHECK_EQ(pthread_mutex_clocklock(&timed_mutex, CLOCK_REALTIME, &dl), ETIMEDOUT);
    CHECK(deadline_passed(CLOCK_REALTIME, dl));

    dl = abstime_in(CLOCK_MONOTONIC, 50);
    CHECK_EQ(pthread_mutex_clocklock(&timed_mutex, (clockid_t)12345, &dl), EINVAL);
    return NULL;
}

static void *timedlock_succeeds_body(void *arg)
{
    (void)arg;
    struct timespec dl = abstime_in(CLOCK_MONOTONIC, 10000);
    int r = pthread_mutex_clocklock(&timed_mutex, CLOCK_MONOTONIC, &dl);
    if (r == 0)
        CHECK_EQ(pthread_mutex_unlock(&timed_mutex), 0);
    return (void *)(intptr_t)r;
}

/* trylock on a held mutex is EBUSY (from the owner too, for a default mutex); timedlock and
 * clocklock on a held mutex give ETIMEDOUT once the deadline has passed; an unknown clock id
 * is EINVAL; a free mutex is taken at once. */
static void test_try_timed(void)
{
    CHECK_EQ(pthread_mutex_lock(&timed_mutex), 0);
    CHECK_EQ(in_thread(trylock_body, &timed_mutex), EBUSY);
    CHECK_EQ(pthread_mutex_trylock(&timed_mutex), EBUSY);
    CHECK_EQ(in_thread(timedlock_body, NULL), 0);
    CHECK_EQ(in_thread(clocklock_body, NULL), 0);
    CHECK_EQ(pthread_mutex_unlock(&timed_mutex), 0);

    CHECK_EQ(in_thread(trylock_body, &timed_mutex), 0);
    CHECK_EQ(in_thread(timedlock_succeeds_body, NULL), 0);
    struct timespec dl = abstime_in(CLOCK_REALTIME, 10000);
    CHECK_EQ(pthread_mutex_timedlock(&timed_mutex, &dl), 0);
    CHECK_EQ(pthread_mutex_unlock(&timed_mutex), 0);
}

/* ------------------------------------------------------------------------------------------ */

/* An error-checking mutex: relock by the owner is EDEADLK, unlock by a thread that does not
 * own it is EPERM, unlock of an unlocked mutex is EPERM. */
static void check_errorcheck(pthread_mutex_t *m)
{
    CHECK_EQ(pthread_mutex_unlock(m), EPERM);
    CHECK_EQ(pthread_mutex_lock(m), 0);
    CHECK_EQ(pthread_mutex_lock(m), EDEADLK);
    CHECK_EQ(pthread_mutex_trylock(m), EBUSY);
    CHECK_EQ(in_thread(unlock_body, m), EPERM);
    CHECK_EQ(in_thread(trylock_body, m), EBUSY);
    CHECK_EQ(pthread_mutex_unlock(m), 0);
    CHECK_EQ(pthread_mutex_unlock(m), EPERM);
    CHECK_EQ(in_thread(trylock_body, m), 0);
}

static void test_errorcheck(void)
{
    pthread_mutexattr_t a;
    pthread_mutex_t m;
    int kind = -1;
    CHECK_EQ(pthread_mutexattr_init(&a), 0);
    CHECK_EQ(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK), 0);
    CHECK_EQ(pthread_mutexattr_gettype(&a, &kind), 0);
    CHECK_EQ(kind, PTHREAD_MUTEX_ERRORCHECK);
    CHECK_EQ(pthread_mutex_init(&m, &a), 0);
    CHECK_EQ(pthread_mutexattr_destroy(&a), 0);
    check_errorcheck(&m);
    CHECK_EQ(pthread_mutex_destroy(&m), 0);
}

/* PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP gives the same behaviour as the attribute. */
static void test_errorcheck_static(void)
{
    static pthread_mutex_t m = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
    check_errorcheck(&m);
}

/* A recursive mutex: the owner may lock it again; it is released only by as many unlocks,
 * another thread's trylock is EBUSY until the last one. */
static void check_recursive(pthread_mutex_t *m)
{
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(pthread_mutex_lock(m), 0);
        CHECK_EQ(in_thread(trylock_body, m), EBUSY);
    }
    CHECK_EQ(pthread_mutex_trylock(m), 0); /* a 4th level through trylock */
    CHECK_EQ(pthread_mutex_unlock(m), 0);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(in_thread(trylock_body, m), EBUSY);
        CHECK_EQ(pthread_mutex_unlock(m), 0);
    }
    CHECK_EQ(in_thread(trylock_body, m), 0);
    CHECK_EQ(pthread_mutex_unlock(m), EPERM); /* no longer owned */
    CHECK_EQ(in_thread(unlock_body, m), EPERM);
}

static void test_recursive(void)
{
    pthread_mutexattr_t a;
    pthread_mutex_t m;
    CHECK_EQ(pthread_mutexattr_init(&a), 0);
    CHECK_EQ(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE), 0);
    CHECK_EQ(pthread_mutex_init(&m, &a), 0);
    CHECK_EQ(pthread_mutexattr_destroy(&a), 0);
    check_recursive(&m);
    CHECK_EQ(pthread_mutex_destroy(&m), 0);
}

/* PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP gives the same behaviour as the attribute. */
static void test_recursive_static(void)
{
    static pthread_mutex_t m = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
    check_recursive(&m);
}

/* ------------------------------------------------------------------------------------------ */

/* glibc: pthread_mutex_destroy of a locked mutex is EBUSY (and leaves it usable); of an
 * unlocked one, 0. */
static void test_destroy(void)
{
    pthread_mutex_t m;
    CHECK_EQ(pthread_mutex_init(&m, NULL), 0);
    CHECK_EQ(pthread_mutex_lock(&m), 0);
    CHECK_EQ(pthread_mutex_destroy(&m), EBUSY);
    CHECK_EQ(in_thread(trylock_body, &m), EBUSY);
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
    CHECK_EQ(pthread_mutex_destroy(&m), 0);
}

int main(void)
{
    test_counter();
    test_holder_sleeps();
    test_try_timed();
    test_errorcheck();
    test_errorcheck_static();
    test_recursive();
    test_recursive_static();
    test_destroy();
    return 0;
}
