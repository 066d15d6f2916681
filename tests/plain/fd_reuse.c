/* Blocking reads on descriptor numbers that are closed and reused while other threads wait,
 * on descriptions that outlive their number (dup), and across fork.  Each read must return
 * the data of the file its descriptor names now, and nothing else:
 *
 *   1. a thread reads fd N (socket A), so an event loop would register N; N is closed while a
 *      dup of A stays open, and another thread makes socket B, which gets the number N;
 *   2. a thread blocks reading N (now B) while A gets data: it must go on waiting (A's data is
 *      read through the dup), then get B's data;
 *   3. dup2 puts A back under the number N: a reader of N gets A's next data;
 *   4. fork: the child reads, in a thread, a pipe the parent read before the fork (and still
 *      waits on in another thread meanwhile); each process gets the data written for it.
 *
 * Every wait is bounded by alarm(): a lost wake-up fails the test by SIGALRM. */
#include <pthread.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plain.h"

struct reader {
    int fd;
    char got;
    volatile int done;
};

static void *read_one(void *arg)
{
    struct reader *r = arg;
    CHECK_EQ(read(r->fd, &r->got, 1), 1);
    r->done = 1;
    return NULL;
}

static void start(pthread_t *t, struct reader *r, int fd)
{
    r->fd = fd;
    r->got = 0;
    r->done = 0;
    CHECK_EQ(pthread_create(t, NULL, read_one, r), 0);
    usleep(50 * 1000); /* let it block */
}

static int reused_fd;

/* Makes socket B under the number N (the lowest free one, or moved there). */
static void *make_b(void *arg)
{
    int *b = arg;
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
    if (b[0] != reused_fd) {
        CHECK_EQ(dup2(b[0], reused_fd), reused_fd);
        CHECK_EQ(close(b[0]), 0);
        b[0] = reused_fd;
    }
    return NULL;
}

int main(void)
{
    alarm(20);
    int a[2], b[2];
    pthread_t t;
    struct reader r;

    /* 1. fd N is socket A, read once by a thread; then closed with a dup of A left. */
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
    start(&t, &r, a[0]);
    CHECK_EQ(write(a[1], "1", 1), 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(r.got, '1');
    int n = a[0];
    int dup_a = dup(a[0]);
    CHECK(dup_a >= 0);
    CHECK_EQ(close(a[0]), 0);
    reused_fd = n;
    CHECK_EQ(pthread_create(&t, NULL, make_b, b), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(b[0], n);

    /* 2. A reader of N (B) is not woken by A's data, and gets B's. */
    start(&t, &r, n);
    CHECK_EQ(write(a[1], "2", 1), 1);
    usleep(100 * 1000);
    CHECK_EQ(r.done, 0);
    char c = 0;
    CHECK_EQ(read(dup_a, &c, 1), 1);
    CHECK_EQ(c, '2');
    CHECK_EQ(r.done, 0);
    CHECK_EQ(write(b[1], "B", 1), 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(r.got, 'B');

    /* 3. A is back under N. */
    CHECK_EQ(dup2(dup_a, n), n);
    CHECK_EQ(close(b[1]), 0);
    start(&t, &r, n);
    CHECK_EQ(write(a[1], "3", 1), 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(r.got, '3');

    /* 4. fork: a pipe read before the fork, read again in the child; the parent keeps a
     * reader on another pipe while the child runs. */
    int q[2], p[2];
    CHECK_EQ(pipe(q), 0);
    CHECK_EQ(pipe(p), 0);
    start(&t, &r, q[0]);
    CHECK_EQ(write(q[1], "q", 1), 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(r.got, 'q');
    struct reader pr;
    pthread_t pt;
    start(&pt, &pr, p[0]);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        alarm(10);
        struct reader cr;
        pthread_t ct;
        start(&ct, &cr, q[0]);
        CHECK_EQ(write(q[1], "c", 1), 1);
        CHECK_EQ(pthread_join(ct, NULL), 0);
        _exit(cr.got == 'c' ? 0 : 2);
    }
    int status;
    CHECK_EQ(waitpid(child, &status, 0), child);
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 0);
    CHECK_EQ(pr.done, 0);
    CHECK_EQ(write(p[1], "p", 1), 1);
    CHECK_EQ(pthread_join(pt, NULL), 0);
    CHECK_EQ(pr.got, 'p');
    check_os_threads();
    puts("fd_reuse: ok");
    return 0;
}
