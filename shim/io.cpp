// Reads and writes: read, write, readv, writev, recv, recvfrom, recvmsg, recvmmsg, send, sendto,
// sendmsg, sendmmsg, sendfile (and sendfile64), splice, tee, vmsplice, and the _FORTIFY_SOURCE
// entry points __read_chk, __recv_chk, __recvfrom_chk.
//
// Each call is tried without blocking and without touching the file's O_NONBLOCK (DESIGN rule
// 3): MSG_DONTWAIT on sockets, RWF_NOWAIT (preadv2/pwritev2) on pipes and FIFOs; where
// RWF_NOWAIT is not supported (ttys, some devices) the call is made only once poll(0) says it
// will not block.  Blocking semantics are then rebuilt on top: a read waits for data; a write
// on a blocking descriptor writes everything, waiting for room, and returns a partial count
// only when a timeout or an error stops it after some bytes went (as the kernel does).
#include <fcntl.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "../hub/handoff.h"
#include "../hub/sys.h"
#include "fdio.h"

extern "C" void __chk_fail(void) __attribute__((noreturn));

namespace green {

namespace {

// The attempts (the calls with MSG_DONTWAIT or RWF_NOWAIT) go to the kernel directly, not
// through glibc's functions of the same names.  Those are cancellation points: in a process
// with a second OS thread, and GREEN_WATCHDOG's helper is one, glibc switches the calling OS
// thread to asynchronous cancellation and back around every such system call, two atomic
// read-modify-writes and about 70 instructions a call.  With the watchdog on, that made an echo
// round trip 14% more user-space instructions (scripts/bench_diag.sh, BENCHMARKS.md).  An
// attempt cannot block, and a green thread is cancelled by libgreen where it waits, never by
// glibc, so the switching buys nothing here.  (The calls on descriptors libgreen leaves alone
// still go through glibc: REAL.)
ssize_t kernel_result(long r)
{
    if (r >= 0)
        return r;
    errno = int(-r);
    return -1;
}

ssize_t try_recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* from,
                     socklen_t* fromlen)
{
    return kernel_result(
        raw_syscall(SYS_recvfrom, fd, long(buf), long(len), flags, long(from), long(fromlen)));
}

ssize_t try_sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* to = nullptr,
                   socklen_t tolen = 0)
{
    return kernel_result(
        raw_syscall(SYS_sendto, fd, long(buf), long(len), flags, long(to), long(tolen)));
}

ssize_t try_recvmsg(int fd, msghdr* m, int flags)
{
    return kernel_result(raw_syscall(SYS_recvmsg, fd, long(m), flags));
}

ssize_t try_sendmsg(int fd, const msghdr* m, int flags)
{
    return kernel_result(raw_syscall(SYS_sendmsg, fd, long(m), flags));
}

int try_recvmmsg(int fd, mmsghdr* vec, unsigned vlen, int flags)
{
    return int(kernel_result(raw_syscall(SYS_recvmmsg, fd, long(vec), long(vlen), flags, 0)));
}

int try_sendmmsg(int fd, mmsghdr* vec, unsigned vlen, int flags)
{
    return int(kernel_result(raw_syscall(SYS_sendmmsg, fd, long(vec), long(vlen), flags)));
}

// Offset -1: the file position, as read and write use (the offset is split in a low and a high
// half, the high one unused on 64 bits).
ssize_t try_preadv2(int fd, const iovec* iov, int count, int flags)
{
    return kernel_result(raw_syscall(SYS_preadv2, fd, long(iov), count, -1, -1, flags));
}

ssize_t try_pwritev2(int fd, const iovec* iov, int count, int flags)
{
    return kernel_result(raw_syscall(SYS_pwritev2, fd, long(iov), count, -1, -1, flags));
}

// For files where RWF_NOWAIT does not work: an attempt that would block says EAGAIN instead.
template <class Op>
ssize_t when_ready(int fd, short events, Op op)
{
    pollfd p = {fd, events, 0};
    if (REAL(poll)(&p, 1, 0) == 0) {
        errno = EAGAIN;
        return -1;
    }
    return op();
}

ssize_t try_readv(int fd, FdRecord* r, const iovec* iov, int count)
{
    // Files that cannot honour RWF_NOWAIT in a direction (ttys, eventfd writes) say
    // EOPNOTSUPP; other errors are the call's own.
    if (!r->nowait_read_unsupported) {
        ssize_t n = try_preadv2(fd, iov, count, RWF_NOWAIT);
        if (n >= 0 || errno != EOPNOTSUPP)
            return n;
        r->nowait_read_unsupported = true;
    }
    return when_ready(fd, POLLIN, [&] { return REAL(readv)(fd, iov, count); });
}

ssize_t try_writev(int fd, FdRecord* r, const iovec* iov, int count)
{
    if (!r->nowait_write_unsupported) {
        ssize_t n = try_pwritev2(fd, iov, count, RWF_NOWAIT);
        if (n >= 0 || errno != EOPNOTSUPP)
            return n;
        r->nowait_write_unsupported = true;
    }
    return when_ready(fd, POLLOUT, [&] { return REAL(writev)(fd, iov, count); });
}

// A copy of an iovec array that can be advanced past what was already written.
class IovCursor {
public:
    IovCursor(const iovec* iov, int count) : count_(count)
    {
        v_ = count <= kInline ? inline_ : static_cast<iovec*>(malloc(sizeof(iovec) * count));
        if (v_)
            memcpy(v_, iov, sizeof(iovec) * count);
    }
    ~IovCursor()
    {
        if (v_ != inline_)
            free(v_);
    }
    bool ok() const { return v_ != nullptr; }
    iovec* iov() { return v_ + first_; }
    int count() const { return count_ - first_; }
    void advance(size_t n)
    {
        while (first_ < count_ && n >= v_[first_].iov_len)
            n -= v_[first_++].iov_len;
        if (first_ < count_) {
            v_[first_].iov_base = static_cast<char*>(v_[first_].iov_base) + n;
            v_[first_].iov_len -= n;
        }
    }

private:
    static constexpr int kInline = 8;
    iovec inline_[kInline];
    iovec* v_;
    int count_;
    int first_ = 0;
};

size_t total(const iovec* iov, int count)
{
    size_t n = 0;
    for (int i = 0; i < count; i++)
        n += iov[i].iov_len;
    return n;
}

// A blocking write: attempt(done) sends from offset done; repeat until all of want went, and
// report a partial count rather than an error once some bytes went.
template <class Attempt>
ssize_t write_all(int fd, FdRecord* r, size_t want, Attempt attempt)
{
    size_t done = 0;
    for (;;) {
        ssize_t n = io_loop(fd, EV_WRITE, r->sndtimeo, [&] { return attempt(done); });
        if (n < 0)
            return done > 0 ? ssize_t(done) : -1;
        done += size_t(n);
        if (done >= want || n == 0)
            return ssize_t(done);
    }
}

// A blocking write of an iovec array, for writev and sendmsg.
template <class Attempt>
ssize_t writev_all(int fd, FdRecord* r, const iovec* iov, int count, Attempt attempt)
{
    size_t want = total(iov, count);
    ssize_t n = io_loop(fd, EV_WRITE, r->sndtimeo, [&] { return attempt(iov, count); });
    if (n < 0 || size_t(n) >= want)
        return n;
    IovCursor cur(iov, count);  // the rare partial write: continue from a copy
    if (!cur.ok())
        return n;
    cur.advance(size_t(n));
    size_t done = size_t(n);
    ssize_t more = write_all(fd, r, want - done, [&](size_t) {
        ssize_t k = attempt(cur.iov(), cur.count());
        if (k > 0)
            cur.advance(size_t(k));
        return k;
    });
    return more < 0 ? ssize_t(done) : ssize_t(done) + more;
}

}  // namespace

ssize_t green_read(int fd, void* buf, size_t count)
{
    FdRecord* r = green_fd(fd);
    if (!r)
        return injected_eagain(fd, "read") ? -1 : file_read(fd, buf, count);
    if (__builtin_expect(inject_on, 0))
        count = inject_shorten(fd, r, count, kShortRead, "read");
    if (r->stream)
        return io_loop(
            fd, EV_READ, r->rcvtimeo,
            [&] {
                return note_stream_read(fd, r, count,
                                        try_recvfrom(fd, buf, count, MSG_DONTWAIT, nullptr, nullptr));
            },
            r);
    if (r->kind == FdKind::Socket)
        return io_loop(fd, EV_READ, r->rcvtimeo, [&] {
            return try_recvfrom(fd, buf, count, MSG_DONTWAIT, nullptr, nullptr);
        });
    iovec iov = {buf, count};
    return io_loop(fd, EV_READ, 0, [&] { return try_readv(fd, r, &iov, 1); });
}

}  // namespace green

using namespace green;

GREEN_EXPORT ssize_t read(int fd, void* buf, size_t count) { return green_read(fd, buf, count); }

GREEN_EXPORT ssize_t __read_chk(int fd, void* buf, size_t count, size_t buflen)
{
    if (count > buflen)
        __chk_fail();
    return green_read(fd, buf, count);
}

GREEN_EXPORT ssize_t readv(int fd, const struct iovec* iov, int count)
{
    FdRecord* r = green_fd(fd);
    if (!r)
        return injected_eagain(fd, "readv") ? -1 : file_readv(fd, iov, count);
    if (r->kind == FdKind::Socket) {
        msghdr m = {};
        m.msg_iov = const_cast<iovec*>(iov);
        m.msg_iovlen = size_t(count);
        return io_loop(fd, EV_READ, r->rcvtimeo, [&] { return try_recvmsg(fd, &m, MSG_DONTWAIT); });
    }
    return io_loop(fd, EV_READ, 0, [&] { return try_readv(fd, r, iov, count); });
}

GREEN_EXPORT ssize_t write(int fd, const void* buf, size_t count)
{
    FdRecord* r = green_fd(fd);
    if (!r)
        return injected_eagain(fd, "write") ? -1 : file_write(fd, buf, count);
    if (__builtin_expect(inject_on, 0))
        count = inject_shorten(fd, r, count, kShortWrite, "write");
    const char* p = static_cast<const char*>(buf);
    if (r->kind == FdKind::Socket)
        return write_all(fd, r, count, [&](size_t done) {
            return try_sendto(fd, p + done, count - done, MSG_DONTWAIT);
        });
    return write_all(fd, r, count, [&](size_t done) {
        iovec iov = {const_cast<char*>(p + done), count - done};
        return try_writev(fd, r, &iov, 1);
    });
}

GREEN_EXPORT ssize_t writev(int fd, const struct iovec* iov, int count)
{
    FdRecord* r = green_fd(fd);
    if (!r)
        return injected_eagain(fd, "writev") ? -1 : file_writev(fd, iov, count);
    if (r->kind == FdKind::Socket)
        return writev_all(fd, r, iov, count, [&](const iovec* v, int n) {
            msghdr m = {};
            m.msg_iov = const_cast<iovec*>(v);
            m.msg_iovlen = size_t(n);
            return try_sendmsg(fd, &m, MSG_DONTWAIT);
        });
    return writev_all(fd, r, iov, count,
                      [&](const iovec* v, int n) { return try_writev(fd, r, v, n); });
}

namespace green {

// recv and recvfrom; MSG_WAITALL keeps reading until the buffer is full, EOF or an error.
ssize_t green_recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* from,
                       socklen_t* fromlen)
{
    FdRecord* r = green_fd(fd);
    if (!r || (flags & MSG_DONTWAIT))
        return injected_eagain(fd, "recv", flags & MSG_DONTWAIT)
                   ? -1
                   : REAL(recvfrom)(fd, buf, len, flags, from, fromlen);
    if (__builtin_expect(inject_on, 0) && !(flags & (MSG_WAITALL | MSG_PEEK)))
        len = inject_shorten(fd, r, len, kShortRead, "recv");
    char* p = static_cast<char*>(buf);
    int f = (flags & ~MSG_WAITALL) | MSG_DONTWAIT;
    bool plain = r->stream && f == MSG_DONTWAIT;  // no MSG_PEEK, MSG_OOB, ...
    size_t done = 0;
    for (;;) {
        ssize_t n = io_loop(
            fd, EV_READ, r->rcvtimeo,
            [&] {
                ssize_t k = try_recvfrom(fd, p + done, len - done, f, from, fromlen);
                return plain ? note_stream_read(fd, r, len - done, k) : k;
            },
            plain ? r : nullptr);
        if (n < 0)
            return done > 0 ? ssize_t(done) : -1;
        done += size_t(n);
        if (!(flags & MSG_WAITALL) || n == 0 || done >= len || (flags & MSG_PEEK))
            return ssize_t(done);
    }
}

}  // namespace green

GREEN_EXPORT ssize_t recv(int fd, void* buf, size_t len, int flags)
{
    return green_recvfrom(fd, buf, len, flags, nullptr, nullptr);
}

GREEN_EXPORT ssize_t __recv_chk(int fd, void* buf, size_t len, size_t buflen, int flags)
{
    if (len > buflen)
        __chk_fail();
    return green_recvfrom(fd, buf, len, flags, nullptr, nullptr);
}

GREEN_EXPORT ssize_t recvfrom(int fd, void* buf, size_t len, int flags, struct sockaddr* from,
                              socklen_t* fromlen)
{
    return green_recvfrom(fd, buf, len, flags, from, fromlen);
}

GREEN_EXPORT ssize_t __recvfrom_chk(int fd, void* buf, size_t len, size_t buflen, int flags,
                                    struct sockaddr* from, socklen_t* fromlen)
{
    if (len > buflen)
        __chk_fail();
    return green_recvfrom(fd, buf, len, flags, from, fromlen);
}

GREEN_EXPORT ssize_t recvmsg(int fd, struct msghdr* msg, int flags)
{
    FdRecord* r = green_fd(fd);
    if (!r || (flags & MSG_DONTWAIT))
        return injected_eagain(fd, "recvmsg", flags & MSG_DONTWAIT) ? -1
                                                                     : REAL(recvmsg)(fd, msg, flags);
    return io_loop(fd, EV_READ, r->rcvtimeo,
                   [&] { return try_recvmsg(fd, msg, flags | MSG_DONTWAIT); });
}

GREEN_EXPORT ssize_t send(int fd, const void* buf, size_t len, int flags)
{
    FdRecord* r = green_fd(fd);
    if (!r || (flags & MSG_DONTWAIT))
        return injected_eagain(fd, "send", flags & MSG_DONTWAIT) ? -1
                                                                  : REAL(send)(fd, buf, len, flags);
    if (__builtin_expect(inject_on, 0))
        len = inject_shorten(fd, r, len, kShortWrite, "send");
    const char* p = static_cast<const char*>(buf);
    return write_all(fd, r, len, [&](size_t done) {
        return try_sendto(fd, p + done, len - done, flags | MSG_DONTWAIT);
    });
}

GREEN_EXPORT ssize_t sendto(int fd, const void* buf, size_t len, int flags,
                            const struct sockaddr* to, socklen_t tolen)
{
    FdRecord* r = green_fd(fd);
    if (!r || (flags & MSG_DONTWAIT))
        return injected_eagain(fd, "sendto", flags & MSG_DONTWAIT)
                   ? -1
                   : REAL(sendto)(fd, buf, len, flags, to, tolen);
    if (__builtin_expect(inject_on, 0))
        len = inject_shorten(fd, r, len, kShortWrite, "sendto");
    const char* p = static_cast<const char*>(buf);
    return write_all(fd, r, len, [&](size_t done) {
        return try_sendto(fd, p + done, len - done, flags | MSG_DONTWAIT, to, tolen);
    });
}

GREEN_EXPORT ssize_t sendmsg(int fd, const struct msghdr* msg, int flags)
{
    FdRecord* r = green_fd(fd);
    if (!r || (flags & MSG_DONTWAIT))
        return injected_eagain(fd, "sendmsg", flags & MSG_DONTWAIT) ? -1
                                                                     : REAL(sendmsg)(fd, msg, flags);
    msghdr m = *msg;
    return writev_all(fd, r, msg->msg_iov, int(msg->msg_iovlen), [&](const iovec* v, int n) {
        m.msg_iov = const_cast<iovec*>(v);
        m.msg_iovlen = size_t(n);
        ssize_t k = try_sendmsg(fd, &m, flags | MSG_DONTWAIT);
        if (k > 0) {  // ancillary data (SCM_RIGHTS) goes with the first bytes only
            m.msg_control = nullptr;
            m.msg_controllen = 0;
        }
        return k;
    });
}

// recvmmsg: blocks until vlen messages came (or, with MSG_WAITFORONE, one), as the kernel does.
GREEN_EXPORT int recvmmsg(int fd, struct mmsghdr* vec, unsigned vlen, int flags,
                          struct timespec* timeout)
{
    FdRecord* r = green_fd(fd);
    if (!r || (flags & MSG_DONTWAIT) || vlen == 0)
        return REAL(recvmmsg)(fd, vec, vlen, flags, timeout);
    int64_t deadline = timeout ? mono_now() + int64_t(timeout->tv_sec) * 1000000000 + timeout->tv_nsec
                               : kForever;
    unsigned done = 0;
    while (done < vlen) {
        int n = io_loop(fd, EV_READ, r->rcvtimeo, [&] {
            return try_recvmmsg(fd, vec + done, vlen - done,
                                (flags & ~MSG_WAITFORONE) | MSG_DONTWAIT);
        });
        if (n < 0)
            return done > 0 ? int(done) : -1;
        done += unsigned(n);
        if ((flags & MSG_WAITFORONE) || (deadline != kForever && mono_now() >= deadline))
            break;
    }
    return int(done);
}

// sendmmsg: a blocking socket sends every message, waiting for room in between.
GREEN_EXPORT int sendmmsg(int fd, struct mmsghdr* vec, unsigned vlen, int flags)
{
    FdRecord* r = green_fd(fd);
    if (!r || (flags & MSG_DONTWAIT) || vlen == 0)
        return REAL(sendmmsg)(fd, vec, vlen, flags);
    unsigned done = 0;
    while (done < vlen) {
        int n = io_loop(fd, EV_WRITE, r->sndtimeo, [&] {
            return try_sendmmsg(fd, vec + done, vlen - done, flags | MSG_DONTWAIT);
        });
        if (n < 0)
            return done > 0 ? int(done) : -1;
        done += unsigned(n);
    }
    return int(done);
}

// sendfile to a socket or pipe: it has no per-call non-blocking flag, so the output's O_NONBLOCK
// is set for the call's duration only (two more system calls, against the file transfer), and
// the call is repeated until count bytes went or the input ended, as a blocking sendfile does.
// Each attempt is a marked call (hub/handoff.h): the file side may be read from the disk.
GREEN_EXPORT ssize_t sendfile(int out, int in, off_t* offset, size_t count)
{
    FdRecord* r = green_fd(out);
    if (!r || count == 0)
        return REAL(sendfile)(out, in, offset, count);
    int fl = REAL(fcntl)(out, F_GETFL);
    if (fl < 0 || (!(fl & O_NONBLOCK) && REAL(fcntl)(out, F_SETFL, fl | O_NONBLOCK) != 0))
        return REAL(sendfile)(out, in, offset, count);
    // Reading the file may block in the kernel (pages not in memory): a marked call.
    ssize_t n = write_all(out, r, count, [&](size_t done) {
        return kernel_result(
            blocking_syscall(SYS_sendfile, out, in, long(offset), long(count - done)));
    });
    int e = errno;
    if (!(fl & O_NONBLOCK))
        REAL(fcntl)(out, F_SETFL, fl);
    errno = e;
    return n;
}

// splice, tee and vmsplice where a side is a pipe or a socket.  SPLICE_F_NONBLOCK makes the
// pipe sides non-blocking; a socket side ignores it (a TCP socket's splice waits for data or
// room by the socket's own O_NONBLOCK, measured), so a blocking socket gets O_NONBLOCK for the
// call's duration, as in sendfile.  On EAGAIN the green thread waits for the sides that poll
// says are not ready, then tries again: the call returns once some bytes moved, at the end of
// the input (0), or with an error (EPIPE and SIGPIPE for a pipe without readers come from the
// kernel), as the blocking call does.  SO_RCVTIMEO of an input socket and SO_SNDTIMEO of an
// output socket bound the wait (EAGAIN).  A call with SPLICE_F_NONBLOCK, or a side the program
// made non-blocking itself, is the real call.
namespace {

// One side of a splice: its fd and record when it is one a green call waits on.
struct Side {
    int fd;
    FdRecord* r;
    short events;  // what it must be ready for
    int saved_fl = -1;  // the flags to restore when O_NONBLOCK was set for the call

    Side(int fd_, short ev) : fd(fd_), r(fd_ >= 0 ? green_fd(fd_) : nullptr), events(ev) {}
    bool user_nonblock() const
    {
        FdRecord* any = fd >= 0 ? fd_get(fd) : nullptr;
        return any && any->kind != FdKind::Passive && any->user_nonblock;
    }
    bool socket_nonblock_for_call()
    {
        if (!r || r->kind != FdKind::Socket || r->internal_nonblock)
            return true;
        int fl = REAL(fcntl)(fd, F_GETFL);
        if (fl < 0 || (!(fl & O_NONBLOCK) && REAL(fcntl)(fd, F_SETFL, fl | O_NONBLOCK) != 0))
            return false;
        if (!(fl & O_NONBLOCK))
            saved_fl = fl;
        return true;
    }
    void restore()
    {
        if (saved_fl >= 0)
            REAL(fcntl)(fd, F_SETFL, saved_fl);
    }
};

template <class Attempt>
ssize_t splice_loop(Side& in, Side& out, Attempt attempt)
{
    Green* self = green_self();
    if (!self || (!in.r && !out.r) || in.user_nonblock() || out.user_nonblock())
        return attempt(false);
    if (!in.socket_nonblock_for_call() || !out.socket_nonblock_for_call()) {
        in.restore();
        return attempt(false);
    }
    int saved_errno = errno;
    int64_t timeout = 0;
    if (in.r && in.r->kind == FdKind::Socket && in.r->rcvtimeo)
        timeout = in.r->rcvtimeo;
    if (out.r && out.r->kind == FdKind::Socket && out.r->sndtimeo)
        timeout = timeout ? std::min(timeout, out.r->sndtimeo) : out.r->sndtimeo;
    int64_t deadline = timeout ? mono_now() + timeout : kForever;
    ssize_t n;
    for (;;) {
        n = attempt(true);
        if (n >= 0) {
            errno = saved_errno;
            break;
        }
        if (errno != EAGAIN)
            break;
        // Wait for the sides that are not ready (both, when poll sees both ready: then the
        // kernel disagreed with poll, and a short sleep keeps this from spinning).
        pollfd p[2];
        Side* sides[2];
        int np = 0;
        for (Side* s : {&in, &out})
            if (s->r) {
                p[np] = {s->fd, s->events, 0};
                sides[np++] = s;
            }
        REAL(poll)(p, nfds_t(np), 0);
        FdWatch w[2];
        int nw = 0;
        for (int i = 0; i < np; i++)
            if (!(p[i].revents & (p[i].events | POLLHUP | POLLERR))) {
                w[nw].fd = sides[i]->fd;
                w[nw].events = sides[i]->events == POLLIN ? EV_READ : EV_WRITE;
                nw++;
            }
        int res;
        {
            Interruptible scope(self);
            if (nw) {
                res = wait_fds(w, nw, deadline, true);
            } else {
                int64_t soon = mono_now() + 1000000;
                res = sleep_until(deadline == kForever || soon < deadline ? soon : deadline, true);
            }
        }
        if (res == -EINTR && !(self->interrupt_restart && !timeout)) {
            errno = EINTR;
            n = -1;
            break;
        }
        if (res == -EBADF) {
            errno = EBADF;
            n = -1;
            break;
        }
        if (deadline != kForever && mono_now() >= deadline) {
            n = attempt(true);  // one last look; still nothing: EAGAIN, as the kernel's timeout
            break;
        }
    }
    int e = errno;
    in.restore();
    out.restore();
    errno = e;
    return n;
}

}  // namespace

GREEN_EXPORT ssize_t splice(int fd_in, loff_t* off_in, int fd_out, loff_t* off_out, size_t len,
                            unsigned int flags)
{
    if (!green_self() || (flags & SPLICE_F_NONBLOCK) || len == 0)
        return REAL(splice)(fd_in, off_in, fd_out, off_out, len, flags);
    Side in(fd_in, POLLIN), out(fd_out, POLLOUT);
    return splice_loop(in, out, [&](bool nonblock) {
        return REAL(splice)(fd_in, off_in, fd_out, off_out, len,
                            flags | (nonblock ? SPLICE_F_NONBLOCK : 0));
    });
}

GREEN_EXPORT ssize_t tee(int fd_in, int fd_out, size_t len, unsigned int flags)
{
    if (!green_self() || (flags & SPLICE_F_NONBLOCK) || len == 0)
        return REAL(tee)(fd_in, fd_out, len, flags);
    Side in(fd_in, POLLIN), out(fd_out, POLLOUT);
    return splice_loop(in, out, [&](bool nonblock) {
        return REAL(tee)(fd_in, fd_out, len, flags | (nonblock ? SPLICE_F_NONBLOCK : 0));
    });
}

// vmsplice moves memory into a pipe's write end, or a pipe's read end into memory: the one
// descriptor waits for whichever it is (poll reports only its own direction).
GREEN_EXPORT ssize_t vmsplice(int fd, const struct iovec* iov, unsigned long count, unsigned int flags)
{
    if (!green_self() || (flags & SPLICE_F_NONBLOCK))
        return REAL(vmsplice)(fd, iov, count, flags);
    FdRecord* r = green_fd(fd);
    if (!r)
        return REAL(vmsplice)(fd, iov, count, flags);
    return io_loop(fd, EV_READ | EV_WRITE, 0, [&] {
        return REAL(vmsplice)(fd, iov, count, flags | SPLICE_F_NONBLOCK);
    });
}

// The 64-bit-offset name, which programs built with _FILE_OFFSET_BITS=64 import (CPython's
// os.sendfile and socket.sendfile do): on x86_64 off_t is already 64 bits, so it is the same
// call.
GREEN_EXPORT ssize_t sendfile64(int out, int in, off64_t* offset, size_t count)
{
    return sendfile(out, in, reinterpret_cast<off_t*>(offset), count);
}
