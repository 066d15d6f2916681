/* Shared by raw_instructions and raw_sites: calls made through a program's own `syscall`
 * instruction keep the kernel's contract. */
#ifndef RAW_CONTRACT_H
#define RAW_CONTRACT_H

#include <sys/syscall.h>
#include <unistd.h>

#include "plain.h"

/* Three rounds of calls through fn (a site's first execution traps, the later ones may go
 * through its rewrite), each result as the kernel's contract says: getpid, a pipe written and
 * read back, a failure as -EBADF with errno untouched, nanosleep and its EINVAL. */
static void raw_contract_rounds(long (*fn)(long nr, long a1, long a2, long a3))
{
    int p[2];
    CHECK_EQ(pipe(p), 0);
    for (int round = 0; round < 3; round++) {
        CHECK_EQ(fn(SYS_getpid, 0, 0, 0), getpid());
        CHECK_EQ(fn(SYS_write, p[1], (long)"abc", 3), 3);
        char buf[8] = {0};
        CHECK_EQ(fn(SYS_read, p[0], (long)buf, sizeof buf), 3);
        CHECK(memcmp(buf, "abc", 3) == 0);
        errno = EDOM;
        CHECK_EQ(fn(SYS_read, -1, (long)buf, 1), -EBADF);
        CHECK_EQ(errno, EDOM);
        struct timespec ts = {0, 1000}, bad = {0, -1};
        CHECK_EQ(fn(SYS_nanosleep, (long)&ts, 0, 0), 0);
        CHECK_EQ(fn(SYS_nanosleep, (long)&bad, 0, 0), -EINVAL);
        CHECK_EQ(errno, EDOM);
    }
    close(p[0]);
    close(p[1]);
}

#endif
