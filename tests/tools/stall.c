/* A green thread named "staller" blocks its OS thread for 1.5 s in a call libgreen does not
 * intercept (a nanosleep system call made inline, as some runtimes do, not through syscall(),
 * which libgreen sees; resumed after a signal handler interrupts it),
 * while the main thread waits for it in pthread_join: the runner checks that GREEN_WATCHDOG
 * reports the stall and names the running green thread.
 *
 *   stall [ERRFILE]
 *
 * With ERRFILE, the program first makes that file (created, truncated) its standard error with
 * dup2, after libgreen and its watchdog have started: the report must follow it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long inline_nanosleep(struct timespec *req, struct timespec *rem)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"((long)SYS_nanosleep), "D"(req), "S"(rem)
                     : "rcx", "r11", "memory");
    return ret;
}

static void *staller(void *arg)
{
    (void)arg;
    struct timespec left = {1, 500000000};
    while (inline_nanosleep(&left, &left) == -EINTR) {
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
