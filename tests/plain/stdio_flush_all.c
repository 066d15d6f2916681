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
#include <stdint.h>

#include "slow_pipe.h"

enum { CHUNK = 4096, PIECE = 3000, TOTAL = 24 * PIECE };
static const double MAX_LATE = 0.100;

static unsigned char pattern_at(size_t i)
{
    return (unsigned char)(i * 13 + (i >> 12));
}

/* Everything the reader should get. */
static const char *expected(void)
{
    static char want[TOTAL];
    for (size_t i = 0; i < TOTAL; i++)
        want[i] = (char)pattern_at(i);
    return want;
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

static void flush_all_keeps_others_running(void)
{
    int p[2];
    CHECK_EQ(pipe(p), 0);
    pid_t reader = start_slow_reader(p, CHUNK, expected(), TOTAL);
    FILE *f = fdopen(p[1], "w");
    CHECK(f != NULL);
    struct ticker t = {0};
    pthread_t th = start_ticker(&t);
    write_all_through(f, 0);
    stop_ticker(&t, th);
    CHECK_EQ(fclose(f), 0);
    reader_got_all(reader, "fflush(NULL)");
    if (atomic_load(&t.worst) > MAX_LATE) {
        fprintf(stderr, "FAIL: fflush(NULL): the ticker was late by %.0f ms\n",
                atomic_load(&t.worst) * 1000);
        exit(1);
    }
}

/* The exit case's writer: the last piece stays pending for exit. */
static void pieces_then_exit(int fd)
{
    FILE *f = fdopen(fd, "w");
    CHECK(f != NULL);
    write_all_through(f, 1);
}

static void exit_flush_keeps_others_running(void)
{
    double worst = exit_flush_lateness(CHUNK, pieces_then_exit, expected(), TOTAL);
    if (worst > MAX_LATE) {
        fprintf(stderr, "FAIL: exit's flush: the ticker was late by %.0f ms\n", worst * 1000);
        exit(1);
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    flush_all_keeps_others_running();
    exit_flush_keeps_others_running();
    puts("stdio_flush_all: ok");
    return 0;
}
