/* Helpers shared by the plain test programs.
 *
 * A plain test program knows nothing of libgreen: it asserts what POSIX and glibc promise, and
 * must pass with real threads and under libgreen alike.  The runner may set one variable:
 *
 *   TEST_MAX_OS_THREADS=N   the program samples the OS threads of its process (entries of
 *                           /proc/self/task) at its point of peak concurrency, and fails if there
 *                           are more than N.  Under libgreen the runner sets it to 2.
 *
 * Every failure prints one line "FAIL: file:line: what" on stderr and exits with status 1.
 */
#ifndef PLAIN_H
#define PLAIN_H

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "FAIL: %s:%d: %s\n", __FILE__, __LINE__, #cond);          \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

/* An integer comparison that prints both sides when it fails. */
#define CHECK_EQ(a, b)                                                                \
    do {                                                                              \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);               \
        if (check_a_ != check_b_) {                                                   \
            fprintf(stderr, "FAIL: %s:%d: %s == %s (%lld != %lld)\n", __FILE__,       \
                    __LINE__, #a, #b, check_a_, check_b_);                            \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

/* Number of OS threads (kernel tasks) of this process right now. */
static inline int os_thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* Call at the point of peak concurrency: fails when TEST_MAX_OS_THREADS is set and exceeded.
 * Returns the count, so that a program can report it. */
static inline int check_os_threads(void)
{
    int n = os_thread_count();
    const char *max = getenv("TEST_MAX_OS_THREADS");
    if (max && *max && n > atoi(max)) {
        fprintf(stderr, "FAIL: %d OS threads at peak, at most %s expected\n", n, max);
        exit(1);
    }
    return n;
}

static inline double now_seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Helpers shared by many programs. */

static inline void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

#ifndef __cplusplus
#include <stdatomic.h>
/* Waits (polling with short sleeps) until *flag becomes nonzero; fails after ~10 s. */
static inline void wait_flag(atomic_int *flag)
{
    for (int i = 0; !atomic_load(flag); i++) {
        CHECK(i < 10000);
        sleep_ms(1);
    }
}
#endif

static inline struct timespec abstime_in(clockid_t clock, long ms)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* True when the clock has reached the deadline. */
static inline int deadline_passed(clockid_t clock, struct timespec dl)
{
    struct timespec now;
    clock_gettime(clock, &now);
    return now.tv_sec > dl.tv_sec || (now.tv_sec == dl.tv_sec && now.tv_nsec >= dl.tv_nsec);
}

/* Runs fn(arg) in a new thread and returns its result (an error number, usually). */
static inline int in_thread(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    void *res = NULL;
    CHECK_EQ(pthread_create(&t, NULL, fn, arg), 0);
    CHECK_EQ(pthread_join(t, &res), 0);
    return (int)(intptr_t)res;
}

/* Descriptor helpers. */

static inline int has_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    CHECK(fl != -1);
    return (fl & O_NONBLOCK) != 0;
}

static inline int has_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    CHECK(fl != -1);
    return (fl & FD_CLOEXEC) != 0;
}

/* Writes all of buf, failing the test on any error or short progress. */
static inline void write_all(int fd, const void *buf, size_t len)
{
    const char *p = (const char *)buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        CHECK(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

/* Reads exactly len bytes, failing the test on any error or end of file. */
static inline void read_exact(int fd, void *buf, size_t len)
{
    char *p = (char *)buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        CHECK(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

/* A "Field:  N kB" line of /proc/self/status (VmRSS:, VmHWM:, ...) in KiB, or -1. */
static inline long status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kib = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0) {
            kib = atol(line + n);
            break;
        }
    fclose(f);
    return kib;
}

#endif
