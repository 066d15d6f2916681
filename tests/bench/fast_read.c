/* The fast path of the descriptor wrappers, for callgrind: a write of one byte to a Unix stream
 * socket and a read of it back, CALLS times, so that every call finds what it needs at once.
 * Run plain (the C library's read and write), under libgreen, and (with "raw") with the bare
 * system call instructions, and compare the instructions of rounds() per round:
 *
 *   valgrind --tool=callgrind --toggle-collect=rounds build/bench/fast_read [CALLS] [raw]
 *
 * (scripts/bench_fastpath.sh does this for the three.) */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static long bare(long nr, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}

__attribute__((noinline)) static long rounds(int sv[2], long calls, int raw)
{
    long got = 0;
    char c = 'x';
    for (long i = 0; i < calls; i++) {
        if (raw) {
            got += bare(1 /* write */, sv[1], (long)&c, 1) == 1;
            got += bare(0 /* read */, sv[0], (long)&c, 1) == 1;
        } else {
            got += write(sv[1], &c, 1) == 1;
            got += read(sv[0], &c, 1) == 1;
        }
    }
    return got;
}

int main(int argc, char **argv)
{
    long calls = argc > 1 ? atol(argv[1]) : 100000;
    int raw = argc > 2 && strcmp(argv[2], "raw") == 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        perror("socketpair");
        return 1;
    }
    long got = rounds(sv, calls, raw);
    printf("fast_read: %ld calls, %ld succeeded\n", 2 * calls, got);
    return got == 2 * calls ? 0 : 1;
}
