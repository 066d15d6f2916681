/* The cost of a system call instruction outside the C library, as a plain program.
 *
 *   raw_syscall N
 *
 * Prints, in ns per getpid (under libgreen each site is rewritten at its first execution):
 * "site_ns": a stub of its own, `mov $39, %eax; syscall; ret`, N times; "computed_ns": a
 * function that takes the number (`mov %rdi, %rax` before the `syscall`), N times; "libc_ns":
 * the C library's syscall() (its own instruction: never trapped); "first_ns" and "again_ns": per
 * site, the first execution of 512 sites of getpid, one after another, and the best of 50 later
 * runs through them. */
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

/* The number is the caller's: a computed-number site. */
static __attribute__((noinline)) long computed(long nr)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
    return ret;
}

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
    double best_site = 1e18, best_libc = 1e18, best_computed = 1e18;
    for (int round = 0; round < 5; round++) {
        stub_getpid();  /* executed once before it is timed */
        computed(SYS_getpid);
        double a = now_ns();
        for (long i = 0; i < n; i++)
            stub_getpid();
        double b = now_ns();
        for (long i = 0; i < n; i++)
            syscall(SYS_getpid);
        double c = now_ns();
        for (long i = 0; i < n; i++)
            computed(SYS_getpid);
        double d = now_ns();
        if ((b - a) / n < best_site)
            best_site = (b - a) / n;
        if ((c - b) / n < best_libc)
            best_libc = (c - b) / n;
        if ((d - c) / n < best_computed)
            best_computed = (d - c) / n;
    }
    double t0 = now_ns();
    many_sites();
    double t1 = now_ns(), best_again = 1e18;
    for (int round = 0; round < 50; round++) {
        double a = now_ns();
        many_sites();
        double b = now_ns();
        if (b - a < best_again)
            best_again = b - a;
    }
    printf("site_ns %.1f\ncomputed_ns %.1f\nlibc_ns %.1f\nfirst_ns %.0f\nagain_ns %.1f\n", best_site,
           best_computed, best_libc, (t1 - t0) / 512, best_again / 512);
    return 0;
}
