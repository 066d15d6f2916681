// Thread-local storage: C++ thread_local objects and C __thread data are each thread's own,
// across blocking calls, and thread_local objects are destroyed when their thread ends; errno,
// h_errno, the locale in use and the C++ exception state are each thread's too
// (thread_state.h; thread_state.cpp checks them in a program that has no thread-local data of
// its own).
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "plain.h"
#include "thread_state.h"

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
    test_thread_state();
    test_destructor_order();
    return 0;
}
