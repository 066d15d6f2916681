/* Pipes, FIFOs, eventfd and timerfd between threads, and a pipe/socketpair connected to an
 * exec'd program: data integrity, O_CLOEXEC / O_NONBLOCK flags, EAGAIN, EPIPE, EOF, dup*,
 * and blocking reads of eventfd and timerfd (blocking FIFO opens: fifo_open.c). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plain.h"

#include "pipe_util.h"

/* A pipe carries 4 MiB of 100-byte writes to another thread's large reads, intact, then EOF. */
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

/* pipe2(O_CLOEXEC), pipe2(O_NONBLOCK) set FD_CLOEXEC, O_NONBLOCK on both ends; pipe neither. */
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

/* An O_NONBLOCK pipe: read when empty and write when full fail with EAGAIN at once. */
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

/* Writing to a pipe with no reader fails with EPIPE, also for a writer blocked on a full pipe. */
static void test_pipe_epipe(void)
{
    /* SIGPIPE ignored in this test: the writes then report EPIPE instead of killing us. */
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
}

/* Reading a pipe with no writer left gives 0 (EOF), also to a reader blocked when it closed. */
static void test_pipe_eof(void)
{
    int p[2];
    CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
    CHECK_EQ(close(p[1]), 0);
    char c;
    CHECK_EQ(read(p[0], &c, 1), 0);
    CHECK_EQ(close(p[0]), 0);

    CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
    pthread_t t;
    struct pattern_reader r = {p[0], 0, 16};
    CHECK_EQ(pthread_create(&t, NULL, pattern_reader_body, &r), 0);
    sleep_ms(30);
    CHECK_EQ(close(p[1]), 0); /* wakes the blocked reader with EOF */
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(close(p[0]), 0);
}

/* dup, dup2 and dup3 give working descriptors for the same pipe ends; FD_CLOEXEC is per fd. */
static void test_dup(void)
{
    int p[2];
    CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
    /* dup and dup2 give descriptors without FD_CLOEXEC, dup3(O_CLOEXEC) one with it; dup3 of
     * a descriptor onto itself is EINVAL, dup2 onto itself a no-op. */
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

/* A blocking eventfd read waits while the counter is 0, then returns it (resetting it to 0). */
static void test_eventfd_blocking(void)
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
    CHECK(v % 10 == 5); /* 5, plus any later adds that came before the read */
    uint64_t sum = v;
    while (sum < 35) {
        CHECK_EQ(read(efd, &v, sizeof v), 8);
        CHECK(v > 0 && v % 10 == 0);
        sum += v;
    }
    CHECK_EQ(sum, 35);
    CHECK_EQ(pthread_join(t, NULL), 0);
    char small[4];
    errno = 0;
    CHECK_EQ(read(efd, small, sizeof small), -1); /* a buffer under 8 bytes */
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(close(efd), 0);
}

/* With EFD_NONBLOCK, reading an eventfd whose counter is 0 fails with EAGAIN at once. */
static void test_eventfd_nonblock(void)
{
    int nb = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    CHECK(nb >= 0);
    CHECK(has_nonblock(nb));
    uint64_t v;
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

static int relay_in[2], relay_out[2];

/* Answers one byte on relay_in with the same byte on relay_out, until EOF. */
static void *relay_body(void *arg)
{
    (void)arg;
    char c;
    ssize_t n;
    while ((n = read(relay_in[0], &c, 1)) == 1)
        CHECK_EQ(write(relay_out[1], &c, 1), 1);
    CHECK_EQ(n, 0);
    return NULL;
}

/* A blocking timerfd read returns the expiration count once the timer fires, never earlier. */
static void test_timerfd_oneshot(void)
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
    CHECK_EQ(close(tfd), 0);
}

/* While a thread waits in a timerfd read, other threads run; re-arming the timer ends the wait. */
static void test_timerfd_others_run(void)
{
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    CHECK(tfd >= 0);
    struct itimerspec far = {{0, 0}, {8, 0}};
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(timerfd_settime(tfd, 0, &far, NULL), 0);
    pthread_t t, relay;
    CHECK_EQ(pthread_create(&t, NULL, timerfd_reader_body, &tfd), 0);
    CHECK_EQ(pipe2(relay_in, O_CLOEXEC), 0);
    CHECK_EQ(pipe2(relay_out, O_CLOEXEC), 0);
    CHECK_EQ(pthread_create(&relay, NULL, relay_body, NULL), 0);
    sleep_ms(30); /* the reader very likely waits in read */
    check_os_threads();
    /* Pipe round trips with the relay thread, meanwhile. */
    for (int i = 0; i < 20; i++) {
        char c = (char)i, back;
        CHECK_EQ(write(relay_in[1], &c, 1), 1);
        CHECK_EQ(read(relay_out[0], &back, 1), 1);
        CHECK_EQ(back, c);
    }
    CHECK_EQ(close(relay_in[1]), 0);
    CHECK_EQ(pthread_join(relay, NULL), 0);
    CHECK_EQ(close(relay_in[0]), 0);
    CHECK_EQ(close(relay_out[0]), 0);
    CHECK_EQ(close(relay_out[1]), 0);
    /* From 8 s to 50 ms from now. */
    struct itimerspec soon = {{0, 0}, {0, 50 * 1000000L}};
    double rearmed = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(timerfd_settime(tfd, 0, &soon, NULL), 0);
    void *res;
    CHECK_EQ(pthread_join(t, &res), 0);
    double end = now_seconds(CLOCK_MONOTONIC);
    CHECK(end - start < 5.0); /* woken by the re-armed timer, not the 8 s one */
    CHECK_EQ((uintptr_t)res, 1);
    CHECK(end - rearmed >= 0.050);
    CHECK_EQ(close(tfd), 0);
}

/* A periodic timerfd's read returns the number of periods elapsed since the last read. */
static void test_timerfd_periodic(void)
{
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    CHECK(tfd >= 0);
    /* First after 60 ms, then every 20 ms. */
    struct itimerspec per = {{0, 20 * 1000000L}, {0, 60 * 1000000L}};
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(timerfd_settime(tfd, 0, &per, NULL), 0);
    uint64_t n = 0;
    CHECK_EQ(read(tfd, &n, sizeof n), 8);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start >= 0.060);
    CHECK(n >= 1);
    sleep_ms(70); /* at least 3 more periods */
    CHECK_EQ(read(tfd, &n, sizeof n), 8);
    CHECK(n >= 3);
    struct itimerspec off = {{0, 0}, {0, 0}};
    CHECK_EQ(timerfd_settime(tfd, 0, &off, NULL), 0);
    CHECK_EQ(close(tfd), 0);
}

static void *read_one_byte_body(void *arg)
{
    char c;
    CHECK_EQ(read(*(int *)arg, &c, 1), 1);
    CHECK_EQ(c, 'w');
    return NULL;
}

/* Has a thread wait in a blocking read on rfd until main writes one byte to wfd, so that the
 * descriptors have been used for blocking I/O by threads before they are handed to a child. */
static void use_blocking(int rfd, int wfd)
{
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, read_one_byte_body, &rfd), 0);
    sleep_ms(20);
    CHECK_EQ(write(wfd, "w", 1), 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
}

/* Forks `cat` with in_fd as its stdin and out_fd as its stdout; the child checks that its
 * stdin and stdout are blocking before it execs, as fcntl reports it (exit status 3
 * otherwise) and as the kernel's open file description has it (exit status 4): that is what
 * the exec'd program will see. */
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
        long k0 = syscall(SYS_fcntl, 0, F_GETFL), k1 = syscall(SYS_fcntl, 1, F_GETFL);
        if (k0 == -1 || (k0 & O_NONBLOCK) || k1 == -1 || (k1 & O_NONBLOCK))
            _exit(4);
        execlp("cat", "cat", (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void wait_cat(pid_t pid)
{
    int status;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return;
    const char *why = "";
    if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
        why = " (fcntl shows O_NONBLOCK on its stdin or stdout)";
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 4)
        why = " (the file of its stdin or stdout has O_NONBLOCK)";
    fprintf(stderr, "FAIL: cat: %s %d%s\n", WIFEXITED(status) ? "exit status" : "signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), why);
    exit(1);
}

#define CAT_BYTES (1 << 20)

/* An exec'd cat copies 1 MiB intact between two pipes (its stdio blocking, as created). */
static void test_exec_cat_pipes(void)
{
    /* All with O_CLOEXEC: the child keeps only what dup2 put on 0 and 1. */
    int to_cat[2], from_cat[2];
    CHECK_EQ(pipe2(to_cat, O_CLOEXEC), 0);
    CHECK_EQ(pipe2(from_cat, O_CLOEXEC), 0);
    use_blocking(to_cat[0], to_cat[1]);
    use_blocking(from_cat[0], from_cat[1]);
    pid_t pid = spawn_cat(to_cat[0], from_cat[1]);
    CHECK_EQ(close(to_cat[0]), 0);
    CHECK_EQ(close(from_cat[1]), 0);
    /* One thread writes, another reads, main waits. */
    pthread_t tw, tr;
    struct pattern_writer w = {to_cat[1], CAT_BYTES, 3000, 0};
    struct pattern_reader r = {from_cat[0], CAT_BYTES, 65536};
    CHECK_EQ(pthread_create(&tw, NULL, pattern_writer_body, &w), 0);
    CHECK_EQ(pthread_create(&tr, NULL, pattern_reader_body, &r), 0);
    CHECK_EQ(pthread_join(tw, NULL), 0);
    CHECK_EQ(pthread_join(tr, NULL), 0);
    CHECK_EQ(close(from_cat[0]), 0);
    wait_cat(pid);
}

/* An exec'd cat with one end of a socketpair as stdin and stdout echoes 1 MiB intact. */
static void test_exec_cat_socketpair(void)
{
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    use_blocking(sv[0], sv[1]);
    use_blocking(sv[1], sv[0]);
    pid_t pid = spawn_cat(sv[1], sv[1]);
    CHECK_EQ(close(sv[1]), 0);
    pthread_t tw, tr;
    struct pattern_writer sw = {sv[0], CAT_BYTES, 5000, 1}; /* ends with shutdown(SHUT_WR) */
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
    test_pipe_epipe();
    test_pipe_eof();
    test_dup();
    test_eventfd_blocking();
    test_eventfd_nonblock();
    test_timerfd_oneshot();
    test_timerfd_others_run();
    test_timerfd_periodic();
    test_exec_cat_pipes();
    test_exec_cat_socketpair();
    return 0;
}
