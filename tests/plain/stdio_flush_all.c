/* fflush(NULL) and the flush at exit, toward a slow reader of a pipe: the other threads keep
 * running meanwhile (a 5 ms ticker is never late by more than 100 ms, while a flush that had to
 * wait for the reader would stop it for up to 200 ms), and every byte arrives, in order.
 *
 * The reader is another process that takes 4 KiB every 200 ms.  The writer writes pieces
 * smaller than the stream's buffer with fwrite, each followed by fflush(NULL); then a child
 * process does the same and calls exit() with the last piece pending: the parent reads and
 * watches the child's ticker through shared memory. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plain.h"

enum { CHUNK = 4096, PIECE = 3000, TOTAL = 24 * PIECE };
static const double READ_PERIOD = 0.200, MAX_LATE = 0.100;

static unsigned char pattern_at(size_t i)
{
    return (unsigned char)(i * 13 + (i >> 12));
}

/* The ticker's state, in memory shared with the parent for the exit case. */
struct ticker {
    atomic_int stop;
    atomic_int started;
    _Atomic double last;      /* CLOCK_MONOTONIC of its last tick */
    _Atomic double worst;     /* its worst lateness */
};

static void *tick(void *arg)
{
    struct ticker *t = arg;
    double next = now_seconds(CLOCK_MONOTONIC);
    atomic_store(&t->last, next);
    atomic_store(&t->started, 1);
    while (!atomic_load(&t->stop)) {
        next += 0.005;
        double now = now_seconds(CLOCK_MONOTONIC);
        if (next > now)
            sleep_ms((int)((next - now) * 1000) + 1);
        now = now_seconds(CLOCK_MONOTONIC);
        if (now - next > atomic_load(&t->worst))
            atomic_store(&t->worst, now - next);
        if (now > next + 0.005)
            next = now;
        atomic_store(&t->last, now);
    }
    return NULL;
}

static pid_t watched;  /* the child process whose ticker slow_read watches */

/* Whether the watched process has ended (it stays to be waited for). */
static int watched_ended(void)
{
    siginfo_t info = {0};
    CHECK_EQ(waitid(P_PID, (id_t)watched, &info, WEXITED | WNOHANG | WNOWAIT), 0);
    return info.si_pid != 0;
}

/* Reads fd slowly to EOF, checking the pattern; returns the byte count.  With t, also checks
 * before each read, while the watched writer lives, that its ticker ticked lately. */
static size_t slow_read(int fd, struct ticker *t)
{
    unsigned char buf[CHUNK];
    size_t off = 0;
    for (;;) {
        sleep_ms((int)(READ_PERIOD * 1000));
        if (t && watched_ended())
            t = NULL;
        if (t && atomic_load(&t->started)) {
            double late = now_seconds(CLOCK_MONOTONIC) - atomic_load(&t->last) - 0.005;
            if (late > atomic_load(&t->worst))
                atomic_store(&t->worst, late);
        }
        ssize_t n = read(fd, buf, sizeof buf);
        CHECK(n >= 0);
        if (n == 0)
            return off;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != pattern_at(off + (size_t)i)) {
                fprintf(stderr, "FAIL: byte %zu is %d, expected %d\n", off + (size_t)i, buf[i],
                        pattern_at(off + (size_t)i));
                exit(1);
            }
        off += (size_t)n;
    }
}

/* Writes the pattern through f in pieces smaller than its buffer, each flushed by fflush(NULL)
 * (unless at_exit: then the last one stays for exit).  Each flush is a write of its own, into a
 * page of the pipe of its own: the pipe is soon full, and each flush must wait for the reader. */
static void write_all_through(FILE *f, int at_exit)
{
    unsigned char buf[PIECE];
    size_t off = 0;
    while (off < TOTAL) {
        size_t n = TOTAL - off < PIECE ? TOTAL - off : PIECE;
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern_at(off + i);
        CHECK_EQ(fwrite(buf, 1, n, f), n);
        off += n;
        if (!at_exit || off < TOTAL)
            CHECK_EQ(fflush(NULL), 0);
    }
}

static pid_t start_reader(int p[2])
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p[1]);
        size_t got = slow_read(p[0], NULL);
        _exit(got == TOTAL ? 0 : 2);
    }
    close(p[0]);
    return pid;
}

static void flush_all_keeps_others_running(void)
{
    int p[2];
    CHECK_EQ(pipe(p), 0);
    pid_t reader = start_reader(p);
    FILE *f = fdopen(p[1], "w");
    CHECK(f != NULL);
    struct ticker t = {0};
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, tick, &t), 0);
    wait_flag(&t.started);
    write_all_through(f, 0);
    atomic_store(&t.stop, 1);
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(fclose(f), 0);
    int status;
    CHECK_EQ(waitpid(reader, &status, 0), reader);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (atomic_load(&t.worst) > MAX_LATE) {
        fprintf(stderr, "FAIL: fflush(NULL): the ticker was late by %.0f ms\n",
                atomic_load(&t.worst) * 1000);
        exit(1);
    }
}

static void exit_flush_keeps_others_running(void)
{
    struct ticker *t = mmap(NULL, sizeof *t, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                            -1, 0);
    CHECK(t != MAP_FAILED);
    memset(t, 0, sizeof *t);
    int p[2];
    CHECK_EQ(pipe(p), 0);
    pid_t writer = fork();
    CHECK(writer >= 0);
    if (writer == 0) {
        close(p[0]);
        FILE *f = fdopen(p[1], "w");
        CHECK(f != NULL);
        pthread_t th;
        CHECK_EQ(pthread_create(&th, NULL, tick, t), 0);
        wait_flag(&t->started);
        write_all_through(f, 1);
        exit(0);  /* with output pending on f, toward a full pipe */
    }
    close(p[1]);
    watched = writer;
    size_t got = slow_read(p[0], t);
    atomic_store(&t->stop, 1);
    close(p[0]);
    int status;
    CHECK_EQ(waitpid(writer, &status, 0), writer);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ(got, TOTAL);
    if (atomic_load(&t->worst) > MAX_LATE) {
        fprintf(stderr, "FAIL: exit's flush: the ticker was late by %.0f ms\n",
                atomic_load(&t->worst) * 1000);
        exit(1);
    }
    munmap(t, sizeof *t);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    flush_all_keeps_others_running();
    exit_flush_keeps_others_running();
    puts("stdio_flush_all: ok");
    return 0;
}
