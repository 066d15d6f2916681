/* Writes that happen inside the C library, toward a slow reader of a pipe: a flush larger than
 * the pipe (80 KiB in a stream with a 256 KiB buffer) by fflush(NULL) and by exit, wide-character output
 * (fwprintf, fputws, fputwc, fflush) and perror.  The other threads keep running meanwhile (a 5 ms
 * ticker is never late by more than 100 ms, while a write that had to wait for the reader would
 * stop it for 200 ms and more), and every byte arrives, in order.
 *
 * The reader is another process that takes 16 KiB every 200 ms and checks a pattern of letters.
 * For exit's flush a child process writes and exits with its output pending: the parent reads
 * and watches the child's ticker through shared memory. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wchar.h>

#include "plain.h"

enum { CHUNK = 16384, BIG = 80 * 1024, WIDE_PIECE = 1000, BUFFER = 256 * 1024 };
static const double READ_PERIOD = 0.200, MAX_LATE = 0.100;

/* Letters, so that the wide output converts one character to one byte. */
static char pattern_at(size_t i)
{
    return (char)('a' + (i * 13 + (i >> 12)) % 26);
}

struct ticker {
    atomic_int stop;
    atomic_int started;
    _Atomic double last;   /* CLOCK_MONOTONIC of its last tick */
    _Atomic double worst;  /* its worst lateness */
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

static pid_t watched;

static int watched_ended(void)
{
    siginfo_t info = {0};
    CHECK_EQ(waitid(P_PID, (id_t)watched, &info, WEXITED | WNOHANG | WNOWAIT), 0);
    return info.si_pid != 0;
}

/* Reads fd slowly to EOF: first the pattern (total bytes of it), then, if tail is given,
 * exactly tail; returns 0 when all of it came.  With t, also checks before each read, while
 * the watched writer lives, that its ticker ticked lately. */
static int slow_read(int fd, size_t total, const char *tail, struct ticker *t)
{
    char buf[CHUNK];
    size_t off = 0, tail_len = tail ? strlen(tail) : 0;
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
            return off == total + tail_len ? 0 : 2;
        for (ssize_t i = 0; i < n; i++, off++) {
            char want = off < total ? pattern_at(off) : off - total < tail_len ? tail[off - total] : 0;
            if (buf[i] != want) {
                fprintf(stderr, "FAIL: byte %zu is %d, expected %d\n", off, buf[i], want);
                return 1;
            }
        }
    }
}

static pid_t start_reader(int p[2], size_t total, const char *tail)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p[1]);
        _exit(slow_read(p[0], total, tail, NULL));
    }
    close(p[0]);
    return pid;
}

static void fill(char *buf, size_t off, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = pattern_at(off + i);
}

/* A stream with a 256 KiB buffer, BIG bytes written into it (no flush yet). */
static FILE *big_stream(int fd)
{
    FILE *f = fdopen(fd, "w");
    CHECK(f != NULL);
    CHECK_EQ(setvbuf(f, NULL, _IOFBF, BUFFER), 0);
    static char buf[BIG];
    fill(buf, 0, BIG);
    CHECK_EQ(fwrite(buf, 1, BIG, f), BIG);
    return f;
}

/* What each case writes, while the ticker runs. */
enum what { FLUSH_ALL, WIDE, PERROR };

static void write_case(enum what w, int fd)
{
    switch (w) {
    case FLUSH_ALL: {
        FILE *f = big_stream(fd);
        CHECK_EQ(fflush(NULL), 0);
        CHECK_EQ(fclose(f), 0);
        break;
    }
    case WIDE: {
        FILE *f = fdopen(fd, "w");
        CHECK(f != NULL);
        CHECK(fwide(f, 1) > 0);
        wchar_t piece[WIDE_PIECE + 1];
        size_t off = 0;
        for (int k = 0; off < BIG; k++) {
            size_t n = BIG - off < WIDE_PIECE ? BIG - off : WIDE_PIECE;
            for (size_t i = 0; i < n; i++)
                piece[i] = (wchar_t)pattern_at(off + i);
            piece[n] = 0;
            if (k % 3 == 0)
                CHECK_EQ(fwprintf(f, L"%ls", piece), (int)n);
            else if (k % 3 == 1)
                CHECK(fputws(piece, f) >= 0);
            else
                for (size_t i = 0; i < n; i++)
                    CHECK_EQ(fputwc(piece[i], f), (wint_t)piece[i]);
            off += n;
            if (k % 10 == 9)
                CHECK_EQ(fflush(f), 0);
        }
        CHECK_EQ(fclose(f), 0);
        break;
    }
    case PERROR: {
        /* The pipe is filled first: perror's write must then wait for the reader. */
        char buf[BIG];
        fill(buf, 0, BIG);
        int saved = dup(2);
        CHECK(saved >= 0);
        CHECK_EQ(dup2(fd, 2), 2);
        close(fd);
        FILE *f = fdopen(dup(2), "w");
        CHECK(f != NULL);
        CHECK_EQ(setvbuf(f, NULL, _IOFBF, BUFFER), 0);
        CHECK_EQ(fwrite(buf, 1, BIG, f), BIG);
        CHECK_EQ(fclose(f), 0);
        errno = ERANGE;
        perror("perror");
        CHECK_EQ(dup2(saved, 2), 2);
        close(saved);
        break;
    }
    }
}

static const char *tail_of(enum what w)
{
    return w == PERROR ? "perror: Numerical result out of range\n" : NULL;
}

static void keeps_others_running(enum what w, const char *name)
{
    int p[2];
    CHECK_EQ(pipe(p), 0);
    pid_t reader = start_reader(p, BIG, tail_of(w));
    struct ticker t = {0};
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, tick, &t), 0);
    wait_flag(&t.started);
    write_case(w, p[1]);
    atomic_store(&t.stop, 1);
    CHECK_EQ(pthread_join(th, NULL), 0);
    int status;
    CHECK_EQ(waitpid(reader, &status, 0), reader);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "FAIL: %s: the reader did not get every byte (status %d)\n", name, status);
        exit(1);
    }
    if (atomic_load(&t.worst) > MAX_LATE) {
        fprintf(stderr, "FAIL: %s: the ticker was late by %.0f ms\n", name,
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
        pthread_t th;
        CHECK_EQ(pthread_create(&th, NULL, tick, t), 0);
        wait_flag(&t->started);
        big_stream(p[1]);
        exit(0);  /* with BIG bytes pending, more than the pipe holds */
    }
    close(p[1]);
    watched = writer;
    int bad = slow_read(p[0], BIG, NULL, t);
    atomic_store(&t->stop, 1);
    close(p[0]);
    int status;
    CHECK_EQ(waitpid(writer, &status, 0), writer);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ(bad, 0);
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
    keeps_others_running(FLUSH_ALL, "fflush(NULL) of an 80 KiB buffer");
    keeps_others_running(WIDE, "fwprintf, fputws, fputwc");
    keeps_others_running(PERROR, "perror toward a full pipe");
    exit_flush_keeps_others_running();
    puts("stdio_glibc_writes: ok");
    return 0;
}
