/* pthread_create / pthread_join / pthread_detach and the GNU join variants. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "plain.h"

static void *return_arg_plus_one(void *arg)
{
    return (void *)((intptr_t)arg + 1);
}

/* A thread that stays alive until *release is set, then returns (void *)1234. */
static void *wait_for_release(void *arg)
{
    wait_flag((atomic_int *)arg);
    return (void *)1234;
}

/* pthread_create returns 0; pthread_join returns 0 and hands over the start routine's result. */
static void test_basic_join(void)
{
    pthread_t t;
    void *res = NULL;
    CHECK_EQ(pthread_create(&t, NULL, return_arg_plus_one, (void *)41), 0);
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK_EQ((intptr_t)res, 42);

    /* A NULL result pointer is allowed. */
    CHECK_EQ(pthread_create(&t, NULL, return_arg_plus_one, (void *)1), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
}

static atomic_int detach_release, detach_done;

static void *detached_body(void *arg)
{
    (void)arg;
    wait_flag(&detach_release);
    atomic_store(&detach_done, 1);
    return NULL;
}

/* pthread_detach of a live thread returns 0; joining a (still live) detached thread gives EINVAL. */
static void test_detach(void)
{
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, detached_body, NULL), 0);
    CHECK_EQ(pthread_detach(t), 0);
    void *res = (void *)7;
    CHECK_EQ(pthread_join(t, &res), EINVAL);
    CHECK(res == (void *)7);
    atomic_store(&detach_release, 1);
    wait_flag(&detach_done);
}

static atomic_int self_join_result = -1;

static void *join_self_body(void *arg)
{
    (void)arg;
    atomic_store(&self_join_result, pthread_join(pthread_self(), NULL));
    return NULL;
}

/* Joining oneself is detected: EDEADLK (in a thread and in main). */
static void test_join_self(void)
{
    CHECK_EQ(pthread_join(pthread_self(), NULL), EDEADLK);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, join_self_body, NULL), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(atomic_load(&self_join_result), EDEADLK);
}

/* pthread_tryjoin_np: EBUSY while the thread runs, 0 with the value once it has ended. */
static void test_tryjoin(void)
{
    static atomic_int release;
    pthread_t t;
    void *res = NULL;
    CHECK_EQ(pthread_create(&t, NULL, wait_for_release, &release), 0);
    CHECK_EQ(pthread_tryjoin_np(t, &res), EBUSY);
    sleep_ms(20);
    CHECK_EQ(pthread_tryjoin_np(t, &res), EBUSY);
    atomic_store(&release, 1);
    int r, i = 0;
    while ((r = pthread_tryjoin_np(t, &res)) == EBUSY) {
        CHECK(++i < 10000);
        sleep_ms(1);
    }
    CHECK_EQ(r, 0);
    CHECK_EQ((intptr_t)res, 1234);
}

/* pthread_timedjoin_np (CLOCK_REALTIME deadline): ETIMEDOUT on a running thread, not before
 * the deadline; then 0 with the value once the thread ends. */
static void test_timedjoin(void)
{
    static atomic_int release;
    pthread_t t;
    void *res = NULL;
    CHECK_EQ(pthread_create(&t, NULL, wait_for_release, &release), 0);

    struct timespec past = abstime_in(CLOCK_REALTIME, 0);
    past.tv_sec -= 1;
    CHECK_EQ(pthread_timedjoin_np(t, &res, &past), ETIMEDOUT);

    struct timespec dl = abstime_in(CLOCK_REALTIME, 50);
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(pthread_timedjoin_np(t, &res, &dl), ETIMEDOUT);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start < 5.0);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    CHECK(now.tv_sec > dl.tv_sec || (now.tv_sec == dl.tv_sec && now.tv_nsec >= dl.tv_nsec));

    atomic_store(&release, 1);
    dl = abstime_in(CLOCK_REALTIME, 10000);
    CHECK_EQ(pthread_timedjoin_np(t, &res, &dl), 0);
    CHECK_EQ((intptr_t)res, 1234);
}

/* pthread_clockjoin_np: same with CLOCK_MONOTONIC; an invalid clock id gives EINVAL. */
static void test_clockjoin(void)
{
    static atomic_int release;
    pthread_t t;
    void *res = NULL;
    CHECK_EQ(pthread_create(&t, NULL, wait_for_release, &release), 0);

    struct timespec dl = abstime_in(CLOCK_MONOTONIC, 10000);
    CHECK_EQ(pthread_clockjoin_np(t, &res, (clockid_t)12345, &dl), EINVAL);

    dl = abstime_in(CLOCK_MONOTONIC, 50);
    CHECK_EQ(pthread_clockjoin_np(t, &res, CLOCK_MONOTONIC, &dl), ETIMEDOUT);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    CHECK(now.tv_sec > dl.tv_sec || (now.tv_sec == dl.tv_sec && now.tv_nsec >= dl.tv_nsec));

    dl = abstime_in(CLOCK_REALTIME, 30);
    CHECK_EQ(pthread_clockjoin_np(t, &res, CLOCK_REALTIME, &dl), ETIMEDOUT);

    atomic_store(&release, 1);
    dl = abstime_in(CLOCK_MONOTONIC, 10000);
    CHECK_EQ(pthread_clockjoin_np(t, &res, CLOCK_MONOTONIC, &dl), 0);
    CHECK_EQ((intptr_t)res, 1234);
}

static atomic_int attr_detached_ran;

static void *attr_detached_body(void *arg)
{
    (void)arg;
    atomic_store(&attr_detached_ran, 1);
    return NULL;
}

/* A thread created with PTHREAD_CREATE_DETACHED runs (nobody joins it). */
static void test_detached_attr(void)
{
    pthread_attr_t a;
    int state = -1;
    CHECK_EQ(pthread_attr_init(&a), 0);
    CHECK_EQ(pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED), 0);
    CHECK_EQ(pthread_attr_getdetachstate(&a, &state), 0);
    CHECK_EQ(state, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, &a, attr_detached_body, NULL), 0);
    CHECK_EQ(pthread_attr_destroy(&a), 0);
    wait_flag(&attr_detached_ran);
}

#define MANY 200
static atomic_int many_started, many_go;

static void *many_body(void *arg)
{
    atomic_fetch_add(&many_started, 1);
    wait_flag(&many_go);
    intptr_t i = (intptr_t)arg;
    return (void *)(i * i + 1);
}

/* 200 threads alive at once; each joined with its own result.  This is the peak concurrency. */
static void test_many(void)
{
    pthread_t t[MANY];
    for (intptr_t i = 0; i < MANY; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, many_body, (void *)i), 0);
    for (int i = 0; atomic_load(&many_started) < MANY; i++) {
        CHECK(i < 10000);
        sleep_ms(1);
    }
    check_os_threads();
    atomic_store(&many_go, 1);
    for (intptr_t i = 0; i < MANY; i++) {
        void *res = NULL;
        CHECK_EQ(pthread_join(t[i], &res), 0);
        CHECK_EQ((intptr_t)res, i * i + 1);
    }
}

static void *child_body(void *arg)
{
    sleep_ms(1);
    return (void *)((intptr_t)arg * 10);
}

static void *parent_body(void *arg)
{
    (void)arg;
    pthread_t c[5];
    for (intptr_t i = 0; i < 5; i++)
        CHECK_EQ(pthread_create(&c[i], NULL, child_body, (void *)i), 0);
    intptr_t sum = 0;
    for (int i = 0; i < 5; i++) {
        void *res;
        CHECK_EQ(pthread_join(c[i], &res), 0);
        sum += (intptr_t)res;
    }
    return (void *)sum;
}

/* A thread can create and join threads of its own. */
static void test_nested(void)
{
    pthread_t t;
    void *res = NULL;
    CHECK_EQ(pthread_create(&t, NULL, parent_body, NULL), 0);
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK_EQ((intptr_t)res, (0 + 1 + 2 + 3 + 4) * 10);
}

int main(void)
{
    test_basic_join();
    test_detach();
    test_join_self();
    test_tryjoin();
    test_timedjoin();
    test_clockjoin();
    test_detached_attr();
    test_many();
    test_nested();
    return 0;
}
