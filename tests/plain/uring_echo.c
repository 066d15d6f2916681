/* A thread-per-connection echo server whose threads read and write through io_uring (liburing,
 * one ring per thread: its own system call stubs, io_uring_wait_cqe waiting in io_uring_enter),
 * and 1,000 clients at once, each sending 3 rounds of its own bytes and checking the echo byte
 * for byte.  Every server thread waits in io_uring_enter at once while the clients connect.
 *
 *   uring_echo [CONNECTIONS]      (default 1000)
 *
 * Prints "uring_echo: skipped" and passes when the kernel refuses io_uring (kernel.io_uring_disabled). */
#define _GNU_SOURCE
#include <liburing.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plain.h"

enum { ROUNDS = 3, CHUNK = 1000 };
static int listener;
static int connections = 1000;
static atomic_int serving;  /* server threads in their first wait */
static atomic_int clients_done;

static unsigned char pattern_of(int client, int round, int i)
{
    return (unsigned char)(client * 131 + round * 17 + i * 7 + 1);
}

/* One operation through the ring, waited for: the result (bytes, or -errno). */
static int ring_op(struct io_uring *ring, int fd, void *buf, size_t len, int is_send, int first)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    CHECK(sqe != NULL);
    if (is_send)
        io_uring_prep_send(sqe, fd, buf, len, MSG_NOSIGNAL);
    else
        io_uring_prep_recv(sqe, fd, buf, len, 0);
    CHECK_EQ(io_uring_submit(ring), 1);
    if (first)
        atomic_fetch_add(&serving, 1);
    struct io_uring_cqe *cqe;
    int err;
    while ((err = io_uring_wait_cqe(ring, &cqe)) == -EINTR)
        ;
    CHECK_EQ(err, 0);
    int res = cqe->res;
    io_uring_cqe_seen(ring, cqe);
    return res;
}

static void *server(void *arg)
{
    int fd = (int)(intptr_t)arg;
    struct io_uring ring;
    CHECK_EQ(io_uring_queue_init(4, &ring, 0), 0);
    unsigned char buf[CHUNK];
    for (int first = 1;; first = 0) {
        int n = ring_op(&ring, fd, buf, sizeof buf, 0, first);
        CHECK(n >= 0);
        if (n == 0)
            break;
        for (int off = 0; off < n;) {
            int w = ring_op(&ring, fd, buf + off, (size_t)(n - off), 1, 0);
            CHECK(w > 0);
            off += w;
        }
    }
    io_uring_queue_exit(&ring);
    close(fd);
    return NULL;
}

static void *acceptor(void *arg)
{
    pthread_t *servers = arg;
    for (int i = 0; i < connections; i++) {
        int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        CHECK(fd >= 0);
        CHECK_EQ(pthread_create(&servers[i], NULL, server, (void *)(intptr_t)fd), 0);
    }
    return NULL;
}

static struct sockaddr_in addr;

static void *client(void *arg)
{
    int me = (int)(intptr_t)arg;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    CHECK_EQ(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    /* Every server waits before anyone sends: at the peak, all of them are in io_uring_enter. */
    while (atomic_load(&serving) < connections)
        sleep_ms(5);
    unsigned char out[CHUNK], in[CHUNK];
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < CHUNK; i++)
            out[i] = pattern_of(me, round, i);
        write_all(fd, out, CHUNK);
        for (int got = 0; got < CHUNK;) {
            ssize_t n = read(fd, in + got, (size_t)(CHUNK - got));
            CHECK(n > 0);
            got += (int)n;
        }
        CHECK(memcmp(in, out, CHUNK) == 0);
    }
    close(fd);
    atomic_fetch_add(&clients_done, 1);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        connections = atoi(argv[1]);
    struct io_uring probe;
    int err = io_uring_queue_init(4, &probe, 0);
    if (err == -EPERM || err == -ENOSYS) {
        puts("uring_echo: skipped (the kernel refuses io_uring)");
        return 0;
    }
    CHECK_EQ(err, 0);
    io_uring_queue_exit(&probe);

    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    CHECK_EQ(bind(listener, (struct sockaddr *)&addr, sizeof addr), 0);
    CHECK_EQ(listen(listener, 4096), 0);
    CHECK_EQ(getsockname(listener, (struct sockaddr *)&addr, &len), 0);

    pthread_t *servers = calloc((size_t)connections, sizeof *servers);
    pthread_t *clients = calloc((size_t)connections, sizeof *clients);
    CHECK(servers && clients);
    pthread_t acc;
    CHECK_EQ(pthread_create(&acc, NULL, acceptor, servers), 0);
    for (int i = 0; i < connections; i++)
        CHECK_EQ(pthread_create(&clients[i], NULL, client, (void *)(intptr_t)i), 0);
    CHECK_EQ(pthread_join(acc, NULL), 0);
    while (atomic_load(&serving) < connections)
        sleep_ms(5);
    check_os_threads();
    for (int i = 0; i < connections; i++)
        CHECK_EQ(pthread_join(clients[i], NULL), 0);
    for (int i = 0; i < connections; i++)
        CHECK_EQ(pthread_join(servers[i], NULL), 0);
    CHECK_EQ(atomic_load(&clients_done), connections);
    close(listener);
    free(servers);
    free(clients);
    printf("uring_echo: ok, %d connections\n", connections);
    return 0;
}
