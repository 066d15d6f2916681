/* stdio output into a pipe that a slow reader keeps full: fprintf, printf, fputs, puts, fwrite,
 * fputc, putc, putchar, the inline putc_unlocked (fortified build: the _chk forms), fflush and
 * fclose deliver every byte in order, without errors, and the program's other threads keep
 * running while the writer waits for room.  Two threads writing large blocks to one stream do
 * not interleave within a block (fwrite takes the stream's lock for the whole call). */
#define _GNU_SOURCE
#define _FORTIFY_SOURCE 2
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "plain.h"

#define LINES 12000 /* about 1 MiB per phase */

static atomic_int ticks, stop;

static void *ticker(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        sleep_ms(2);
        atomic_fetch_add(&ticks, 1);
    }
    return NULL;
}

/* Line i: a number and a payload of varying length; every 97th line is 9000 bytes long, more
 * than a pipe's stdio buffer, and every 500th op is one 70000-byte block. */
static size_t make_line(int i, char *buf)
{
    int len = i % 97 == 0 ? 9000 : (i * 37) % 160;
    int n = sprintf(buf, "%06d:", i);
    for (int k = 0; k < len; k++)
        buf[n + k] = (char)('a' + (i + k) % 26);
    buf[n + len] = '\n';
    buf[n + len + 1] = '\0';
    return (size_t)n + (size_t)len + 1;
}

static char big[70000];

static void vput(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    CHECK(vfprintf(f, fmt, ap) >= 0);
    va_end(ap);
}

/* The same bytes through stream f, or (to_stdout) through the stdout functions. */
static void emit(FILE *f, int to_stdout)
{
    char line[9100];
    for (int i = 0; i < LINES; i++) {
        size_t len = make_line(i, line);
        if (i % 500 == 250) {
            CHECK_EQ(fwrite(big, 1, sizeof big, f), sizeof big);
            continue;
        }
        switch (i % 7) {
        case 0:
            if (to_stdout)
                CHECK_EQ(printf("%06d:%s", i, line + 7), (int)len);
            else
                CHECK_EQ(fprintf(f, "%06d:%s", i, line + 7), (int)len);
            break;
        case 1:
            if (to_stdout) {
                line[len - 1] = '\0';
                CHECK(puts(line) >= 0);
            } else {
                CHECK(fputs(line, f) >= 0);
            }
            break;
        case 2:
            CHECK_EQ(fwrite(line, 1, len, f), len);
            break;
        case 3:
            for (size_t k = 0; k < len; k++)
                CHECK_EQ(to_stdout ? putchar(line[k]) : fputc(line[k], f), (unsigned char)line[k]);
            break;
        case 4:
            for (size_t k = 0; k < len; k++)
                CHECK_EQ(putc(line[k], f), (unsigned char)line[k]);
            break;
        case 5:
            flockfile(f);
            for (size_t k = 0; k < len; k++)
                CHECK_EQ(putc_unlocked(line[k], f), (unsigned char)line[k]);
            funlockfile(f);
            break;
        default:
            vput(f, "%s", line);
            if (i % 3 == 0)
                CHECK_EQ(fflush(f), 0);
            break;
        }
    }
}

struct reader {
    int fd;
    const char *expect;
    size_t len;
};

/* Reads slowly (a pause after each read keeps the pipe full) and compares with expect. */
static void *slow_reader(void *arg)
{
    struct reader *r = arg;
    char buf[4096];
    size_t off = 0;
    for (;;) {
        ssize_t n = read(r->fd, buf, sizeof buf);
        CHECK(n >= 0);
        if (n == 0)
            break;
        CHECK(off + (size_t)n <= r->len);
        if (memcmp(buf, r->expect + off, (size_t)n) != 0) {
            fprintf(stderr, "FAIL: bytes %zu..%zu differ\n", off, off + (size_t)n);
            exit(1);
        }
        off += (size_t)n;
        sleep_ms(1);
    }
    CHECK_EQ(off, r->len);
    return NULL;
}

/* One phase: the writer (this thread) emits into a pipe while the reader drains it slowly. */
static void phase(int to_stdout)
{
    char *expect = NULL;
    size_t expect_len = 0;
    FILE *mem = open_memstream(&expect, &expect_len);
    CHECK(mem != NULL);
    emit(mem, 0);
    CHECK_EQ(fclose(mem), 0);

    int p[2];
    CHECK_EQ(pipe(p), 0);
    FILE *f;
    int saved_stdout = -1;
    if (to_stdout) {
        saved_stdout = dup(STDOUT_FILENO);
        CHECK(saved_stdout >= 0);
        CHECK_EQ(dup2(p[1], STDOUT_FILENO), STDOUT_FILENO);
        CHECK_EQ(close(p[1]), 0);
        f = stdout;
    } else {
        f = fdopen(p[1], "w");
        CHECK(f != NULL);
    }
    struct reader r = {p[0], expect, expect_len};
    pthread_t rt;
    CHECK_EQ(pthread_create(&rt, NULL, slow_reader, &r), 0);
    int before = atomic_load(&ticks);
    double t0 = now_seconds(CLOCK_MONOTONIC);
    emit(f, to_stdout);
    check_os_threads();
    CHECK(!ferror(f));
    if (to_stdout) {
        CHECK_EQ(fflush(stdout), 0);
        CHECK_EQ(dup2(saved_stdout, STDOUT_FILENO), STDOUT_FILENO); /* the reader sees EOF */
        CHECK_EQ(close(saved_stdout), 0);
    } else {
        CHECK_EQ(fclose(f), 0);
    }
    CHECK_EQ(pthread_join(rt, NULL), 0);
    double secs = now_seconds(CLOCK_MONOTONIC) - t0;
    /* The writer waited for room most of the time: the ticker ran meanwhile. */
    CHECK(secs > 0.1);
    CHECK(atomic_load(&ticks) - before >= 20);
    CHECK_EQ(close(p[0]), 0);
    free(expect);
}

#define BLOCK 20000
#define BLOCKS 24

struct block_writer {
    FILE *f;
    char letter;
};

static void *block_writer_body(void *arg)
{
    struct block_writer *w = arg;
    static char blocks[2][BLOCK];
    char *b = blocks[w->letter == 'B'];
    memset(b, w->letter, BLOCK);
    for (int i = 0; i < BLOCKS; i++)
        CHECK_EQ(fwrite(b, 1, BLOCK, w->f), BLOCK);
    return NULL;
}

/* Reads slowly; every block must be one letter throughout. */
static void *block_reader_body(void *arg)
{
    int fd = *(int *)arg;
    static char buf[BLOCK];
    int count[2] = {0, 0};
    for (;;) {
        size_t got = 0;
        while (got < BLOCK) {
            ssize_t n = read(fd, buf + got, BLOCK - got > 4096 ? 4096 : BLOCK - got);
            CHECK(n >= 0);
            if (n == 0)
                break;
            got += (size_t)n;
            sleep_ms(1);
        }
        if (got == 0)
            break;
        CHECK_EQ(got, BLOCK);
        CHECK(buf[0] == 'A' || buf[0] == 'B');
        for (size_t i = 1; i < BLOCK; i++)
            if (buf[i] != buf[0]) {
                fprintf(stderr, "FAIL: a block of %c has %c at %zu\n", buf[0], buf[i], i);
                exit(1);
            }
        count[buf[0] == 'B']++;
    }
    CHECK_EQ(count[0], BLOCKS);
    CHECK_EQ(count[1], BLOCKS);
    return NULL;
}

static void test_no_interleaving(void)
{
    int p[2];
    CHECK_EQ(pipe(p), 0);
    FILE *f = fdopen(p[1], "w");
    CHECK(f != NULL);
    pthread_t r, a, b;
    struct block_writer wa = {f, 'A'}, wb = {f, 'B'};
    CHECK_EQ(pthread_create(&r, NULL, block_reader_body, &p[0]), 0);
    CHECK_EQ(pthread_create(&a, NULL, block_writer_body, &wa), 0);
    CHECK_EQ(pthread_create(&b, NULL, block_writer_body, &wb), 0);
    CHECK_EQ(pthread_join(a, NULL), 0);
    CHECK_EQ(pthread_join(b, NULL), 0);
    CHECK_EQ(fclose(f), 0);
    CHECK_EQ(pthread_join(r, NULL), 0);
    CHECK_EQ(close(p[0]), 0);
}

int main(void)
{
    alarm(60);
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('A' + (i * 7 + i / 1000) % 26);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, ticker, NULL), 0);
    phase(0);
    phase(1);
    test_no_interleaving();
    atomic_store(&stop, 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
    return 0;
}
