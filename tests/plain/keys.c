/* Thread-specific data: pthread_key_create / setspecific / getspecific, destructors at thread
 * exit (return and pthread_exit), destructor iterations, pthread_key_delete. */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "plain.h"

/* ------------------------------------------------------------------------------------------ */

#define KT 20
static pthread_key_t key;
static atomic_int dtor_calls[KT + 1]; /* by value: thread i sets (void *)(i + 1) */
static atomic_int dtor_bad_calls;       /* with a value nobody set, or a non-NULL current value */
static atomic_int kt_started;
static pthread_barrier_t kt_gate;

static void key_dtor(void *value)
{
    intptr_t v = (intptr_t)value;
    /* POSIX: the value is set to NULL before the destructor is called with the old one. */
    if (v < 1 || v > KT || pthread_getspecific(key) != NULL)
        atomic_fetch_add(&dtor_bad_calls, 1);
    else
        atomic_fetch_add(&dtor_calls[v], 1);
}

static void *kt_body(void *arg)
{
    intptr_t i = (intptr_t)arg;
    void *mine = (void *)(i + 1);
    CHECK(pthread_getspecific(key) == NULL); /* a new thread starts with NULL */
    CHECK_EQ(pthread_setspecific(key, mine), 0);
    atomic_fetch_add(&kt_started, 1);
    int r = pthread_barrier_wait(&kt_gate);
    CHECK(r == 0 || r == PTHREAD_BARRIER_SERIAL_THREAD);
    for (int round = 0; round < 5; round++) {
        sleep_ms(1 + (i + round) % 4); /* let the others run and set their own values */
        CHECK(pthread_getspecific(key) == mine);
    }
    if (i % 4 == 3) {
        /* Setting NULL: no destructor call for this thread. */
        CHECK_EQ(pthread_setspecific(key, NULL), 0);
        CHECK(pthread_getspecific(key) == NULL);
    }
    if (i % 2 == 0)
        pthread_exit(NULL);
    return NULL;
}

/* Each thread sees only its own value; at exit (by return or pthread_exit) the destructor runs
 * once with that thread's value, but not for a thread whose value is NULL; the value of main
 * is untouched. */
static void test_per_thread_values(void)
{
    pthread_t t[KT];
    CHECK_EQ(pthread_key_create(&key, key_dtor), 0);
    CHECK(pthread_getspecific(key) == NULL);
    CHECK_EQ(pthread_setspecific(key, (void *)-1), 0);
    CHECK_EQ(pthread_barrier_init(&kt_gate, NULL, KT + 1), 0);
    for (intptr_t i = 0; i < KT; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, kt_body, (void *)i), 0);
    int r = pthread_barrier_wait(&kt_gate);
    CHECK(r == 0 || r == PTHREAD_BARRIER_SERIAL_THREAD);
    CHECK_EQ(atomic_load(&kt_started), KT);
    check_os_threads();
    for (int i = 0; i < KT; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    CHECK_EQ(atomic_load(&dtor_bad_calls), 0);
    for (int i = 0; i < KT; i++)
        CHECK_EQ(atomic_load(&dtor_calls[i + 1]), i % 4 == 3 ? 0 : 1);
    CHECK(pthread_getspecific(key) == (void *)-1);
    CHECK_EQ(pthread_setspecific(key, NULL), 0);
    CHECK_EQ(pthread_barrier_destroy(&kt_gate), 0);
    CHECK_EQ(pthread_key_delete(key), 0);
}

/* ------------------------------------------------------------------------------------------ */

static pthread_key_t again_key;
static atomic_int again_calls, again_limit;

static void again_dtor(void *value)
{
    int n = atomic_fetch_add(&again_calls, 1) + 1;
    CHECK(value == (void *)(intptr_t)n);
    if (n < atomic_load(&again_limit))
        CHECK_EQ(pthread_setspecific(again_key, (void *)(intptr_t)(n + 1)), 0);
}

static void *again_body(void *arg)
{
    (void)arg;
    CHECK_EQ(pthread_setspecific(again_key, (void *)1), 0);
    return NULL;
}

static int run_again(int limit)
{
    atomic_store(&again_calls, 0);
    atomic_store(&again_limit, limit);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, again_body, NULL), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    return atomic_load(&again_calls);
}

/* A destructor that sets a new non-NULL value is called again with it, for up to
 * PTHREAD_DESTRUCTOR_ITERATIONS rounds (glibc: exactly that many, then it gives up). */
static void test_destructor_iterations(void)
{
    CHECK(PTHREAD_DESTRUCTOR_ITERATIONS >= 4);
    CHECK_EQ(pthread_key_create(&again_key, again_dtor), 0);
    CHECK_EQ(run_again(1), 1);
    CHECK_EQ(run_again(3), 3);
    CHECK_EQ(run_again(1000), PTHREAD_DESTRUCTOR_ITERATIONS);
    CHECK_EQ(pthread_key_delete(again_key), 0);
}

/* ------------------------------------------------------------------------------------------ */

static pthread_key_t deleted_key;
static atomic_int deleted_dtor_calls, deleted_set, deleted_go;

static void deleted_dtor(void *value)
{
    (void)value;
    atomic_fetch_add(&deleted_dtor_calls, 1);
}

static void *deleted_body(void *arg)
{
    (void)arg;
    CHECK_EQ(pthread_setspecific(deleted_key, (void *)7), 0);
    atomic_store(&deleted_set, 1);
    for (int i = 0; !atomic_load(&deleted_go); i++) {
        CHECK(i < 10000);
        sleep_ms(1);
    }
    return NULL;
}

/* pthread_key_delete calls no destructor, and threads that had a value for the deleted key do
 * not get one at exit either; the deleted key is then invalid: pthread_setspecific and a second
 * pthread_key_delete are EINVAL. */
static void test_key_delete(void)
{
    CHECK_EQ(pthread_key_create(&deleted_key, deleted_dtor), 0);
    CHECK_EQ(pthread_setspecific(deleted_key, (void *)5), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, deleted_body, NULL), 0);
    for (int i = 0; !atomic_load(&deleted_set); i++) {
        CHECK(i < 10000);
        sleep_ms(1);
    }
    CHECK_EQ(pthread_key_delete(deleted_key), 0);
    CHECK_EQ(atomic_load(&deleted_dtor_calls), 0);
    atomic_store(&deleted_go, 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(atomic_load(&deleted_dtor_calls), 0);
    CHECK_EQ(pthread_setspecific(deleted_key, (void *)1), EINVAL);
    CHECK_EQ(pthread_key_delete(deleted_key), EINVAL);
}

/* Keys are distinct, and values of different keys in one thread are independent. */
static void test_two_keys(void)
{
    pthread_key_t k1, k2;
    CHECK_EQ(pthread_key_create(&k1, NULL), 0);
    CHECK_EQ(pthread_key_create(&k2, NULL), 0);
    CHECK(k1 != k2);
    CHECK_EQ(pthread_setspecific(k1, (void *)1), 0);
    CHECK_EQ(pthread_setspecific(k2, (void *)2), 0);
    CHECK(pthread_getspecific(k1) == (void *)1);
    CHECK(pthread_getspecific(k2) == (void *)2);
    CHECK_EQ(pthread_key_delete(k1), 0);
    CHECK_EQ(pthread_key_delete(k2), 0);
}

int main(void)
{
    test_per_thread_values();
    test_destructor_iterations();
    test_key_delete();
    test_two_keys();
    return 0;
}
