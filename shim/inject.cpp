// Fault injection on the I/O paths (GREEN_INJECT; the spec, the PRNG and the counts are in
// hub/chaos.cpp).  Each fault reaches the program as the real call would give it when that
// very thing happens (see libgreen(7)):
//   short-read / short-write  a stream socket or pipe transfers fewer bytes (at least 1): a
//                             read asks the kernel for fewer bytes; a blocking write stops after
//                             a prefix, as one interrupted by a signal after some bytes does
//                             (never a pipe write of at most PIPE_BUF bytes, which is atomic)
//   eintr                     a call that was going to block fails with EINTR, as when a
//                             signal handler installed without SA_RESTART interrupts it
//   eagain                    a call on a descriptor the program made non-blocking (O_NONBLOCK
//                             or MSG_DONTWAIT) fails with EAGAIN
//   reset                     a connected TCP socket is shut down both ways; the read that hit
//                             it fails with ECONNRESET, later reads see end of file and writes
//                             EPIPE (with SIGPIPE unless MSG_NOSIGNAL), from the kernel itself
//   connect-fail              a blocking connect of a stream socket fails with ECONNREFUSED
//   connect-delay, read-latency  the green thread sleeps first, a drawn part of the duration
#include <sys/socket.h>

#include <climits>
#include <cstring>

#include "fdio.h"

namespace green {

namespace {

const char* call_name(const char* fn)
{
    // io_loop's caller, as __builtin_FUNCTION names it: the wrapper, or its helper.
    if (strncmp(fn, "green_", 6) == 0)
        return fn + 6;
    if (strncmp(fn, "write_all", 9) == 0)  // a template: its full name follows
        return "write";
    if (strncmp(fn, "writev_all", 10) == 0)
        return "writev";
    return fn;
}

int sock_option(int fd, int name)
{
    int v = -1;
    socklen_t len = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, name, &v, &len) != 0)
        return -1;
    return v;
}

bool is_stream(int fd, FdRecord* r)
{
    if (r->kind == FdKind::Pipe)
        return true;
    return r->kind == FdKind::Socket && sock_option(fd, SO_TYPE) == SOCK_STREAM;
}

bool is_connected_tcp(int fd, FdRecord* r)
{
    if (r->kind != FdKind::Socket || sock_option(fd, SO_TYPE) != SOCK_STREAM)
        return false;
    int domain = sock_option(fd, SO_DOMAIN);
    if (domain != AF_INET && domain != AF_INET6)
        return false;
    sockaddr_storage peer;
    socklen_t len = sizeof peer;
    return getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0;
}

}  // namespace

bool io_hooks_slow(int fd, int events, const char* fn)
{
    chaos_point_slow(call_name(fn));
    if (!inject_on)
        return false;
    FdRecord* r = fd_get(fd);
    if (!r)
        return false;
    const char* call = call_name(fn);
    bool is_accept = strncmp(call, "accept", 6) == 0;
    if ((events & EV_READ) && !is_accept) {
        if (int64_t d = inject_delay(kReadLatency)) {
            inject_note(kReadLatency, call, fd, "delayed");
            sleep_until(mono_now() + d, true);
        }
    }
    if (!is_accept && inject_roll(kReset) && is_connected_tcp(fd, r)) {
        shutdown(fd, SHUT_RDWR);
        if (events & EV_READ) {
            inject_note(kReset, call, fd, "ECONNRESET");
            errno = ECONNRESET;
            return true;
        }
        inject_note(kReset, call, fd, "connection shut down: EPIPE");
    }
    return false;
}

bool inject_eintr(int fd, const char* fn)
{
    if (!inject_roll(kEintr))
        return false;
    inject_note(kEintr, call_name(fn), fd, "EINTR");
    errno = EINTR;
    return true;
}

bool inject_eagain(int fd, bool dontwait, const char* call)
{
    if (!green_self())
        return false;
    FdRecord* r = fd_get(fd);
    if (!r || r->kind == FdKind::Passive || r->kind == FdKind::Unknown ||
        !(dontwait || r->user_nonblock) || !inject_roll(kEagain))
        return false;
    inject_note(kEagain, call, fd, "EAGAIN");
    errno = EAGAIN;
    return true;
}

size_t inject_shorten(int fd, FdRecord* r, size_t len, int fault, const char* call)
{
    // A pipe write of at most PIPE_BUF bytes is atomic: never partial.
    if (fault == kShortWrite && r->kind == FdKind::Pipe && len <= PIPE_BUF)
        return len;
    if (len < 2 || !inject_roll(fault) || !is_stream(fd, r))
        return len;
    size_t n = inject_short_length(len);
    char what[64];
    snprintf(what, sizeof what, "%zu of %zu bytes", n, len);
    inject_note(fault, call, fd, what);
    return n;
}

bool inject_connect(int fd, FdRecord* r)
{
    if (int64_t d = inject_delay(kConnectDelay)) {
        inject_note(kConnectDelay, "connect", fd, "delayed");
        sleep_until(mono_now() + d, true);
    }
    if (inject_roll(kConnectFail) && r->kind == FdKind::Socket &&
        sock_option(fd, SO_TYPE) == SOCK_STREAM) {
        inject_note(kConnectFail, "connect", fd, "ECONNREFUSED");
        errno = ECONNREFUSED;
        return true;
    }
    return false;
}

}  // namespace green
