/* A lock held across blocking socket I/O while 200 other threads contend for it, as legacy
 * servers do: every thread in turn takes the lock, sends a request over its own connection to
 * an echo thread, waits for the reply while still holding the lock, and updates a shared total.
 * The total is exact and every reply matches its request. */
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plain.h"

#define THREADS 200
#define ROUNDS 20

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long total;          /* guarded by lock */
static int holders;         /* guarded by lock: must never exceed 1 */
static int ends[THREADS][2];
static atomic_int started;

static void *echo(void *arg)
{
    int fd = *(int *)arg;
    char buf[64];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        CHECK_EQ(write(fd, buf, (size_t)n), n);
    CHECK_EQ(n, 0);
    close(fd);
    return NULL;
}

static void *client(void *arg)
{
    int id = (int)(intptr_t)arg;
    int fd = ends[id][0];
    atomic_fetch_add(&started, 1);
    for (int r = 0; r < ROUNDS; r++) {
        CHECK_EQ(pthread_mutex_lock(&lock), 0);
        CHECK_EQ(++holders, 1);
        long req = (long)id * 1000 + r, rep = -1;
        CHECK_EQ(write(fd, &req, sizeof req), sizeof req);
        sleep_ms(r % 5 == 0); /* sometimes the echo is slow: others must wait, not spin */
        CHECK_EQ(read(fd, &rep, sizeof rep), sizeof rep); /* blocking, with the lock held */
        CHECK_EQ(rep, req);
        total += rep;
        holders--;
        CHECK_EQ(pthread_mutex_unlock(&lock), 0);
    }
    shutdown(fd, SHUT_WR);
    return NULL;
}

int main(void)
{
    alarm(60);
    pthread_t echoes[THREADS], clients[THREADS];
    for (int i = 0; i < THREADS; i++) {
        CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, ends[i]), 0);
        CHECK_EQ(pthread_create(&echoes[i], NULL, echo, &ends[i][1]), 0);
    }
    CHECK_EQ(pthread_mutex_lock(&lock), 0); /* everyone starts, then contends */
    for (int i = 0; i < THREADS; i++)
        CHECK_EQ(pthread_create(&clients[i], NULL, client, (void *)(intptr_t)i), 0);
    while (atomic_load(&started) < THREADS)
        sleep_ms(1);
    check_os_threads();
    CHECK_EQ(pthread_mutex_unlock(&lock), 0);
    for (int i = 0; i < THREADS; i++) {
        CHECK_EQ(pthread_join(clients[i], NULL), 0);
        CHECK_EQ(pthread_join(echoes[i], NULL), 0);
        close(ends[i][0]);
    }
    long expect = 0;
    for (long id = 0; id < THREADS; id++)
        for (long r = 0; r < ROUNDS; r++)
            expect += id * 1000 + r;
    CHECK_EQ(total, expect);
    return 0;
}
