/* What a second OS thread costs every system call on a descriptor when it shares the descriptor
 * table: a recv(MSG_DONTWAIT) on an empty socket (EAGAIN), made as a raw system call so that the
 * C library's own single-thread shortcuts do not count, timed with the process alone, then with
 * an idle second thread sharing the table, then with an idle second thread that left it
 * (close_range with CLOSE_RANGE_UNSHARE, as libgreen's watchdog does: hub/diag.cpp).
 *
 *   fd_table [CALLS]
 *
 * prints "alone A shared S own_table O" in ns per call (the best of 7 rounds of CALLS calls,
 * default 200000).  Run it pinned to one core. */
#define _GNU_SOURCE
#include <linux/close_range.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long calls = 200000;
static int fd;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double ns_per_call(void)
{
    char buf[64];
    double best = 1e30;
    for (int round = 0; round < 7; round++) {
        double t0 = now();
        for (long i = 0; i < calls; i++)
            syscall(SYS_recvfrom, fd, buf, sizeof buf, MSG_DONTWAIT, NULL, NULL);
        double ns = (now() - t0) / (double)calls * 1e9;
        if (ns < best)
            best = ns;
    }
    return best;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int ready, done;

/* Idles until done; first leaves the descriptor table when arg is not NULL. */
static void *idler(void *arg)
{
    if (arg && syscall(SYS_close_range, 0, ~0U, CLOSE_RANGE_UNSHARE) != 0) {
        perror("fd_table: close_range");
        exit(1);
    }
    pthread_mutex_lock(&lock);
    ready = 1;
    pthread_cond_broadcast(&cond);
    while (!done)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static double with_idler(int own_table)
{
    pthread_t t;
    ready = done = 0;
    if (pthread_create(&t, NULL, idler, own_table ? (void *)1 : NULL) != 0)
        exit(1);
    pthread_mutex_lock(&lock);
    while (!ready)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    double ns = ns_per_call();
    pthread_mutex_lock(&lock);
    done = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    pthread_join(t, NULL);
    return ns;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        calls = atol(argv[1]);
    int sv[2];
    if (calls <= 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        fprintf(stderr, "usage: fd_table [CALLS]\n");
        return 2;
    }
    fd = sv[0];
    double alone = ns_per_call();
    double shared = with_idler(0);
    double own = with_idler(1);
    printf("alone %.1f shared %.1f own_table %.1f\n", alone, shared, own);
    return 0;
}
