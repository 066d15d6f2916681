// Calls on files that block the OS thread in the kernel with nothing libgreen could poll:
// fsync, fdatasync, syncfs, sync, sync_file_range, ftruncate, truncate, fallocate, unlink,
// unlinkat, rename, renameat, mkdir, mkdirat, rmdir, pread, pwrite, preadv, pwritev (and the
// 64 names of those that have one), copy_file_range; and, from shim/io.cpp and shim/fd.cpp,
// read, readv, write and writev on regular files, directories and block devices and the open
// of such a file.
//
// A green thread makes them as marked calls (hub/handoff.h): the same system call plus one
// store and one compare-and-swap, so that a call that stays in the kernel (an fsync of a large
// dirty file, a read from a slow disk) hands its worker's hub to another OS thread and the
// other green threads run on.  Anywhere else (an unmanaged OS thread, the hub's loop, hand-off
// off) the C library's function runs as it is.  Those of them that are cancellation points
// act on a pending cancellation first, as glibc's do.
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

#include "../hub/fdtable.h"
#include "../hub/handoff.h"
#include "shim.h"

namespace green {

namespace {

inline bool marked() { return handoff_on && green_self() != nullptr; }

long file_call(bool cancel_point, long nr, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0,
               long a5 = 0, long a6 = 0)
{
    if (cancel_point)
        testcancel();
    long r = blocking_syscall(nr, a1, a2, a3, a4, a5, a6);
    if (r >= 0)
        return r;
    errno = int(-r);
    return -1;
}

// Whether fd is one libgreen leaves alone because nothing can be polled on it.
inline bool passive(int fd)
{
    FdRecord* r = fd_get(fd);
    return r && r->kind == FdKind::Passive;
}

}  // namespace

ssize_t file_read(int fd, void* buf, size_t count)
{
    if (!marked() || !passive(fd))
        return REAL(read)(fd, buf, count);
    return file_call(true, SYS_read, fd, long(buf), long(count));
}

ssize_t file_write(int fd, const void* buf, size_t count)
{
    if (!marked() || !passive(fd))
        return REAL(write)(fd, buf, count);
    return file_call(true, SYS_write, fd, long(buf), long(count));
}

ssize_t file_readv(int fd, const iovec* iov, int count)
{
    if (!marked() || !passive(fd))
        return REAL(readv)(fd, iov, count);
    return file_call(true, SYS_readv, fd, long(iov), count);
}

ssize_t file_writev(int fd, const iovec* iov, int count)
{
    if (!marked() || !passive(fd))
        return REAL(writev)(fd, iov, count);
    return file_call(true, SYS_writev, fd, long(iov), count);
}

int file_openat(int dirfd, const char* path, int flags, mode_t mode)
{
    if (!marked())
        return REAL(openat)(dirfd, path, flags, mode);
    return int(file_call(true, SYS_openat, dirfd, long(path), flags, mode));
}

}  // namespace green

using namespace green;

// One wrapper: the marked call for a green thread, else the C library's.
#define GREEN_FILE_CALL(real_call, cancel_point, ...) \
    (marked() ? decltype(real_call)(file_call(cancel_point, __VA_ARGS__)) : real_call)

GREEN_EXPORT int fsync(int fd) { return GREEN_FILE_CALL(REAL(fsync)(fd), true, SYS_fsync, fd); }

GREEN_EXPORT int fdatasync(int fd)
{
    return GREEN_FILE_CALL(REAL(fdatasync)(fd), true, SYS_fdatasync, fd);
}

GREEN_EXPORT int syncfs(int fd) { return GREEN_FILE_CALL(REAL(syncfs)(fd), false, SYS_syncfs, fd); }

GREEN_EXPORT void sync(void)
{
    if (marked())
        file_call(false, SYS_sync);
    else
        REAL(sync)();
}

GREEN_EXPORT int sync_file_range(int fd, off64_t offset, off64_t nbytes, unsigned int flags)
{
    return GREEN_FILE_CALL(REAL(sync_file_range)(fd, offset, nbytes, flags), true,
                           SYS_sync_file_range, fd, offset, nbytes, flags);
}

#define GREEN_FTRUNCATE(name)                                                               \
    GREEN_EXPORT int name(int fd, off_t length)                                             \
    {                                                                                       \
        return GREEN_FILE_CALL(REAL(ftruncate)(fd, length), false, SYS_ftruncate, fd, length); \
    }
GREEN_FTRUNCATE(ftruncate)
GREEN_FTRUNCATE(ftruncate64)

#define GREEN_TRUNCATE(name)                                                                \
    GREEN_EXPORT int name(const char* path, off_t length)                                   \
    {                                                                                       \
        return GREEN_FILE_CALL(REAL(truncate)(path, length), false, SYS_truncate, long(path), \
                               length);                                                     \
    }
GREEN_TRUNCATE(truncate)
GREEN_TRUNCATE(truncate64)

#define GREEN_FALLOCATE(name)                                                               \
    GREEN_EXPORT int name(int fd, int mode, off_t offset, off_t len)                        \
    {                                                                                       \
        return GREEN_FILE_CALL(REAL(fallocate)(fd, mode, offset, len), true, SYS_fallocate, \
                               fd, mode, offset, len);                                      \
    }
GREEN_FALLOCATE(fallocate)
GREEN_FALLOCATE(fallocate64)

GREEN_EXPORT int unlink(const char* path)
{
    return GREEN_FILE_CALL(REAL(unlink)(path), false, SYS_unlink, long(path));
}

GREEN_EXPORT int unlinkat(int dirfd, const char* path, int flags)
{
    return GREEN_FILE_CALL(REAL(unlinkat)(dirfd, path, flags), false, SYS_unlinkat, dirfd,
                           long(path), flags);
}

GREEN_EXPORT int rename(const char* from, const char* to)
{
    return GREEN_FILE_CALL(REAL(rename)(from, to), false, SYS_rename, long(from), long(to));
}

GREEN_EXPORT int renameat(int fromdir, const char* from, int todir, const char* to)
{
    return GREEN_FILE_CALL(REAL(renameat)(fromdir, from, todir, to), false, SYS_renameat,
                           fromdir, long(from), todir, long(to));
}

GREEN_EXPORT int mkdir(const char* path, mode_t mode)
{
    return GREEN_FILE_CALL(REAL(mkdir)(path, mode), false, SYS_mkdir, long(path), mode);
}

GREEN_EXPORT int mkdirat(int dirfd, const char* path, mode_t mode)
{
    return GREEN_FILE_CALL(REAL(mkdirat)(dirfd, path, mode), false, SYS_mkdirat, dirfd,
                           long(path), mode);
}

GREEN_EXPORT int rmdir(const char* path)
{
    return GREEN_FILE_CALL(REAL(rmdir)(path), false, SYS_rmdir, long(path));
}

// pread64 and the others with 64 are the same functions on 64 bits, under the names
// _FILE_OFFSET_BITS=64 builds use.  preadv and pwritev take the offset in a low and a high
// word; the high one is unused on 64 bits.
#define GREEN_PREAD(name)                                                                    \
    GREEN_EXPORT ssize_t name(int fd, void* buf, size_t count, off_t offset)                 \
    {                                                                                        \
        return GREEN_FILE_CALL(REAL(pread)(fd, buf, count, offset), true, SYS_pread64, fd,   \
                               long(buf), long(count), offset);                              \
    }
GREEN_PREAD(pread)
GREEN_PREAD(pread64)

#define GREEN_PWRITE(name)                                                                   \
    GREEN_EXPORT ssize_t name(int fd, const void* buf, size_t count, off_t offset)           \
    {                                                                                        \
        return GREEN_FILE_CALL(REAL(pwrite)(fd, buf, count, offset), true, SYS_pwrite64, fd, \
                               long(buf), long(count), offset);                              \
    }
GREEN_PWRITE(pwrite)
GREEN_PWRITE(pwrite64)

#define GREEN_PREADV(name, real, nr)                                                          \
    GREEN_EXPORT ssize_t name(int fd, const struct iovec* iov, int count, off_t offset)       \
    {                                                                                         \
        return GREEN_FILE_CALL(REAL(real)(fd, iov, count, offset), true, nr, fd, long(iov),   \
                               count, offset, 0);                                             \
    }
GREEN_PREADV(preadv, preadv, SYS_preadv)
GREEN_PREADV(preadv64, preadv, SYS_preadv)
GREEN_PREADV(pwritev, pwritev, SYS_pwritev)
GREEN_PREADV(pwritev64, pwritev, SYS_pwritev)

GREEN_EXPORT ssize_t copy_file_range(int in, off64_t* in_off, int out, off64_t* out_off,
                                     size_t len, unsigned int flags)
{
    return GREEN_FILE_CALL(REAL(copy_file_range)(in, in_off, out, out_off, len, flags), true,
                           SYS_copy_file_range, in, long(in_off), out, long(out_off), long(len),
                           flags);
}
