/* sendfile from a file to a blocking socket sends everything, however slowly the peer reads,
 * while other threads go on; a short input file ends the transfer early with its length. */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plain.h"

#define SIZE (4 << 20)

static int sv[2];
static atomic_int ticks;
static atomic_int done;

static void *slow_reader(void *arg)
{
    unsigned char *got = arg;
    size_t have = 0;
    while (have < SIZE) {
        ssize_t n = read(sv[1], got + have, 65536);
        CHECK(n > 0);
        have += (size_t)n;
        usleep(200);
    }
    return NULL;
}

static void *ticker(void *arg)
{
    (void)arg;
    while (!atomic_load(&done)) {
        usleep(1000);
        atomic_fetch_add(&ticks, 1);
    }
    return NULL;
}

int main(void)
{
    alarm(20);
    char path[] = "/tmp/plain_sendfile_XXXXXX";
    int f = mkstemp(path);
    CHECK(f >= 0);
    unlink(path);
    unsigned char *data = malloc(SIZE), *got = malloc(SIZE);
    CHECK(data && got);
    for (size_t i = 0; i < SIZE; i++)
        data[i] = (unsigned char)(i * 7 + i / 4096);
    CHECK_EQ(write(f, data, SIZE), SIZE);

    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int small = 64 * 1024;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    pthread_t r, t;
    CHECK_EQ(pthread_create(&r, NULL, slow_reader, got), 0);
    CHECK_EQ(pthread_create(&t, NULL, ticker, NULL), 0);
    off_t off = 0;
    CHECK_EQ(sendfile(sv[0], f, &off, SIZE), SIZE); /* blocking: all of it */
    CHECK_EQ(off, SIZE);
    check_os_threads();
    CHECK_EQ(pthread_join(r, NULL), 0);
    atomic_store(&done, 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK(memcmp(data, got, SIZE) == 0);
    CHECK(atomic_load(&ticks) > 0); /* the other threads ran meanwhile */

    off = SIZE - 1000; /* only 1000 bytes left in the file */
    CHECK_EQ(sendfile(sv[0], f, &off, 5000), 1000);
    CHECK_EQ(read(sv[1], got, 5000), 1000);
    CHECK_EQ(fcntl(sv[0], F_GETFL) & O_NONBLOCK, 0);
    return 0;
}
