// C++ synchronisation between threads: mutexes, shared_mutex, condition_variable, semaphores,
// atomic wait/notify, latch, barrier, call_once and futures.
#include <atomic>
#include <barrier>
#include <chrono>
#include <condition_variable>
#include <future>
#include <latch>
#include <mutex>
#include <semaphore>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "plain.h"

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

static double seconds_since(steady::time_point start)
{
    return std::chrono::duration<double>(steady::now() - start).count();
}

// Polls (with 1 ms sleeps) until pred() is true; fails after ~10 s.
template <class Pred>
static void wait_until_true(Pred pred)
{
    for (int i = 0; !pred(); i++) {
        CHECK(i < 10000);
        std::this_thread::sleep_for(1ms);
    }
}

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

// std::mutex gives mutual exclusion: 100 threads x 1000 increments of a plain counter.
static void test_mutex()
{
    std::mutex m;
    long counter = 0;
    std::atomic<int> started{0};
    std::vector<std::thread> threads;
    {
        std::unique_lock<std::mutex> hold(m);  // nobody gets in (or ends) before the check
        for (int i = 0; i < 100; i++)
            threads.emplace_back([&] {
                started++;
                for (int j = 0; j < 1000; j++) {
                    std::lock_guard<std::mutex> g(m);
                    counter++;
                    if (j % 250 == 0)
                        std::this_thread::yield();
                }
            });
        wait_until_true([&] { return started.load() == 100; });
        check_os_threads();
    }
    for (auto& t : threads)
        t.join();
    CHECK_EQ(counter, 100 * 1000);
}

// std::recursive_mutex: its owner may lock it again; others get it only after as many unlocks.
static void test_recursive_mutex()
{
    std::recursive_mutex m;
    auto other_try = [&] {
        bool got = false;
        std::thread t([&] {
            got = m.try_lock();
            if (got)
                m.unlock();
        });
        t.join();
        return got;
    };
    m.lock();
    m.lock();
    CHECK(m.try_lock());
    CHECK(!other_try());
    m.unlock();
    CHECK(!other_try());
    m.unlock();
    CHECK(!other_try());
    m.unlock();
    CHECK(other_try());
}

// std::timed_mutex held elsewhere: try_lock_for / try_lock_until fail, not before the time;
// once free, try_lock_for succeeds at once.
static void test_timed_mutex()
{
    std::timed_mutex m;
    m.lock();
    std::thread t([&] {
        auto start = steady::now();
        CHECK(!m.try_lock_for(50ms));
        double took = seconds_since(start);
        CHECK(took >= 0.050 && took < 5.0);

        auto dl = std::chrono::system_clock::now() + 30ms;
        CHECK(!m.try_lock_until(dl));
        CHECK(std::chrono::system_clock::now() >= dl);

        auto sdl = steady::now() + 30ms;
        CHECK(!m.try_lock_until(sdl));
        CHECK(steady::now() >= sdl);
        CHECK(!m.try_lock());
    });
    t.join();
    m.unlock();
    std::thread t2([&] {
        CHECK(m.try_lock_for(5s));
        m.unlock();
    });
    t2.join();
}

// std::shared_mutex: shared_lock readers overlap, unique_lock writers exclude everybody: readers
// never see a half-done update and no increment is lost.
static void test_shared_mutex()
{
    std::shared_mutex m;
    long a = 0, b = 0;
    {
        std::shared_lock<std::shared_mutex> r(m);
        bool other_reader = false, other_writer = true;
        std::thread t([&] {
            other_reader = m.try_lock_shared();
            if (other_reader)
                m.unlock_shared();
            other_writer = m.try_lock();
            if (other_writer)
                m.unlock();
        });
        t.join();
        CHECK(other_reader);
        CHECK(!other_writer);
    }
    std::vector<std::thread> threads;
    for (int w = 0; w < 3; w++)
        threads.emplace_back([&, w] {
            for (int i = 0; i < 1000; i++) {
                std::unique_lock<std::shared_mutex> g(m);
                a++;
                if ((i + w) % 100 == 0)
                    std::this_thread::sleep_for(100us);
                b++;
            }
        });
    for (int r = 0; r < 8; r++)
        threads.emplace_back([&, r] {
            for (int i = 0; i < 1000; i++) {
                std::shared_lock<std::shared_mutex> g(m);
                long x = a;
                if ((i + r) % 200 == 0)
                    std::this_thread::sleep_for(100us);
                CHECK_EQ(x, b);
            }
        });
    for (auto& t : threads)
        t.join();
    CHECK_EQ(a, 3000);
    CHECK_EQ(b, 3000);
}

// std::condition_variable: a bounded producer/consumer queue loses and duplicates nothing.
static void test_condition_variable_queue()
{
    std::mutex m;
    std::condition_variable not_full, not_empty;
    std::vector<int> queue;
    const int items = 5000, producers = 2, consumers = 3;
    int taken = 0;
    long long sum = 0;
    std::vector<int> seen(items + 1, 0);
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; p++)
        threads.emplace_back([&, p] {
            for (int i = 0; i < items / producers; i++) {
                std::unique_lock<std::mutex> g(m);
                not_full.wait(g, [&] { return queue.size() < 4; });
                queue.push_back(p * (items / producers) + i + 1);
                not_empty.notify_one();
            }
        });
    for (int c = 0; c < consumers; c++)
        threads.emplace_back([&] {
            std::unique_lock<std::mutex> g(m);
            for (;;) {
                not_empty.wait(g, [&] { return !queue.empty() || taken == items; });
                if (queue.empty())
                    break;
                int v = queue.back();
                queue.pop_back();
                taken++;
                seen[v]++;
                sum += v;
                not_full.notify_one();
                if (taken == items)
                    not_empty.notify_all();
            }
        });
    for (auto& t : threads)
        t.join();
    CHECK_EQ(taken, items);
    CHECK_EQ(sum, (long long)items * (items + 1) / 2);
    for (int i = 1; i <= items; i++)
        CHECK_EQ(seen[i], 1);
}

// condition_variable::wait_for with no notification returns cv_status::timeout, not before
// the duration, with the lock held again; wait_until with system_clock likewise; a notify
// wakes a waiter before its timeout.
static void test_condition_variable_timeout()
{
    std::mutex m;
    std::condition_variable cv;
    std::unique_lock<std::mutex> g(m);
    auto start = steady::now();
    CHECK(cv.wait_for(g, 50ms) == std::cv_status::timeout);
    double took = seconds_since(start);
    CHECK(took >= 0.050 && took < 5.0);
    CHECK(g.owns_lock());

    auto dl = std::chrono::system_clock::now() + 50ms;
    CHECK(cv.wait_until(g, dl) == std::cv_status::timeout);
    CHECK(std::chrono::system_clock::now() >= dl);

    auto sdl = steady::now() + 30ms;
    CHECK(cv.wait_until(g, sdl) == std::cv_status::timeout);
    CHECK(steady::now() >= sdl);

    // A predicate that never becomes true: false after the time.
    start = steady::now();
    CHECK(!cv.wait_for(g, 30ms, [] { return false; }));
    CHECK(seconds_since(start) >= 0.030);
    g.unlock();

    bool flag = false;
    std::thread t([&] {
        std::this_thread::sleep_for(20ms);
        std::lock_guard<std::mutex> l(m);
        flag = true;
        cv.notify_one();
    });
    g.lock();
    start = steady::now();
    CHECK(cv.wait_for(g, 10s, [&] { return flag; }));
    CHECK(seconds_since(start) < 5.0);
    g.unlock();
    t.join();
}

// std::counting_semaphore: releases in one thread satisfy acquires in others, exactly;
// try_acquire_for on an empty semaphore fails, not before the time.
static void test_counting_semaphore()
{
    std::counting_semaphore<> sem(0);
    std::atomic<int> acquired{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; i++)
        threads.emplace_back([&] {
            for (int j = 0; j < 500; j++) {
                sem.acquire();
                acquired++;
            }
        });
    for (int i = 0; i < 2; i++)
        threads.emplace_back([&] {
            for (int j = 0; j < 1000; j++) {
                sem.release();
                if (j % 100 == 0)
                    std::this_thread::sleep_for(1ms);
            }
        });
    for (auto& t : threads)
        t.join();
    CHECK_EQ(acquired.load(), 2000);
    CHECK(!sem.try_acquire());

    auto start = steady::now();
    CHECK(!sem.try_acquire_for(50ms));
    double took = seconds_since(start);
    CHECK(took >= 0.050 && took < 5.0);

    std::binary_semaphore bin(0);
    std::thread t([&] {
        std::this_thread::sleep_for(20ms);
        bin.release();
    });
    CHECK(bin.try_acquire_for(10s));
    t.join();
    sem.release(3);
    CHECK(sem.try_acquire());
    CHECK(sem.try_acquire());
    CHECK(sem.try_acquire());
    CHECK(!sem.try_acquire());
}

// std::atomic<int>::wait blocks while the value equals the argument; notify_one/notify_all
// after a change wake the waiters.
static void test_atomic_wait()
{
    std::atomic<int> value{0};
    std::atomic<int> woken{0};
    std::thread one([&] {
        value.wait(0);
        CHECK(value.load() != 0);
        woken++;
    });
    std::this_thread::sleep_for(20ms);
    CHECK_EQ(woken.load(), 0);
    value = 1;
    value.notify_one();
    one.join();
    CHECK_EQ(woken.load(), 1);

    std::vector<std::thread> threads;
    for (int i = 0; i < 10; i++)
        threads.emplace_back([&] {
            value.wait(1);
            CHECK_EQ(value.load(), 2);
            woken++;
        });
    std::this_thread::sleep_for(20ms);
    CHECK_EQ(woken.load(), 1);
    value = 2;
    value.notify_all();
    for (auto& t : threads)
        t.join();
    CHECK_EQ(woken.load(), 11);
    value.wait(5);  // returns at once: the value is not 5
}

// std::latch: wait returns once the count reaches zero; std::barrier: phases in lock step, the
// completion function runs once per phase before anyone proceeds.
static void test_latch_barrier()
{
    const int n = 8, phases = 50;
    std::latch arrived(n), go(1);
    std::atomic<int> before_go{0};
    int completions = 0;  // only the completion function touches it, between phases
    std::vector<int> slot(n, -1);
    std::atomic<int> errors{0};
    std::barrier bar(n, [&]() noexcept { completions++; });
    std::vector<std::thread> threads;
    for (int i = 0; i < n; i++)
        threads.emplace_back([&, i] {
            before_go++;
            arrived.count_down();
            go.wait();
            for (int p = 0; p < phases; p++) {
                slot[i] = p;
                bar.arrive_and_wait();
                for (int j = 0; j < n; j++)
                    if (slot[j] != p)
                        errors++;
                if (completions != 2 * p + 1)
                    errors++;
                bar.arrive_and_wait();
            }
        });
    arrived.wait();
    CHECK_EQ(before_go.load(), n);
    CHECK(arrived.try_wait());
    check_os_threads();  // all 8 are held by `go`
    go.count_down();
    for (auto& t : threads)
        t.join();
    CHECK_EQ(errors.load(), 0);
    CHECK_EQ(completions, 2 * phases);
}

// std::call_once: of 20 concurrent callers the function runs exactly once, and every call
// returns after it has finished.
static void test_call_once()
{
    std::once_flag flag;
    std::atomic<int> runs{0}, done{0}, errors{0};
    std::latch gate(21);
    std::vector<std::thread> threads;
    for (int i = 0; i < 20; i++)
        threads.emplace_back([&] {
            gate.arrive_and_wait();
            std::call_once(flag, [&] {
                runs++;
                std::this_thread::sleep_for(50ms);
                done = 1;
            });
            if (done.load() != 1)
                errors++;
        });
    gate.arrive_and_wait();
    for (auto& t : threads)
        t.join();
    CHECK_EQ(runs.load(), 1);
    CHECK_EQ(errors.load(), 0);
    std::call_once(flag, [&] { runs++; });
    CHECK_EQ(runs.load(), 1);
}

// future::wait_for on a promise not yet set times out (not before the time); after set_value
// in another thread, the future is ready with that value.
static void test_future_timeout()
{
    std::promise<int> p;
    std::future<int> f = p.get_future();
    auto start = steady::now();
    CHECK(f.wait_for(50ms) == std::future_status::timeout);
    double took = seconds_since(start);
    CHECK(took >= 0.050 && took < 5.0);
    auto dl = std::chrono::system_clock::now() + 30ms;
    CHECK(f.wait_until(dl) == std::future_status::timeout);
    CHECK(std::chrono::system_clock::now() >= dl);

    std::thread t([&] {
        std::this_thread::sleep_for(20ms);
        p.set_value(99);
    });
    CHECK(f.wait_for(10s) == std::future_status::ready);
    CHECK_EQ(f.get(), 99);
    t.join();
}

int main()
{
    test_packaged_task();
    test_mutex();
    test_recursive_mutex();
    test_timed_mutex();
    test_shared_mutex();
    test_condition_variable_queue();
    test_condition_variable_timeout();
    test_counting_semaphore();
    test_atomic_wait();
    test_latch_barrier();
    test_call_once();
    test_future_timeout();
    return 0;
}
