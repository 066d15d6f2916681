// Raw system calls for hub/'s own use.  libgreen wraps syscall() itself (shim/futex.cpp), so
// the runtime must not call syscall(): it would re-enter its own wrapper.
#ifndef GREEN_SYS_H
#define GREEN_SYS_H

#include <fcntl.h>
#include <sys/syscall.h>

#include <cerrno>
#include <csignal>
#include <cstddef>

namespace green {

// While syscall user dispatch is on (shim/rawsys.cpp), a system call instruction outside the C
// library traps: libgreen's own then execute one inside it, a `syscall; ret` in its code, whose
// address this holds (null while dispatch is off).  Below the red zone of the caller: the call
// pushes a return address.
extern "C" void* green_libc_syscall_insn;

// Returns the result, or -errno (errno is not touched).
inline long raw_syscall(long nr, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0,
                        long a6 = 0)
{
    // Read first: nothing that may call a function (the TSan build makes this load one) may come
    // between the register variables below and the asm, or the call clobbers them.
    void* insn = __atomic_load_n(&green_libc_syscall_insn, __ATOMIC_RELAXED);
    long ret;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    if (insn) {
        __asm__ volatile("lea -128(%%rsp), %%rsp\n\tcall *%[insn]\n\tlea 128(%%rsp), %%rsp"
                         : "=a"(ret)
                         : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9),
                           [insn] "r"(insn)
                         : "rcx", "r11", "memory");
        return ret;
    }
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

// Reads a small file (a /proc or /sys entry) whole into buf, NUL-terminated, with system calls
// of our own (no wrapper, usable before start-up ends); false when it cannot be read.
inline bool read_small_file(const char* path, char* buf, size_t size)
{
    long fd = raw_syscall(SYS_openat, AT_FDCWD, long(path), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    long n = raw_syscall(SYS_read, fd, long(buf), long(size - 1));
    raw_syscall(SYS_close, fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    return true;
}

// The C library's sigaction, for libgreen's own handlers: the program's go through shim/'s
// wrapper, which would wrap libgreen's too (hub/diag.cpp).
int libc_sigaction(int sig, const struct sigaction* act, struct sigaction* old);

}  // namespace green

#endif
