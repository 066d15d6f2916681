/* Robust mutexes: when the owner thread ends holding one, the next locker gets it with
 * EOWNERDEAD; after pthread_mutex_consistent it is an ordinary mutex again; unlocked without
 * that, it becomes ENOTRECOVERABLE for everyone. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "plain.h"

static pthread_mutex_t m;

static void *die_holding(void *arg)
{
    (void)arg;
    CHECK_EQ(pthread_mutex_lock(&m), 0);
    return NULL; /* ends holding it */
}

static void *exit_holding(void *arg)
{
    (void)arg;
    CHECK_EQ(pthread_mutex_lock(&m), 0);
    pthread_exit(NULL);
}

static void *lock_result(void *arg)
{
    (void)arg;
    int r = pthread_mutex_lock(&m);
    if (r == 0 || r == EOWNERDEAD)
        pthread_mutex_unlock(&m);
    return (void *)(intptr_t)r;
}

static void init_robust(void)
{
    pthread_mutexattr_t a;
    CHECK_EQ(pthread_mutexattr_init(&a), 0);
    CHECK_EQ(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST), 0);
    CHECK_EQ(pthread_mutex_init(&m, &a), 0);
    pthread_mutexattr_destroy(&a);
}

/* Owner died, the next locker makes it consistent: usable again. */
static void test_consistent(void *(*owner)(void *))
{
    init_robust();
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, owner, NULL), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(pthread_mutex_lock(&m), EOWNERDEAD);
    CHECK_EQ(pthread_mutex_consistent(&m), 0);
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
    CHECK_EQ(in_thread(lock_result, NULL), 0);
    CHECK_EQ(pthread_mutex_consistent(&m), EINVAL); /* not inconsistent */
    CHECK_EQ(pthread_mutex_destroy(&m), 0);
}

/* Owner died, the next locker unlocks without consistent: unrecoverable. */
static void test_not_recoverable(void)
{
    init_robust();
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, die_holding, NULL), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(pthread_mutex_trylock(&m), EOWNERDEAD);
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
    CHECK_EQ(pthread_mutex_lock(&m), ENOTRECOVERABLE);
    CHECK_EQ(in_thread(lock_result, NULL), ENOTRECOVERABLE);
}

/* A waiter blocked on the mutex when the owner ends gets it with EOWNERDEAD. */
static void *hold_then_die(void *arg)
{
    (void)arg;
    CHECK_EQ(pthread_mutex_lock(&m), 0);
    sleep_ms(50);
    return NULL;
}

static void test_waiter_gets_it(void)
{
    init_robust();
    pthread_t owner, waiter;
    CHECK_EQ(pthread_create(&owner, NULL, hold_then_die, NULL), 0);
    sleep_ms(10);
    CHECK_EQ(pthread_create(&waiter, NULL, lock_result, NULL), 0);
    check_os_threads();
    void *r;
    CHECK_EQ(pthread_join(owner, NULL), 0);
    CHECK_EQ(pthread_join(waiter, &r), 0);
    CHECK_EQ((intptr_t)r, EOWNERDEAD);
}

int main(void)
{
    alarm(20);
    test_consistent(die_holding);
    test_consistent(exit_holding);
    test_not_recoverable();
    test_waiter_gets_it();
    return 0;
}
