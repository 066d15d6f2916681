/* Checks that an injected fault reaches the program as the real call would give it.  Run under
 * libgreen with GREEN_INJECT naming the one fault KIND (probability 1, or a duration):
 *
 *   inject_check KIND      KIND: short-read short-write eintr eagain reset connect-fail
 *                                connect-delay read-latency
 *
 * Prints "ok KIND" and exits 0, or "FAIL: ..." and exits 1. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "../plain/plain.h"

static char buf[4096];
static atomic_int sigpipes;

static void on_sigpipe(int sig)
{
    (void)sig;
    sigpipes++;
}

/* A connected loopback TCP pair: *client and *server. */
static void tcp_pair(int *client, int *server)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(l >= 0);
    CHECK_EQ(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    CHECK_EQ(listen(l, 4), 0);
    CHECK_EQ(getsockname(l, (struct sockaddr *)&a, &len), 0);
    *client = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(connect(*client, (struct sockaddr *)&a, sizeof a), 0);
    *server = accept(l, NULL, NULL);
    CHECK(*server >= 0);
    close(l);
}

static void *write_later(void *arg)
{
    usleep(20000);
    CHECK_EQ(write(*(int *)arg, "late", 4), 4);
    return NULL;
}

static void short_read(void)
{
    int sv[2], p[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CHECK_EQ(send(sv[0], buf, 100, MSG_DONTWAIT), 100);
    ssize_t n = read(sv[1], buf, 100);
    CHECK(n >= 1 && n < 100);
    ssize_t m = recv(sv[1], buf, 100, 0);
    CHECK(m >= 1 && m <= 100 - n);
    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(write(p[1], buf, 100), 100);
    n = read(p[0], buf, 100);
    CHECK(n >= 1 && n < 100);
    /* A datagram is never cut: the fault applies to streams only. */
    int dg[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, dg), 0);
    CHECK_EQ(send(dg[0], buf, 100, 0), 100);
    CHECK_EQ(recv(dg[1], buf, 100, 0), 100);
}

static void short_write(void)
{
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ssize_t n = write(sv[0], buf, 1000);
    CHECK(n >= 1 && n < 1000);
    /* What the call says it wrote is what went, no more. */
    CHECK_EQ(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), n);
    n = send(sv[0], buf, 1000, 0);
    CHECK(n >= 1 && n < 1000);
    CHECK_EQ(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), n);
    /* A pipe write of at most PIPE_BUF bytes is atomic; a longer one can stop short. */
    int p[2];
    static char big[3 * PIPE_BUF];
    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(write(p[1], big, PIPE_BUF), PIPE_BUF);
    CHECK_EQ(read(p[0], big, sizeof big), PIPE_BUF);
    n = write(p[1], big, sizeof big);
    CHECK(n >= 1 && n < (ssize_t)sizeof big);
    CHECK_EQ(read(p[0], big, sizeof big), n);
}

static void eintr(void)
{
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    /* Data there: the call does not block, so no signal can interrupt it. */
    CHECK_EQ(write(sv[0], "x", 1), 1);
    CHECK_EQ(read(sv[1], buf, 1), 1);
    /* Nothing there: the call would block, and is interrupted. */
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, write_later, &sv[0]), 0);
    errno = 0;
    CHECK_EQ(read(sv[1], buf, sizeof buf), -1);
    CHECK_EQ(errno, EINTR);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(read(sv[1], buf, sizeof buf), 4); /* the data is there now */
}

static void eagain(void)
{
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CHECK_EQ(write(sv[0], "xy", 2), 2);
    /* A blocking descriptor never gets EAGAIN. */
    CHECK_EQ(read(sv[1], buf, 1), 1);
    /* Non-blocking per call or per descriptor: EAGAIN, even with data there. */
    errno = 0;
    CHECK_EQ(recv(sv[1], buf, 1, MSG_DONTWAIT), -1);
    CHECK_EQ(errno, EAGAIN);
    CHECK_EQ(fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK), 0);
    errno = 0;
    CHECK_EQ(read(sv[1], buf, 1), -1);
    CHECK_EQ(errno, EAGAIN);
}

static void reset(void)
{
    struct sigaction sa = {.sa_handler = on_sigpipe};
    sigemptyset(&sa.sa_mask);
    CHECK_EQ(sigaction(SIGPIPE, &sa, NULL), 0);
    /* Not a TCP connection: never reset. */
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CHECK_EQ(write(sv[0], "x", 1), 1);
    CHECK_EQ(read(sv[1], buf, 1), 1);
    int c, s;
    tcp_pair(&c, &s);
    CHECK_EQ(send(s, "data", 4, MSG_NOSIGNAL), -1); /* the server's write: shut down, EPIPE */
    CHECK_EQ(errno, EPIPE);
    CHECK_EQ(sigpipes, 0);
    errno = 0;
    CHECK_EQ(read(c, buf, sizeof buf), -1); /* the client's read: the connection was reset */
    CHECK_EQ(errno, ECONNRESET);
    CHECK_EQ(read(c, buf, sizeof buf), 0);  /* and after that, end of file */
    errno = 0;
    CHECK_EQ(write(c, "x", 1), -1);         /* a write: EPIPE with SIGPIPE */
    CHECK_EQ(errno, EPIPE);
    CHECK_EQ(sigpipes, 1);
}

static void connect_fail(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    CHECK_EQ(listen(l, 4), 0);
    CHECK_EQ(getsockname(l, (struct sockaddr *)&a, &len), 0);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    errno = 0;
    CHECK_EQ(connect(c, (struct sockaddr *)&a, sizeof a), -1);
    CHECK_EQ(errno, ECONNREFUSED);
    /* A datagram socket's connect cannot be refused. */
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK_EQ(connect(u, (struct sockaddr *)&a, sizeof a), 0);
}

/* A delay fault: the call still succeeds, no earlier than the call, within the duration. */
static void delayed(int is_connect)
{
    int c, s;
    double start = now_seconds(CLOCK_MONOTONIC);
    tcp_pair(&c, &s);
    double mid = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(write(s, "abc", 3), 3);
    CHECK_EQ(read(c, buf, sizeof buf), 3);
    double end = now_seconds(CLOCK_MONOTONIC);
    CHECK((is_connect ? mid - start : end - mid) < 0.5 + 0.01);
}

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    const char *k = argv[1];
    if (strcmp(k, "short-read") == 0)
        short_read();
    else if (strcmp(k, "short-write") == 0)
        short_write();
    else if (strcmp(k, "eintr") == 0)
        eintr();
    else if (strcmp(k, "eagain") == 0)
        eagain();
    else if (strcmp(k, "reset") == 0)
        reset();
    else if (strcmp(k, "connect-fail") == 0)
        connect_fail();
    else if (strcmp(k, "connect-delay") == 0)
        delayed(1);
    else if (strcmp(k, "read-latency") == 0)
        delayed(0);
    else
        CHECK(!"unknown fault kind");
    printf("ok %s\n", k);
    return 0;
}
