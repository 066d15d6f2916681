/* The cost of the C library's own system calls (the PLT path), as a plain program: what syscall
 * user dispatch, while on for a thread, adds to every system call it makes.
 *
 *   plt_syscall N
 *
 * Prints "getpid_ns <value>": ns per getpid() (a system call each time in glibc 2.36), and
 * "recv_ns <value>": ns per recv(MSG_DONTWAIT) on an empty socket (EAGAIN), each the best of 5
 * loops of N calls (N/4 for recv).  The program has no system call instruction of its own, so
 * libgreen leaves dispatch off unless GREEN_SYSCALL_DISPATCH=on. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return 1;
    double best_getpid = 1e18, best_recv = 1e18;
    char c;
    for (int round = 0; round < 5; round++) {
        double a = now_ns();
        for (long i = 0; i < n; i++)
            getpid();
        double b = now_ns();
        for (long i = 0; i < n / 4; i++)
            if (recv(sv[0], &c, 1, MSG_DONTWAIT) != -1)
                return 1;
        double d = now_ns();
        if ((b - a) / n < best_getpid)
            best_getpid = (b - a) / n;
        if ((d - b) / (n / 4) < best_recv)
            best_recv = (d - b) / (n / 4);
    }
    printf("getpid_ns %.1f\nrecv_ns %.1f\n", best_getpid, best_recv);
    return 0;
}
