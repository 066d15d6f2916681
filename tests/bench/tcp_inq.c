/* What knowing a TCP socket's remaining bytes would save a 16 KiB echo: a read that fills the
 * reader's buffer says nothing of what is left, so a thread-per-connection server under libgreen
 * reads once more and finds nothing (EAGAIN) before it waits.  TCP_INQ (Linux 4.18) would tell
 * instead: set once per socket, it makes every recvmsg return the bytes left in a control
 * message.  This measures, on one loopback TCP connection and one thread (no wait, no other
 * process), the CPU time of receiving ROUNDS messages of SIZE bytes into a SIZE-byte buffer:
 *
 *   read      recv, then the recv that finds nothing (EAGAIN): what libgreen does now
 *   once      recv only: the lower bound, as if emptiness were known for free
 *   inq       recvmsg with TCP_INQ's control message, which says the socket is empty
 *
 * Each message is sent by the same thread before it is received.  Prints the CPU ns per message
 * for each way, medians of 5 passes taken in turn.
 *
 *   tcp_inq [ROUNDS [SIZE]]     (default 200000 rounds of 16384 bytes) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef TCP_INQ
#define TCP_INQ 36
#endif

enum { READ, ONCE, INQ, WAYS };
static const char *names[WAYS] = {"read", "once", "inq"};

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* A connected loopback TCP pair: s[0] receives, s[1] sends. */
static void tcp_pair(int s[2])
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) ||
        getsockname(l, (struct sockaddr *)&a, &len))
        die("listen");
    s[1] = socket(AF_INET, SOCK_STREAM, 0);
    if (s[1] < 0 || connect(s[1], (struct sockaddr *)&a, sizeof a))
        die("connect");
    s[0] = accept(l, NULL, NULL);
    if (s[0] < 0)
        die("accept");
    close(l);
    int one = 1;
    setsockopt(s[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (setsockopt(s[0], IPPROTO_TCP, TCP_INQ, &one, sizeof one))
        die("TCP_INQ");
}

/* Receives exactly size bytes (one message) the given way; fails loudly on anything else. */
static void receive(int way, int fd, char *buf, size_t size)
{
    size_t have = 0;
    for (;;) {
        ssize_t n;
        int inq = -1;
        if (way == INQ) {
            struct iovec iov = {buf + have, size - have};
            char cbuf[CMSG_SPACE(sizeof(int))];
            struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                               .msg_controllen = sizeof cbuf};
            n = recvmsg(fd, &m, MSG_DONTWAIT);
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
                if (c->cmsg_level == SOL_TCP && c->cmsg_type == TCP_CM_INQ)
                    memcpy(&inq, CMSG_DATA(c), sizeof inq);
        } else {
            n = recv(fd, buf + have, size - have, MSG_DONTWAIT);
        }
        if (n < 0 && errno == EAGAIN && have == size)
            return;  /* the read that finds nothing */
        if (n <= 0)
            die("recv");
        have += (size_t)n;
        if (have < size)
            continue;
        if (way == ONCE || (way == INQ && inq == 0))
            return;
        if (way == INQ)
            die("TCP_INQ said bytes are left");
    }
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 200000;
    size_t size = argc > 2 ? (size_t)atol(argv[2]) : 16384;
    int s[2];
    tcp_pair(s);
    char *out = calloc(1, size), *in = malloc(size);
    if (!out || !in)
        die("malloc");
    enum { PASSES = 5 };
    double ns[WAYS][PASSES];
    for (int p = 0; p < PASSES; p++)
        for (int way = 0; way < WAYS; way++) {
            double t0 = cpu_ns();
            for (long i = 0; i < rounds; i++) {
                if (send(s[1], out, size, 0) != (ssize_t)size)
                    die("send");
                receive(way, s[0], in, size);
            }
            ns[way][p] = (cpu_ns() - t0) / rounds;
        }
    for (int way = 0; way < WAYS; way++) {
        qsort(ns[way], PASSES, sizeof(double), cmp);
        printf("%-5s %8.0f ns per %zu-byte message (send included)\n", names[way],
               ns[way][PASSES / 2], size);
    }
    return 0;
}
