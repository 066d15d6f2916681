/* Reads of a stream socket that return less than they asked for, and what may follow them:
 *
 *   1. a short read, then more data, an end of file: each read returns what was sent; then
 *      data and the end of file both there before a read: the short read, then 0 at once;
 *   2. TCP urgent data (MSG_OOB, not inline): a read stops short at the urgent mark with data
 *      after it, which the next read returns at once, with nothing more sent;
 *   3. a Unix stream socket read in small pieces by two threads taking turns.
 *
 * A read that waited for data already there would never return: alarm() fails the test. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plain.h"

static void tcp_pair(int sv[2])
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(l >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    CHECK_EQ(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    CHECK_EQ(listen(l, 1), 0);
    CHECK_EQ(getsockname(l, (struct sockaddr *)&a, &len), 0);
    sv[1] = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(sv[1] >= 0);
    CHECK_EQ(connect(sv[1], (struct sockaddr *)&a, sizeof a), 0);
    sv[0] = accept(l, NULL, NULL);
    CHECK(sv[0] >= 0);
    int one = 1;
    CHECK_EQ(setsockopt(sv[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
    CHECK_EQ(close(l), 0);
}

struct sender {
    int fd;
    const char *what; /* sent in order, one send each, a pause between; '!' sends OOB */
};

static void *send_later(void *arg)
{
    struct sender *s = arg;
    for (const char *p = s->what; *p; p++) {
        usleep(20 * 1000);
        if (*p == '!')
            CHECK_EQ(send(s->fd, "!", 1, MSG_OOB), 1);
        else
            CHECK_EQ(send(s->fd, p, 1, 0), 1);
    }
    return NULL;
}

static int rd; /* the read end of part 3 */
static pthread_mutex_t turn = PTHREAD_MUTEX_INITIALIZER;
static int got3;

static void *piece_reader(void *arg)
{
    (void)arg;
    for (;;) {
        char c[2];
        pthread_mutex_lock(&turn);
        ssize_t n = read(rd, c, 2);
        if (n > 0)
            got3 += (int)n;
        pthread_mutex_unlock(&turn);
        if (n <= 0)
            return NULL;
    }
}

int main(void)
{
    alarm(20);
    int sv[2];
    char buf[16];
    pthread_t t;

    /* 1. Short reads while the data comes a byte at a time, then the end of file. */
    tcp_pair(sv);
    struct sender s1 = {sv[1], "xyz"};
    CHECK_EQ(pthread_create(&t, NULL, send_later, &s1), 0);
    for (const char *p = "xyz"; *p; p++) {
        CHECK_EQ(read(sv[0], buf, sizeof buf), 1);
        CHECK_EQ(buf[0], *p);
    }
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(close(sv[1]), 0);
    CHECK_EQ(recv(sv[0], buf, sizeof buf, 0), 0);
    CHECK_EQ(read(sv[0], buf, sizeof buf), 0);
    CHECK_EQ(close(sv[0]), 0);
    tcp_pair(sv);
    struct sender s1b = {sv[1], "v"};
    CHECK_EQ(pthread_create(&t, NULL, send_later, &s1b), 0);
    CHECK_EQ(read(sv[0], buf, sizeof buf), 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(send(sv[1], "uv", 2, 0), 2);
    CHECK_EQ(close(sv[1]), 0);
    usleep(50 * 1000);
    CHECK_EQ(read(sv[0], buf, sizeof buf), 2);
    CHECK_EQ(read(sv[0], buf, sizeof buf), 0);
    CHECK_EQ(close(sv[0]), 0);

    /* 2. Urgent data: "ab", the urgent byte, "de", all there before the reads. */
    tcp_pair(sv);
    struct sender s2 = {sv[1], "w"};
    CHECK_EQ(pthread_create(&t, NULL, send_later, &s2), 0);
    CHECK_EQ(read(sv[0], buf, sizeof buf), 1); /* a wait, then a short read */
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(send(sv[1], "ab", 2, 0), 2);
    CHECK_EQ(send(sv[1], "!", 1, MSG_OOB), 1);
    CHECK_EQ(send(sv[1], "de", 2, 0), 2);
    usleep(100 * 1000);
    CHECK_EQ(read(sv[0], buf, sizeof buf), 2);
    CHECK(memcmp(buf, "ab", 2) == 0);
    CHECK_EQ(read(sv[0], buf, sizeof buf), 2);
    CHECK(memcmp(buf, "de", 2) == 0);
    CHECK_EQ(close(sv[0]), 0);
    CHECK_EQ(close(sv[1]), 0);

    /* 3. Two readers taking turns on a Unix stream socket, 2 bytes at a time. */
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    rd = sv[0];
    pthread_t r1, r2;
    CHECK_EQ(pthread_create(&r1, NULL, piece_reader, NULL), 0);
    CHECK_EQ(pthread_create(&r2, NULL, piece_reader, NULL), 0);
    struct sender s3 = {sv[1], "abcdefghijk"};
    CHECK_EQ(pthread_create(&t, NULL, send_later, &s3), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(send(sv[1], "0123456", 7, 0), 7);
    usleep(50 * 1000);
    check_os_threads();
    CHECK_EQ(shutdown(sv[1], SHUT_WR), 0);
    CHECK_EQ(pthread_join(r1, NULL), 0);
    CHECK_EQ(pthread_join(r2, NULL), 0);
    CHECK_EQ(got3, 18);
    puts("short_reads: ok");
    return 0;
}
