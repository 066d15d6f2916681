/* C11 <threads.h>: threads, sleeping, thread-specific storage (synchronisation: c11_sync.c). */
#include <stdatomic.h>
#include <stdint.h>
#include <threads.h>

#include "plain.h"

/* Sleeps through thrd_sleep, the C11 call under test. */
static void thrd_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (thrd_sleep(&ts, &ts) == -1)
        ;
}

/* ------------------------------------------------------------------------------------------ */
/* thrd_create/thrd_join: thrd_success, and the int result reaches join. */

static int times_three(void *arg)
{
    return (int)(intptr_t)arg * 3;
}

static void test_create_join(void)
{
    thrd_t t;
    int res = 0;
    CHECK_EQ(thrd_create(&t, times_three, (void *)14), thrd_success);
    CHECK_EQ(thrd_join(t, &res), thrd_success);
    CHECK_EQ(res, 42);
    CHECK_EQ(thrd_create(&t, times_three, (void *)1), thrd_success);
    CHECK_EQ(thrd_join(t, NULL), thrd_success);
}

/* ------------------------------------------------------------------------------------------ */
/* thrd_detach: thrd_success, and the detached thread runs to completion. */

static atomic_int detach_release, detach_done;

static int detached_body(void *arg)
{
    (void)arg;
    wait_flag(&detach_release);
    atomic_store(&detach_done, 1);
    return 0;
}

static void test_detach(void)
{
    thrd_t t;
    CHECK_EQ(thrd_create(&t, detached_body, NULL), thrd_success);
    CHECK_EQ(thrd_detach(t), thrd_success);
    atomic_store(&detach_release, 1);
    wait_flag(&detach_done);
}

/* ------------------------------------------------------------------------------------------ */
/* thrd_current in a thread equals the id thrd_create gave, and differs from main's. */

static thrd_t seen_current;

static int current_body(void *arg)
{
    (void)arg;
    seen_current = thrd_current();
    return thrd_equal(seen_current, thrd_current()) ? 1 : 0;
}

static void test_current_equal(void)
{
    thrd_t me = thrd_current();
    CHECK(thrd_equal(me, thrd_current()));
    thrd_t t;
    int res = 0;
    CHECK_EQ(thrd_create(&t, current_body, NULL), thrd_success);
    thrd_t created = t;
    CHECK_EQ(thrd_join(t, &res), thrd_success);
    CHECK_EQ(res, 1);
    CHECK(thrd_equal(created, seen_current));
    CHECK(!thrd_equal(me, seen_current));
}

/* ------------------------------------------------------------------------------------------ */
/* thrd_sleep: 0 after sleeping at least the duration; a zero duration returns 0; an invalid
 * duration fails with a negative value; thrd_yield returns. */
static void test_sleep_yield(void)
{
    struct timespec d = {0, 30 * 1000000L}, rem = {0, 0};
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(thrd_sleep(&d, &rem), 0);
    double took = now_seconds(CLOCK_MONOTONIC) - start;
    CHECK(took >= 0.030);
    CHECK(took < 5.0);

    start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(thrd_sleep(&d, NULL), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start >= 0.030);

    struct timespec zero = {0, 0};
    CHECK_EQ(thrd_sleep(&zero, NULL), 0);

    struct timespec bad = {0, 1000000000L};
    CHECK(thrd_sleep(&bad, NULL) < 0);

    for (int i = 0; i < 100; i++)
        thrd_yield();
}

/* ------------------------------------------------------------------------------------------ */
/* thrd_exit(code) from a nested function ends the thread; code reaches thrd_join. */

static atomic_int after_exit;

static __attribute__((noinline)) void exit_level2(int code)
{
    thrd_exit(code);
}

static __attribute__((noinline)) void exit_level1(int code)
{
    exit_level2(code);
    atomic_store(&after_exit, 1);
}

static int exit_body(void *arg)
{
    exit_level1((int)(intptr_t)arg);
    atomic_store(&after_exit, 1);
    return -1;
}

static void test_thrd_exit(void)
{
    thrd_t t;
    int res = 0;
    CHECK_EQ(thrd_create(&t, exit_body, (void *)77), thrd_success);
    CHECK_EQ(thrd_join(t, &res), thrd_success);
    CHECK_EQ(res, 77);
    CHECK_EQ(atomic_load(&after_exit), 0);
}

/* ------------------------------------------------------------------------------------------ */
/* tss: every thread sees its own value (also while the others have set theirs), main's stays
 * NULL, and the destructor runs at thread exit (return or thrd_exit) with that thread's value.
 * This is the peak concurrency: main + TSS_THREADS threads. */

#define TSS_THREADS 4
static tss_t key;
static atomic_int tss_set_count, tss_go, dtor_calls, dtor_sum;
static int values[TSS_THREADS];

static void tss_dtor(void *p)
{
    atomic_fetch_add(&dtor_calls, 1);
    atomic_fetch_add(&dtor_sum, *(int *)p);
}

static int tss_body(void *arg)
{
    intptr_t i = (intptr_t)arg;
    CHECK(tss_get(key) == NULL);
    values[i] = (int)i + 1;
    CHECK_EQ(tss_set(key, &values[i]), thrd_success);
    CHECK(tss_get(key) == &values[i]);
    atomic_fetch_add(&tss_set_count, 1);
    wait_flag(&tss_go);
    CHECK(tss_get(key) == &values[i]);
    if (i % 2)
        thrd_exit(0);
    return 0;
}

static void test_tss(void)
{
    CHECK_EQ(tss_create(&key, tss_dtor), thrd_success);
    CHECK(tss_get(key) == NULL);
    thrd_t t[TSS_THREADS];
    for (intptr_t i = 0; i < TSS_THREADS; i++)
        CHECK_EQ(thrd_create(&t[i], tss_body, (void *)i), thrd_success);
    for (int i = 0; atomic_load(&tss_set_count) < TSS_THREADS; i++) {
        CHECK(i < 10000);
        thrd_sleep_ms(1);
    }
    check_os_threads();
    CHECK(tss_get(key) == NULL);
    atomic_store(&tss_go, 1);
    for (int i = 0; i < TSS_THREADS; i++)
        CHECK_EQ(thrd_join(t[i], NULL), thrd_success);
    CHECK_EQ(atomic_load(&dtor_calls), TSS_THREADS);
    CHECK_EQ(atomic_load(&dtor_sum), 1 + 2 + 3 + 4);
    CHECK(tss_get(key) == NULL);
    tss_delete(key);
}

int main(void)
{
    test_create_join();
    test_detach();
    test_current_equal();
    test_sleep_yield();
    test_thrd_exit();
    test_tss();
    return 0;
}
