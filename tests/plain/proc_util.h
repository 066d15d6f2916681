/* Helpers shared by the programs about child processes (proc_*.c): checks of a wait status,
 * and a socket ping-pong that proves the process's other threads run while one thread waits
 * for a child. */
#ifndef PROC_UTIL_H
#define PROC_UTIL_H

#include <pthread.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plain.h"

/* The status says the child exited with code. */
#define CHECK_EXITED(status, code)                                                    \
    do {                                                                              \
        int check_st_ = (status);                                                     \
        CHECK(WIFEXITED(check_st_));                                                  \
        CHECK_EQ(WEXITSTATUS(check_st_), (code));                                     \
    } while (0)

/* The status says a signal killed the child. */
#define CHECK_KILLED(status, sig)                                                     \
    do {                                                                              \
        int check_st_ = (status);                                                     \
        CHECK(WIFSIGNALED(check_st_));                                                \
        CHECK_EQ(WTERMSIG(check_st_), (sig));                                         \
    } while (0)

/* An echo thread on one end of a socketpair; the caller does round trips on the other. */
struct roundtrip {
    int fds[2];
    pthread_t echo;
};

static void *roundtrip_echo(void *arg)
{
    int fd = *(int *)arg;
    unsigned char c;
    ssize_t n;
    while ((n = read(fd, &c, 1)) == 1) {
        c++;
        CHECK_EQ(write(fd, &c, 1), 1);
    }
    CHECK_EQ(n, 0);
    return NULL;
}

static inline void roundtrip_start(struct roundtrip *rt)
{
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, rt->fds), 0);
    CHECK_EQ(pthread_create(&rt->echo, NULL, roundtrip_echo, &rt->fds[1]), 0);
}

/* n round trips of one byte each, every answer checked. */
static inline void roundtrip_run(struct roundtrip *rt, int n)
{
    for (int i = 0; i < n; i++) {
        unsigned char c = (unsigned char)i, r;
        CHECK_EQ(write(rt->fds[0], &c, 1), 1);
        CHECK_EQ(read(rt->fds[0], &r, 1), 1);
        CHECK_EQ(r, (unsigned char)(c + 1));
    }
}

static inline void roundtrip_stop(struct roundtrip *rt)
{
    close(rt->fds[0]);
    CHECK_EQ(pthread_join(rt->echo, NULL), 0);
    close(rt->fds[1]);
}

#endif
