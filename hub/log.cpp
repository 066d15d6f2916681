#include "log.h"

#include "sys.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace green {

int log_level = kLogWarn;

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
    raw_syscall(SYS_write, 2, long(buf), n);  // not write(): libgreen may wrap it
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

void fatal(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
    abort();
}

}  // namespace green
