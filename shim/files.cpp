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
#include "fdio.h"
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

// syscall(2) with the number of one of these calls: the same marked call (shim/syscall.cpp).
bool file_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6, long* result)
{
    switch (nr) {
    case SYS_fsync: case SYS_fdatasync: case SYS_syncfs: case SYS_sync:
    case SYS_sync_file_range: case SYS_pread64: case SYS_pwrite64: case SYS_preadv:
    case SYS_pwritev: case SYS_open: case SYS_openat: case SYS_creat: case SYS_ftruncate:
    case SYS_truncate: case SYS_fallocate: case SYS_copy_file_range: case SYS_sendfile:
    case SYS_getdents64: case SYS_stat: case SYS_lstat: case SYS_newfstatat: case SYS_statx:
    case SYS_statfs: case SYS_fstatfs: case SYS_access: case SYS_faccessat:
    case SYS_readlink: case SYS_readlinkat: case SYS_link: case SYS_linkat: case SYS_symlink:
    case SYS_symlinkat: case SYS_chmod: case SYS_fchmodat: case SYS_chown: case SYS_lchown:
    case SYS_fchownat: case SYS_utimensat: case SYS_unlink: case SYS_unlinkat: case SYS_rename:
    case SYS_renameat: case SYS_renameat2: case SYS_mkdir: case SYS_mkdirat: case SYS_rmdir:
    case SYS_flock:
        if (!marked())
            return false;
        *result = file_call(false, nr, a1, a2, a3, a4, a5, a6);
        return true;
    default:
        return false;
    }
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

// A lock that waits for another process's: F_SETLKW, F_OFD_SETLKW (shim/fd.cpp's fcntl comes
// here for those), flock without LOCK_NB, lockf's F_LOCK.
int green::file_lock_wait(int fd, int cmd, long arg)
{
    if (!marked())
        return REAL(fcntl)(fd, cmd, arg);
    return int(file_call(true, SYS_fcntl, fd, cmd, arg));
}

GREEN_EXPORT int flock(int fd, int op)
{
    if (op & LOCK_NB)
        return REAL(flock)(fd, op);
    return GREEN_FILE_CALL(REAL(flock)(fd, op), false, SYS_flock, fd, op);
}

#define GREEN_LOCKF(name)                                                                    \
    GREEN_EXPORT int name(int fd, int cmd, off_t len)                                        \
    {                                                                                        \
        if (cmd != F_LOCK || !marked())                                                      \
            return REAL(lockf)(fd, cmd, len);                                                \
        struct flock fl = {};                                                                \
        fl.l_type = F_WRLCK;                                                                 \
        fl.l_whence = SEEK_CUR;                                                              \
        fl.l_len = len;                                                                      \
        return file_lock_wait(fd, F_SETLKW, long(&fl));                                      \
    }
GREEN_LOCKF(lockf)
GREEN_LOCKF(lockf64)

// The stat family by path (an inode not in memory is a read from the disk).  The structures
// are the kernel's on x86_64; fstat, on an open file, is left to the C library.
#define GREEN_STAT(name, nofollow)                                                           \
    GREEN_EXPORT int name(const char* path, struct stat* buf)                                \
    {                                                                                        \
        return GREEN_FILE_CALL(REAL(stat)(path, buf), false, SYS_newfstatat, AT_FDCWD,       \
                               long(path), long(buf), nofollow);                             \
    }
GREEN_STAT(stat, 0)
#undef GREEN_STAT
#define GREEN_STAT(name, nofollow)                                                           \
    GREEN_EXPORT int name(const char* path, struct stat* buf)                                \
    {                                                                                        \
        return GREEN_FILE_CALL(REAL(lstat)(path, buf), false, SYS_newfstatat, AT_FDCWD,      \
                               long(path), long(buf), nofollow);                             \
    }
GREEN_STAT(lstat, AT_SYMLINK_NOFOLLOW)

// The 64 names: struct stat64 is struct stat on x86_64.
static_assert(sizeof(struct stat64) == sizeof(struct stat), "stat64 is stat");
GREEN_EXPORT int stat64(const char* path, struct stat64* buf)
{
    return stat(path, reinterpret_cast<struct stat*>(buf));
}
GREEN_EXPORT int lstat64(const char* path, struct stat64* buf)
{
    return lstat(path, reinterpret_cast<struct stat*>(buf));
}
GREEN_EXPORT int fstatat64(int dirfd, const char* path, struct stat64* buf, int flags)
{
    return fstatat(dirfd, path, reinterpret_cast<struct stat*>(buf), flags);
}

#define GREEN_FSTATAT(name)                                                                  \
    GREEN_EXPORT int name(int dirfd, const char* path, struct stat* buf, int flags)          \
    {                                                                                        \
        return GREEN_FILE_CALL(REAL(fstatat)(dirfd, path, buf, flags), false, SYS_newfstatat, \
                               dirfd, long(path), long(buf), flags);                         \
    }
GREEN_FSTATAT(fstatat)

// Before glibc 2.33 programs called these with a version: 0 or 1 on x86_64 are the kernel's
// structure; anything else is the C library's to refuse.
#define GREEN_XSTAT(name, real, nofollow)                                                    \
    GREEN_EXPORT int name(int ver, const char* path, struct stat* buf)                       \
    {                                                                                        \
        if (ver > 1 || !marked())                                                            \
            return REAL(real)(ver, path, buf);                                               \
        return int(file_call(false, SYS_newfstatat, AT_FDCWD, long(path), long(buf), nofollow)); \
    }
GREEN_XSTAT(__xstat, __xstat, 0)
GREEN_XSTAT(__xstat64, __xstat, 0)
GREEN_XSTAT(__lxstat, __lxstat, AT_SYMLINK_NOFOLLOW)
GREEN_XSTAT(__lxstat64, __lxstat, AT_SYMLINK_NOFOLLOW)

#define GREEN_FXSTATAT(name)                                                                 \
    GREEN_EXPORT int name(int ver, int dirfd, const char* path, struct stat* buf, int flags) \
    {                                                                                        \
        if (ver > 1 || !marked())                                                            \
            return REAL(__fxstatat)(ver, dirfd, path, buf, flags);                           \
        return int(file_call(false, SYS_newfstatat, dirfd, long(path), long(buf), flags));   \
    }
GREEN_FXSTATAT(__fxstatat)
GREEN_FXSTATAT(__fxstatat64)

GREEN_EXPORT int statx(int dirfd, const char* path, int flags, unsigned int mask,
                       struct statx* buf)
{
    return GREEN_FILE_CALL(REAL(statx)(dirfd, path, flags, mask, buf), false, SYS_statx, dirfd,
                           long(path), flags, mask, long(buf));
}

GREEN_EXPORT ssize_t getdents64(int fd, void* buf, size_t len)
{
    return GREEN_FILE_CALL(REAL(getdents64)(fd, buf, len), false, SYS_getdents64, fd, long(buf),
                           long(len));
}

GREEN_EXPORT int statfs(const char* path, struct statfs* buf)
{
    return GREEN_FILE_CALL(REAL(statfs)(path, buf), false, SYS_statfs, long(path), long(buf));
}

GREEN_EXPORT int fstatfs(int fd, struct statfs* buf)
{
    return GREEN_FILE_CALL(REAL(fstatfs)(fd, buf), false, SYS_fstatfs, fd, long(buf));
}

// Path look-ups and changes.  Those whose flags the C library emulates (faccessat, fchmodat)
// are marked only without flags.
GREEN_EXPORT int access(const char* path, int mode)
{
    return GREEN_FILE_CALL(REAL(access)(path, mode), false, SYS_access, long(path), mode);
}

GREEN_EXPORT int faccessat(int dirfd, const char* path, int mode, int flags)
{
    if (flags != 0)
        return REAL(faccessat)(dirfd, path, mode, flags);
    return GREEN_FILE_CALL(REAL(faccessat)(dirfd, path, mode, flags), false, SYS_faccessat,
                           dirfd, long(path), mode);
}

GREEN_EXPORT ssize_t readlink(const char* path, char* buf, size_t size)
{
    return GREEN_FILE_CALL(REAL(readlink)(path, buf, size), false, SYS_readlink, long(path),
                           long(buf), long(size));
}

GREEN_EXPORT ssize_t readlinkat(int dirfd, const char* path, char* buf, size_t size)
{
    return GREEN_FILE_CALL(REAL(readlinkat)(dirfd, path, buf, size), false, SYS_readlinkat,
                           dirfd, long(path), long(buf), long(size));
}

GREEN_EXPORT int link(const char* from, const char* to)
{
    return GREEN_FILE_CALL(REAL(link)(from, to), false, SYS_link, long(from), long(to));
}

GREEN_EXPORT int linkat(int fromdir, const char* from, int todir, const char* to, int flags)
{
    return GREEN_FILE_CALL(REAL(linkat)(fromdir, from, todir, to, flags), false, SYS_linkat,
                           fromdir, long(from), todir, long(to), flags);
}

GREEN_EXPORT int symlink(const char* target, const char* path)
{
    return GREEN_FILE_CALL(REAL(symlink)(target, path), false, SYS_symlink, long(target),
                           long(path));
}

GREEN_EXPORT int symlinkat(const char* target, int dirfd, const char* path)
{
    return GREEN_FILE_CALL(REAL(symlinkat)(target, dirfd, path), false, SYS_symlinkat,
                           long(target), dirfd, long(path));
}

GREEN_EXPORT int chmod(const char* path, mode_t mode)
{
    return GREEN_FILE_CALL(REAL(chmod)(path, mode), false, SYS_chmod, long(path), mode);
}

GREEN_EXPORT int fchmodat(int dirfd, const char* path, mode_t mode, int flags)
{
    if (flags != 0)
        return REAL(fchmodat)(dirfd, path, mode, flags);
    return GREEN_FILE_CALL(REAL(fchmodat)(dirfd, path, mode, flags), false, SYS_fchmodat, dirfd,
                           long(path), mode);
}

GREEN_EXPORT int chown(const char* path, uid_t uid, gid_t gid)
{
    return GREEN_FILE_CALL(REAL(chown)(path, uid, gid), false, SYS_chown, long(path), uid, gid);
}

GREEN_EXPORT int lchown(const char* path, uid_t uid, gid_t gid)
{
    return GREEN_FILE_CALL(REAL(lchown)(path, uid, gid), false, SYS_lchown, long(path), uid, gid);
}

GREEN_EXPORT int fchownat(int dirfd, const char* path, uid_t uid, gid_t gid, int flags)
{
    return GREEN_FILE_CALL(REAL(fchownat)(dirfd, path, uid, gid, flags), false, SYS_fchownat,
                           dirfd, long(path), uid, gid, flags);
}

GREEN_EXPORT int utimensat(int dirfd, const char* path, const struct timespec* times, int flags)
{
    return GREEN_FILE_CALL(REAL(utimensat)(dirfd, path, times, flags), false, SYS_utimensat,
                           dirfd, long(path), long(times), flags);
}

GREEN_EXPORT int renameat2(int fromdir, const char* from, int todir, const char* to,
                           unsigned int flags)
{
    return GREEN_FILE_CALL(REAL(renameat2)(fromdir, from, todir, to, flags), false,
                           SYS_renameat2, fromdir, long(from), todir, long(to), flags);
}
