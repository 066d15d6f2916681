// Clocks: clock_gettime, clock_getres, gettimeofday, time.
//
// Pass-through, but in seeded mode (GREEN_SEED, GREEN_CHAOS, GREEN_INJECT; hub/chaos.h), where
// a green thread reads the hub's virtual time instead of the wall clock: CLOCK_MONOTONIC (and
// its _RAW and _COARSE forms), CLOCK_BOOTTIME, CLOCK_REALTIME (and _COARSE).  Other clocks
// (CPU-time clocks) and every caller that is not a green thread (the hub's loop context, real
// threads) read the real clock.  The cost when unconfigured is one predictable branch before
// the vDSO call.
#include <sys/time.h>

#include "../hub/chaos.h"
#include "shim.h"

using namespace green;

namespace {

bool read_virtual(clockid_t clock, int64_t* ns)
{
    return __builtin_expect(sched_seeded, 0) && green_self() && virtual_clock(clock, ns);
}

// A green thread's CPU-time clock (pthread_getcpuclockid, shim/thread_attrs.cpp) is read as the
// clock of the OS thread that runs it now: green threads share their OS thread's CPU time.
// False for the clock of a green thread that has exited (the kernel's EINVAL for a thread's).
bool os_cpu_clock(clockid_t* clock)
{
    if (!is_green_cpu_clock(*clock))
        return true;
    Green* g = green_by_tid(cpu_clock_thread(*clock));
    if (!g)
        return false;
    *clock = thread_cpu_clock(os_tid_of(g), *clock & 3);
    return true;
}

}  // namespace

GREEN_EXPORT int clock_gettime(clockid_t clock, struct timespec* ts)
{
    int64_t ns;
    if (read_virtual(clock, &ns)) {
        ts->tv_sec = time_t(ns / 1000000000);
        ts->tv_nsec = long(ns % 1000000000);
        return 0;
    }
    if (__builtin_expect(clock < 0, 0) && !os_cpu_clock(&clock)) {
        errno = EINVAL;
        return -1;
    }
    return REAL(clock_gettime)(clock, ts);
}

GREEN_EXPORT int clock_getres(clockid_t clock, struct timespec* ts)
{
    if (clock < 0 && !os_cpu_clock(&clock)) {
        errno = EINVAL;
        return -1;
    }
    return REAL(clock_getres)(clock, ts);
}

GREEN_EXPORT int gettimeofday(struct timeval* tv, void* tz)
{
    int64_t ns;
    if (read_virtual(CLOCK_REALTIME, &ns)) {
        tv->tv_sec = time_t(ns / 1000000000);  // glibc declares tv nonnull
        tv->tv_usec = suseconds_t(ns % 1000000000 / 1000);
        if (tz)  // obsolete; glibc fills it with zeros
            *static_cast<struct timezone*>(tz) = {0, 0};
        return 0;
    }
    return REAL(gettimeofday)(tv, tz);
}

GREEN_EXPORT time_t time(time_t* out)
{
    int64_t ns;
    if (read_virtual(CLOCK_REALTIME, &ns)) {
        time_t t = time_t(ns / 1000000000);
        if (out)
            *out = t;
        return t;
    }
    return REAL(time)(out);
}
