/* A blocking open of a FIFO waits for the other end: a reader's open returns once a writer
 * opens (before it writes anything), and a writer's once a reader does; O_NONBLOCK opens do not
 * wait (ENXIO for a writer with no reader).  The descriptors have the flags asked for, and the
 * program's other threads run while an open waits. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipe_util.h"

static char fifo_path[64];
static atomic_int ticks, stop, writer_opened;

static void *ticker(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        sleep_ms(2);
        atomic_fetch_add(&ticks, 1);
    }
    return NULL;
}

/* The status flags of a descriptor, without the O_LARGEFILE that 64-bit opens add. */
static int status_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    CHECK(fl != -1);
    return fl & ~0100000; /* the kernel's O_LARGEFILE (the headers say 0 on 64-bit) */
}

static void *fifo_reader_body(void *arg)
{
    (void)arg;
    int before = atomic_load(&ticks);
    int fd = open(fifo_path, O_RDONLY | O_CLOEXEC); /* blocks until a writer opens */
    CHECK(fd >= 0);
    CHECK(atomic_load(&writer_opened));
    CHECK(atomic_load(&ticks) > before); /* the ticker ran while open waited */
    CHECK_EQ(status_flags(fd), O_RDONLY);
    CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    read_pattern_to_eof(fd, 300000, 8192);
    CHECK_EQ(close(fd), 0);
    return NULL;
}

static void *fifo_writer_body(void *arg)
{
    (void)arg;
    int before = atomic_load(&ticks);
    int fd = open(fifo_path, O_WRONLY | O_APPEND); /* blocks until a reader opens */
    CHECK(fd >= 0);
    CHECK(atomic_load(&ticks) > before);
    CHECK_EQ(status_flags(fd), O_WRONLY | O_APPEND);
    CHECK_EQ(fcntl(fd, F_GETFD), 0);
    struct pattern_writer w = {fd, 200000, 4096, 0};
    pattern_writer_body(&w);
    return NULL;
}

/* FIFO open with O_NONBLOCK: for reading it succeeds at once, for writing (no reader) ENXIO. */
static void test_fifo_nonblocking_open(void)
{
    errno = 0;
    CHECK_EQ(open(fifo_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC), -1);
    CHECK_EQ(errno, ENXIO);
    int nr = open(fifo_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    CHECK(nr >= 0);
    CHECK(has_nonblock(nr));
    CHECK_EQ(close(nr), 0);
}

/* A FIFO open for reading waits for a writer and vice versa; then data flows as in a pipe. */
static void test_fifo_blocking_open(void)
{
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, fifo_reader_body, NULL), 0);
    sleep_ms(50); /* the reader very likely waits in open */
    atomic_store(&writer_opened, 1);
    int fd = open(fifo_path, O_WRONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    check_os_threads();
    /* The reader's open returns now, before any byte is written; its checks run meanwhile. */
    sleep_ms(150);
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
}

/* The FIFO scenarios, on a FIFO in a fresh mkdtemp directory. */
static void test_fifo(void)
{
    char dir[] = "/tmp/plain_pipes_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    snprintf(fifo_path, sizeof fifo_path, "%s/fifo", dir);
    CHECK_EQ(mkfifo(fifo_path, 0600), 0);
    test_fifo_nonblocking_open();
    test_fifo_blocking_open();
    CHECK_EQ(unlink(fifo_path), 0);
    CHECK_EQ(rmdir(dir), 0);
}

int main(void)
{
    alarm(20);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, ticker, NULL), 0);
    test_fifo();
    atomic_store(&stop, 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
    return 0;
}
