// The one loop every green I/O call runs, as Go's internal/poll does: try the operation
// without blocking; on EAGAIN wait for the fd (with the deadline its SO_RCVTIMEO/SO_SNDTIMEO
// gives); try again.  The fast path (data is there) costs the one system call and nothing more.
#ifndef GREEN_SHIM_FDIO_H
#define GREEN_SHIM_FDIO_H

#include <cerrno>

#include "../hub/fdtable.h"
#include "../hub/signal.h"
#include "shim.h"

namespace green {

// Whether a call on fd should go green, and its record: a green thread calling, a socket,
// pipe or other pollable file, and not a descriptor the program made non-blocking itself.
inline FdRecord* green_fd(int fd)
{
    if (!green_self())
        return nullptr;
    FdRecord* r = fd_get(fd);
    if (!r || r->kind == FdKind::Passive || r->user_nonblock)
        return nullptr;
    return r;
}

// Runs attempt() until it does not fail with EAGAIN, waiting for events on fd in between.
// timeout_ns (SO_RCVTIMEO/SO_SNDTIMEO, 0 for none) ends the wait with EAGAIN, as the kernel
// does.  A signal handler ends the wait with EINTR, unless it had SA_RESTART and there is no
// timeout (the kernel then restarts the call: signal(7)).  errno is left as the program had it
// when the call succeeds.
template <class Attempt>
auto io_loop(int fd, int events, int64_t timeout_ns, Attempt attempt) -> decltype(attempt())
{
    int saved_errno = errno;
    auto n = attempt();
    if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
        return n;
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
