#include "log.h"

#include "sys.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace green {

int log_level = kLogWarn;
int log_fd = 2;

void log_write(const char* buf, size_t n, int fd)
{
    while (n > 0) {
        long r = raw_syscall(SYS_write, fd, long(buf), long(n));  // not write(): wrapped
        if (r == -EINTR)
            continue;
        if (r <= 0)
            return;
        buf += r;
        n -= size_t(r);
    }
}

int log_open_file(const char* path)
{
    long fd = raw_syscall(SYS_openat, AT_FDCWD, long(path),
                          O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0)
        return int(-fd);
    // Move it high, out of the way of the program's own numbers (some programs expect the
    // lowest free number from open, or close a range of low ones).
    rlimit lim;
    long high = 0;
    if (raw_syscall(SYS_getrlimit, RLIMIT_NOFILE, long(&lim)) == 0 && lim.rlim_cur > 256) {
        rlim_t cur = lim.rlim_cur > 65536 ? 65536 : lim.rlim_cur;
        high = long(cur > 1024 ? cur - 64 : cur - 16);
    }
    if (high > fd) {
        long moved = raw_syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, high);
        if (moved >= 0) {
            raw_syscall(SYS_close, fd);
            fd = moved;
        }
    }
    log_fd = int(fd);
    return 0;
}

namespace {

void vlog(const char* fmt, va_list ap)
{
    // Format into a local buffer and write once: no stdio stream (whose lock may be held by
    // the green thread we interrupted), no allocation, one line at a time.
    char buf[512];
    int saved = errno;
    int n = snprintf(buf, sizeof buf - 1, "libgreen: ");
    int m = vsnprintf(buf + n, sizeof buf - 1 - n, fmt, ap);
    n = (m < 0) ? n : (n + m > int(sizeof buf) - 2 ? int(sizeof buf) - 2 : n + m);
    buf[n++] = '\n';
    log_write(buf, size_t(n));
    errno = saved;
}

}  // namespace

void log_msg(int level, const char* fmt, ...)
{
    if (level > log_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

void log_print(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

void fatal(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
    abort();
}

}  // namespace green
