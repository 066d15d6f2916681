// Reads and writes: read, write, readv, writev, recv, recvfrom, recvmsg, recvmmsg, send, sendto,
// sendmsg, sendmmsg, sendfile (and sendfile64), and the _FORTIFY_SOURCE entry points __read_chk, __recv_chk, __recvfrom_chk.
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
#include <sys/uio.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "fdio.h"

extern "C" void __chk_fail(void) __attribute__((noreturn));

namespace green {

namespace {

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
        ssize_t n = preadv2(fd, iov, count, -1, RWF_NOWAIT);
        if (n >= 0 || errno != EOPNOTSUPP)
            return n;
        r->nowait_read_unsupported = true;
    }
    return when_ready(fd, POLLIN, [&] { return REAL(readv)(fd, iov, count); });
}

ssize_t try_writev(int fd, FdRecord* r, const iovec* iov, int count)
{
    if (!r->nowait_write_unsupported) {
        ssize_t n = pwritev2(fd, iov, count, -1, RWF_NOWAIT);
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
        return REAL(read)(fd, buf, count);
    if (r->kind == FdKind::Socket)
        return io_loop(fd, EV_READ, r->rcvtimeo,
                       [&] { return REAL(recv)(fd, buf, count, MSG_DONTWAIT); });
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
        return REAL(readv)(fd, iov, count);
    if (r->kind == FdKind::Socket) {
        msghdr m = {};
        m.msg_iov = const_cast<iovec*>(iov);
        m.msg_iovlen = size_t(count);
        return io_loop(fd, EV_READ, r->rcvtimeo, [&] { return REAL(recvmsg)(fd, &m, MSG_DONTWAIT); });
    }
    return io_loop(fd, EV_READ, 0, [&] { return try_readv(fd, r, iov, count); });
}

GREEN_EXPORT ssize_t write(int fd, const void* buf, size_t count)
{
    FdRecord* r = green_fd(fd);
    if (!r)
        return REAL(write)(fd, buf, count);
    const char* p = static_cast<const char*>(buf);
    if (r->kind == FdKind::Socket)
        return write_all(fd, r, count, [&](size_t done) {
            return REAL(send)(fd, p + done, count - done, MSG_DONTWAIT);
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
        return REAL(writev)(fd, iov, count);
    if (r->kind == FdKind::Socket)
        return writev_all(fd, r, iov, count, [&](const iovec* v, int n) {
            msghdr m = {};
            m.msg_iov = const_cast<iovec*>(v);
            m.msg_iovlen = size_t(n);
            return REAL(sendmsg)(fd, &m, MSG_DONTWAIT);
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
        return REAL(recvfrom)(fd, buf, len, flags, from, fromlen);
    char* p = static_cast<char*>(buf);
    int f = (flags & ~MSG_WAITALL) | MSG_DONTWAIT;
    size_t done = 0;
    for (;;) {
        ssize_t n = io_loop(fd, EV_READ, r->rcvtimeo, [&] {
            return REAL(recvfrom)(fd, p + done, len - done, f, from, fromlen);
        });
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
        return REAL(recvmsg)(fd, msg, flags);
    return io_loop(fd, EV_READ, r->rcvtimeo,
                   [&] { return REAL(recvmsg)(fd, msg, flags | MSG_DONTWAIT); });
}

GREEN_EXPORT ssize_t send(int fd, const void* buf, size_t len, int flags)
{
    FdRecord* r = green_fd(fd);
    if (!r || (flags & MSG_DONTWAIT))
        return REAL(send)(fd, buf, len, flags);
    const char* p = static_cast<const char*>(buf);
    return write_all(fd, r, len, [&](size_t done) {
        return REAL(send)(fd, p + done, len - done, flags | MSG_DONTWAIT);
    });
}

GREEN_EXPORT ssize_t sendto(int fd, const void* buf, size_t len, int flags,
                            const struct sockaddr* to, socklen_t tolen)
{
    FdRecord* r = green_fd(fd);
    if (!r || (flags & MSG_DONTWAIT))
        return REAL(sendto)(fd, buf, len, flags, to, tolen);
    const char* p = static_cast<const char*>(buf);
    return write_all(fd, r, len, [&](size_t done) {
        return REAL(sendto)(fd, p + done, len - done, flags | MSG_DONTWAIT, to, tolen);
    });
}

GREEN_EXPORT ssize_t sendmsg(int fd, const struct msghdr* msg, int flags)
{
    FdRecord* r = green_fd(fd);
    if (!r || (flags & MSG_DONTWAIT))
        return REAL(sendmsg)(fd, msg, flags);
    msghdr m = *msg;
    return writev_all(fd, r, msg->msg_iov, int(msg->msg_iovlen), [&](const iovec* v, int n) {
        m.msg_iov = const_cast<iovec*>(v);
        m.msg_iovlen = size_t(n);
        ssize_t k = REAL(sendmsg)(fd, &m, flags | MSG_DONTWAIT);
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
            return REAL(recvmmsg)(fd, vec + done, vlen - done, (flags & ~MSG_WAITFORONE) | MSG_DONTWAIT,
                                  nullptr);
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
            return REAL(sendmmsg)(fd, vec + done, vlen - done, flags | MSG_DONTWAIT);
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
GREEN_EXPORT ssize_t sendfile(int out, int in, off_t* offset, size_t count)
{
    FdRecord* r = green_fd(out);
    if (!r || count == 0)
        return REAL(sendfile)(out, in, offset, count);
    int fl = REAL(fcntl)(out, F_GETFL);
    if (fl < 0 || (!(fl & O_NONBLOCK) && REAL(fcntl)(out, F_SETFL, fl | O_NONBLOCK) != 0))
        return REAL(sendfile)(out, in, offset, count);
    ssize_t n = write_all(out, r, count, [&](size_t done) {
        return REAL(sendfile)(out, in, offset, count - done);
    });
    int e = errno;
    if (!(fl & O_NONBLOCK))
        REAL(fcntl)(out, F_SETFL, fl);
    errno = e;
    return n;
}

// The 64-bit-offset name, which programs built with _FILE_OFFSET_BITS=64 import (CPython's
// os.sendfile and socket.sendfile do): on x86_64 off_t is already 64 bits, so it is the same
// call.
GREEN_EXPORT ssize_t sendfile64(int out, int in, off64_t* offset, size_t count)
{
    return sendfile(out, in, reinterpret_cast<off_t*>(offset), count);
}
