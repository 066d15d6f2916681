// C++ threads: std::thread, this_thread, std::async, std::packaged_task, std::jthread.
#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <vector>

#include "plain.h"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Polls pred with short sleeps; fails after about 10 s.
template <class Pred>
static void wait_until_true(Pred pred, std::chrono::milliseconds poll = 1ms)
{
    auto deadline = Clock::now() + 10s;
    while (!pred()) {
        CHECK(Clock::now() < deadline);
        std::this_thread::sleep_for(poll);
    }
}

// std::thread runs a lambda with arguments (by value and by reference); join waits for it.
static void test_thread_args()
{
    int out = 0;
    std::string s = "abc";
    std::thread t([](int a, std::string str, int &o) { o = a + (int)str.size(); }, 39, s,
                  std::ref(out));
    CHECK(t.joinable());
    t.join();
    CHECK(!t.joinable());
    CHECK_EQ(out, 42);

    std::vector<int> v;
    std::thread t2([&v] {
        for (int i = 0; i < 10; i++)
            v.push_back(i);
    });
    t2.join();
    CHECK_EQ(v.size(), 10);
}

// A detached std::thread still runs to completion.
static void test_detach()
{
    static std::atomic<int> done{0};
    std::thread t([] {
        std::this_thread::sleep_for(5ms);
        done = 1;
    });
    t.detach();
    CHECK(!t.joinable());
    wait_until_true([] { return done.load() == 1; });
}

// this_thread::get_id differs per thread and from main, and equals std::thread::get_id.
static void test_ids()
{
    std::thread::id main_id = std::this_thread::get_id();
    std::thread::id seen[3];
    std::atomic<int> started{0}, go{0};
    std::thread t[3];
    for (int i = 0; i < 3; i++)
        t[i] = std::thread([&, i] {
            seen[i] = std::this_thread::get_id();
            started++;
            wait_until_true([&] { return go.load() == 1; });
        });
    wait_until_true([&] { return started.load() == 3; });
    for (int i = 0; i < 3; i++) {
        CHECK(seen[i] == t[i].get_id());
        CHECK(seen[i] != main_id);
        CHECK(seen[i] != std::thread::id());
        for (int j = 0; j < i; j++)
            CHECK(seen[i] != seen[j]);
    }
    go = 1;
    for (auto &th : t)
        th.join();
    CHECK(t[0].get_id() == std::thread::id());
    CHECK(std::this_thread::get_id() == main_id);
}

// sleep_for and sleep_until (steady_clock) never return early, in main and in a thread.
static void check_sleeps()
{
    for (int i = 0; i < 3; i++) {
        auto start = Clock::now();
        std::this_thread::sleep_for(30ms);
        auto took = Clock::now() - start;
        CHECK(took >= 30ms);
        CHECK(took < 5s);

        auto deadline = Clock::now() + 30ms;
        std::this_thread::sleep_until(deadline);
        CHECK(Clock::now() >= deadline);
        CHECK(Clock::now() - deadline < 5s);
    }
    auto start = Clock::now();
    std::this_thread::sleep_for(0ms);
    std::this_thread::sleep_for(-5ms);
    std::this_thread::sleep_until(Clock::now() - 1s);
    CHECK(Clock::now() - start < 1s);
}

static void test_sleeps()
{
    check_sleeps();
    std::thread t(check_sleeps);
    t.join();
}

// std::async(std::launch::async) returns values; an exception propagates through get().
static void test_async()
{
    std::vector<std::future<int>> fs;
    for (int i = 0; i < 8; i++)
        fs.push_back(std::async(std::launch::async, [i] {
            std::this_thread::sleep_for(1ms);
            return i * i;
        }));
    for (int i = 0; i < 8; i++)
        CHECK_EQ(fs[i].get(), i * i);

    auto f = std::async(std::launch::async, []() -> int { throw std::runtime_error("boom"); });
    bool caught = false;
    try {
        f.get();
    } catch (const std::runtime_error &e) {
        caught = std::string(e.what()) == "boom";
    }
    CHECK(caught);
}

// std::jthread: a loop sleeping 1 ms per iteration sees the stop request and ends; the
// destructor of a jthread requests stop and joins.
static void test_jthread()
{
    std::atomic<int> iterations{0};
    std::atomic<bool> finished{false};
    {
        std::jthread t([&](std::stop_token st) {
            while (!st.stop_requested()) {
                std::this_thread::sleep_for(1ms);
                iterations++;
            }
            finished = true;
        });
        wait_until_true([&] { return iterations.load() >= 5; });
        CHECK(t.request_stop());
        t.join();
        CHECK(finished.load());
    }

    finished = false;
    {
        std::jthread t([&](std::stop_token st) {
            while (!st.stop_requested())
                std::this_thread::sleep_for(1ms);
            finished = true;
        });
        std::this_thread::sleep_for(5ms);
    }  // ~jthread: request_stop + join
    CHECK(finished.load());
}

// 1000 std::threads alive at once, each computing a sum, all joined.  Peak concurrency.
static void test_many()
{
    constexpr int N = 1000;
    std::vector<long> results(N, -1);
    std::vector<std::thread> ts;
    std::atomic<int> started{0}, go{0};
    ts.reserve(N);
    for (int i = 0; i < N; i++)
        ts.emplace_back([&, i] {
            started++;
            wait_until_true([&] { return go.load() == 1; }, 20ms);
            long s = 0;
            for (int k = 0; k <= i; k++)
                s += k;
            results[i] = s;
        });
    wait_until_true([&] { return started.load() == N; });
    check_os_threads();
    go = 1;
    for (auto &t : ts)
        t.join();
    for (int i = 0; i < N; i++)
        CHECK_EQ(results[i], (long)i * (i + 1) / 2);
}

int main()
{
    test_thread_args();
    test_detach();
    test_ids();
    test_sleeps();
    test_async();
    test_jthread();
    test_many();
    return 0;
}
