/* pthread read-write locks: readers share, writers exclude, try/timed/clock variants, the
 * writer-preferring kind. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "plain.h"

static void *tryrdlock_body(void *arg)
{
    int r = pthread_rwlock_tryrdlock(arg);
    if (r == 0)
        CHECK_EQ(pthread_rwlock_unlock(arg), 0);
    return (void *)(intptr_t)r;
}

static void *trywrlock_body(void *arg)
{
    int r = pthread_rwlock_trywrlock(arg);
    if (r == 0)
        CHECK_EQ(pthread_rwlock_unlock(arg), 0);
    return (void *)(intptr_t)r;
}

/* ------------------------------------------------------------------------------------------ */

#define READERS 10
#define WRITERS 3
#define ITERS 2000
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long rw_a, rw_b; /* written only under the write lock, always equal outside it */
static atomic_int rw_started;

static void *reader_body(void *arg)
{
    int id = (int)(intptr_t)arg;
    long last = 0;
    atomic_fetch_add(&rw_started, 1);
    for (int i = 0; i < ITERS; i++) {
        CHECK_EQ(pthread_rwlock_rdlock(&rw), 0);
        long a = rw_a;
        if ((i + id) % 250 == 0)
            usleep(200); /* hold the read lock a while, overlapping other readers */
        long b = rw_b;
        CHECK_EQ(a, b);
        CHECK_EQ(rw_a, a); /* no writer got in while we held the read lock */
        CHECK(a >= last);
        last = a;
        CHECK_EQ(pthread_rwlock_unlock(&rw), 0);
    }
    return NULL;
}

static void *writer_body(void *arg)
{
    int id = (int)(intptr_t)arg;
    atomic_fetch_add(&rw_started, 1);
    for (int i = 0; i < ITERS; i++) {
        CHECK_EQ(pthread_rwlock_wrlock(&rw), 0);
        CHECK_EQ(rw_a, rw_b);
        rw_a++;
        if ((i + id) % 100 == 0)
            usleep(200); /* a half-done update, visible to anyone who wrongly got in */
        rw_b++;
        CHECK_EQ(pthread_rwlock_unlock(&rw), 0);
    }
    return NULL;
}

/* The write lock excludes readers and writers: readers never see a half-done update, and no
 * increment is lost. */
static void test_readers_writers(void)
{
    pthread_t r[READERS], w[WRITERS];
    /* Hold the write lock while the threads start: all of them are alive at the check. */
    CHECK_EQ(pthread_rwlock_wrlock(&rw), 0);
    for (intptr_t i = 0; i < READERS; i++)
        CHECK_EQ(pthread_create(&r[i], NULL, reader_body, (void *)i), 0);
    for (intptr_t i = 0; i < WRITERS; i++)
        CHECK_EQ(pthread_create(&w[i], NULL, writer_body, (void *)i), 0);
    for (int i = 0; atomic_load(&rw_started) < READERS + WRITERS; i++) {
        CHECK(i < 10000);
        sleep_ms(1);
    }
    check_os_threads();
    CHECK_EQ(pthread_rwlock_unlock(&rw), 0);
    for (int i = 0; i < READERS; i++)
        CHECK_EQ(pthread_join(r[i], NULL), 0);
    for (int i = 0; i < WRITERS; i++)
        CHECK_EQ(pthread_join(w[i], NULL), 0);
    CHECK_EQ(rw_a, (long)WRITERS * ITERS);
    CHECK_EQ(rw_b, (long)WRITERS * ITERS);
}

/* ------------------------------------------------------------------------------------------ */

static pthread_rwlock_t tl = PTHREAD_RWLOCK_INITIALIZER;

static void *timedwrlock_body(void *arg)
{
    (void)arg;
    struct timespec dl = abstime_in(CLOCK_REALTIME, 50);
    double start = now_seconds(CLOCK_MONOTONIC);
    int r = pthread_rwlock_timedwrlock(&tl, &dl);
    double took = now_seconds(CLOCK_MONOTONIC) - start;
    CHECK_EQ(r, ETIMEDOUT);
    CHECK(deadline_passed(CLOCK_REALTIME, dl));
    CHECK(took >= 0.049 && took < 5.0);

    dl = abstime_in(CLOCK_MONOTONIC, 50);
    CHECK_EQ(pthread_rwlock_clockwrlock(&tl, CLOCK_MONOTONIC, &dl), ETIMEDOUT);
    CHECK(deadline_passed(CLOCK_MONOTONIC, dl));
    return NULL;
}

static void *timedrdlock_body(void *arg)
{
    (void)arg;
    struct timespec dl = abstime_in(CLOCK_REALTIME, 50);
    CHECK_EQ(pthread_rwlock_timedrdlock(&tl, &dl), ETIMEDOUT);
    CHECK(deadline_passed(CLOCK_REALTIME, dl));

    dl = abstime_in(CLOCK_MONOTONIC, 50);
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(pthread_rwlock_clockrdlock(&tl, CLOCK_MONOTONIC, &dl), ETIMEDOUT);
    CHECK(deadline_passed(CLOCK_MONOTONIC, dl));
    CHECK(now_seconds(CLOCK_MONOTONIC) - start < 5.0);

    dl = abstime_in(CLOCK_MONOTONIC, 50);
    CHECK_EQ(pthread_rwlock_clockrdlock(&tl, (clockid_t)12345, &dl), EINVAL);
    CHECK_EQ(pthread_rwlock_clockwrlock(&tl, (clockid_t)12345, &dl), EINVAL);
    return NULL;
}

static void *clock_locks_free_body(void *arg)
{
    (void)arg;
    struct timespec dl = abstime_in(CLOCK_MONOTONIC, 10000);
    CHECK_EQ(pthread_rwlock_clockrdlock(&tl, CLOCK_MONOTONIC, &dl), 0);
    CHECK_EQ(pthread_rwlock_unlock(&tl), 0);
    CHECK_EQ(pthread_rwlock_clockwrlock(&tl, CLOCK_MONOTONIC, &dl), 0);
    CHECK_EQ(pthread_rwlock_unlock(&tl), 0);
    return NULL;
}

/* Several readers hold the lock together; a writer is excluded by a reader and a reader by a
 * writer (try: EBUSY, timed/clock: ETIMEDOUT at the deadline); the owner of the write lock
 * asking again is EDEADLK (glibc, both wrlock and rdlock). */
static void test_try_timed(void)
{
    CHECK_EQ(pthread_rwlock_rdlock(&tl), 0);
    CHECK_EQ(in_thread(tryrdlock_body, &tl), 0);
    CHECK_EQ(in_thread(trywrlock_body, &tl), EBUSY);
    CHECK_EQ(in_thread(timedwrlock_body, NULL), 0);
    CHECK_EQ(pthread_rwlock_tryrdlock(&tl), 0); /* a second read lock of the same thread */
    CHECK_EQ(pthread_rwlock_unlock(&tl), 0);
    CHECK_EQ(pthread_rwlock_unlock(&tl), 0);

    CHECK_EQ(pthread_rwlock_wrlock(&tl), 0);
    CHECK_EQ(in_thread(tryrdlock_body, &tl), EBUSY);
    CHECK_EQ(in_thread(trywrlock_body, &tl), EBUSY);
    CHECK_EQ(in_thread(timedrdlock_body, NULL), 0);
    CHECK_EQ(pthread_rwlock_wrlock(&tl), EDEADLK);
    CHECK_EQ(pthread_rwlock_rdlock(&tl), EDEADLK);
    CHECK_EQ(pthread_rwlock_trywrlock(&tl), EBUSY); /* try* by the owner: EBUSY, not EDEADLK */
    CHECK_EQ(pthread_rwlock_tryrdlock(&tl), EBUSY);
    CHECK_EQ(pthread_rwlock_unlock(&tl), 0);

    CHECK_EQ(in_thread(clock_locks_free_body, NULL), 0);
    CHECK_EQ(in_thread(trywrlock_body, &tl), 0);
}

/* ------------------------------------------------------------------------------------------ */

static pthread_rwlock_t pref;
static atomic_int pref_reader_holds, pref_reader_release;
static atomic_int pref_writer_starting, pref_writer_got;

static void *pref_reader_body(void *arg)
{
    (void)arg;
    CHECK_EQ(pthread_rwlock_rdlock(&pref), 0);
    atomic_store(&pref_reader_holds, 1);
    wait_flag(&pref_reader_release);
    CHECK_EQ(pthread_rwlock_unlock(&pref), 0);
    return NULL;
}

static void *pref_writer_body(void *arg)
{
    (void)arg;
    atomic_store(&pref_writer_starting, 1);
    CHECK_EQ(pthread_rwlock_wrlock(&pref), 0);
    atomic_store(&pref_writer_got, 1);
    CHECK_EQ(pthread_rwlock_unlock(&pref), 0);
    return NULL;
}

/* Starts a reader that holds `pref` and a writer that blocks on it; returns with both running. */
static void start_reader_and_writer(pthread_t *r, pthread_t *w)
{
    atomic_store(&pref_reader_holds, 0);
    atomic_store(&pref_reader_release, 0);
    atomic_store(&pref_writer_starting, 0);
    atomic_store(&pref_writer_got, 0);
    CHECK_EQ(pthread_create(r, NULL, pref_reader_body, NULL), 0);
    wait_flag(&pref_reader_holds);
    CHECK_EQ(pthread_rwlock_tryrdlock(&pref), 0); /* no writer yet: readers share */
    CHECK_EQ(pthread_rwlock_unlock(&pref), 0);
    CHECK_EQ(pthread_create(w, NULL, pref_writer_body, NULL), 0);
    wait_flag(&pref_writer_starting);
}

static void finish_reader_and_writer(pthread_t r, pthread_t w)
{
    CHECK_EQ(atomic_load(&pref_writer_got), 0); /* the reader still holds it */
    atomic_store(&pref_reader_release, 1);
    CHECK_EQ(pthread_join(r, NULL), 0);
    CHECK_EQ(pthread_join(w, NULL), 0);
    CHECK_EQ(atomic_load(&pref_writer_got), 1);
    CHECK_EQ(pthread_rwlock_tryrdlock(&pref), 0);
    CHECK_EQ(pthread_rwlock_unlock(&pref), 0);
}

/* glibc PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP: once a writer waits, new readers are
 * refused (tryrdlock EBUSY) even though only a reader holds the lock. */
static void test_prefer_writer(void)
{
    pthread_rwlockattr_t a;
    int kind = -1;
    CHECK_EQ(pthread_rwlockattr_init(&a), 0);
    CHECK_EQ(pthread_rwlockattr_getkind_np(&a, &kind), 0);
    CHECK_EQ(kind, PTHREAD_RWLOCK_PREFER_READER_NP);
    CHECK_EQ(pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP), 0);
    CHECK_EQ(pthread_rwlockattr_getkind_np(&a, &kind), 0);
    CHECK_EQ(kind, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    CHECK_EQ(pthread_rwlock_init(&pref, &a), 0);
    CHECK_EQ(pthread_rwlockattr_destroy(&a), 0);

    pthread_t r, w;
    start_reader_and_writer(&r, &w);
    /* As soon as the writer is blocked in wrlock, tryrdlock fails; until then it may succeed. */
    int res, i = 0;
    while ((res = pthread_rwlock_tryrdlock(&pref)) == 0) {
        CHECK_EQ(pthread_rwlock_unlock(&pref), 0);
        CHECK(++i < 10000);
        sleep_ms(1);
    }
    CHECK_EQ(res, EBUSY);
    sleep_ms(20);
    CHECK_EQ(pthread_rwlock_tryrdlock(&pref), EBUSY); /* and it stays refused */
    finish_reader_and_writer(r, w);
    CHECK_EQ(pthread_rwlock_destroy(&pref), 0);
}

/* glibc's default kind (PTHREAD_RWLOCK_PREFER_READER_NP): while a reader holds the lock, new
 * readers get in even if a writer is waiting. */
static void test_prefer_reader(void)
{
    CHECK_EQ(pthread_rwlock_init(&pref, NULL), 0);
    pthread_t r, w;
    start_reader_and_writer(&r, &w);
    sleep_ms(50); /* the writer is (most likely) blocked in wrlock by now */
    for (int i = 0; i < 5; i++) {
        CHECK_EQ(pthread_rwlock_tryrdlock(&pref), 0);
        CHECK_EQ(pthread_rwlock_unlock(&pref), 0);
        sleep_ms(2);
    }
    finish_reader_and_writer(r, w);
    CHECK_EQ(pthread_rwlock_destroy(&pref), 0);
}

int main(void)
{
    test_readers_writers();
    test_try_timed();
    test_prefer_writer();
    test_prefer_reader();
    return 0;
}
