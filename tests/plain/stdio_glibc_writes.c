/* Writes that happen inside the C library, toward a slow reader of a pipe: a flush larger than
 * the pipe (80 KiB in a stream with a 256 KiB buffer) by fflush(NULL) and by exit,
 * wide-character output (fwprintf, fputws, fputwc, fflush; in the C locale, and in UTF-8 with
 * characters of several bytes) and perror.  The other threads keep running meanwhile (a 5 ms
 * ticker is never late by more than 100 ms, while a write that had to wait for the reader would
 * stop it for 200 ms and more), and every byte arrives, in order.
 *
 * The reader is another process that takes 16 KiB every 200 ms and checks a pattern of letters.
 * For exit's flush a child process writes and exits with its output pending: the parent reads
 * and watches the child's ticker through shared memory. */
#define _GNU_SOURCE
#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <wchar.h>

#include "slow_pipe.h"

enum { CHUNK = 16384, BIG = 80 * 1024, WIDE_PIECE = 1000, BUFFER = 256 * 1024 };
static const double MAX_LATE = 0.100;

/* Letters, so that the wide output converts one character to one byte. */
static char pattern_at(size_t i)
{
    return (char)('a' + (i * 13 + (i >> 12)) % 26);
}

/* The wide characters the wide cases write: the letters, and in UTF-8 every seventh one a
 * letter of two bytes or three (the byte count then differs from the character count). */
static wchar_t wide_at(size_t i, int utf8)
{
    static const wchar_t others[] = {L'\u00e9', L'\u0416', L'\u20ac'};
    return utf8 && i % 7 == 6 ? others[i % 3] : (wchar_t)pattern_at(i);
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
enum what { FLUSH_ALL, WIDE, WIDE_UTF8, PERROR };

/* Wide output of BIG characters: fwprintf, fputws and fputwc in turn, an fflush now and then.
 * In UTF-8 the stream takes its orientation (and so its conversion) in the C.UTF-8 locale. */
static void write_wide(int fd, int utf8)
{
    if (utf8)
        CHECK(setlocale(LC_CTYPE, "C.UTF-8") != NULL);
    FILE *f = fdopen(fd, "w");
    CHECK(f != NULL);
    CHECK(fwide(f, 1) > 0);
    if (utf8)
        CHECK(setlocale(LC_CTYPE, "C") != NULL);
    wchar_t piece[WIDE_PIECE + 1];
    size_t off = 0;
    for (int k = 0; off < BIG; k++) {
        size_t n = BIG - off < WIDE_PIECE ? BIG - off : WIDE_PIECE;
        for (size_t i = 0; i < n; i++)
            piece[i] = wide_at(off + i, utf8);
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
}

static void write_case(enum what w, int fd)
{
    switch (w) {
    case FLUSH_ALL: {
        FILE *f = big_stream(fd);
        CHECK_EQ(fflush(NULL), 0);
        CHECK_EQ(fclose(f), 0);
        break;
    }
    case WIDE:
    case WIDE_UTF8:
        write_wide(fd, w == WIDE_UTF8);
        break;
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

/* The bytes a case writes (into a buffer of its own), and their count. */
static const char *expected(enum what w, size_t *len)
{
    static char want[3 * BIG + 64];
    size_t n = 0;
    for (size_t i = 0; i < BIG; i++) {
        uint32_t c = (uint32_t)wide_at(i, w == WIDE_UTF8);
        if (c < 0x80) {
            want[n++] = (char)c;
        } else if (c < 0x800) {
            want[n++] = (char)(0xc0 | c >> 6);
            want[n++] = (char)(0x80 | (c & 0x3f));
        } else {
            want[n++] = (char)(0xe0 | c >> 12);
            want[n++] = (char)(0x80 | (c >> 6 & 0x3f));
            want[n++] = (char)(0x80 | (c & 0x3f));
        }
    }
    if (w == PERROR) {
        const char *tail = "perror: Numerical result out of range\n";
        memcpy(want + n, tail, strlen(tail));
        n += strlen(tail);
    }
    *len = n;
    return want;
}

static void keeps_others_running(enum what w, const char *name)
{
    int p[2];
    CHECK_EQ(pipe(p), 0);
    size_t len;
    const char *want = expected(w, &len);
    pid_t reader = start_slow_reader(p, CHUNK, want, len);
    struct ticker t = {0};
    pthread_t th = start_ticker(&t);
    write_case(w, p[1]);
    stop_ticker(&t, th);
    reader_got_all(reader, name);
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
        start_ticker(t);
        big_stream(p[1]);
        exit(0);  /* with BIG bytes pending, more than the pipe holds */
    }
    close(p[1]);
    size_t len;
    const char *want = expected(FLUSH_ALL, &len);
    int bad = slow_read(p[0], CHUNK, want, len, t, writer);
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
    keeps_others_running(WIDE_UTF8, "fwprintf, fputws, fputwc in UTF-8");
    keeps_others_running(PERROR, "perror toward a full pipe");
    exit_flush_keeps_others_running();
    puts("stdio_glibc_writes: ok");
    return 0;
}
