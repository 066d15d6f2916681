// Sockets: socket, socketpair, accept, accept4, connect, setsockopt (timeouts).
//
// accept and connect have no per-call non-blocking flag, so libgreen sets O_NONBLOCK on the
// file description for them, hidden from the program (F_GETFL, FIONBIO: shim/fd.cpp):
// a listening socket keeps it (it is libgreen's from its first accept on, and checked at each
// accept); a connecting socket has its flags restored as soon as the connection is made or has
// failed.
#include <fcntl.h>
#include <sys/socket.h>

#include "../hub/signal.h"
#include "fdio.h"

using namespace green;

namespace {

int64_t timeval_ns(const void* value, socklen_t len)
{
    if (len < socklen_t(sizeof(timeval)))
        return 0;
    const timeval* tv = static_cast<const timeval*>(value);
    return int64_t(tv->tv_sec) * 1000000000 + int64_t(tv->tv_usec) * 1000;
}

// The kernel's blocking connect, on a non-blocking attempt: wait until writable, then the
// result is SO_ERROR; SO_SNDTIMEO expiry gives EINPROGRESS, as Linux does.  A signal handler
// gives EINTR (the connection goes on), unless it had SA_RESTART and there is no timeout.
int finish_connect(int fd, FdRecord* r)
{
    int64_t deadline = r->sndtimeo ? mono_now() + r->sndtimeo : kForever;
    Green* self = green_self();
    int w;
    do {
        Interruptible scope(self);
        w = wait_fd(fd, EV_WRITE, deadline, true);
    } while (w == -EINTR && self->interrupt_restart && !r->sndtimeo);
    if (w == -EINTR) {
        errno = EINTR;
        return -1;
    }
    if (w == -ETIMEDOUT) {
        errno = EINPROGRESS;
        return -1;
    }
    if (w == -EBADF) {
        errno = EBADF;
        return -1;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return -1;
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

}  // namespace

GREEN_EXPORT int socket(int domain, int type, int protocol)
{
    int fd = REAL(socket)(domain, type, protocol);
    if (fd >= 0)
        fd_created(fd, FdKind::Socket, type & SOCK_NONBLOCK, stream_socket(domain, type, protocol));
    return fd;
}

GREEN_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
    int r = REAL(socketpair)(domain, type, protocol, sv);
    if (r == 0) {
        bool stream = stream_socket(domain, type, protocol);
        fd_created(sv[0], FdKind::Socket, type & SOCK_NONBLOCK, stream);
        fd_created(sv[1], FdKind::Socket, type & SOCK_NONBLOCK, stream);
    }
    return r;
}

GREEN_EXPORT int accept4(int fd, struct sockaddr* addr, socklen_t* len, int flags)
{
    FdRecord* r = green_fd(fd);
    int s;
    if (!r) {
        if (injected_eagain(fd, "accept4"))
            return -1;
        s = REAL(accept4)(fd, addr, len, flags);
    } else {
        // Checked at every accept, not only the first: an exec'd child that inherited the
        // listener had libgreen's flag cleared from the shared description (shim/exec.cpp).
        int fl = REAL(fcntl)(fd, F_GETFL);
        if (fl >= 0 && !(fl & O_NONBLOCK) && REAL(fcntl)(fd, F_SETFL, fl | O_NONBLOCK) == 0)
            r->internal_nonblock = true;
        // SO_RCVTIMEO bounds a blocking accept, as in the kernel.
        s = io_loop(fd, EV_READ, r->rcvtimeo, [&] { return REAL(accept4)(fd, addr, len, flags); });
    }
    if (s >= 0)
        fd_created(s, FdKind::Socket, flags & SOCK_NONBLOCK, r && r->stream);
    return s;
}

GREEN_EXPORT int accept(int fd, struct sockaddr* addr, socklen_t* len)
{
    return accept4(fd, addr, len, 0);
}

GREEN_EXPORT int connect(int fd, const struct sockaddr* addr, socklen_t len)
{
    FdRecord* r = green_fd(fd);
    if (!r)
        return REAL(connect)(fd, addr, len);
    chaos_point("connect");
    if (__builtin_expect(inject_on, 0) && inject_connect(fd, r))
        return -1;
    int fl = -1;  // the flags to restore, when we set O_NONBLOCK here
    if (!r->internal_nonblock) {
        fl = REAL(fcntl)(fd, F_GETFL);
        if (fl < 0 || REAL(fcntl)(fd, F_SETFL, fl | O_NONBLOCK) != 0)
            return REAL(connect)(fd, addr, len);
    }
    int result = REAL(connect)(fd, addr, len);
    int e = errno;
    if (result != 0 && e == EINPROGRESS) {
        result = finish_connect(fd, r);
        e = errno;
    } else if (result != 0 && e == EAGAIN) {
        // AF_UNIX with the listener's backlog full: a blocking connect waits for room, of
        // which no readiness event tells; retry on a short timer.
        int64_t deadline = r->sndtimeo ? mono_now() + r->sndtimeo : kForever;
        while (result != 0 && e == EAGAIN && (deadline == kForever || mono_now() < deadline)) {
            sleep_until(mono_now() + 1000000, true);
            result = REAL(connect)(fd, addr, len);
            e = errno;
        }
    }
    if (fl >= 0)
        REAL(fcntl)(fd, F_SETFL, fl);
    errno = e;
    return result;
}

GREEN_EXPORT int setsockopt(int fd, int level, int name, const void* value, socklen_t len)
{
    int r = REAL(setsockopt)(fd, level, name, value, len);
    if (r == 0 && level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
        if (FdRecord* rec = green_in(kSockets) ? fd_get(fd) : nullptr)
            (name == SO_RCVTIMEO ? rec->rcvtimeo : rec->sndtimeo) = timeval_ns(value, len);
    }
    return r;
}
