/* Helpers shared by the programs that write toward a slow reader of a pipe (stdio_flush_all.c,
 * stdio_glibc_writes.c, and tests/bench/stdio_late.c): a thread that ticks every 5 ms and
 * records its worst lateness, a reader process that takes a piece every 200 ms and checks
 * every byte against what should come, exit's flush watched from outside, and the writers of
 * letters, narrow and wide. */
#ifndef SLOW_PIPE_H
#define SLOW_PIPE_H

#include <locale.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wchar.h>

#include "plain.h"

static const double TICK_PERIOD = 0.005, READ_PERIOD = 0.200;

/* A ticker's state; in memory shared with the parent when the ticker runs in a child. */
struct ticker {
    atomic_int stop;
    atomic_int started;
    _Atomic double last;   /* CLOCK_MONOTONIC of its last tick */
    _Atomic double worst;  /* its worst lateness, in seconds */
};

/* The ticker thread: sleeps to each 5 ms mark and records how late it woke. */
static inline void *tick(void *arg)
{
    struct ticker *t = arg;
    double next = now_seconds(CLOCK_MONOTONIC);
    atomic_store(&t->last, next);
    atomic_store(&t->started, 1);
    while (!atomic_load(&t->stop)) {
        next += TICK_PERIOD;
        double now = now_seconds(CLOCK_MONOTONIC);
        if (next > now)
            sleep_ms((int)((next - now) * 1000) + 1);
        now = now_seconds(CLOCK_MONOTONIC);
        if (now - next > atomic_load(&t->worst))
            atomic_store(&t->worst, now - next);
        if (now > next + TICK_PERIOD)
            next = now;
        atomic_store(&t->last, now);
    }
    return NULL;
}

/* Starts a ticker thread and waits until it ticks. */
static inline pthread_t start_ticker(struct ticker *t)
{
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, tick, t), 0);
    wait_flag(&t->started);
    return th;
}

static inline void stop_ticker(struct ticker *t, pthread_t th)
{
    atomic_store(&t->stop, 1);
    CHECK_EQ(pthread_join(th, NULL), 0);
}

/* Whether process pid has ended (it stays to be waited for). */
static inline int process_ended(pid_t pid)
{
    siginfo_t info = {0};
    CHECK_EQ(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT), 0);
    return info.si_pid != 0;
}

/* Reads fd slowly to EOF, chunk bytes every 200 ms, and checks that exactly the want_len bytes
 * of want come; returns 0 if they did, else prints why and returns 1.  With t, also checks
 * before each read, while process writer lives, that its ticker t ticked lately (the ticker of
 * a child that cannot report its own lateness: it may be stuck with its whole process). */
static inline int slow_read(int fd, size_t chunk, const char *want, size_t want_len,
                            struct ticker *t, pid_t writer)
{
    char *buf = malloc(chunk);
    CHECK(buf != NULL);
    size_t off = 0;
    int bad = 0;
    for (;;) {
        sleep_ms((int)(READ_PERIOD * 1000));
        if (t && process_ended(writer))
            t = NULL;
        if (t && atomic_load(&t->started)) {
            double late = now_seconds(CLOCK_MONOTONIC) - atomic_load(&t->last) - TICK_PERIOD;
            if (late > atomic_load(&t->worst))
                atomic_store(&t->worst, late);
        }
        ssize_t n = read(fd, buf, chunk);
        CHECK(n >= 0);
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n && !bad; i++, off++)
            if (off >= want_len || buf[i] != want[off]) {
                fprintf(stderr, "FAIL: byte %zu is %d, expected %d\n", off, buf[i],
                        off < want_len ? want[off] : -1);
                bad = 1;
            }
        if (bad)
            break;
    }
    if (!bad && off != want_len) {
        fprintf(stderr, "FAIL: %zu bytes came, %zu expected\n", off, want_len);
        bad = 1;
    }
    free(buf);
    return bad;
}

/* Forks a process that reads p[0] as slow_read does (without a ticker) and exits with its
 * result; closes p[0] here. */
static inline pid_t start_slow_reader(int p[2], size_t chunk, const char *want, size_t want_len)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p[1]);
        _exit(slow_read(p[0], chunk, want, want_len, NULL, 0));
    }
    close(p[0]);
    return pid;
}

/* Waits for the reader and fails unless it got every byte. */
static inline void reader_got_all(pid_t reader, const char *name)
{
    int status;
    CHECK_EQ(waitpid(reader, &status, 0), reader);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "FAIL: %s: the reader did not get every byte (status %d)\n", name, status);
        exit(1);
    }
}

/* Exit's flush toward the slow reader: a writer process starts a ticker, calls
 * write_pending(fd) on the pipe's writing end (which leaves output pending in a stream) and
 * exits, so that exit flushes it; this process reads as slow_read does and watches the writer's ticker (in shared
 * memory).  Returns the ticker's worst lateness (seconds) once the writer exited with status 0
 * and every byte of want came; fails the program otherwise. */
static inline double exit_flush_lateness(size_t chunk, void (*write_pending)(int fd),
                                         const char *want, size_t want_len)
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
        start_ticker(t);
        write_pending(p[1]);
        exit(0);
    }
    close(p[1]);
    int bad = slow_read(p[0], chunk, want, want_len, t, writer);
    atomic_store(&t->stop, 1);
    close(p[0]);
    int status;
    CHECK_EQ(waitpid(writer, &status, 0), writer);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ(bad, 0);
    double worst = atomic_load(&t->worst);
    munmap(t, sizeof *t);
    return worst;
}

/* What the writers write: letters, so that wide output in the C locale converts one
 * character to one byte. */
static inline char letter_at(size_t i)
{
    return (char)('a' + (i * 13 + (i >> 12)) % 26);
}

/* The wide characters: the letters, and in UTF-8 every seventh one a letter of two bytes or
 * three (the byte count then differs from the character count). */
static inline wchar_t wide_letter_at(size_t i, int utf8)
{
    static const wchar_t others[] = {L'\u00e9', L'\u0416', L'\u20ac'};
    return utf8 && i % 7 == 6 ? others[i % 3] : (wchar_t)letter_at(i);
}

static inline void fill_letters(char *buf, size_t off, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = letter_at(off + i);
}

/* A stream on fd with a buffer of size bytes, n letters written into it (no flush yet). */
static inline FILE *big_stream(int fd, size_t n, size_t size)
{
    FILE *f = fdopen(fd, "w");
    CHECK(f != NULL);
    CHECK_EQ(setvbuf(f, NULL, _IOFBF, size), 0);
    char *buf = malloc(n);
    CHECK(buf != NULL);
    fill_letters(buf, 0, n);
    CHECK_EQ(fwrite(buf, 1, n, f), n);
    free(buf);
    return f;
}

/* Wide output of n characters to fd, closed at the end: fwprintf, fputws and fputwc in turn,
 * 1,000 characters each time, an fflush now and then.  In UTF-8 the stream takes its
 * orientation (and so its conversion) in the C.UTF-8 locale. */
static inline void write_wide(int fd, size_t n, int utf8)
{
    enum { PIECE = 1000 };
    if (utf8)
        CHECK(setlocale(LC_CTYPE, "C.UTF-8") != NULL);
    FILE *f = fdopen(fd, "w");
    CHECK(f != NULL);
    CHECK(fwide(f, 1) > 0);
    if (utf8)
        CHECK(setlocale(LC_CTYPE, "C") != NULL);
    wchar_t piece[PIECE + 1];
    size_t off = 0;
    for (int k = 0; off < n; k++) {
        size_t m = n - off < PIECE ? n - off : PIECE;
        for (size_t i = 0; i < m; i++)
            piece[i] = wide_letter_at(off + i, utf8);
        piece[m] = 0;
        if (k % 3 == 0)
            CHECK_EQ(fwprintf(f, L"%ls", piece), (int)m);
        else if (k % 3 == 1)
            CHECK(fputws(piece, f) >= 0);
        else
            for (size_t i = 0; i < m; i++)
                CHECK_EQ(fputwc(piece[i], f), (wint_t)piece[i]);
        off += m;
        if (k % 10 == 9)
            CHECK_EQ(fflush(f), 0);
    }
    CHECK_EQ(fclose(f), 0);
}

/* The bytes of n letters (wide ones in UTF-8 if utf8) and then tail, in a buffer of its own
 * (the previous call's goes), and their count. */
static inline const char *slow_pipe_bytes(size_t n, int utf8, const char *tail, size_t *len)
{
    static char *want;
    free(want);
    want = malloc(3 * n + strlen(tail));
    CHECK(want != NULL);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = (uint32_t)wide_letter_at(i, utf8);
        if (c < 0x80) {
            want[k++] = (char)c;
        } else if (c < 0x800) {
            want[k++] = (char)(0xc0 | c >> 6);
            want[k++] = (char)(0x80 | (c & 0x3f));
        } else {
            want[k++] = (char)(0xe0 | c >> 12);
            want[k++] = (char)(0x80 | (c >> 6 & 0x3f));
            want[k++] = (char)(0x80 | (c & 0x3f));
        }
    }
    memcpy(want + k, tail, strlen(tail));
    *len = k + strlen(tail);
    return want;
}

#endif
