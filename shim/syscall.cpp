// syscall(): the system calls a program makes through glibc's generic entry point.
//
// SYS_futex: the program's own futexes, which C++20 std::atomic::wait/notify,
// std::counting_semaphore and libstdc++'s futures use.  A green thread's
// FUTEX_WAIT/FUTEX_WAIT_BITSET parks it on libgreen's futex; every FUTEX_WAKE/FUTEX_WAKE_BITSET
// wakes green waiters first, then also makes the real system call, for waiters libgreen cannot
// know about (real threads, other processes).
//
// The blocking I/O, polling and sleep calls a green thread makes this way go to libgreen's own
// wrappers of the same calls, which have the same contract (-1 and errno), so a socket read
// through syscall(SYS_read) parks like read() does.  clock_nanosleep is the one whose C
// function reports errors differently (it returns the error number).
//
// The calls that take a thread id, and gettid, answer for green threads (shim/identity.cpp),
// whoever makes them.
//
// Other operations, other system calls, and callers that are not green threads go to the real
// syscall() unchanged.  System call instructions outside the C library come here too, through
// shim/rawsys.cpp (syscall_green).
#include <linux/futex.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdint>

#include "../hub/signal.h"
#include "fdio.h"
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
    // A signal handler: EINTR, unless it had SA_RESTART (the kernel then restarts the wait).
    Green* self = green_self();
    for (;;) {
        int r;
        {
            Interruptible scope(self);
            r = futex_wait(word, val, deadline, false, "futex", !(op & FUTEX_PRIVATE_FLAG));
        }
        if (r == -EINTR && self->interrupt_restart)
            continue;  // the restarted call compares the word again
        return r == 0 ? 0 : fail(-r);
    }
}

// The green form of a system call that has a wrapper here; false when there is none.
bool green_call(long number, long a1, long a2, long a3, long a4, long a5, long a6, long* result)
{
    auto p = [](long v) { return reinterpret_cast<void*>(v); };
    switch (number) {
    // close never blocks; through its wrapper so that the number's waiters and registrations
    // are let go (hub/fdtable.h).
    case SYS_close: *result = close(int(a1)); return true;
    case SYS_read: *result = read(int(a1), p(a2), size_t(a3)); return true;
    case SYS_write: *result = write(int(a1), p(a2), size_t(a3)); return true;
    case SYS_readv: *result = readv(int(a1), static_cast<iovec*>(p(a2)), int(a3)); return true;
    case SYS_writev: *result = writev(int(a1), static_cast<iovec*>(p(a2)), int(a3)); return true;
    case SYS_recvfrom:
        *result = recvfrom(int(a1), p(a2), size_t(a3), int(a4), static_cast<sockaddr*>(p(a5)),
                           static_cast<socklen_t*>(p(a6)));
        return true;
    case SYS_sendto:
        *result = sendto(int(a1), p(a2), size_t(a3), int(a4), static_cast<sockaddr*>(p(a5)),
                         socklen_t(a6));
        return true;
    case SYS_recvmsg: *result = recvmsg(int(a1), static_cast<msghdr*>(p(a2)), int(a3)); return true;
    case SYS_sendmsg: *result = sendmsg(int(a1), static_cast<msghdr*>(p(a2)), int(a3)); return true;
    case SYS_accept:
        *result = accept(int(a1), static_cast<sockaddr*>(p(a2)), static_cast<socklen_t*>(p(a3)));
        return true;
    case SYS_accept4:
        *result = accept4(int(a1), static_cast<sockaddr*>(p(a2)), static_cast<socklen_t*>(p(a3)),
                          int(a4));
        return true;
    case SYS_connect:
        *result = connect(int(a1), static_cast<sockaddr*>(p(a2)), socklen_t(a3));
        return true;
    case SYS_poll: *result = poll(static_cast<pollfd*>(p(a1)), nfds_t(a2), int(a3)); return true;
    case SYS_select:
        *result = select(int(a1), static_cast<fd_set*>(p(a2)), static_cast<fd_set*>(p(a3)),
                         static_cast<fd_set*>(p(a4)), static_cast<timeval*>(p(a5)));
        return true;
    case SYS_epoll_wait:
        *result = epoll_wait(int(a1), static_cast<epoll_event*>(p(a2)), int(a3), int(a4));
        return true;
    case SYS_epoll_pwait:
        if (a5 && a6 != sizeof(uint64_t))
            return false;  // the kernel's EINVAL
        *result = epoll_pwait(int(a1), static_cast<epoll_event*>(p(a2)), int(a3), int(a4),
                              static_cast<sigset_t*>(p(a5)));
        return true;
    case SYS_wait4:
        *result = wait4(pid_t(a1), static_cast<int*>(p(a2)), int(a3), static_cast<rusage*>(p(a4)));
        return true;
    case SYS_nanosleep:
        *result = nanosleep(static_cast<timespec*>(p(a1)), static_cast<timespec*>(p(a2)));
        return true;
    case SYS_clock_nanosleep: {
        int err = clock_nanosleep(clockid_t(a1), int(a2), static_cast<timespec*>(p(a3)),
                                  static_cast<timespec*>(p(a4)));
        *result = err ? fail(err) : 0;
        return true;
    }
    default: return file_syscall(number, a1, a2, a3, a4, a5, a6, result);
    }
}

}  // namespace

bool green::syscall_green(long number, const long a[6], long* result)
{
    if (number == SYS_futex) {
        auto* word = reinterpret_cast<const uint32_t*>(a[0]);
        int op = int(a[1]);
        int cmd = op & kCmdMask;
        if ((cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET) && green_self()) {
            *result = green_futex_wait(word, op, uint32_t(a[2]),
                                       reinterpret_cast<const timespec*>(a[3]), uint32_t(a[5]));
            return true;
        }
        if (cmd == FUTEX_WAKE || cmd == FUTEX_WAKE_BITSET) {
            // Green waiters first; then the kernel's, for the rest of the count.
            *result = futex_wake(word, int(a[2]), true, !(op & FUTEX_PRIVATE_FLAG));
            return true;
        }
        return false;
    }
    if (identity_syscall(number, a, result))
        return true;
    if (!green_self())
        return false;
    if (number == SYS_io_uring_enter)
        return uring_enter_green(a, result);
    return green_call(number, a[0], a[1], a[2], a[3], a[4], a[5], result);
}

GREEN_EXPORT long syscall(long number, ...)
{
    va_list ap;
    va_start(ap, number);
    long a[6];
    for (long& v : a)
        v = va_arg(ap, long);
    va_end(ap);
    long result;
    if (syscall_green(number, a, &result))
        return result;
    return REAL(syscall)(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
