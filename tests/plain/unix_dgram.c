/* Message-oriented and local sockets between threads: an AF_UNIX stream echo, AF_UNIX
 * SOCK_DGRAM and SOCK_SEQPACKET boundaries and truncation, UDP request/reply over 127.0.0.1,
 * recvmmsg/sendmmsg batches, and passing a descriptor with SCM_RIGHTS. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "plain.h"

/* ---- AF_UNIX stream echo ---- */

#define N_MSG 10000
#define MAX_MSG 300

/* Message i: a 2-byte length, then bytes depending on i. */
static size_t msg_len(int i)
{
    return 1 + (size_t)((i * 37) % (MAX_MSG - 2));
}

static void fill_msg(unsigned char *m, int i)
{
    size_t len = msg_len(i);
    m[0] = (unsigned char)(len & 0xff);
    m[1] = (unsigned char)(len >> 8);
    for (size_t k = 0; k < len; k++)
        m[2 + k] = (unsigned char)(i + k * 3);
}

static void *stream_echo_server(void *arg)
{
    int fd = *(int *)arg;
    unsigned char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        CHECK(n >= 0);
        if (n == 0)
            break;
        write_all(fd, buf, (size_t)n);
    }
    CHECK_EQ(close(fd), 0);
    return NULL;
}

static void *stream_sender(void *arg)
{
    int fd = *(int *)arg;
    unsigned char m[MAX_MSG + 2];
    for (int i = 0; i < N_MSG; i++) {
        fill_msg(m, i);
        write_all(fd, m, 2 + msg_len(i));
    }
    CHECK_EQ(shutdown(fd, SHUT_WR), 0);
    return NULL;
}

static void *stream_receiver(void *arg)
{
    int fd = *(int *)arg;
    unsigned char got[MAX_MSG + 2], want[MAX_MSG + 2];
    for (int i = 0; i < N_MSG; i++) {
        read_exact(fd, got, 2);
        size_t len = got[0] | (size_t)got[1] << 8;
        CHECK_EQ(len, msg_len(i));
        read_exact(fd, got + 2, len);
        fill_msg(want, i);
        CHECK(memcmp(got, want, 2 + len) == 0);
    }
    char c;
    CHECK_EQ(read(fd, &c, 1), 0);
    return NULL;
}

/* An AF_UNIX stream socketpair is a reliable, ordered byte stream both ways, with EOF. */
static void test_unix_stream_echo(void)
{
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    pthread_t srv, snd, rcv;
    CHECK_EQ(pthread_create(&srv, NULL, stream_echo_server, &sv[1]), 0);
    CHECK_EQ(pthread_create(&rcv, NULL, stream_receiver, &sv[0]), 0);
    CHECK_EQ(pthread_create(&snd, NULL, stream_sender, &sv[0]), 0);
    CHECK_EQ(pthread_join(snd, NULL), 0);
    CHECK_EQ(pthread_join(rcv, NULL), 0);
    CHECK_EQ(pthread_join(srv, NULL), 0);
    CHECK_EQ(close(sv[0]), 0);
}

/* ---- named AF_UNIX sockets ---- */

#define N_UNIX_CLIENTS 5

static int unix_listen_fd;
static struct sockaddr_un unix_listen_addr;
static socklen_t unix_listen_len;

static void *unix_acceptor_body(void *arg)
{
    (void)arg;
    for (int i = 0; i < N_UNIX_CLIENTS; i++) {
        int c = accept4(unix_listen_fd, NULL, NULL, SOCK_CLOEXEC);
        CHECK(c >= 0);
        char buf[16];
        read_exact(c, buf, 4);
        buf[0] = (char)(buf[0] + 1);
        write_all(c, buf, 4);
        CHECK_EQ(close(c), 0);
    }
    return NULL;
}

static void *unix_client_body(void *arg)
{
    int id = (int)(intptr_t)arg;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    CHECK_EQ(connect(fd, (struct sockaddr *)&unix_listen_addr, unix_listen_len), 0);
    char msg[4] = {(char)('a' + id), 'x', 'y', 'z'}, back[4];
    write_all(fd, msg, 4);
    read_exact(fd, back, 4);
    CHECK_EQ(back[0], 'a' + id + 1);
    CHECK(memcmp(back + 1, "xyz", 3) == 0);
    CHECK_EQ(read(fd, back, 1), 0);
    CHECK_EQ(close(fd), 0);
    return NULL;
}

/* An AF_UNIX stream listener in the abstract namespace: blocking accept and connect work. */
static void test_unix_abstract_listener(void)
{
    unix_listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(unix_listen_fd >= 0);
    memset(&unix_listen_addr, 0, sizeof unix_listen_addr);
    unix_listen_addr.sun_family = AF_UNIX;
    /* Abstract: sun_path starts with a NUL byte; the name need not be NUL-terminated. */
    int n = snprintf(unix_listen_addr.sun_path + 1, sizeof unix_listen_addr.sun_path - 1,
                     "plain_unix_dgram_%d", (int)getpid());
    unix_listen_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    CHECK_EQ(bind(unix_listen_fd, (struct sockaddr *)&unix_listen_addr, unix_listen_len), 0);
    CHECK_EQ(listen(unix_listen_fd, N_UNIX_CLIENTS), 0);
    pthread_t acc, cl[N_UNIX_CLIENTS];
    CHECK_EQ(pthread_create(&acc, NULL, unix_acceptor_body, NULL), 0);
    for (intptr_t i = 0; i < N_UNIX_CLIENTS; i++)
        CHECK_EQ(pthread_create(&cl[i], NULL, unix_client_body, (void *)i), 0);
    for (int i = 0; i < N_UNIX_CLIENTS; i++)
        CHECK_EQ(pthread_join(cl[i], NULL), 0);
    CHECK_EQ(pthread_join(acc, NULL), 0);
    CHECK_EQ(close(unix_listen_fd), 0);
}

static char unix_dir[32];

static void unix_path_addr(struct sockaddr_un *a, const char *name)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    snprintf(a->sun_path, sizeof a->sun_path, "%s/%s", unix_dir, name);
}

static int unix_dgram_server_fd;

static void *unix_dgram_server_body(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++) {
        char buf[64];
        struct sockaddr_un from;
        socklen_t flen = sizeof from;
        ssize_t n = recvfrom(unix_dgram_server_fd, buf, sizeof buf, 0, (struct sockaddr *)&from,
                             &flen);
        CHECK(n > 0);
        CHECK_EQ(from.sun_family, AF_UNIX);
        CHECK(strstr(from.sun_path, "/client") != NULL);
        CHECK_EQ(sendto(unix_dgram_server_fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen),
                 n);
    }
    return NULL;
}

/* AF_UNIX datagrams between sockets bound to paths: recvfrom names the sender, replies reach it. */
static void test_unix_dgram_paths(void)
{
    strcpy(unix_dir, "/tmp/plain_unix_XXXXXX");
    CHECK(mkdtemp(unix_dir) != NULL);
    struct sockaddr_un srv, cli;
    unix_path_addr(&srv, "server");
    unix_path_addr(&cli, "client");
    unix_dgram_server_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHECK(unix_dgram_server_fd >= 0);
    CHECK_EQ(bind(unix_dgram_server_fd, (struct sockaddr *)&srv, sizeof srv), 0);
    int c = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHECK(c >= 0);
    CHECK_EQ(bind(c, (struct sockaddr *)&cli, sizeof cli), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, unix_dgram_server_body, NULL), 0);
    for (int i = 0; i < 100; i++) {
        char msg[32], back[64];
        int len = snprintf(msg, sizeof msg, "message %d", i);
        CHECK_EQ(sendto(c, msg, (size_t)len, 0, (struct sockaddr *)&srv, sizeof srv), len);
        struct sockaddr_un from;
        socklen_t flen = sizeof from;
        CHECK_EQ(recvfrom(c, back, sizeof back, 0, (struct sockaddr *)&from, &flen), len);
        CHECK(memcmp(back, msg, (size_t)len) == 0);
        CHECK(strcmp(from.sun_path, srv.sun_path) == 0);
    }
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(close(c), 0);
    CHECK_EQ(close(unix_dgram_server_fd), 0);
    CHECK_EQ(unlink(srv.sun_path), 0);
    CHECK_EQ(unlink(cli.sun_path), 0);
    CHECK_EQ(rmdir(unix_dir), 0);
}

/* ---- AF_UNIX datagram and seqpacket ---- */

#define N_DGRAM 500

static size_t dgram_len(int i)
{
    return i % 50 == 7 ? 0 : 1 + (size_t)((i * 53) % 2000);
}

static void fill_dgram(unsigned char *m, int i)
{
    for (size_t k = 0; k < dgram_len(i); k++)
        m[k] = (unsigned char)(i * 7 + k);
}

static void *dgram_sender(void *arg)
{
    int fd = *(int *)arg;
    unsigned char m[2048];
    for (int i = 0; i < N_DGRAM; i++) {
        fill_dgram(m, i);
        CHECK_EQ(send(fd, m, dgram_len(i), 0), (ssize_t)dgram_len(i));
    }
    return NULL;
}

/* Checks a message socket pair of the type: boundaries, empty messages, truncation. */
static void check_message_socket(int type)
{
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, dgram_sender, &sv[0]), 0);
    /* One message per send, in order, with its exact length (empty ones too); the receiver
     * waits whenever the sender is behind, the sender whenever the queue is full. */
    unsigned char got[4096], want[2048];
    for (int i = 0; i < N_DGRAM; i++) {
        ssize_t n = recv(sv[1], got, sizeof got, 0);
        CHECK_EQ(n, (ssize_t)dgram_len(i));
        fill_dgram(want, i);
        CHECK(memcmp(got, want, (size_t)n) == 0);
    }
    CHECK_EQ(pthread_join(t, NULL), 0);

    /* A too-small buffer truncates the message: the rest is discarded, the next recv gets the
     * next message; recvmsg reports MSG_TRUNC; recv with MSG_TRUNC returns the real length. */
    const char *msgs[] = {"0123456789abcdef", "second", "third message"};
    for (int i = 0; i < 3; i++)
        CHECK_EQ(send(sv[0], msgs[i], strlen(msgs[i]), 0), (ssize_t)strlen(msgs[i]));
    char small[5];
    CHECK_EQ(recv(sv[1], small, sizeof small, 0), 5);
    CHECK(memcmp(small, "01234", 5) == 0);

    struct iovec iov = {small, 3};
    struct msghdr mh = {0};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    CHECK_EQ(recvmsg(sv[1], &mh, 0), 3);
    CHECK(memcmp(small, "sec", 3) == 0);
    CHECK(mh.msg_flags & MSG_TRUNC);

    CHECK_EQ(recv(sv[1], small, 2, MSG_TRUNC), (ssize_t)strlen(msgs[2]));
    CHECK(memcmp(small, "th", 2) == 0);

    /* A full-size receive has no MSG_TRUNC. */
    CHECK_EQ(send(sv[0], "fits", 4, 0), 4);
    iov.iov_base = got;
    iov.iov_len = sizeof got;
    mh.msg_flags = -1;
    CHECK_EQ(recvmsg(sv[1], &mh, 0), 4);
    CHECK_EQ(mh.msg_flags & MSG_TRUNC, 0);

    CHECK_EQ(close(sv[0]), 0);
    if (type == SOCK_SEQPACKET)
        CHECK_EQ(recv(sv[1], got, sizeof got, 0), 0); /* the peer has gone: EOF */
    CHECK_EQ(close(sv[1]), 0);
}

/* AF_UNIX SOCK_DGRAM socketpair: boundaries kept, empty messages, truncation with MSG_TRUNC. */
static void test_unix_dgram(void)
{
    check_message_socket(SOCK_DGRAM);
}

/* AF_UNIX SOCK_SEQPACKET socketpair: the same, and EOF (0) once the peer has closed. */
static void test_unix_seqpacket(void)
{
    check_message_socket(SOCK_SEQPACKET);
}

/* ---- UDP over 127.0.0.1 ---- */

#define UDP_CLIENTS 4
#define UDP_PER_CLIENT 250

static int udp_socket(struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(bind(fd, (struct sockaddr *)addr, sizeof *addr), 0);
    socklen_t len = sizeof *addr;
    CHECK_EQ(getsockname(fd, (struct sockaddr *)addr, &len), 0);
    CHECK(addr->sin_port != 0);
    return fd;
}

struct udp_req {
    uint32_t client, seq;
    unsigned char body[100];
};

static int udp_server_fd;
static struct sockaddr_in udp_server_addr;

static void *udp_server_body(void *arg)
{
    (void)arg;
    for (int i = 0; i < UDP_CLIENTS * UDP_PER_CLIENT; i++) {
        struct udp_req req;
        struct sockaddr_in from;
        socklen_t flen = sizeof from;
        ssize_t n = recvfrom(udp_server_fd, &req, sizeof req, 0, (struct sockaddr *)&from, &flen);
        CHECK(n >= 8);
        CHECK_EQ(flen, sizeof from);
        CHECK_EQ(from.sin_family, AF_INET);
        CHECK_EQ(from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
        for (ssize_t k = 8; k < n; k++)
            req.body[k - 8] ^= 0xff; /* the reply: the body inverted */
        CHECK_EQ(sendto(udp_server_fd, &req, (size_t)n, 0, (struct sockaddr *)&from, flen), n);
    }
    return NULL;
}

static void *udp_client_body(void *arg)
{
    uint32_t id = (uint32_t)(uintptr_t)arg;
    struct sockaddr_in me;
    int fd = udp_socket(&me);
    for (uint32_t s = 0; s < UDP_PER_CLIENT; s++) {
        struct udp_req req = {id, s, {0}};
        size_t blen = (s * 7 + id) % sizeof req.body;
        for (size_t k = 0; k < blen; k++)
            req.body[k] = (unsigned char)(id + s + k);
        ssize_t len = (ssize_t)(8 + blen);
        CHECK_EQ(sendto(fd, &req, (size_t)len, 0, (struct sockaddr *)&udp_server_addr,
                        sizeof udp_server_addr),
                 len);
        /* One request in flight per client: loopback does not drop it. */
        struct udp_req rep;
        struct sockaddr_in from;
        socklen_t flen = sizeof from;
        CHECK_EQ(recvfrom(fd, &rep, sizeof rep, 0, (struct sockaddr *)&from, &flen), len);
        CHECK_EQ(flen, sizeof from);
        CHECK_EQ(from.sin_port, udp_server_addr.sin_port);
        CHECK_EQ(from.sin_addr.s_addr, udp_server_addr.sin_addr.s_addr);
        CHECK_EQ(rep.client, id);
        CHECK_EQ(rep.seq, s);
        for (size_t k = 0; k < blen; k++)
            CHECK_EQ(rep.body[k], (unsigned char)~(unsigned char)(id + s + k));
    }
    CHECK_EQ(close(fd), 0);
    return NULL;
}

/* UDP on 127.0.0.1: replies sent to the address recvfrom gave all reach their blocked client. */
static void test_udp_echo(void)
{
    udp_server_fd = udp_socket(&udp_server_addr);
    pthread_t srv, cl[UDP_CLIENTS];
    CHECK_EQ(pthread_create(&srv, NULL, udp_server_body, NULL), 0);
    for (uintptr_t i = 0; i < UDP_CLIENTS; i++)
        CHECK_EQ(pthread_create(&cl[i], NULL, udp_client_body, (void *)i), 0);
    check_os_threads();
    for (int i = 0; i < UDP_CLIENTS; i++)
        CHECK_EQ(pthread_join(cl[i], NULL), 0);
    CHECK_EQ(pthread_join(srv, NULL), 0);
    CHECK_EQ(close(udp_server_fd), 0);
}

/* ---- recvmmsg / sendmmsg ---- */

#define BATCH 8

static int mm_server_fd;

static void *mmsg_server_body(void *arg)
{
    (void)arg;
    struct mmsghdr mm[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_in from[BATCH];
    char bufs[BATCH][64];
    memset(mm, 0, sizeof mm);
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = sizeof bufs[i];
        mm[i].msg_hdr.msg_iov = &iov[i];
        mm[i].msg_hdr.msg_iovlen = 1;
        mm[i].msg_hdr.msg_name = &from[i];
        mm[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    /* Blocking, no flags: waits until all BATCH datagrams have arrived. */
    int got = 0;
    while (got < BATCH) {
        int n = recvmmsg(mm_server_fd, mm + got, BATCH - got, 0, NULL);
        CHECK(n > 0);
        got += n;
    }
    /* Reply to each with its text upper-cased, to the address it came from. */
    for (int i = 0; i < BATCH; i++) {
        CHECK_EQ(mm[i].msg_hdr.msg_namelen, sizeof from[i]);
        for (unsigned k = 0; k < mm[i].msg_len; k++)
            if (bufs[i][k] >= 'a' && bufs[i][k] <= 'z')
                bufs[i][k] = (char)(bufs[i][k] - 'a' + 'A');
        iov[i].iov_len = mm[i].msg_len;
    }
    int sent = 0;
    while (sent < BATCH) {
        int n = sendmmsg(mm_server_fd, mm + sent, BATCH - sent, 0);
        CHECK(n > 0);
        sent += n;
    }
    return NULL;
}

/* sendmmsg sends 8 datagrams in one call; recvmmsg receives them with lengths and addresses. */
static void test_mmsg(void)
{
    struct sockaddr_in srv_addr, me;
    mm_server_fd = udp_socket(&srv_addr);
    int fd = udp_socket(&me);
    CHECK_EQ(connect(fd, (struct sockaddr *)&srv_addr, sizeof srv_addr), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, mmsg_server_body, NULL), 0);
    sleep_ms(20); /* let the server block in recvmmsg first (not required) */

    struct mmsghdr mm[BATCH];
    struct iovec iov[BATCH];
    char out[BATCH][64], in[BATCH][64];
    memset(mm, 0, sizeof mm);
    for (int i = 0; i < BATCH; i++) {
        int len = snprintf(out[i], sizeof out[i], "datagram %d%.*s", i, i, "xxxxxxxx");
        iov[i].iov_base = out[i];
        iov[i].iov_len = (size_t)len;
        mm[i].msg_hdr.msg_iov = &iov[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    CHECK_EQ(sendmmsg(fd, mm, BATCH, 0), BATCH);
    for (int i = 0; i < BATCH; i++)
        CHECK_EQ(mm[i].msg_len, iov[i].iov_len);

    struct mmsghdr rm[BATCH];
    struct iovec riov[BATCH];
    memset(rm, 0, sizeof rm);
    for (int i = 0; i < BATCH; i++) {
        riov[i].iov_base = in[i];
        riov[i].iov_len = sizeof in[i];
        rm[i].msg_hdr.msg_iov = &riov[i];
        rm[i].msg_hdr.msg_iovlen = 1;
    }
    int got = 0;
    while (got < BATCH) {
        int n = recvmmsg(fd, rm + got, BATCH - got, MSG_WAITFORONE, NULL);
        CHECK(n > 0);
        got += n;
    }
    for (int i = 0; i < BATCH; i++) {
        char want[64];
        int len = snprintf(want, sizeof want, "DATAGRAM %d%.*s", i, i, "XXXXXXXX");
        CHECK_EQ(rm[i].msg_len, len);
        CHECK(memcmp(in[i], want, (size_t)len) == 0);
    }
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(close(fd), 0);
    CHECK_EQ(close(mm_server_fd), 0);
}

/* ---- SCM_RIGHTS ---- */

static void send_fd(int sock, int fd, const char *tag)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = {(void *)tag, strlen(tag)};
    struct msghdr mh = {0};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    CHECK_EQ(sendmsg(sock, &mh, 0), (ssize_t)strlen(tag));
}

/* Receives one descriptor (blocking); returns it, tag text in tag. */
static int recv_fd(int sock, char *tag, size_t taglen, int flags)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {tag, taglen - 1};
    struct msghdr mh = {0};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    ssize_t n = recvmsg(sock, &mh, flags);
    CHECK(n > 0);
    tag[n] = 0;
    CHECK_EQ(mh.msg_flags & MSG_CTRUNC, 0);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    CHECK(c != NULL);
    CHECK_EQ(c->cmsg_level, SOL_SOCKET);
    CHECK_EQ(c->cmsg_type, SCM_RIGHTS);
    CHECK_EQ(c->cmsg_len, CMSG_LEN(sizeof(int)));
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    CHECK(fd >= 0);
    return fd;
}

static int scm_sock[2];

static void *fd_receiver_body(void *arg)
{
    (void)arg;
    char tag[32];
    /* 1: the read end of a pipe; read (blocking) what the sender writes after passing it. */
    int r = recv_fd(scm_sock[1], tag, sizeof tag, 0);
    CHECK(strcmp(tag, "pipe") == 0);
    CHECK_EQ(fcntl(r, F_GETFD) & FD_CLOEXEC, 0);
    CHECK_EQ(fcntl(r, F_GETFL) & O_NONBLOCK, 0);
    char buf[16];
    read_exact(r, buf, 11);
    CHECK(memcmp(buf, "via the fd!", 11) == 0);
    char c;
    CHECK_EQ(read(r, &c, 1), 0);
    CHECK_EQ(close(r), 0);

    /* 2: one end of a socketpair, received with MSG_CMSG_CLOEXEC; answer a request on it. */
    int s = recv_fd(scm_sock[1], tag, sizeof tag, MSG_CMSG_CLOEXEC);
    CHECK(strcmp(tag, "socket") == 0);
    CHECK(fcntl(s, F_GETFD) & FD_CLOEXEC);
    read_exact(s, buf, 4);
    CHECK(memcmp(buf, "ping", 4) == 0);
    write_all(s, "pong", 4);
    CHECK_EQ(close(s), 0);
    return NULL;
}

/* SCM_RIGHTS gives another thread a working, blocking fd for the same file. */
static void test_scm_rights(void)
{
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, scm_sock), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, fd_receiver_body, NULL), 0);

    int p[2];
    CHECK_EQ(pipe(p), 0);
    send_fd(scm_sock[0], p[0], "pipe");
    CHECK_EQ(close(p[0]), 0); /* the receiver's copy keeps the read end open */
    sleep_ms(20);
    write_all(p[1], "via the fd!", 11);
    CHECK_EQ(close(p[1]), 0);

    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    send_fd(scm_sock[0], sv[1], "socket");
    CHECK_EQ(close(sv[1]), 0);
    write_all(sv[0], "ping", 4);
    char buf[4];
    read_exact(sv[0], buf, 4);
    CHECK(memcmp(buf, "pong", 4) == 0);
    CHECK_EQ(read(sv[0], buf, 1), 0); /* the receiver closed the last copy */
    CHECK_EQ(close(sv[0]), 0);

    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(close(scm_sock[0]), 0);
    CHECK_EQ(close(scm_sock[1]), 0);
}

int main(void)
{
    alarm(20);
    test_unix_stream_echo();
    test_unix_abstract_listener();
    test_unix_dgram_paths();
    test_unix_dgram();
    test_unix_seqpacket();
    test_udp_echo();
    test_mmsg();
    test_scm_rights();
    return 0;
}
