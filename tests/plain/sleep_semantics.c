/* Sleeping: nanosleep, usleep, sleep, clock_nanosleep - error reporting, never waking early,
 * absolute deadlines, errno, and concurrent sleepers. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "plain.h"

static struct timespec ts_add_ms(struct timespec ts, long ms)
{
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    } else if (ts.tv_nsec < 0) {
        ts.tv_sec--;
        ts.tv_nsec += 1000000000L;
    }
    return ts;
}

static struct timespec clock_now(clockid_t clock)
{
    struct timespec ts;
    CHECK_EQ(clock_gettime(clock, &ts), 0);
    return ts;
}

static int ts_before(struct timespec a, struct timespec b)
{
    return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

/* nanosleep rejects tv_nsec outside [0, 1e9) and a negative tv_sec: -1 with errno EINVAL. */
static void test_nanosleep_invalid(void)
{
    struct timespec bad[] = {{0, 1000000000L}, {0, -1}, {-1, 0}, {1, 1000000000L}};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        double start = now_seconds(CLOCK_MONOTONIC);
        CHECK_EQ(nanosleep(&bad[i], NULL), -1);
        CHECK_EQ(errno, EINVAL);
        CHECK(now_seconds(CLOCK_MONOTONIC) - start < 0.5);
    }
}

/* A relative nanosleep of 50 ms never returns before 50 ms have passed (CLOCK_MONOTONIC). */
static void test_nanosleep_not_early(void)
{
    for (int i = 0; i < 5; i++) {
        struct timespec d = {0, 50 * 1000000L}, rem;
        double start = now_seconds(CLOCK_MONOTONIC);
        CHECK_EQ(nanosleep(&d, &rem), 0);
        double took = now_seconds(CLOCK_MONOTONIC) - start;
        CHECK(took >= 0.050);
        CHECK(took < 5.0);
    }
}

/* usleep(20000) returns 0 after at least 20 ms; sleep(1) returns 0 after at least 1 s. */
static void test_usleep_sleep(void)
{
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(usleep(20000), 0);
    double took = now_seconds(CLOCK_MONOTONIC) - start;
    CHECK(took >= 0.020);
    CHECK(took < 5.0);

    start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(sleep(1), 0);
    took = now_seconds(CLOCK_MONOTONIC) - start;
    CHECK(took >= 1.0);
    CHECK(took < 5.0);
}

/* clock_nanosleep returns the error number itself (never -1): EINVAL for an invalid clock, for
 * CLOCK_THREAD_CPUTIME_ID, and for tv_nsec out of range (relative and absolute). */
static void test_clock_nanosleep_errors(void)
{
    struct timespec d = {0, 1000000L};
    CHECK_EQ(clock_nanosleep((clockid_t)12345, 0, &d, NULL), EINVAL);
    CHECK_EQ(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &d, NULL), EINVAL);
    CHECK_EQ(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, TIMER_ABSTIME, &d, NULL), EINVAL);
    struct timespec bad = {0, 1000000000L}, neg = {0, -1};
    CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL), EINVAL);
    CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &neg, NULL), EINVAL);
    CHECK_EQ(clock_nanosleep(CLOCK_REALTIME, 0, &bad, NULL), EINVAL);
    CHECK_EQ(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &bad, NULL), EINVAL);
    CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &bad, NULL), EINVAL);
}

/* TIMER_ABSTIME with a deadline in the past returns 0 at once (CLOCK_REALTIME, CLOCK_MONOTONIC). */
static void test_abstime_past(void)
{
    clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC};
    for (int i = 0; i < 2; i++) {
        struct timespec past = ts_add_ms(clock_now(clocks[i]), -1000);
        struct timespec epoch = {0, 0};
        double start = now_seconds(CLOCK_MONOTONIC);
        CHECK_EQ(clock_nanosleep(clocks[i], TIMER_ABSTIME, &past, NULL), 0);
        CHECK_EQ(clock_nanosleep(clocks[i], TIMER_ABSTIME, &epoch, NULL), 0);
        CHECK(now_seconds(CLOCK_MONOTONIC) - start < 0.5);
    }
}

/* TIMER_ABSTIME for now + 100 ms wakes at or after the deadline, read on the same clock. */
static void test_abstime_future(void)
{
    clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC};
    for (int i = 0; i < 2; i++) {
        struct timespec deadline = ts_add_ms(clock_now(clocks[i]), 100);
        double start = now_seconds(CLOCK_MONOTONIC);
        CHECK_EQ(clock_nanosleep(clocks[i], TIMER_ABSTIME, &deadline, NULL), 0);
        CHECK(!ts_before(clock_now(clocks[i]), deadline));
        CHECK(now_seconds(CLOCK_MONOTONIC) - start < 5.0);
    }
}

/* Relative clock_nanosleep on CLOCK_BOOTTIME (and CLOCK_MONOTONIC) sleeps at least as long. */
static void test_relative_clocks(void)
{
    clockid_t clocks[] = {CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_REALTIME};
    for (int i = 0; i < 3; i++) {
        struct timespec d = {0, 30 * 1000000L};
        double start = now_seconds(CLOCK_BOOTTIME);
        double mstart = now_seconds(CLOCK_MONOTONIC);
        CHECK_EQ(clock_nanosleep(clocks[i], 0, &d, NULL), 0);
        CHECK(now_seconds(CLOCK_BOOTTIME) - start >= 0.030);
        double took = now_seconds(CLOCK_MONOTONIC) - mstart;
        CHECK(took >= 0.030);
        CHECK(took < 5.0);
    }
}

/* Zero-length sleeps return 0 (and quickly). */
static void test_zero_sleeps(void)
{
    struct timespec zero = {0, 0};
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(nanosleep(&zero, NULL), 0);
    CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &zero, NULL), 0);
    CHECK_EQ(clock_nanosleep(CLOCK_REALTIME, 0, &zero, NULL), 0);
    CHECK_EQ(usleep(0), 0);
    CHECK_EQ(sleep(0), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start < 0.5);
}

/* A successful sleep leaves errno alone. */
static void test_errno_preserved(void)
{
    struct timespec d = {0, 1000000L};
    errno = 1234;
    CHECK_EQ(nanosleep(&d, NULL), 0);
    CHECK_EQ(errno, 1234);
    CHECK_EQ(usleep(1000), 0);
    CHECK_EQ(errno, 1234);
    CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL), 0);
    CHECK_EQ(errno, 1234);
    struct timespec dl = ts_add_ms(clock_now(CLOCK_MONOTONIC), 1);
    CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &dl, NULL), 0);
    CHECK_EQ(errno, 1234);
    CHECK_EQ(sleep(0), 0);
    CHECK_EQ(errno, 1234);
    /* A failing clock_nanosleep reports through its return value. */
    CHECK_EQ(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &d, NULL), EINVAL);
}

/* ------------------------------------------------------------------------------------------ */
/* Five threads sleep 100..500 ms at once, each with a different call: each wakes no earlier
 * than its own deadline, and together they take about the longest sleep, not the sum.  This is
 * the peak concurrency. */

#define SLEEPERS 5

static void *sleeper(void *arg)
{
    intptr_t i = (intptr_t)arg;
    long ms = 100 * (i + 1);
    struct timespec mono_start = clock_now(CLOCK_MONOTONIC);
    struct timespec real_start = clock_now(CLOCK_REALTIME);
    struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
    struct timespec mono_dl = ts_add_ms(mono_start, ms), real_dl = ts_add_ms(real_start, ms);
    switch (i) {
    case 0:
        CHECK_EQ(nanosleep(&d, NULL), 0);
        break;
    case 1:
        CHECK_EQ(usleep((useconds_t)ms * 1000), 0);
        break;
    case 2:
        CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL), 0);
        break;
    case 3:
        CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &mono_dl, NULL), 0);
        break;
    default:
        CHECK_EQ(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &real_dl, NULL), 0);
        CHECK(!ts_before(clock_now(CLOCK_REALTIME), real_dl));
        break;
    }
    CHECK(!ts_before(clock_now(CLOCK_MONOTONIC), mono_dl) || i == 4);
    return NULL;
}

static void test_concurrent_sleepers(void)
{
    double start = now_seconds(CLOCK_MONOTONIC);
    pthread_t t[SLEEPERS];
    for (intptr_t i = 0; i < SLEEPERS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, sleeper, (void *)i), 0);
    check_os_threads();
    for (int i = 0; i < SLEEPERS; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    double took = now_seconds(CLOCK_MONOTONIC) - start;
    CHECK(took >= 0.5);
    CHECK(took < 1.5); /* the sum of all sleeps */
}

int main(void)
{
    test_nanosleep_invalid();
    test_nanosleep_not_early();
    test_usleep_sleep();
    test_clock_nanosleep_errors();
    test_abstime_past();
    test_abstime_future();
    test_relative_clocks();
    test_zero_sleeps();
    test_errno_preserved();
    test_concurrent_sleepers();
    return 0;
}
