// pthread_exit in C++: forced unwinding runs destructors and cleanup handlers.
#include <pthread.h>

#include <atomic>
#include <cstdint>

#include "plain.h"

// Each thread of a scenario writes to its own log, so that concurrent threads never share one.
struct Log {
    int ev[32];
    int n = 0;
    void add(int e)
    {
        CHECK(n < 32);
        ev[n++] = e;
    }
};

static void check_log(const Log &log, std::initializer_list<int> want)
{
    CHECK_EQ(log.n, (int)want.size());
    int i = 0;
    for (int w : want)
        CHECK_EQ(log.ev[i++], w);
}

struct Tracker {
    Log *log;
    int id;
    Tracker(Log *l, int i) : log(l), id(i) {}
    ~Tracker() { log->add(id); }
};

// ---------------------------------------------------------------------------------------------
// pthread_exit three frames deep unwinds every frame (innermost destructor first) and the value
// reaches pthread_join.  Several threads do this at once; this is the peak concurrency.

#define DEEP_THREADS 8
static std::atomic<int> deep_started{0}, deep_go{0};
static Log deep_log[DEEP_THREADS];

[[gnu::noinline]] static void deep3(Log *log, intptr_t i)
{
    Tracker t(log, 3);
    pthread_exit((void *)(100 + i));
    log->add(-1);  // never reached
}

[[gnu::noinline]] static void deep2(Log *log, intptr_t i)
{
    Tracker t(log, 2);
    deep3(log, i);
    log->add(-2);
}

[[gnu::noinline]] static void deep1(Log *log, intptr_t i)
{
    Tracker t(log, 1);
    deep2(log, i);
    log->add(-3);
}

static void *deep_body(void *arg)
{
    intptr_t i = (intptr_t)arg;
    Log *log = &deep_log[i];
    Tracker t(log, 0);
    deep_started++;
    while (!deep_go)
        sleep_ms(1);
    deep1(log, i);
    log->add(-4);
    return nullptr;
}

static void test_exit_runs_destructors(void)
{
    pthread_t t[DEEP_THREADS];
    for (intptr_t i = 0; i < DEEP_THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], nullptr, deep_body, (void *)i), 0);
    for (int i = 0; deep_started < DEEP_THREADS; i++) {
        CHECK(i < 10000);
        sleep_ms(1);
    }
    check_os_threads();
    deep_go = 1;
    for (intptr_t i = 0; i < DEEP_THREADS; i++) {
        void *res = nullptr;
        CHECK_EQ(pthread_join(t[i], &res), 0);
        CHECK_EQ((intptr_t)res, 100 + i);
        check_log(deep_log[i], {3, 2, 1, 0});
    }
}

// ---------------------------------------------------------------------------------------------
// pthread_cleanup_push/pop in C++: handlers run LIFO on pthread_exit, interleaved with the
// destructors of the frames being unwound; pop(1) runs a handler, pop(0) does not.

static Log cleanup_log;

static void log_handler(void *arg)
{
    cleanup_log.add((int)(intptr_t)arg);
}

[[gnu::noinline]] static void cleanup_inner(void)
{
    Tracker t(&cleanup_log, 30);
    pthread_cleanup_push(log_handler, (void *)31);
    pthread_cleanup_push(log_handler, (void *)32);
    pthread_exit((void *)77);
    pthread_cleanup_pop(1);
    pthread_cleanup_pop(1);
}

static void *cleanup_exit_body(void *)
{
    Tracker t(&cleanup_log, 10);
    pthread_cleanup_push(log_handler, (void *)11);
    pthread_cleanup_push(log_handler, (void *)99);  // popped without running
    pthread_cleanup_pop(0);
    pthread_cleanup_push(log_handler, (void *)12);
    cleanup_inner();
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
    return nullptr;
}

static void *cleanup_pop_body(void *)
{
    pthread_cleanup_push(log_handler, (void *)1);
    pthread_cleanup_push(log_handler, (void *)2);
    pthread_cleanup_push(log_handler, (void *)3);
    pthread_cleanup_pop(1);
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(1);
    return (void *)5;
}

static void test_cleanup_handlers(void)
{
    pthread_t t;
    void *res = nullptr;
    CHECK_EQ(pthread_create(&t, nullptr, cleanup_exit_body, nullptr), 0);
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK_EQ((intptr_t)res, 77);
    check_log(cleanup_log, {32, 31, 30, 12, 11, 10});

    cleanup_log.n = 0;
    CHECK_EQ(pthread_create(&t, nullptr, cleanup_pop_body, nullptr), 0);
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK_EQ((intptr_t)res, 5);
    check_log(cleanup_log, {3, 1});
}

// ---------------------------------------------------------------------------------------------
// catch (...) sees pthread_exit's forced unwind; after a rethrow the thread still exits with the
// value, and outer destructors still run.

static Log catch_log;

[[gnu::noinline]] static void exit_with_88(void)
{
    Tracker t(&catch_log, 2);
    pthread_exit((void *)88);
}

static void *catch_body(void *)
{
    Tracker t(&catch_log, 0);
    try {
        Tracker t1(&catch_log, 1);
        exit_with_88();
    } catch (...) {
        catch_log.add(50);
        throw;
    }
    catch_log.add(-1);
    return nullptr;
}

static void test_catch_rethrow(void)
{
    pthread_t t;
    void *res = nullptr;
    CHECK_EQ(pthread_create(&t, nullptr, catch_body, nullptr), 0);
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK_EQ((intptr_t)res, 88);
    check_log(catch_log, {2, 1, 50, 0});
}

// ---------------------------------------------------------------------------------------------
// Returning from the start routine runs its destructors, and the return value reaches join.

static Log return_log;

static void *return_body(void *)
{
    Tracker a(&return_log, 1);
    Tracker b(&return_log, 2);
    return (void *)66;
}

static void test_return_runs_destructors(void)
{
    pthread_t t;
    void *res = nullptr;
    CHECK_EQ(pthread_create(&t, nullptr, return_body, nullptr), 0);
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK_EQ((intptr_t)res, 66);
    check_log(return_log, {2, 1});
}

int main()
{
    test_exit_runs_destructors();
    test_cleanup_handlers();
    test_catch_rethrow();
    test_return_runs_destructors();
    return 0;
}
