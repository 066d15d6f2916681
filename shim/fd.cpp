// Descriptor life: close, dup, dup2, dup3, fcntl (and fcntl64), ioctl(FIONBIO), pipe, pipe2,
// and the creators whose descriptors libgreen must learn afresh (open, openat, eventfd,
// timerfd_create, signalfd, epoll_create).
//
// The program sees only its own O_NONBLOCK: F_GETFL hides the flag where libgreen set it, and
// F_SETFL/FIONBIO record what the program asks while keeping libgreen's flag on the file.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include <cstdarg>

#include "fdio.h"

using namespace green;

namespace {

// An fd that libgreen tracks: any caller (records are per process, not per thread).
FdRecord* tracked(int fd)
{
    return green_self() ? fd_get(fd) : nullptr;
}

int created(int fd)
{
    if (fd >= 0)
        fd_forget(fd);
    return fd;
}

}  // namespace

GREEN_EXPORT int close(int fd)
{
    fd_forget(fd);  // wakes its waiters (EBADF) and stops their watchers first
    return REAL(close)(fd);
}

GREEN_EXPORT int dup(int fd)
{
    int n = REAL(dup)(fd);
    if (n >= 0)
        fd_copied(fd, n);
    return n;
}

GREEN_EXPORT int dup2(int oldfd, int newfd)
{
    if (oldfd == newfd)
        return REAL(dup2)(oldfd, newfd);
    fd_closing(newfd);
    int n = REAL(dup2)(oldfd, newfd);
    if (n >= 0)
        fd_copied(oldfd, n);
    return n;
}

GREEN_EXPORT int dup3(int oldfd, int newfd, int flags)
{
    if (oldfd != newfd)
        fd_closing(newfd);
    int n = REAL(dup3)(oldfd, newfd, flags);
    if (n >= 0)
        fd_copied(oldfd, n);
    return n;
}

namespace green {

int green_fcntl(int fd, int cmd, long arg)
{
    FdRecord* r = tracked(fd);
    switch (cmd) {
    case F_GETFL: {
        int fl = REAL(fcntl)(fd, cmd);
        if (fl >= 0 && r && r->internal_nonblock && !r->user_nonblock)
            fl &= ~O_NONBLOCK;
        return fl;
    }
    case F_SETFL: {
        long fl = arg;
        if (r && r->internal_nonblock)
            fl |= O_NONBLOCK;
        int res = REAL(fcntl)(fd, cmd, fl);
        if (res == 0 && r)
            fd_set_user_nonblock(fd, (arg & O_NONBLOCK) != 0);
        return res;
    }
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
        int n = REAL(fcntl)(fd, cmd, arg);
        if (n >= 0)
            fd_copied(fd, n);
        return n;
    }
    default:
        return REAL(fcntl)(fd, cmd, arg);
    }
}

}  // namespace green

// fcntl's third argument is an int or a pointer: read as a long, it carries either.
// fcntl64 is the name _FILE_OFFSET_BITS=64 and _TIME_BITS=64 builds use.
#define GREEN_FCNTL_WRAPPER(name)                                                 \
    GREEN_EXPORT int name(int fd, int cmd, ...)                                   \
    {                                                                             \
        va_list ap;                                                               \
        va_start(ap, cmd);                                                        \
        long arg = va_arg(ap, long);                                              \
        va_end(ap);                                                               \
        return green_fcntl(fd, cmd, arg);                                         \
    }
GREEN_FCNTL_WRAPPER(fcntl)
GREEN_FCNTL_WRAPPER(fcntl64)

GREEN_EXPORT int ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    va_start(ap, request);
    void* arg = va_arg(ap, void*);
    va_end(ap);
    if (request == FIONBIO) {
        if (FdRecord* r = tracked(fd)) {
            bool on = *static_cast<int*>(arg) != 0;
            if (r->internal_nonblock && !on) {  // keep libgreen's flag; the program's is recorded
                fd_set_user_nonblock(fd, false);
                return 0;
            }
            int res = REAL(ioctl)(fd, request, arg);
            if (res == 0)
                fd_set_user_nonblock(fd, on);
            return res;
        }
    }
    return REAL(ioctl)(fd, request, arg);
}

GREEN_EXPORT int pipe(int fds[2])
{
    int r = REAL(pipe)(fds);
    if (r == 0) {
        fd_created(fds[0], FdKind::Pipe, false);
        fd_created(fds[1], FdKind::Pipe, false);
    }
    return r;
}

GREEN_EXPORT int pipe2(int fds[2], int flags)
{
    int r = REAL(pipe2)(fds, flags);
    if (r == 0) {
        fd_created(fds[0], FdKind::Pipe, flags & O_NONBLOCK);
        fd_created(fds[1], FdKind::Pipe, flags & O_NONBLOCK);
    }
    return r;
}

// open's mode is there only with O_CREAT or O_TMPFILE; reading it always is harmless.
// open64 and openat64 are the same functions under the names _FILE_OFFSET_BITS=64 builds use.
#define GREEN_OPEN_WRAPPER(name)                                                  \
    GREEN_EXPORT int name(const char* path, int flags, ...)                       \
    {                                                                             \
        va_list ap;                                                               \
        va_start(ap, flags);                                                      \
        mode_t mode = va_arg(ap, mode_t);                                         \
        va_end(ap);                                                               \
        return created(REAL(open)(path, flags, mode));                            \
    }
#define GREEN_OPENAT_WRAPPER(name)                                                \
    GREEN_EXPORT int name(int dirfd, const char* path, int flags, ...)            \
    {                                                                             \
        va_list ap;                                                               \
        va_start(ap, flags);                                                      \
        mode_t mode = va_arg(ap, mode_t);                                         \
        va_end(ap);                                                               \
        return created(REAL(openat)(dirfd, path, flags, mode));                   \
    }
GREEN_OPEN_WRAPPER(open)
GREEN_OPEN_WRAPPER(open64)
GREEN_OPENAT_WRAPPER(openat)
GREEN_OPENAT_WRAPPER(openat64)

GREEN_EXPORT int eventfd(unsigned initval, int flags) { return created(REAL(eventfd)(initval, flags)); }

GREEN_EXPORT int timerfd_create(int clock, int flags) { return created(REAL(timerfd_create)(clock, flags)); }

GREEN_EXPORT int signalfd(int fd, const sigset_t* mask, int flags)
{
    return fd == -1 ? created(REAL(signalfd)(fd, mask, flags)) : REAL(signalfd)(fd, mask, flags);
}

GREEN_EXPORT int epoll_create(int size) { return created(REAL(epoll_create)(size)); }

GREEN_EXPORT int epoll_create1(int flags) { return created(REAL(epoll_create1)(flags)); }
