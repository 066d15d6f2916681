/* TCP echo over loopback: an acceptor thread in blocking accept, one echo thread per
 * connection, and many client threads doing blocking connect and blocking I/O with every
 * family of socket calls (read/write, send/recv, sendto/recvfrom, sendmsg/recvmsg, readv/writev),
 * over IPv4 and, when available, IPv6. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "plain.h"

#define N_CLIENTS4 200
#define N_CLIENTS6 10
#define MAX_CLIENTS N_CLIENTS4
#define PAYLOAD (64 * 1024)
#define N_MODES 5

enum { MODE_RW, MODE_SENDRECV, MODE_SENDTO, MODE_MSG, MODE_VEC };

/* One run: a listener, its acceptor, its echo threads and its clients. */
struct run {
    int family;
    int nclients;
    int listen_fd;
    struct sockaddr_storage addr; /* the listener's address, port read back */
    socklen_t addrlen;
    int ready_pipe[2]; /* clients and echo threads write one byte each once set up */
    int go_pipe[2];    /* main writes one byte per client to let it start its traffic */
    pthread_t echo[MAX_CLIENTS];
};

struct client_arg {
    struct run *run;
    int id;
};

static unsigned char pattern(int id, size_t off)
{
    return (unsigned char)(id * 131 + off * 7 + (off >> 9) + 1);
}

/* Chunk size k of client id: varies from 1 byte to about 9 KB. */
static size_t chunk_size(int id, int k)
{
    return 1 + (size_t)((id * 7919u + k * 104729u + (unsigned)(k * k) * 31u) % 9000u);
}

/* Sends len bytes with the given mode; blocking calls may send less than asked, so it loops. */
static void send_all(int fd, int mode, const unsigned char *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = -1;
        size_t rest = len - done;
        const unsigned char *p = buf + done;
        switch (mode) {
        case MODE_RW:
            n = write(fd, p, rest);
            break;
        case MODE_SENDRECV:
            n = send(fd, p, rest, 0);
            break;
        case MODE_SENDTO:
            n = sendto(fd, p, rest, 0, NULL, 0);
            break;
        case MODE_MSG:
        case MODE_VEC: {
            /* Three iovecs of unequal sizes covering the rest (some may be empty). */
            size_t a = rest / 4, b = rest / 3;
            struct iovec iov[3] = {
                {(void *)p, a}, {(void *)(p + a), b}, {(void *)(p + a + b), rest - a - b}};
            if (mode == MODE_VEC) {
                n = writev(fd, iov, 3);
            } else {
                struct msghdr msg = {0};
                msg.msg_iov = iov;
                msg.msg_iovlen = 3;
                n = sendmsg(fd, &msg, 0);
            }
            break;
        }
        }
        CHECK(n > 0);
        CHECK((size_t)n <= rest);
        done += (size_t)n;
    }
}

/* One receive call of the given mode into buf[0..len); returns what the call returned. */
static ssize_t recv_some(int fd, int mode, unsigned char *buf, size_t len)
{
    ssize_t n = -1;
    switch (mode) {
    case MODE_RW:
        n = read(fd, buf, len);
        break;
    case MODE_SENDRECV:
        n = recv(fd, buf, len, 0);
        break;
    case MODE_SENDTO:
        n = recvfrom(fd, buf, len, 0, NULL, NULL);
        break;
    case MODE_MSG:
    case MODE_VEC: {
        size_t a = len / 3, b = len / 5;
        struct iovec iov[3] = {{buf, a}, {buf + a, b}, {buf + a + b, len - a - b}};
        if (mode == MODE_VEC) {
            n = readv(fd, iov, 3);
        } else {
            struct msghdr msg = {0};
            msg.msg_iov = iov;
            msg.msg_iovlen = 3;
            n = recvmsg(fd, &msg, 0);
            if (n >= 0)
                CHECK_EQ(msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC), 0);
        }
        break;
    }
    }
    CHECK(n >= 0);
    CHECK((size_t)n <= len);
    return n;
}

/* Receives exactly len bytes (partial reads are normal on a stream socket). */
static void recv_all(int fd, int mode, unsigned char *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = recv_some(fd, mode, buf + done, len - done);
        CHECK(n > 0); /* no EOF before the echo is complete */
        done += (size_t)n;
    }
}

static void write_byte(int fd)
{
    CHECK_EQ(write(fd, "x", 1), 1);
}

static void read_byte(int fd)
{
    char c;
    CHECK_EQ(read(fd, &c, 1), 1);
}

struct echo_arg {
    struct run *run;
    int fd;
    int mode;
};

/* Echoes everything back until EOF, then closes. */
static void *echo_body(void *p)
{
    struct echo_arg *a = p;
    unsigned char buf[16384];
    write_byte(a->run->ready_pipe[1]);
    for (;;) {
        ssize_t n = recv_some(a->fd, a->mode, buf, sizeof buf);
        if (n == 0)
            break;
        send_all(a->fd, a->mode, buf, (size_t)n);
    }
    CHECK_EQ(close(a->fd), 0);
    free(a);
    return NULL;
}

/* Accepts exactly nclients connections, one echo thread each. */
static void *acceptor_body(void *p)
{
    struct run *r = p;
    for (int i = 0; i < r->nclients; i++) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        int fd = accept(r->listen_fd, (struct sockaddr *)&peer, &plen);
        CHECK(fd >= 0);
        CHECK_EQ(peer.ss_family, r->family);
        struct echo_arg *a = malloc(sizeof *a);
        CHECK(a != NULL);
        a->run = r;
        a->fd = fd;
        a->mode = (i * 3) % N_MODES; /* the server's calls differ from its client's */
        CHECK_EQ(pthread_create(&r->echo[i], NULL, echo_body, a), 0);
    }
    return NULL;
}

/* Connects, waits for the go, exchanges PAYLOAD bytes chunk by chunk, then half-closes and
 * sees the server's EOF. */
static void *client_body(void *p)
{
    struct client_arg *ca = p;
    struct run *r = ca->run;
    int id = ca->id, mode = id % N_MODES;

    int fd = socket(r->family, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    CHECK_EQ(connect(fd, (struct sockaddr *)&r->addr, r->addrlen), 0);
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    CHECK_EQ(getpeername(fd, (struct sockaddr *)&peer, &plen), 0);
    CHECK_EQ(plen, r->addrlen);
    CHECK(memcmp(&peer, &r->addr, plen) == 0);

    write_byte(r->ready_pipe[1]);
    read_byte(r->go_pipe[0]);

    unsigned char *out = malloc(PAYLOAD), *in = malloc(PAYLOAD);
    CHECK(out && in);
    for (size_t i = 0; i < PAYLOAD; i++)
        out[i] = pattern(id, i);
    memset(in, 0, PAYLOAD);

    /* One chunk in flight at a time: write it, read its echo back. */
    size_t off = 0;
    for (int k = 0; off < PAYLOAD; k++) {
        size_t len = chunk_size(id, k);
        if (len > PAYLOAD - off)
            len = PAYLOAD - off;
        send_all(fd, mode, out + off, len);
        recv_all(fd, mode, in + off, len);
        off += len;
    }
    for (size_t i = 0; i < PAYLOAD; i++)
        if (in[i] != pattern(id, i)) {
            fprintf(stderr, "FAIL: client %d (mode %d): byte %zu is %d, expected %d\n", id, mode,
                    i, in[i], pattern(id, i));
            exit(1);
        }

    CHECK_EQ(shutdown(fd, SHUT_WR), 0);
    unsigned char c;
    CHECK_EQ(recv_some(fd, mode, &c, 1), 0);
    CHECK_EQ(close(fd), 0);
    free(out);
    free(in);
    return NULL;
}

/* Sets up a listener on the loopback address of the family; 0 when the family is unavailable. */
static int make_listener(struct run *r)
{
    r->listen_fd = socket(r->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (r->listen_fd < 0)
        return 0;
    memset(&r->addr, 0, sizeof r->addr);
    if (r->family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&r->addr;
        a->sin_family = AF_INET;
        a->sin_port = 0;
        CHECK_EQ(inet_pton(AF_INET, "127.0.0.1", &a->sin_addr), 1);
        r->addrlen = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&r->addr;
        a->sin6_family = AF_INET6;
        a->sin6_port = 0;
        a->sin6_addr = in6addr_loopback;
        r->addrlen = sizeof *a;
    }
    if (bind(r->listen_fd, (struct sockaddr *)&r->addr, r->addrlen) != 0) {
        int e = errno;
        close(r->listen_fd);
        errno = e;
        return 0;
    }
    socklen_t len = sizeof r->addr;
    CHECK_EQ(getsockname(r->listen_fd, (struct sockaddr *)&r->addr, &len), 0);
    CHECK_EQ(len, r->addrlen);
    uint16_t port = r->family == AF_INET ? ((struct sockaddr_in *)&r->addr)->sin_port
                                         : ((struct sockaddr_in6 *)&r->addr)->sin6_port;
    CHECK(port != 0);
    CHECK_EQ(listen(r->listen_fd, 256), 0);
    return 1;
}

/* Each client's bytes come back intact and in order through its own server thread, then EOF. */
static void run_echo(int family, int nclients)
{
    static struct run r;
    static pthread_t clients[MAX_CLIENTS];
    static struct client_arg args[MAX_CLIENTS];
    memset(&r, 0, sizeof r);
    r.family = family;
    r.nclients = nclients;
    if (!make_listener(&r)) {
        printf("tcp_echo: %s loopback unavailable (%s), skipped\n",
               family == AF_INET6 ? "IPv6" : "IPv4", strerror(errno));
        return;
    }
    CHECK_EQ(pipe2(r.ready_pipe, O_CLOEXEC), 0);
    CHECK_EQ(pipe2(r.go_pipe, O_CLOEXEC), 0);

    pthread_t acceptor;
    CHECK_EQ(pthread_create(&acceptor, NULL, acceptor_body, &r), 0);
    for (int i = 0; i < nclients; i++) {
        args[i].run = &r;
        args[i].id = i + (family == AF_INET6 ? 1000 : 0);
        CHECK_EQ(pthread_create(&clients[i], NULL, client_body, &args[i]), 0);
    }
    /* Every client connected and every echo thread started: this is the peak. */
    for (int i = 0; i < 2 * nclients; i++)
        read_byte(r.ready_pipe[0]);
    check_os_threads();
    for (int i = 0; i < nclients; i++)
        write_byte(r.go_pipe[1]);

    CHECK_EQ(pthread_join(acceptor, NULL), 0);
    for (int i = 0; i < nclients; i++)
        CHECK_EQ(pthread_join(clients[i], NULL), 0);
    for (int i = 0; i < nclients; i++)
        CHECK_EQ(pthread_join(r.echo[i], NULL), 0);
    CHECK_EQ(close(r.listen_fd), 0);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(close(r.ready_pipe[i]), 0);
        CHECK_EQ(close(r.go_pipe[i]), 0);
    }
}

int main(void)
{
    alarm(20);
    run_echo(AF_INET, N_CLIENTS4);
    run_echo(AF_INET6, N_CLIENTS6);
    return 0;
}
