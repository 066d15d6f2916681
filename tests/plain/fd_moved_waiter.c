/* Threads that wait on their sockets, move to another CPU, and wait on them there.
 *
 * Each thread owns one end of a Unix stream socket pair and first waits on it for a byte (so the
 * descriptor is waited on where the thread runs then); then it yields in a loop of unequal
 * length (threads that finish early leave their CPU idle, so a scheduler may move the others:
 * the kernel with real threads, work sharing under libgreen with several workers) until its
 * thread id says it runs on another OS thread, or the loop ends; then it echoes ROUNDS bytes
 * back, each one waited for.  The main thread sends every byte and checks every echo.  Every
 * byte must come back, in order, whatever ran where.
 *
 * Prints "moved N": how many threads saw their thread id change (only a runtime that reports
 * the OS thread's id moves it visibly).
 *
 *   fd_moved_waiter [YIELDS]     (default 20000 yields for the longest loop) */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "plain.h"

#define THREADS 6
#define ROUNDS 200

static int yields = 20000;
static int socks[THREADS][2];
static pthread_barrier_t ready;
static atomic_int moved;

static void read_byte(int fd, unsigned char want)
{
    unsigned char c;
    ssize_t n;
    do
        n = read(fd, &c, 1);
    while (n < 0 && errno == EINTR);
    CHECK_EQ(n, 1);
    CHECK_EQ(c, want);
}

static void write_byte(int fd, unsigned char c)
{
    ssize_t n;
    do
        n = write(fd, &c, 1);
    while (n < 0 && errno == EINTR);
    CHECK_EQ(n, 1);
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    int fd = socks[id][1];
    read_byte(fd, (unsigned char)id);  /* a wait here, where the thread starts */
    pid_t tid = gettid();
    int limit = yields / THREADS * (id + 1);
    for (int i = 0; i < limit; i++) {
        CHECK_EQ(sched_yield(), 0);
        if (gettid() != tid) {
            atomic_fetch_add(&moved, 1);
            break;
        }
    }
    pthread_barrier_wait(&ready);
    for (int r = 0; r < ROUNDS; r++) {
        unsigned char c;
        ssize_t n;
        do
            n = read(fd, &c, 1);
        while (n < 0 && errno == EINTR);
        CHECK_EQ(n, 1);
        CHECK_EQ(c, (unsigned char)(id * 31 + r));
        write_byte(fd, c);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        yields = atoi(argv[1]);
    CHECK(yields >= THREADS);
    CHECK_EQ(pthread_barrier_init(&ready, NULL, THREADS + 1), 0);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, socks[i]), 0);
        CHECK_EQ(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i), 0);
    }
    sleep_ms(20);  /* let them wait first */
    check_os_threads();
    for (int i = 0; i < THREADS; i++)
        write_byte(socks[i][0], (unsigned char)i);
    pthread_barrier_wait(&ready);
    /* Round by round over every thread: each byte waited for on the thread's side. */
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < THREADS; i++) {
            write_byte(socks[i][0], (unsigned char)(i * 31 + r));
            read_byte(socks[i][0], (unsigned char)(i * 31 + r));
        }
    for (int i = 0; i < THREADS; i++) {
        CHECK_EQ(pthread_join(t[i], NULL), 0);
        close(socks[i][0]);
        close(socks[i][1]);
    }
    printf("moved %d\n", atomic_load(&moved));
    return 0;
}
