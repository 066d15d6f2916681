/* Load generator for memcached's text protocol (epoll, non-blocking, one or more processes).
 *
 *   mc_load PORT CONNS SECONDS [PROCS [VALUE_BYTES]]
 *
 * Opens CONNS connections to 127.0.0.1:PORT, spread over PROCS processes (default 2).  Each
 * connection alternates "set" of its own key with a value that changes every time, and "get" of
 * that key, for SECONDS seconds, and checks every reply byte for byte ("STORED", then the value
 * it stored).  Prints
 *
 *   conns N seconds S ops T ops_per_sec X errors E
 *
 * and exits 0 only when every reply was the expected one.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_VALUE 4096

struct conn {
    int fd;
    int index;
    unsigned long round;  /* even: a set is in flight; odd: a get */
    char want[MAX_VALUE + 128];
    size_t want_len, got;
};

struct result {
    unsigned long ops;
    unsigned long errors;
};

static size_t value_bytes = 32;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void make_value(char *v, int index, unsigned long round)
{
    for (size_t i = 0; i < value_bytes; i++)
        v[i] = (char)('a' + (index * 7 + round * 13 + i) % 26);
}

/* Sends the next request of c and sets what its reply must be; 0, or -1 on error. */
static int send_next(struct conn *c)
{
    char req[MAX_VALUE + 128], value[MAX_VALUE];
    size_t n;
    unsigned long set_round = c->round & ~1ul;
    make_value(value, c->index, set_round);
    if ((c->round & 1) == 0) {
        n = (size_t)snprintf(req, sizeof req, "set k%d 0 0 %zu\r\n", c->index, value_bytes);
        memcpy(req + n, value, value_bytes);
        memcpy(req + n + value_bytes, "\r\n", 2);
        n += value_bytes + 2;
        c->want_len = (size_t)snprintf(c->want, sizeof c->want, "STORED\r\n");
    } else {
        n = (size_t)snprintf(req, sizeof req, "get k%d\r\n", c->index);
        size_t w = (size_t)snprintf(c->want, sizeof c->want, "VALUE k%d 0 %zu\r\n", c->index,
                                    value_bytes);
        memcpy(c->want + w, value, value_bytes);
        memcpy(c->want + w + value_bytes, "\r\nEND\r\n", 7);
        c->want_len = w + value_bytes + 7;
    }
    c->got = 0;
    return write(c->fd, req, n) == (ssize_t)n ? 0 : -1;
}

static void run(int port, int first, int conns, double seconds, struct result *r)
{
    int ep = epoll_create1(0);
    struct conn *cs = calloc((size_t)conns, sizeof *cs);
    if (ep < 0 || !cs) {
        r->errors++;
        return;
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < conns; i++) {
        struct conn *c = &cs[i];
        c->index = first + i;
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
            fprintf(stderr, "mc_load: connect: %s\n", strerror(errno));
            r->errors++;
            return;
        }
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
        if (send_next(c) != 0)
            r->errors++;
    }
    double end = now_s() + seconds;
    struct epoll_event ev[256];
    int stop = 0;
    while (!stop) {
        int n = epoll_wait(ep, ev, 256, 100);
        for (int k = 0; k < n; k++) {
            struct conn *c = ev[k].data.ptr;
            char buf[MAX_VALUE + 128];
            ssize_t got = read(c->fd, buf, c->want_len - c->got);
            if (got <= 0) {
                fprintf(stderr, "mc_load: read: %s\n", got ? strerror(errno) : "end of stream");
                r->errors++;
                stop = 1;
                break;
            }
            if (memcmp(buf, c->want + c->got, (size_t)got) != 0) {
                fprintf(stderr, "mc_load: unexpected reply on connection %d\n", c->index);
                r->errors++;
                stop = 1;
                break;
            }
            c->got += (size_t)got;
            if (c->got < c->want_len)
                continue;
            r->ops++;
            c->round++;
            if (send_next(c) != 0) {
                r->errors++;
                stop = 1;
            }
        }
        if (now_s() >= end)
            stop = 1;
    }
    for (int i = 0; i < conns; i++)
        close(cs[i].fd);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: mc_load PORT CONNS SECONDS [PROCS [VALUE_BYTES]]\n");
        return 2;
    }
    int port = atoi(argv[1]), conns = atoi(argv[2]);
    double seconds = atof(argv[3]);
    int procs = argc > 4 ? atoi(argv[4]) : 2;
    if (argc > 5)
        value_bytes = (size_t)atol(argv[5]);
    if (port <= 0 || conns <= 0 || seconds <= 0 || procs <= 0 || procs > conns ||
        value_bytes == 0 || value_bytes > MAX_VALUE) {
        fprintf(stderr, "mc_load: bad arguments\n");
        return 2;
    }
    struct result *res = mmap(NULL, sizeof *res * (size_t)procs, PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (res == MAP_FAILED)
        return 1;
    double start = now_s();
    for (int p = 0; p < procs; p++) {
        int first = conns * p / procs, last = conns * (p + 1) / procs;
        if (fork() == 0) {
            run(port, first, last - first, seconds, &res[p]);
            _exit(0);
        }
    }
    int status, bad = 0;
    while (wait(&status) > 0)
        bad |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    double took = now_s() - start;
    unsigned long ops = 0, errors = 0;
    for (int p = 0; p < procs; p++) {
        ops += res[p].ops;
        errors += res[p].errors;
    }
    printf("conns %d seconds %.2f ops %lu ops_per_sec %.0f errors %lu\n", conns, took, ops,
           ops / took, errors);
    return errors || bad ? 1 : 0;
}
