// The one loop every green I/O call runs, as Go's internal/poll does: try the operation
// without blocking; on EAGAIN wait for the fd (with the deadline its SO_RCVTIMEO/SO_SNDTIMEO
// gives); try again.  The fast path (data is there) costs the one system call and nothing more.
#ifndef GREEN_SHIM_FDIO_H
#define GREEN_SHIM_FDIO_H

#include <cerrno>

#include "../hub/chaos.h"
#include "../hub/fdtable.h"
#include "../hub/signal.h"
#include "shim.h"

namespace green {

// Schedule fuzzing and fault injection (hub/chaos.h, shim/inject.cpp): the slow paths behind
// one flag each.  io_hooks_slow runs at the entry of io_loop (a chaos point, read latency, a
// reset connection: true when the call must fail with errno as set); inject_eintr when the
// call is about to block; inject_eagain on a call the program made non-blocking;
// inject_shorten gives the length a short transfer asks for; inject_connect delays or fails a
// connect.
bool io_hooks_slow(int fd, int events, const char* fn);
bool inject_eintr(int fd, const char* fn);
bool inject_eagain(int fd, bool dontwait, const char* call);
size_t inject_shorten(int fd, FdRecord* r, size_t len, int fault, const char* call);
bool inject_connect(int fd, FdRecord* r);

// A non-blocking call (the fd's O_NONBLOCK, or MSG_DONTWAIT) that injection fails with EAGAIN.
inline bool injected_eagain(int fd, const char* call, bool dontwait = false)
{
    return __builtin_expect(inject_on, 0) && inject_eagain(fd, dontwait, call);
}

// read, write, readv, writev and openat on files nothing can be polled on (regular files,
// directories, block devices): marked calls for a green thread (shim/files.cpp).
ssize_t file_read(int fd, void* buf, size_t count);
ssize_t file_write(int fd, const void* buf, size_t count);
ssize_t file_readv(int fd, const struct iovec* iov, int count);
ssize_t file_writev(int fd, const struct iovec* iov, int count);
int file_openat(int dirfd, const char* path, int flags, mode_t mode);
// syscall(2) with the number of a call made marked above: that marked call (true), else false.
bool file_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6, long* result);
// fcntl's F_SETLKW and F_OFD_SETLKW: a wait for another process's lock.
int file_lock_wait(int fd, int cmd, long arg);

// A read of count bytes from a stream socket (r->stream) returned n: one that found nothing or
// less than it asked for leaves the socket empty (not an end of file: that stays readable).
inline ssize_t note_stream_read(int fd, FdRecord* r, size_t count, ssize_t n)
{
    if (n > 0 ? size_t(n) < count : n < 0 && errno == EAGAIN)
        fd_read_found_empty(fd, r);
    return n;
}

// Whether a call on fd should go green, and its record: a green thread calling, a socket,
// pipe or other pollable file, and not a descriptor the program made non-blocking itself.
inline FdRecord* green_fd(int fd)
{
    if (!green_in(kSockets))
        return nullptr;
    FdRecord* r = fd_get(fd);
    if (!r || r->kind == FdKind::Passive || r->user_nonblock)
        return nullptr;
    return r;
}

// Runs attempt() until it does not fail with EAGAIN, waiting for events on fd in between; with
// hint (fd's record: a plain read of a stream socket), the first attempt is not made when
// fd_known_empty says it would fail.  Asked here, after the hooks, which may let the hub run.
// timeout_ns (SO_RCVTIMEO/SO_SNDTIMEO, 0 for none) ends the wait with EAGAIN, as the kernel
// does.  A signal handler ends the wait with EINTR, unless it had SA_RESTART and there is no
// timeout (the kernel then restarts the call: signal(7)).  errno is left as the program had it
// when the call succeeds.
template <class Attempt>
auto io_loop(int fd, int events, int64_t timeout_ns, Attempt attempt, FdRecord* hint = nullptr,
             const char* fn = __builtin_FUNCTION()) -> decltype(attempt())
{
    if (__builtin_expect(io_hooks_on, 0) && io_hooks_slow(fd, events, fn))
        return -1;
    int saved_errno = errno;
    decltype(attempt()) n;
    if (!(hint && fd_known_empty(fd, hint))) {
        n = attempt();
        if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            return n;
    }
    if (__builtin_expect(inject_on, 0) && inject_eintr(fd, fn))
        return -1;
    int64_t deadline = timeout_ns ? mono_now() + timeout_ns : kForever;
    Green* self = green_self();
    for (;;) {
        int w;
        {
            Interruptible scope(self);
            w = wait_fd(fd, events, deadline, true);
        }
        if (w == -EINTR) {
            if (self->interrupt_restart && !timeout_ns)
                continue;
            errno = EINTR;
            return -1;
        }
        if (w == -ETIMEDOUT) {
            errno = EAGAIN;
            return -1;
        }
        if (w == -EBADF) {
            errno = EBADF;
            return -1;
        }
        n = attempt();
        if (n >= 0) {
            errno = saved_errno;
            return n;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return n;
    }
}

}  // namespace green

#endif
