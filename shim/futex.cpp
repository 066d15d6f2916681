// syscall(SYS_futex, ...): the program's own futexes, which C++20 std::atomic::wait/notify,
// std::counting_semaphore and libstdc++'s futures use.
//
// A green thread's FUTEX_WAIT/FUTEX_WAIT_BITSET parks it on libgreen's futex; every
// FUTEX_WAKE/FUTEX_WAKE_BITSET wakes green waiters first, then also makes the real system
// call, for waiters libgreen cannot know about (real threads, other processes).  Other
// operations, other system calls, and callers that are not green threads go to the real
// syscall() unchanged.
#include <linux/futex.h>
#include <sys/syscall.h>

#include <cstdarg>
#include <cstdint>

#include "sync.h"

using namespace green;

namespace {

constexpr int kCmdMask = ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);

long fail(int e)
{
    errno = e;
    return -1;
}

long green_futex_wait(const uint32_t* word, int op, uint32_t val, const timespec* ts, uint32_t bitset)
{
    int cmd = op & kCmdMask;
    if (cmd == FUTEX_WAIT_BITSET && bitset == 0)
        return fail(EINVAL);
    int64_t deadline = kForever;
    if (ts) {
        if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
            return fail(EINVAL);
        int64_t t = int64_t(ts->tv_sec) * 1000000000 + ts->tv_nsec;
        if (cmd == FUTEX_WAIT)  // relative, on CLOCK_MONOTONIC
            deadline = mono_now() + t;
        else
            deadline = deadline_from((op & FUTEX_CLOCK_REALTIME) ? CLOCK_REALTIME : CLOCK_MONOTONIC, ts);
    }
    int r = futex_wait(word, val, deadline, false, "futex", !(op & FUTEX_PRIVATE_FLAG));
    return r == 0 ? 0 : fail(-r);
}

}  // namespace

GREEN_EXPORT long syscall(long number, ...)
{
    va_list ap;
    va_start(ap, number);
    long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
    long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
    va_end(ap);
    if (number == SYS_futex) {
        auto* word = reinterpret_cast<const uint32_t*>(a1);
        int op = int(a2);
        int cmd = op & kCmdMask;
        if ((cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET) && green_self())
            return green_futex_wait(word, op, uint32_t(a3), reinterpret_cast<const timespec*>(a4),
                                    uint32_t(a6));
        if (cmd == FUTEX_WAKE || cmd == FUTEX_WAKE_BITSET) {
            // Green waiters first; then the kernel's, for the rest of the count.
            return futex_wake(word, int(a3), true, !(op & FUTEX_PRIVATE_FLAG));
        }
    }
    return REAL(syscall)(number, a1, a2, a3, a4, a5, a6);
}
