// C++ thread_local objects: one per thread, destroyed at thread exit.
#include <pthread.h>
#include <time.h>

#include <atomic>
#include <cstdint>

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

int main()
{
    test_thread_local_destructors();
    return 0;
}
