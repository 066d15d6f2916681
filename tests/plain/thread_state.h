// What is each thread's own without being thread-local data of the program: errno, h_errno,
// the locale set with uselocale, the C++ exception state.  Shared by thread_state.cpp (a program
// without thread-local data of its own) and thread_local.cpp (one with).
#ifndef THREAD_STATE_H
#define THREAD_STATE_H

#include <locale.h>
#include <netdb.h>
#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>

#include "plain.h"

// ---------------------------------------------------------------------------------------------
// errno and h_errno are per thread: what one thread sets survives another thread's setting
// its own while the first one sleeps.

static void *errno_body(void *arg)
{
    intptr_t i = (intptr_t)arg;
    errno = (int)(100 + i);
    h_errno = (int)(200 + i);
    sleep_ms(10);
    CHECK_EQ(errno, 100 + i);
    CHECK_EQ(h_errno, 200 + i);
    return nullptr;
}

static void test_errno(void)
{
    pthread_t t[8];
    for (intptr_t i = 0; i < 8; i++)
        CHECK_EQ(pthread_create(&t[i], nullptr, errno_body, (void *)i), 0);
    for (int i = 0; i < 8; i++)
        CHECK_EQ(pthread_join(t[i], nullptr), 0);
}

// ---------------------------------------------------------------------------------------------
// The locale set with uselocale is the calling thread's only.

static std::atomic<int> utf8_set{0}, plain_checked{0};

static void *utf8_body(void *arg)
{
    locale_t utf8 = (locale_t)arg;
    uselocale(utf8);
    CHECK(MB_CUR_MAX > 1);
    utf8_set = 1;
    while (!plain_checked)
        sleep_ms(1);
    CHECK(MB_CUR_MAX > 1);
    CHECK(uselocale((locale_t)0) == utf8);
    uselocale(LC_GLOBAL_LOCALE);
    return nullptr;
}

static void *plain_body(void *)
{
    while (!utf8_set)
        sleep_ms(1);
    CHECK_EQ(MB_CUR_MAX, 1);  // the global "C" locale
    CHECK(uselocale((locale_t)0) == LC_GLOBAL_LOCALE);
    plain_checked = 1;
    return nullptr;
}

static void test_uselocale(void)
{
    locale_t utf8 = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
    if (!utf8)
        return;  // no such locale here: nothing to compare
    pthread_t a, b;
    CHECK_EQ(pthread_create(&a, nullptr, utf8_body, utf8), 0);
    CHECK_EQ(pthread_create(&b, nullptr, plain_body, nullptr), 0);
    CHECK_EQ(pthread_join(a, nullptr), 0);
    CHECK_EQ(pthread_join(b, nullptr), 0);
    freelocale(utf8);
}

// ---------------------------------------------------------------------------------------------
// The exception being handled and the count of uncaught exceptions are per thread: a thread
// that blocks inside a catch block, or in a destructor run by unwinding, gets its own exception
// back while others throw and catch theirs.

static std::atomic<int> in_catch{0};

struct SleepsInDestructor {
    ~SleepsInDestructor()
    {
        CHECK_EQ(std::uncaught_exceptions(), 1);
        sleep_ms(20);
        CHECK_EQ(std::uncaught_exceptions(), 1);
    }
};

static void *catcher_body(void *arg)
{
    intptr_t i = (intptr_t)arg;
    try {
        throw std::runtime_error("thread " + std::to_string(i));
    } catch (const std::exception &) {
        in_catch++;
        sleep_ms(20);  // the others throw and catch meanwhile
        try {
            throw;  // rethrows this thread's exception, not the latest one in the process
        } catch (const std::runtime_error &again) {
            CHECK(std::string(again.what()) == "thread " + std::to_string(i));
        }
        CHECK(std::current_exception() != nullptr);
    }
    CHECK(std::current_exception() == nullptr);
    try {
        SleepsInDestructor s;
        throw (int)i;
    } catch (int v) {
        CHECK_EQ(v, i);
    }
    CHECK_EQ(std::uncaught_exceptions(), 0);
    return nullptr;
}

static void *thrower_body(void *)
{
    while (in_catch.load() == 0)
        sleep_ms(1);
    for (int k = 0; k < 20; k++) {
        CHECK_EQ(std::uncaught_exceptions(), 0);
        CHECK(std::current_exception() == nullptr);
        try {
            throw std::logic_error("other");
        } catch (const std::logic_error &e) {
            CHECK(std::string(e.what()) == "other");
        }
        sleep_ms(1);
    }
    return nullptr;
}

static void test_exceptions(void)
{
    pthread_t c[4], th;
    for (intptr_t i = 0; i < 4; i++)
        CHECK_EQ(pthread_create(&c[i], nullptr, catcher_body, (void *)i), 0);
    CHECK_EQ(pthread_create(&th, nullptr, thrower_body, nullptr), 0);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pthread_join(c[i], nullptr), 0);
    CHECK_EQ(pthread_join(th, nullptr), 0);
}

static void test_thread_state(void)
{
    test_errno();
    test_uselocale();
    test_exceptions();
}

#endif
