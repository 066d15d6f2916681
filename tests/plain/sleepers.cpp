// Many threads, each sleeping 1 s through a different call: sleep, usleep, nanosleep,
// clock_nanosleep with TIMER_ABSTIME, std::this_thread::sleep_for.  Every thread must sleep
// at least its full second; the whole must take about one second, not N.
//
//   sleepers [N]     N threads (default 10000)
//
// Prints one line: threads asked and finished, OS threads at the peak, wall time, peak RSS.
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "plain.h"

namespace {

std::atomic<int> finished{0};
std::atomic<int> early{0};

void slept_since(double start, double seconds)
{
    if (now_seconds(CLOCK_MONOTONIC) - start < seconds)
        early++;
    finished++;
}

void* sleeper(void* arg)
{
    long kind = reinterpret_cast<long>(arg);
    double start = now_seconds(CLOCK_MONOTONIC);
    switch (kind) {
    case 0:
        CHECK_EQ(sleep(1), 0);
        break;
    case 1:
        CHECK_EQ(usleep(1000000), 0);
        break;
    case 2: {
        struct timespec ts = {1, 0};
        CHECK_EQ(nanosleep(&ts, nullptr), 0);
        break;
    }
    default: {
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += 1;
        CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr), 0);
        break;
    }
    }
    slept_since(start, 1.0);
    return nullptr;
}

void* returns(void*) { return nullptr; }

// Seconds to create and join n threads that return at once.  The wall time of the sleepers is
// bounded by it: what a loaded machine slows down is that work (and the wake-ups), not the
// sleeping, and sleeps taken one after another would still take n seconds.
double creation_seconds(int n)
{
    double start = now_seconds(CLOCK_MONOTONIC);
    std::vector<pthread_t> threads(static_cast<size_t>(n));
    for (pthread_t& t : threads)
        CHECK_EQ(pthread_create(&t, nullptr, returns, nullptr), 0);
    for (pthread_t t : threads)
        CHECK_EQ(pthread_join(t, nullptr), 0);
    return now_seconds(CLOCK_MONOTONIC) - start;
}

}  // namespace

int main(int argc, char** argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    CHECK(n > 0);
    double baseline = creation_seconds(n);
    double start = now_seconds(CLOCK_MONOTONIC);
    std::vector<pthread_t> threads;
    std::vector<std::thread> std_threads;
    for (int i = 0; i < n; i++) {
        if (i % 5 == 4) {
            std_threads.emplace_back([] {
                double t0 = now_seconds(CLOCK_MONOTONIC);
                std::this_thread::sleep_for(std::chrono::seconds(1));
                slept_since(t0, 1.0);
            });
        } else {
            pthread_t t;
            CHECK_EQ(pthread_create(&t, nullptr, sleeper, reinterpret_cast<void*>(long(i % 5))), 0);
            threads.push_back(t);
        }
    }
    // Every thread is asleep now (or about to be): the point of peak concurrency.
    usleep(200000);
    int peak = check_os_threads();
    for (pthread_t t : threads)
        CHECK_EQ(pthread_join(t, nullptr), 0);
    for (std::thread& t : std_threads)
        t.join();
    double wall = now_seconds(CLOCK_MONOTONIC) - start;
    CHECK_EQ(finished.load(), n);
    CHECK_EQ(early.load(), 0);
    printf("sleepers: %d threads asked, %d finished; %d OS threads at the peak; "
           "wall %.2f s; peak RSS %.1f MiB\n",
           n, finished.load(), peak, wall, status_kib("VmHWM:") / 1024.0);
    // One second of sleeping, N of them at once: generous, and more when creating threads is
    // slow in this run.
    if (wall >= 30.0 + 4 * baseline) {
        fprintf(stderr, "FAIL: %d sleeps of 1 s took %.1f s (creating and joining %d threads %.1f s)\n",
                n, wall, n, baseline);
        return 1;
    }
    return 0;
}
