// Thread-local storage: C++ thread_local objects, C __thread data, errno, h_errno, the locale
// in use and the C++ exception state are each thread's own, across blocking calls, and
// thread_local objects are destroyed when their thread ends.
#include <locale.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "plain.h"

// ---------------------------------------------------------------------------------------------
// thread_local objects are per thread and are destroyed at thread exit, on return and on
// pthread_exit alike.

static std::atomic<int> tls_destroyed{0}, tls_sum{0};

struct TlsObj {
    int value = 0;
    ~TlsObj()
    {
        tls_destroyed++;
        tls_sum += value;
    }
};
static thread_local TlsObj tls_obj;

static void *tls_body(void *arg)
{
    intptr_t i = (intptr_t)arg;
    CHECK_EQ(tls_obj.value, 0);
    tls_obj.value = (int)i;
    sleep_ms(5);  // let the other threads set theirs
    CHECK_EQ(tls_obj.value, (int)i);
    if (i % 2)
        pthread_exit(nullptr);
    return nullptr;
}

static void test_thread_local_destructors(void)
{
    pthread_t t[4];
    for (intptr_t i = 0; i < 4; i++)
        CHECK_EQ(pthread_create(&t[i], nullptr, tls_body, (void *)(i + 1)), 0);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pthread_join(t[i], nullptr), 0);
    CHECK_EQ(tls_destroyed.load(), 4);
    CHECK_EQ(tls_sum.load(), 1 + 2 + 3 + 4);
}

// ---------------------------------------------------------------------------------------------
// Every thread's thread_local object has an address of its own, and another thread reading
// through that address sees the owner's value; a dynamic initialiser runs once per thread that
// uses the object.

constexpr int kThreads = 50;
static std::atomic<int> constructed{0};
struct Counted {
    long value;
    Counted() : value(-1) { constructed++; }
};
static thread_local Counted counted;
static __thread long c_tls = 7;  // C-style, static initialiser
static long *addresses[kThreads];
static long *c_addresses[kThreads];
static pthread_barrier_t all_set, all_read;

static void *address_body(void *arg)
{
    intptr_t i = (intptr_t)arg;
    CHECK_EQ(counted.value, -1);
    CHECK_EQ(c_tls, 7);
    counted.value = 1000 + i;
    c_tls = 2000 + i;
    addresses[i] = &counted.value;
    c_addresses[i] = &c_tls;
    pthread_barrier_wait(&all_set);
    pthread_barrier_wait(&all_read);  // main reads our data meanwhile
    CHECK_EQ(counted.value, 1000 + i);
    CHECK_EQ(c_tls, 2000 + i);
    return nullptr;
}

static void test_addresses(void)
{
    pthread_barrier_init(&all_set, nullptr, kThreads + 1);
    pthread_barrier_init(&all_read, nullptr, kThreads + 1);
    pthread_t t[kThreads];
    long *mine = &counted.value;  // constructs main's
    int before = constructed.load();
    for (intptr_t i = 0; i < kThreads; i++)
        CHECK_EQ(pthread_create(&t[i], nullptr, address_body, (void *)i), 0);
    pthread_barrier_wait(&all_set);
    check_os_threads();
    for (int i = 0; i < kThreads; i++) {
        CHECK(addresses[i] != mine);
        CHECK_EQ(*addresses[i], 1000 + i);
        CHECK_EQ(*c_addresses[i], 2000 + i);
        for (int j = 0; j < i; j++)
            CHECK(addresses[i] != addresses[j]);
    }
    CHECK_EQ(c_tls, 7);  // main's own, untouched
    pthread_barrier_wait(&all_read);
    for (int i = 0; i < kThreads; i++)
        CHECK_EQ(pthread_join(t[i], nullptr), 0);
    CHECK_EQ(constructed.load() - before, kThreads);
    pthread_barrier_destroy(&all_set);
    pthread_barrier_destroy(&all_read);
}

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

// ---------------------------------------------------------------------------------------------
// A thread's thread_local destructors run before its pthread_key destructors (glibc's order),
// and may block.

static std::vector<std::string> events;  // appended by one thread at a time (joined in turn)
static pthread_key_t key;

struct LogsDestruction {
    bool used = false;
    ~LogsDestruction()
    {
        if (!used)
            return;
        sleep_ms(2);
        events.push_back("thread_local");
    }
};
static thread_local LogsDestruction logs;

static void key_destructor(void *) { events.push_back("key"); }

static void *order_body(void *)
{
    logs.used = true;
    pthread_setspecific(key, (void *)1);
    return nullptr;
}

static void test_destructor_order(void)
{
    CHECK_EQ(pthread_key_create(&key, key_destructor), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, nullptr, order_body, nullptr), 0);
    CHECK_EQ(pthread_join(t, nullptr), 0);
    CHECK_EQ(events.size(), 2);
    CHECK(events[0] == "thread_local");
    CHECK(events[1] == "key");
    pthread_key_delete(key);
}

int main()
{
    test_thread_local_destructors();
    test_addresses();
    test_errno();
    test_uselocale();
    test_exceptions();
    test_destructor_order();
    return 0;
}
