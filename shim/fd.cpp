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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <poll.h>

#include <cstdarg>

#include "../hub/sys.h"
#include "fdio.h"

using namespace green;

namespace {

// An fd that libgreen tracks: any caller (records are per process, not per thread).
FdRecord* tracked(int fd)
{
    return green_in(kSockets) ? fd_get(fd) : nullptr;
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
    case F_SETLKW:
    case F_OFD_SETLKW:
        return file_lock_wait(fd, cmd, arg);
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

namespace {

// A blocking open of a FIFO waits for the other end (fifo(7)): for reading, until a writer has
// opened it since; for writing, until a reader has it open.  Green, the FIFO is opened with
// O_NONBLOCK (which never waits: a writer without a reader gets ENXIO) and the wait is rebuilt:
//   * a reader's descriptor exists at once; a writer's arrival shows as data (POLLIN), as a
//     hang-up (POLLHUP: a writer came and went), or as a writer present on an empty FIFO, which
//     no poll reports: tee(2) of one byte tells it without consuming anything (EAGAIN with a
//     writer, 0 without).  So the reader waits for POLLIN on the descriptor and looks again on
//     a timer;
//   * a writer retries its non-blocking open on a timer until a reader is there.
// The timer starts at 1 ms and doubles up to 50 ms: a writer that opens and writes at once
// wakes the reader at once; other arrivals are seen that much later than the kernel would see
// them, and a peer that opens and closes again between two looks is missed (the kernel counts
// it).  Data left in the FIFO by earlier writers, with no writer now, ends a reader's wait
// early.  Then O_NONBLOCK is cleared: the program sees the flags a blocking open gives.
// Telling a FIFO apart costs a stat of the path before a blocking O_RDONLY or O_WRONLY open
// (O_RDWR never waits on Linux); for a regular file, a directory or a block device it also
// records the kind, which saves the fstat that the first read or write would make.
constexpr int64_t kFifoFirstLook = 1000000;
constexpr int64_t kFifoLastLook = 50000000;

// Closes the descriptor being opened unless the open completes, and the scratch pipe (a
// cancellation unwinds through here too).
struct FifoGuard {
    int fd = -1;
    int scratch[2] = {-1, -1};
    ~FifoGuard()
    {
        for (int f : {fd, scratch[0], scratch[1]})
            if (f >= 0)
                raw_syscall(SYS_close, f);
    }
};

// Whether a writer has opened the FIFO that fd reads since fd was opened (see above).
bool fifo_has_writer(int fd, int scratch[2])
{
    pollfd p = {fd, POLLIN, 0};
    if (REAL(poll)(&p, 1, 0) > 0)
        return true;
    if (scratch[0] < 0 && REAL(pipe2)(scratch, O_CLOEXEC | O_NONBLOCK) != 0) {
        scratch[0] = -1;
        return false;  // no way to look: wait for data or a hang-up only
    }
    long n = raw_syscall(SYS_tee, fd, scratch[1], 1, SPLICE_F_NONBLOCK);
    return n != 0;  // -EAGAIN: a writer on an empty FIFO; > 0: data
}

// The green blocking open of a FIFO; flags without O_NONBLOCK.
int open_fifo(int dirfd, const char* path, int flags, mode_t mode)
{
    Green* self = green_self();
    bool reader = (flags & O_ACCMODE) == O_RDONLY;
    FifoGuard g;
    int64_t pause = kFifoFirstLook;
    int err = 0;
    Interruptible scope(self);
    for (;;) {
        if (g.fd < 0) {
            g.fd = REAL(openat)(dirfd, path, flags | O_NONBLOCK, mode);
            if (g.fd < 0 && (reader || errno != ENXIO)) {
                err = errno;
                break;
            }
        }
        if (g.fd >= 0) {
            struct stat st;
            if (!reader || fstat(g.fd, &st) != 0 || !S_ISFIFO(st.st_mode) ||
                fifo_has_writer(g.fd, g.scratch))
                break;  // (not a FIFO after all: the path changed since the stat)
        }
        int w = g.fd >= 0 ? wait_fd(g.fd, EV_READ, mono_now() + pause, true)
                          : sleep_until(mono_now() + pause, true);
        if (w == -EINTR && !self->interrupt_restart) {
            err = EINTR;
            break;
        }
        pause = pause * 2 > kFifoLastLook ? kFifoLastLook : pause * 2;
    }
    if (err) {
        errno = err;
        return -1;
    }
    int fd = g.fd;
    int fl = REAL(fcntl)(fd, F_GETFL);
    if (fl >= 0)
        REAL(fcntl)(fd, F_SETFL, fl & ~O_NONBLOCK);
    g.fd = -1;
    fd_forget(fd);
    return fd;
}

// open and openat: a blocking open of a FIFO waits green; other files pass through.
int green_open(int dirfd, const char* path, int flags, mode_t mode)
{
    int acc = flags & O_ACCMODE;
    if (!green_in(kSockets) || (flags & (O_NONBLOCK | O_PATH)) ||
        (acc != O_RDONLY && acc != O_WRONLY))
        return created(file_openat(dirfd, path, flags, mode));
    struct stat st;
    if (fstatat(dirfd, path, &st, (flags & O_NOFOLLOW) ? AT_SYMLINK_NOFOLLOW : 0) == 0) {
        if (S_ISFIFO(st.st_mode))
            return open_fifo(dirfd, path, flags, mode);
        if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISBLK(st.st_mode)) {
            // Passed through whatever: a path that changed meanwhile costs no correctness.
            int fd = file_openat(dirfd, path, flags, mode);
            if (fd >= 0)
                fd_created(fd, FdKind::Passive, false);
            return fd;
        }
    }
    return created(file_openat(dirfd, path, flags, mode));
}

}  // namespace

// open's mode is there only with O_CREAT or O_TMPFILE; reading it always is harmless.
// open64 and openat64 are the same functions under the names _FILE_OFFSET_BITS=64 builds use.
#define GREEN_OPEN_WRAPPER(name)                                                  \
    GREEN_EXPORT int name(const char* path, int flags, ...)                       \
    {                                                                             \
        va_list ap;                                                               \
        va_start(ap, flags);                                                      \
        mode_t mode = va_arg(ap, mode_t);                                         \
        va_end(ap);                                                               \
        return green_open(AT_FDCWD, path, flags, mode);                            \
    }
#define GREEN_OPENAT_WRAPPER(name)                                                \
    GREEN_EXPORT int name(int dirfd, const char* path, int flags, ...)            \
    {                                                                             \
        va_list ap;                                                               \
        va_start(ap, flags);                                                      \
        mode_t mode = va_arg(ap, mode_t);                                         \
        va_end(ap);                                                               \
        return green_open(dirfd, path, flags, mode);                                \
    }
GREEN_OPEN_WRAPPER(open)
GREEN_OPEN_WRAPPER(open64)
GREEN_OPENAT_WRAPPER(openat)
GREEN_OPENAT_WRAPPER(openat64)

// creat is open with O_CREAT|O_WRONLY|O_TRUNC, made by the C library without the PLT.
GREEN_EXPORT int creat(const char* path, mode_t mode)
{
    return green_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}
GREEN_EXPORT int creat64(const char* path, mode_t mode)
{
    return green_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

GREEN_EXPORT int eventfd(unsigned initval, int flags) { return created(REAL(eventfd)(initval, flags)); }

GREEN_EXPORT int timerfd_create(int clock, int flags) { return created(REAL(timerfd_create)(clock, flags)); }

GREEN_EXPORT int signalfd(int fd, const sigset_t* mask, int flags)
{
    return fd == -1 ? created(REAL(signalfd)(fd, mask, flags)) : REAL(signalfd)(fd, mask, flags);
}

GREEN_EXPORT int epoll_create(int size) { return created(REAL(epoll_create)(size)); }

GREEN_EXPORT int epoll_create1(int flags) { return created(REAL(epoll_create1)(flags)); }
