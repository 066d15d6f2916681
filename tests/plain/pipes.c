/* Pipes, FIFOs, eventfd and timerfd between threads, and a pipe/socketpair connected to an
 * exec'd program: data integrity, O_CLOEXEC / O_NONBLOCK flags, EAGAIN, EPIPE, EOF, dup*,
 * blocking FIFO opens, and blocking reads of eventfd and timerfd. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plain.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int has_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    CHECK(fl != -1);
    return (fl & O_NONBLOCK) != 0;
}

static int has_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    CHECK(fl != -1);
    return (fl & FD_CLOEXEC) != 0;
}

static void write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        CHECK(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

static unsigned char pattern(size_t i)
{
    return (unsigned char)(i * 29 + (i >> 10) + 3);
}

/* Reads until EOF and checks that exactly `total` pattern bytes came. */
static void read_pattern_to_eof(int fd, size_t total, size_t bufsize)
{
    unsigned char *buf = malloc(bufsize);
    CHECK(buf != NULL);
    size_t off = 0;
    for (;;) {
        ssize_t n = read(fd, buf, bufsize);
        CHECK(n >= 0);
        if (n == 0)
            break;
        CHECK(off + (size_t)n <= total);
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != pattern(off + (size_t)i)) {
                fprintf(stderr, "FAIL: byte %zu is %d, expected %d\n", off + (size_t)i, buf[i],
                        pattern(off + (size_t)i));
                exit(1);
            }
        off += (size_t)n;
    }
    CHECK_EQ(off, total);
    free(buf);
}

/* Writes `total` pattern bytes in writes of `chunk` bytes, then closes fd. */
struct pattern_writer {
    int fd;
    size_t total, chunk;
    int shutdown_instead; /* for a socket: shutdown(SHUT_WR) instead of close */
};

static void *pattern_writer_body(void *arg)
{
    struct pattern_writer *w = arg;
    unsigned char *buf = malloc(w->chunk);
    CHECK(buf != NULL);
    for (size_t off = 0; off < w->total; off += w->chunk) {
        size_t len = w->total - off < w->chunk ? w->total - off : w->chunk;
        for (size_t i = 0; i < len; i++)
            buf[i] = pattern(off + i);
        write_all(w->fd, buf, len);
    }
    free(buf);
    if (w->shutdown_instead)
        CHECK_EQ(shutdown(w->fd, SHUT_WR), 0);
    else
        CHECK_EQ(close(w->fd), 0);
    return NULL;
}

struct pattern_reader {
    int fd;
    size_t total, bufsize;
};

static void *pattern_reader_body(void *arg)
{
    struct pattern_reader *r = arg;
    read_pattern_to_eof(r->fd, r->total, r->bufsize);
    return NULL;
}

/* A pipe carries 4 MiB written in 100-byte writes by one thread to another thread's 256 KiB
 * reads, in order and intact; closing the write end gives the reader EOF. */
static void test_pipe_stream(void)
{
    int p[2];
    CHECK_EQ(pipe(p), 0);
    pthread_t tw, tr;
    struct pattern_writer w = {p[1], 4 << 20, 100, 0};
    struct pattern_reader r = {p[0], 4 << 20, 256 << 10};
    CHECK_EQ(pthread_create(&tr, NULL, pattern_reader_body, &r), 0);
    CHECK_EQ(pthread_create(&tw, NULL, pattern_writer_body, &w), 0);
    check_os_threads();
    CHECK_EQ(pthread_join(tw, NULL), 0);
    CHECK_EQ(pthread_join(tr, NULL), 0);
    CHECK_EQ(close(p[0]), 0);
}

/* pipe() gives blocking ends without FD_CLOEXEC; pipe2(O_CLOEXEC) sets FD_CLOEXEC on both;
 * pipe2(O_NONBLOCK) sets O_NONBLOCK on both; the access modes are read-only and write-only. */
static void test_pipe2_flags(void)
{
    int p[2];
    CHECK_EQ(pipe(p), 0);
    for (int i = 0; i < 2; i++) {
        CHECK(!has_cloexec(p[i]));
        CHECK(!has_nonblock(p[i]));
        CHECK_EQ(close(p[i]), 0);
    }
    CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
    CHECK_EQ(fcntl(p[0], F_GETFL) & O_ACCMODE, O_RDONLY);
    CHECK_EQ(fcntl(p[1], F_GETFL) & O_ACCMODE, O_WRONLY);
    for (int i = 0; i < 2; i++) {
        CHECK(has_cloexec(p[i]));
        CHECK(!has_nonblock(p[i]));
        CHECK_EQ(close(p[i]), 0);
    }
    CHECK_EQ(pipe2(p, O_NONBLOCK), 0);
    for (int i = 0; i < 2; i++) {
        CHECK(!has_cloexec(p[i]));
        CHECK(has_nonblock(p[i]));
        CHECK_EQ(close(p[i]), 0);
    }
    errno = 0;
    CHECK_EQ(pipe2(p, 0x40000000), -1); /* an unknown flag */
    CHECK_EQ(errno, EINVAL);
}

/* A non-blocking pipe: read when empty fails with EAGAIN at once; writes fill it (at least
 * PIPE_BUF bytes) and then fail with EAGAIN; after draining, a write succeeds again. */
static void test_pipe_nonblock(void)
{
    int p[2];
    CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    char buf[4096];
    double start = now_seconds(CLOCK_MONOTONIC);
    errno = 0;
    CHECK_EQ(read(p[0], buf, sizeof buf), -1);
    CHECK(errno == EAGAIN || errno == EWOULDBLOCK);

    memset(buf, 'z', sizeof buf);
    size_t total = 0;
    for (;;) {
        ssize_t n = write(p[1], buf, sizeof buf);
        if (n < 0) {
            CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
            break;
        }
        CHECK(n > 0);
        total += (size_t)n;
        CHECK(total <= (size_t)64 << 20);
    }
    CHECK(total >= 4096);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start < 2.0);

    size_t drained = 0;
    for (;;) {
        ssize_t n = read(p[0], buf, sizeof buf);
        if (n < 0) {
            CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
            break;
        }
        CHECK(n > 0);
        drained += (size_t)n;
    }
    CHECK_EQ(drained, total);
    CHECK_EQ(write(p[1], "a", 1), 1);
    CHECK_EQ(close(p[0]), 0);
    CHECK_EQ(close(p[1]), 0);
}

static void *write_1mib_body(void *arg)
{
    int fd = *(int *)arg;
    size_t len = 1 << 20;
    char *buf = calloc(1, len);
    CHECK(buf != NULL);
    /* Fills the pipe, then blocks until the reader closes: some bytes went in, so the call
     * returns that partial count (or -1/EPIPE had none gone in). */
    errno = 0;
    ssize_t n = write(fd, buf, len);
    CHECK(n > 0 ? (size_t)n < len : errno == EPIPE);
    errno = 0;
    CHECK_EQ(write(fd, buf, len), -1);
    CHECK_EQ(errno, EPIPE);
    free(buf);
    return NULL;
}

/* Write to a pipe whose read end is closed: -1/EPIPE (SIGPIPE is ignored in this test so that
 * the error is reported instead of the process being killed).  A writer blocked on a full pipe
 * is woken when the last reader closes.  Read from a pipe whose write ends are all closed: 0,
 * also for a reader that was blocked when the last writer closed. */
static void test_pipe_epipe_eof(void)
{
    struct sigaction ign = {0}, old;
    ign.sa_handler = SIG_IGN;
    CHECK_EQ(sigaction(SIGPIPE, &ign, &old), 0);

    int p[2];
    CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
    CHECK_EQ(close(p[0]), 0);
    errno = 0;
    CHECK_EQ(write(p[1], "x", 1), -1);
    CHECK_EQ(errno, EPIPE);
    CHECK_EQ(close(p[1]), 0);

    CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, write_1mib_body, &p[1]), 0);
    sleep_ms(50); /* the writer very likely filled the pipe and is blocked */
    CHECK_EQ(close(p[0]), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(close(p[1]), 0);

    CHECK_EQ(sigaction(SIGPIPE, &old, NULL), 0);

    CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
    CHECK_EQ(close(p[1]), 0);
    char c;
    CHECK_EQ(read(p[0], &c, 1), 0);
    CHECK_EQ(close(p[0]), 0);

    CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
    struct pattern_reader r = {p[0], 0, 16};
    CHECK_EQ(pthread_create(&t, NULL, pattern_reader_body, &r), 0);
    sleep_ms(30);
    CHECK_EQ(close(p[1]), 0); /* wakes the blocked reader with EOF */
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(close(p[0]), 0);
}

/* dup, dup2 and dup3 give new descriptors for the same pipe ends: data written through a
 * duplicate is read through another one (by another thread), and the pipe stays open while
 * any duplicate of the write end exists.  FD_CLOEXEC is per descriptor: dup and dup2 clear it,
 * dup3(O_CLOEXEC) sets it; dup3 with equal descriptors is EINVAL, dup2 with equal ones is a
 * no-op. */
static void test_dup(void)
{
    int p[2];
    CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
    int r2 = dup(p[0]);
    CHECK(r2 >= 0 && r2 != p[0]);
    CHECK(!has_cloexec(r2));
    int w2 = fcntl(p[1], F_DUPFD, 100);
    CHECK(w2 >= 100);
    int w3 = dup2(p[1], w2 + 1);
    CHECK_EQ(w3, w2 + 1);
    CHECK(!has_cloexec(w3));
    int r3 = dup3(p[0], w2 + 2, O_CLOEXEC);
    CHECK_EQ(r3, w2 + 2);
    CHECK(has_cloexec(r3));
    errno = 0;
    CHECK_EQ(dup3(r3, r3, O_CLOEXEC), -1);
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(dup2(r3, r3), r3);

    CHECK_EQ(close(p[0]), 0);
    CHECK_EQ(close(p[1]), 0);

    /* Two write-end descriptors remain (w2, w3): the reader thread sees EOF only once both
     * are closed. */
    pthread_t t;
    struct pattern_reader r = {r3, 200000, 4096};
    CHECK_EQ(pthread_create(&t, NULL, pattern_reader_body, &r), 0);
    struct pattern_writer w = {w2, 100000, 1000, 0};
    pattern_writer_body(&w); /* writes the first half and closes w2 */
    unsigned char buf[1000];
    for (size_t off = 100000; off < 200000; off += sizeof buf) {
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = pattern(off + i);
        write_all(w3, buf, sizeof buf);
    }
    CHECK_EQ(close(w3), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    char c;
    CHECK_EQ(read(r2, &c, 1), 0); /* r2 is the same read end */
    CHECK_EQ(close(r2), 0);
    CHECK_EQ(close(r3), 0);
}

static char fifo_path[64];

static void *fifo_reader_body(void *arg)
{
    (void)arg;
    int fd = open(fifo_path, O_RDONLY | O_CLOEXEC); /* blocks until a writer opens */
    CHECK(fd >= 0);
    CHECK(!has_nonblock(fd));
    read_pattern_to_eof(fd, 300000, 8192);
    CHECK_EQ(close(fd), 0);
    return NULL;
}

static void *fifo_writer_body(void *arg)
{
    (void)arg;
    int fd = open(fifo_path, O_WRONLY | O_CLOEXEC); /* blocks until a reader opens */
    CHECK(fd >= 0);
    CHECK(!has_nonblock(fd));
    struct pattern_writer w = {fd, 200000, 4096, 0};
    pattern_writer_body(&w);
    return NULL;
}

/* A FIFO: opening it for reading blocks until a writer opens it and vice versa (each in its own
 * thread); then data passes as through a pipe, with EOF when the writer closes.  Non-blocking:
 * a read-only open succeeds at once, a write-only open with no reader fails with ENXIO. */
static void test_fifo(void)
{
    char dir[] = "/tmp/plain_pipes_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    snprintf(fifo_path, sizeof fifo_path, "%s/fifo", dir);
    CHECK_EQ(mkfifo(fifo_path, 0600), 0);

    errno = 0;
    CHECK_EQ(open(fifo_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC), -1);
    CHECK_EQ(errno, ENXIO);
    int nr = open(fifo_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    CHECK(nr >= 0);
    CHECK_EQ(close(nr), 0);

    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, fifo_reader_body, NULL), 0);
    sleep_ms(50); /* the reader very likely waits in open */
    int fd = open(fifo_path, O_WRONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    struct pattern_writer w = {fd, 300000, 777, 0};
    pattern_writer_body(&w);
    CHECK_EQ(pthread_join(t, NULL), 0);

    /* The other order: the writer waits in open until the reader comes. */
    CHECK_EQ(pthread_create(&t, NULL, fifo_writer_body, NULL), 0);
    sleep_ms(50); /* the writer very likely waits in open */
    fd = open(fifo_path, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    read_pattern_to_eof(fd, 200000, 5000);
    CHECK_EQ(close(fd), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);

    CHECK_EQ(unlink(fifo_path), 0);
    CHECK_EQ(rmdir(dir), 0);
}

static int efd;

static void *eventfd_writer_body(void *arg)
{
    (void)arg;
    sleep_ms(50);
    uint64_t v = 5;
    CHECK_EQ(write(efd, &v, sizeof v), 8);
    for (int i = 0; i < 3; i++) {
        sleep_ms(10);
        v = 10;
        CHECK_EQ(write(efd, &v, sizeof v), 8);
    }
    return NULL;
}

/* eventfd: a read blocks while the counter is 0 and returns the counter (then 0) once another
 * thread adds to it; with EFD_NONBLOCK a read of a zero counter is EAGAIN; a read buffer under
 * 8 bytes is EINVAL. */
static void test_eventfd(void)
{
    efd = eventfd(0, EFD_CLOEXEC);
    CHECK(efd >= 0);
    CHECK(!has_nonblock(efd));
    pthread_t t;
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(pthread_create(&t, NULL, eventfd_writer_body, NULL), 0);
    uint64_t v = 0;
    CHECK_EQ(read(efd, &v, sizeof v), 8);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start >= 0.045);
    CHECK_EQ(v, 5);
    uint64_t sum = 0;
    while (sum < 30) {
        CHECK_EQ(read(efd, &v, sizeof v), 8);
        CHECK(v > 0 && v % 10 == 0);
        sum += v;
    }
    CHECK_EQ(sum, 30);
    CHECK_EQ(pthread_join(t, NULL), 0);
    char small[4];
    errno = 0;
    CHECK_EQ(read(efd, small, sizeof small), -1);
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(close(efd), 0);

    int nb = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    CHECK(nb >= 0);
    CHECK(has_nonblock(nb));
    errno = 0;
    CHECK_EQ(read(nb, &v, sizeof v), -1);
    CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
    v = 3;
    CHECK_EQ(write(nb, &v, sizeof v), 8);
    CHECK_EQ(eventfd_read(nb, &v), 0);
    CHECK_EQ(v, 3);
    CHECK_EQ(close(nb), 0);
}

static void *timerfd_reader_body(void *arg)
{
    int tfd = *(int *)arg;
    uint64_t n = 0;
    CHECK_EQ(read(tfd, &n, sizeof n), 8);
    CHECK(n >= 1);
    return (void *)(uintptr_t)n;
}

/* timerfd: a blocking read returns (with the expiration count, >= 1) only once the timer has
 * fired, never before the programmed interval; also while other threads run. */
static void test_timerfd(void)
{
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    CHECK(tfd >= 0);
    CHECK(!has_nonblock(tfd));
    struct itimerspec its = {{0, 0}, {0, 100 * 1000000L}};
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(timerfd_settime(tfd, 0, &its, NULL), 0);
    uint64_t n = 0;
    CHECK_EQ(read(tfd, &n, sizeof n), 8);
    double took = now_seconds(CLOCK_MONOTONIC) - start;
    CHECK_EQ(n, 1);
    CHECK(took >= 0.100);
    CHECK(took < 5.0);

    /* In a thread, with a periodic timer (first after 60 ms, then every 20 ms), while main
     * waits to join it; later reads count the periods missed meanwhile. */
    struct itimerspec per = {{0, 20 * 1000000L}, {0, 60 * 1000000L}};
    start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(timerfd_settime(tfd, 0, &per, NULL), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, timerfd_reader_body, &tfd), 0);
    void *res;
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start >= 0.060);
    CHECK((uintptr_t)res >= 1);
    sleep_ms(70); /* at least 3 more periods */
    CHECK_EQ(read(tfd, &n, sizeof n), 8);
    CHECK(n >= 3);
    struct itimerspec off = {{0, 0}, {0, 0}};
    CHECK_EQ(timerfd_settime(tfd, 0, &off, NULL), 0);
    CHECK_EQ(close(tfd), 0);
}

/* Forks `cat` with in_fd as its stdin and out_fd as its stdout; the child checks that its
 * stdin and stdout are blocking before it execs (exit status 3 otherwise). */
static pid_t spawn_cat(int in_fd, int out_fd)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (dup2(in_fd, 0) != 0 || dup2(out_fd, 1) != 1)
            _exit(2);
        int fl0 = fcntl(0, F_GETFL), fl1 = fcntl(1, F_GETFL);
        if (fl0 == -1 || (fl0 & O_NONBLOCK) || fl1 == -1 || (fl1 & O_NONBLOCK))
            _exit(3);
        execlp("cat", "cat", (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void wait_cat(pid_t pid)
{
    int status;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "FAIL: cat: %s %d%s\n", WIFEXITED(status) ? "exit status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                WIFEXITED(status) && WEXITSTATUS(status) == 3 ? " (O_NONBLOCK on its stdio)"
                                                              : "");
        exit(1);
    }
}

#define CAT_BYTES (1 << 20)

/* An exec'd `cat` copies 1 MiB intact between pipes while one thread of ours writes and
 * another reads (and the child's stdin and stdout are blocking); then the same with one end of
 * a socketpair as both its stdin and stdout. */
static void test_exec_cat(void)
{
    /* All with O_CLOEXEC: the child keeps only what dup2 put on 0 and 1. */
    int to_cat[2], from_cat[2];
    CHECK_EQ(pipe2(to_cat, O_CLOEXEC), 0);
    CHECK_EQ(pipe2(from_cat, O_CLOEXEC), 0);
    pid_t pid = spawn_cat(to_cat[0], from_cat[1]);
    CHECK_EQ(close(to_cat[0]), 0);
    CHECK_EQ(close(from_cat[1]), 0);
    pthread_t tw, tr;
    struct pattern_writer w = {to_cat[1], CAT_BYTES, 3000, 0};
    struct pattern_reader r = {from_cat[0], CAT_BYTES, 65536};
    CHECK_EQ(pthread_create(&tw, NULL, pattern_writer_body, &w), 0);
    CHECK_EQ(pthread_create(&tr, NULL, pattern_reader_body, &r), 0);
    CHECK_EQ(pthread_join(tw, NULL), 0);
    CHECK_EQ(pthread_join(tr, NULL), 0);
    CHECK_EQ(close(from_cat[0]), 0);
    wait_cat(pid);

    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    pid = spawn_cat(sv[1], sv[1]);
    CHECK_EQ(close(sv[1]), 0);
    struct pattern_writer sw = {sv[0], CAT_BYTES, 5000, 1};
    struct pattern_reader sr = {sv[0], CAT_BYTES, 32768};
    CHECK_EQ(pthread_create(&tw, NULL, pattern_writer_body, &sw), 0);
    CHECK_EQ(pthread_create(&tr, NULL, pattern_reader_body, &sr), 0);
    CHECK_EQ(pthread_join(tw, NULL), 0);
    CHECK_EQ(pthread_join(tr, NULL), 0);
    CHECK_EQ(close(sv[0]), 0);
    wait_cat(pid);
}

int main(void)
{
    alarm(20);
    test_pipe_stream();
    test_pipe2_flags();
    test_pipe_nonblock();
    test_pipe_epipe_eof();
    test_dup();
    test_fifo();
    test_eventfd();
    test_timerfd();
    test_exec_cat();
    return 0;
}
