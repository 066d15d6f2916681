/* Blocking calls made through syscall() rather than their C functions: a thread blocked in
 * syscall(SYS_read) on a socket, syscall(SYS_accept4), syscall(SYS_poll) or
 * syscall(SYS_nanosleep) must let the other threads run (under libgreen too, where they share
 * one OS thread), and the results and errors are those of the system call. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "plain.h"

static int sv[2];
static atomic_int reader_waiting;

static void *reader(void *arg)
{
    (void)arg;
    char buf[16];
    atomic_store(&reader_waiting, 1);
    long n = syscall(SYS_read, sv[0], buf, sizeof buf);
    CHECK_EQ(n, 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    /* recvfrom and poll the same way */
    struct pollfd p = {sv[0], POLLIN, 0};
    CHECK_EQ(syscall(SYS_poll, &p, 1, 5000), 1);
    CHECK_EQ(syscall(SYS_recvfrom, sv[0], buf, sizeof buf, 0, NULL, NULL), 3);
    CHECK(memcmp(buf, "abc", 3) == 0);
    return NULL;
}

static int listener;

static void *acceptor(void *arg)
{
    (void)arg;
    long fd = syscall(SYS_accept4, listener, NULL, NULL, SOCK_CLOEXEC);
    CHECK(fd >= 0);
    CHECK(has_cloexec((int)fd));
    CHECK_EQ(syscall(SYS_write, (int)fd, "x", 1), 1);
    close((int)fd);
    return NULL;
}

static void *sleeper(void *arg)
{
    struct timespec ts = {0, 200 * 1000000L};
    CHECK_EQ(syscall(SYS_nanosleep, &ts, NULL), 0);
    atomic_store((atomic_int *)arg, 1);
    return NULL;
}

int main(void)
{
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, reader, NULL), 0);
    wait_flag(&reader_waiting);
    sleep_ms(50);  /* the reader is in its read by now */
    check_os_threads();
    write_all(sv[1], "hello", 5);
    sleep_ms(20);
    write_all(sv[1], "abc", 3);
    CHECK_EQ(pthread_join(t, NULL), 0);

    /* accept4 and connect through syscall() */
    listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    CHECK_EQ(bind(listener, (struct sockaddr *)&a, sizeof a), 0);
    CHECK_EQ(listen(listener, 8), 0);
    CHECK_EQ(getsockname(listener, (struct sockaddr *)&a, &alen), 0);
    CHECK_EQ(pthread_create(&t, NULL, acceptor, NULL), 0);
    sleep_ms(50);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(syscall(SYS_connect, c, &a, sizeof a), 0);
    char ch;
    CHECK_EQ(syscall(SYS_read, c, &ch, 1), 1);
    CHECK_EQ(ch, 'x');
    CHECK_EQ(pthread_join(t, NULL), 0);

    /* a sleeping thread does not hold up the others */
    atomic_int slept = 0;
    CHECK_EQ(pthread_create(&t, NULL, sleeper, &slept), 0);
    sleep_ms(20);
    CHECK_EQ(atomic_load(&slept), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(atomic_load(&slept), 1);

    /* errors come back as syscall() gives them: -1 and errno */
    errno = 0;
    CHECK_EQ(syscall(SYS_read, -1, &ch, 1), -1);
    CHECK_EQ(errno, EBADF);
    struct timespec bad = {0, 2000000000L};
    errno = 0;
    CHECK_EQ(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &bad, NULL), -1);
    CHECK_EQ(errno, EINVAL);
    struct timespec short_ts = {0, 1000000L};
    CHECK_EQ(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &short_ts, NULL), 0);
    close(c);
    close(listener);
    puts("raw_syscalls: ok");
    return 0;
}
