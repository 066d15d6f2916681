/* A thread that polls in a loop and always finds its descriptor ready (a writable socket, as an
 * asyncore server during a TLS handshake does) must not keep a thread waiting on another
 * descriptor from being woken: here the reader gets its byte and says so while the poller
 * polls, within 5 s.  (CPython's test_ftplib TLS tests: the server thread spins in select.) */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plain.h"

static int pipefd[2];
static atomic_int got;

static void *reader(void *arg)
{
    (void)arg;
    char c;
    CHECK_EQ(read(pipefd[0], &c, 1), 1);
    atomic_store(&got, 1);
    return NULL;
}

/* Polls sock for writing (always ready) until the reader got its byte; fails after 5 s. */
static void spin(int sock, int use_select)
{
    double start = now_seconds(CLOCK_MONOTONIC);
    while (!atomic_load(&got)) {
        if (use_select) {
            fd_set w;
            FD_ZERO(&w);
            FD_SET(sock, &w);
            struct timeval tv = {1, 0};
            CHECK_EQ(select(sock + 1, NULL, &w, NULL, &tv), 1);
        } else {
            struct pollfd p = {sock, POLLOUT, 0};
            CHECK_EQ(poll(&p, 1, 1000), 1);
        }
        CHECK(now_seconds(CLOCK_MONOTONIC) - start < 5.0);
    }
}

int main(void)
{
    alarm(20);
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    for (int use_select = 0; use_select < 2; use_select++) {
        atomic_store(&got, 0);
        CHECK_EQ(pipe(pipefd), 0);
        pthread_t t;
        CHECK_EQ(pthread_create(&t, NULL, reader, NULL), 0);
        usleep(50 * 1000); /* the reader now waits in read */
        CHECK_EQ(write(pipefd[1], "x", 1), 1);
        spin(sv[0], use_select);
        check_os_threads();
        CHECK_EQ(pthread_join(t, NULL), 0);
        close(pipefd[0]);
        close(pipefd[1]);
    }
    return 0;
}
