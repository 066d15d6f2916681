/* A green thread named "staller" holds its OS thread for 1.5 s without a call that parks (it
 * computes: it reads the clock, a vDSO call that makes no system call, until 1.5 s have passed;
 * an inline nanosleep system call once did this, until libgreen saw those too), while the main
 * thread waits for it in pthread_join: the runner checks that GREEN_WATCHDOG reports the stall
 * and names the running green thread.
 *
 *   stall [ERRFILE]
 *
 * With ERRFILE, the program first makes that file (created, truncated) its standard error with
 * dup2, after libgreen and its watchdog have started: the report must follow it. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *staller(void *arg)
{
    (void)arg;
    double end = now() + 1.5;
    while (now() < end) {
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 2) != 2 || close(fd) != 0) {
            perror("stall: ERRFILE");
            return 1;
        }
    }
    pthread_t t;
    if (pthread_create(&t, NULL, staller, NULL) != 0)
        return 1;
    pthread_setname_np(t, "staller");
    if (pthread_join(t, NULL) != 0)
        return 1;
    puts("stall: done");
    return 0;
}
