// Standard input functions on pipes, sockets and ttys: fgets, getline, getdelim, fread, fgetc,
// getc, getchar, the C99 scanf family (fscanf, scanf), their _unlocked and fortified forms.
//
// glibc's stdio reads with its own internal read, which no wrapper sees.  So before an input
// function would have to refill an empty buffer from a pollable descriptor, the green thread
// waits until the descriptor is readable, and lets the others run meanwhile; then glibc reads.
// A line that arrives in pieces still makes the refill after the first piece wait in glibc
// (libgreen(7)); stdio never sees EAGAIN (the descriptor stays blocking), so no byte is lost.
#include <stdio.h>

#include <cstdarg>

#include "fdio.h"

namespace {

using namespace green;

// Waits, when fp's buffer is empty and its descriptor is one a green read would wait on.
void before_read(FILE* fp)
{
    if (!green_in(kStdio) || fp->_IO_read_ptr < fp->_IO_read_end)
        return;
    int fd = fp->_fileno;
    FdRecord* r = green_fd(fd);
    if (!r)
        return;
    pollfd p = {fd, POLLIN, 0};
    if (REAL(poll)(&p, 1, 0) == 0)  // nothing there yet: park instead of blocking in glibc
        wait_fd(fd, EV_READ, kForever, true);
}

}  // namespace

using namespace green;

#define GREEN_STDIO_WRAPPER(ret, name, params, args, fp) \
    GREEN_EXPORT ret name params                         \
    {                                                    \
        before_read(fp);                                 \
        return REAL(name) args;                          \
    }
GREEN_STDIO_INPUT(GREEN_STDIO_WRAPPER)
#undef GREEN_STDIO_WRAPPER

// The variadic scanf forms.  Programs built as C99 or later (and C++) call the __isoc99_
// names; the headers redirect fscanf and scanf to them, so those are the ones to define.
GREEN_EXPORT int __isoc99_fscanf(FILE* fp, const char* format, ...)
{
    va_list ap;
    va_start(ap, format);
    int r = __isoc99_vfscanf(fp, format, ap);
    va_end(ap);
    return r;
}

GREEN_EXPORT int __isoc99_scanf(const char* format, ...)
{
    va_list ap;
    va_start(ap, format);
    int r = __isoc99_vfscanf(stdin, format, ap);
    va_end(ap);
    return r;
}
