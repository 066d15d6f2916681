/* Helpers shared by pipes.c and fifo_open.c: flag checks and a byte pattern written and
 * verified through a pipe. */
#ifndef PIPE_UTIL_H
#define PIPE_UTIL_H

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plain.h"

static inline unsigned char pattern(size_t i)
{
    return (unsigned char)(i * 29 + (i >> 10) + 3);
}

/* Reads until EOF and checks that exactly `total` pattern bytes came. */
static inline void read_pattern_to_eof(int fd, size_t total, size_t bufsize)
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

static inline void *pattern_writer_body(void *arg)
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

static inline void *pattern_reader_body(void *arg)
{
    struct pattern_reader *r = arg;
    read_pattern_to_eof(r->fd, r->total, r->bufsize);
    return NULL;
}

#endif
