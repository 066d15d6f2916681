// io_uring_enter waiting for completions: the ring's descriptor is pollable (readable while its
// completion queue holds entries), so a green thread waits on it like on a socket.
//
// There is no C library function: liburing makes the call with its own `syscall` instruction
// (shim/rawsys.cpp brings it here), and programs with syscall(SYS_io_uring_enter).  The call is
// split in two: the submission and the reaping of what is there, at once and without waiting;
// then, while fewer than min_complete completions are there (asked with a zero timeout,
// IORING_ENTER_EXT_ARG, Linux 5.11), a wait for the descriptor to become readable.  While some
// completions are there but not enough (min_complete > 1) the descriptor stays readable: then
// the thread checks again every millisecond.  What is returned is what the kernel would return:
// the number of entries submitted, or the error.
//
// Passed through as they are: calls that do not wait, a ring registered by index
// (IORING_ENTER_REGISTERED_RING), a signal mask to wait with, IORING_ENTER_SQ_WAIT and flags
// this file does not know.
#include <linux/io_uring.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cerrno>

#include "../hub/fdtable.h"
#include "../hub/signal.h"
#include "../hub/sys.h"
#include "shim.h"

namespace green {

namespace {

constexpr unsigned kKnown = IORING_ENTER_GETEVENTS | IORING_ENTER_SQ_WAKEUP | IORING_ENTER_EXT_ARG;

long enter(int fd, unsigned submit, unsigned min, unsigned flags, const void* arg, size_t size)
{
    return raw_syscall(SYS_io_uring_enter, fd, submit, min, flags, long(arg), long(size));
}

long fail(int e)
{
    errno = e;
    return -1;
}

}  // namespace

bool uring_enter_green(const long a[6], long* result)
{
    int fd = int(a[0]);
    auto submit = unsigned(a[1]), min = unsigned(a[2]), flags = unsigned(a[3]);
    const void* arg = reinterpret_cast<const void*>(a[4]);
    if (!(flags & IORING_ENTER_GETEVENTS) || min == 0 || (flags & ~kKnown))
        return false;
    int64_t deadline = kForever;
    if (flags & IORING_ENTER_EXT_ARG) {
        auto* ga = static_cast<const io_uring_getevents_arg*>(arg);
        if (size_t(a[5]) != sizeof *ga || ga->sigmask)
            return false;
        if (ga->ts) {
            auto* ts = reinterpret_cast<const __kernel_timespec*>(ga->ts);
            deadline = mono_now() + int64_t(ts->tv_sec) * 1000000000 + ts->tv_nsec;
        }
    } else if (arg) {
        return false;  // a signal mask to wait with
    }
    long submitted = 0;
    unsigned rest = flags & ~(IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG);
    if (submit || rest) {
        submitted = enter(fd, submit, 0, rest, nullptr, 0);
        if (submitted < 0) {
            *result = fail(int(-submitted));
            return true;
        }
    }
    // After an error or a timeout, what was submitted is the result (as the kernel says).
    auto finish = [&](int err) { *result = submitted > 0 ? submitted : fail(err); };
    __kernel_timespec zero = {0, 0};
    io_uring_getevents_arg now = {0, 0, 0, reinterpret_cast<__u64>(&zero)};
    bool first = true, readable = false;
    for (;;) {
        long r = enter(fd, 0, min, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &now, sizeof now);
        if (r >= 0) {
            *result = submitted;
            return true;
        }
        if (r == -EINVAL && first) {  // no IORING_ENTER_EXT_ARG: wait as the kernel does
            r = enter(fd, 0, min, IORING_ENTER_GETEVENTS, nullptr, 0);
            if (r >= 0)
                *result = submitted;
            else
                finish(int(-r));
            return true;
        }
        if (r != -ETIME) {
            finish(int(-r));
            return true;
        }
        if (deadline != kForever && mono_now() >= deadline) {
            finish(ETIME);
            return true;
        }
        int w;
        {
            Interruptible scope(green_self());
            // Readable already but not enough: the count changes without the readiness.
            int64_t soon = mono_now() + 1000000;
            w = !readable ? wait_fd(fd, EV_READ, deadline, true)
                          : sleep_until(deadline == kForever ? soon : std::min(deadline, soon), true);
        }
        if (w == -EBADF || w == -EINTR) {
            finish(-w);
            return true;
        }
        readable = w > 0;
        first = false;
    }
}

}  // namespace green
