/* The cost of a system call instruction outside the C library, as a plain program.
 *
 *   raw_syscall N
 *
 * Prints "site_ns <value>": ns per getpid made by a stub of its own, `mov $39, %eax; syscall;
 * ret`, N times (under libgreen: the site rewritten at its first execution); "libc_ns <value>":
 * ns per getpid through the C library's syscall() (its own instruction: no dispatch);
 * "inline_ns <value>": ns per getpid by an inline `syscall` whose number the compiler keeps in
 * another register (under libgreen such a site is not rewritten: it traps every time); and
 * "first_ns <value>" and "again_ns <value>": ns per site for the first and the second execution
 * of 512 more such sites. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static inline long raw_getpid(void)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_getpid) : "rcx", "r11", "memory");
    return ret;
}

long stub_getpid(void);
__asm__(".text\n"
        ".globl stub_getpid\n"
        ".type stub_getpid, @function\n"
        "stub_getpid:\n"
        "    mov $39, %eax\n"
        "    syscall\n"
        "    ret\n"
        ".size stub_getpid, .-stub_getpid\n");

#define SITE raw_getpid();
#define SITE8 SITE SITE SITE SITE SITE SITE SITE SITE
#define SITE64 SITE8 SITE8 SITE8 SITE8 SITE8 SITE8 SITE8 SITE8
/* 512 sites, one after another (raw_getpid is inlined at each). */
static __attribute__((noinline)) void many_sites(void)
{
    SITE64 SITE64 SITE64 SITE64 SITE64 SITE64 SITE64 SITE64
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    double best_site = 1e18, best_libc = 1e18, best_inline = 1e18;
    for (int round = 0; round < 5; round++) {
        stub_getpid();  /* executed once before it is timed */
        double a = now_ns();
        for (long i = 0; i < n; i++)
            stub_getpid();
        double b = now_ns();
        for (long i = 0; i < n; i++)
            syscall(SYS_getpid);
        double c = now_ns();
        for (long i = 0; i < n / 10; i++)
            raw_getpid();
        double d = now_ns();
        if ((b - a) / n < best_site)
            best_site = (b - a) / n;
        if ((c - b) / n < best_libc)
            best_libc = (c - b) / n;
        if ((d - c) / (n / 10) < best_inline)
            best_inline = (d - c) / (n / 10);
    }
    double t0 = now_ns();
    many_sites();
    double t1 = now_ns();
    many_sites();
    double t2 = now_ns();
    printf("site_ns %.1f\nlibc_ns %.1f\ninline_ns %.1f\nfirst_ns %.0f\nagain_ns %.0f\n", best_site,
           best_libc, best_inline, (t1 - t0) / 512, (t2 - t1) / 512);
    return 0;
}
