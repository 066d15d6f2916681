// Sleeps: sleep, usleep, nanosleep, clock_nanosleep, sched_yield.
//
// glibc's sleep and usleep call an internal nanosleep that no wrapper sees, so each outer name
// is wrapped.  All sleeps are cancellation points, as in glibc.  A green sleep parks the green
// thread on a libev timer and never returns early; a relative sleep is measured on
// CLOCK_MONOTONIC (as the kernel does for nanosleep), an absolute one on the clock asked for.
#include <cerrno>

#include "../hub/signal.h"
#include "shim.h"

using namespace green;

namespace {

bool valid(const struct timespec* ts)
{
    return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000;
}

int64_t to_ns(const struct timespec* ts) { return int64_t(ts->tv_sec) * 1000000000 + ts->tv_nsec; }

// The clocks a green sleep can wait on.  Others (CPU-time clocks, invalid ids) go to glibc,
// which gives their error or, for a process CPU clock, blocks the OS thread as it must.
bool green_clock(clockid_t clock)
{
    return clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC || clock == CLOCK_BOOTTIME ||
           clock == CLOCK_TAI;
}

// Sleeps until the clock reaches abs_on_clock; an absolute sleep on another clock than
// CLOCK_MONOTONIC re-checks that clock, so that it never ends before its own deadline even if
// the clocks drift apart.  Returns 0, or EINTR when a signal handler ran (sleeps are never
// restarted, whatever SA_RESTART says: signal(7)).
int green_sleep(clockid_t clock, int64_t abs_on_clock)
{
    Interruptible scope(green_self());
    for (;;) {
        int64_t left = abs_on_clock - clock_ns(clock);
        if (left <= 0)
            return 0;
        if (sleep_until(mono_now() + left, true) == -EINTR)
            return EINTR;
    }
}

// A relative sleep of ns; on EINTR, *remaining (if any) gets what was left.
int relative_sleep(int64_t ns, struct timespec* remaining)
{
    int64_t end = mono_now() + ns;
    int r = green_sleep(CLOCK_MONOTONIC, end);
    if (r == EINTR && remaining) {
        int64_t left = end - mono_now();
        if (left < 0)
            left = 0;
        remaining->tv_sec = time_t(left / 1000000000);
        remaining->tv_nsec = long(left % 1000000000);
    }
    return r;
}

}  // namespace

GREEN_EXPORT int clock_nanosleep(clockid_t clock, int flags, const struct timespec* request,
                                 struct timespec* remaining)
{
    if (!green_in(kSleep) || !green_clock(clock))
        return REAL(clock_nanosleep)(clock, flags, request, remaining);
    if (request->tv_nsec < 0 || request->tv_nsec >= 1000000000)
        return EINVAL;
    if (flags & TIMER_ABSTIME)
        return green_sleep(clock, to_ns(request));
    if (request->tv_sec < 0)
        return EINVAL;
    return relative_sleep(to_ns(request), remaining);
}

GREEN_EXPORT int nanosleep(const struct timespec* request, struct timespec* remaining)
{
    if (!green_in(kSleep))
        return REAL(nanosleep)(request, remaining);
    if (!valid(request)) {
        errno = EINVAL;
        return -1;
    }
    if (relative_sleep(to_ns(request), remaining) == EINTR) {
        errno = EINTR;
        return -1;
    }
    return 0;
}

GREEN_EXPORT int usleep(useconds_t usec)
{
    if (!green_in(kSleep))
        return REAL(usleep)(usec);
    if (relative_sleep(int64_t(usec) * 1000, nullptr) == EINTR) {
        errno = EINTR;
        return -1;
    }
    return 0;
}

GREEN_EXPORT unsigned sleep(unsigned seconds)
{
    if (!green_in(kSleep))
        return REAL(sleep)(seconds);
    int saved = errno;  // glibc's sleep leaves errno as it found it
    struct timespec left = {0, 0};
    relative_sleep(int64_t(seconds) * 1000000000, &left);
    errno = saved;
    // Interrupted: the seconds left, rounded up as glibc does.
    return unsigned(left.tv_sec + (left.tv_nsec > 0 ? 1 : 0));
}

GREEN_EXPORT int sched_yield(void)
{
    if (!green_in(kSleep))
        return REAL(sched_yield)();
    green::yield();
    return 0;
}
