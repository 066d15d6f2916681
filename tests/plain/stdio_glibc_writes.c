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
#include <pthread.h>
#include <stdint.h>

#include "slow_pipe.h"

enum { CHUNK = 16384, BIG = 80 * 1024, BUFFER = 256 * 1024 };
static const double MAX_LATE = 0.100;

/* What each case writes, while the ticker runs. */
enum what { FLUSH_ALL, WIDE, WIDE_UTF8, PERROR };

static void write_case(enum what w, int fd)
{
    switch (w) {
    case FLUSH_ALL: {
        FILE *f = big_stream(fd, BIG, BUFFER);
        CHECK_EQ(fflush(NULL), 0);
        CHECK_EQ(fclose(f), 0);
        break;
    }
    case WIDE:
    case WIDE_UTF8:
        write_wide(fd, BIG, w == WIDE_UTF8);
        break;
    case PERROR: {
        /* The pipe is filled first: perror's write must then wait for the reader. */
        char buf[BIG];
        fill_letters(buf, 0, BIG);
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

/* The bytes a case writes, and their count. */
static const char *expected(enum what w, size_t *len)
{
    return slow_pipe_bytes(BIG, w == WIDE_UTF8,
                           w == PERROR ? "perror: Numerical result out of range\n" : "", len);
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

/* The exit case's writer: BIG bytes pending at exit, more than the pipe holds. */
static void big_then_exit(int fd)
{
    big_stream(fd, BIG, BUFFER);
}

static void exit_flush_keeps_others_running(void)
{
    size_t len;
    const char *want = expected(FLUSH_ALL, &len);
    double worst = exit_flush_lateness(CHUNK, big_then_exit, want, len);
    if (worst > MAX_LATE) {
        fprintf(stderr, "FAIL: exit's flush: the ticker was late by %.0f ms\n", worst * 1000);
        exit(1);
    }
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
