// C++ synchronisation between threads: futures waited on with a timeout.
#include <chrono>
#include <future>
#include <thread>

#include "plain.h"

using namespace std::chrono_literals;

// A std::packaged_task run on a std::thread delivers its result through its future.
static void test_packaged_task()
{
    std::packaged_task<long(int, int)> task([](int a, int b) { return (long)a * b; });
    std::future<long> f = task.get_future();
    std::thread t(std::move(task), 6, 7);
    CHECK(f.wait_for(5s) == std::future_status::ready);
    CHECK_EQ(f.get(), 42);
    t.join();
}

int main()
{
    test_packaged_task();
    return 0;
}
