/* Shared by the raw_* programs (system calls made by `syscall` instructions of the program's or a
 * library's own): 100 threads sleeping 1 s in nanosleep and 100 reading pipes another process
 * fills after 1 s, each call made through the caller's function, all finish together.
 *
 * "Together" is at most 1.5 s plus twice a baseline measured in the same run: the same threads,
 * calls and child process with nothing to wait for (a sleep of 0, pipes filled at once), so that
 * a machine whose load makes thread creation and scheduling slow does not fail the test, while
 * calls that block their OS thread one after another (tens of seconds) still do. */
#ifndef RAW_UTIL_H
#define RAW_UTIL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plain.h"

typedef long (*raw_call_fn)(long nr, long a1, long a2, long a3);

enum { RAW_SLEEPERS = 100, RAW_READERS = 100 };
static raw_call_fn raw_fn;
static long raw_wait_s;  /* the sleep, and the child's delay before it fills the pipes */
static int raw_pipes[RAW_READERS][2];
static atomic_int raw_started;

static void *raw_sleeper(void *arg)
{
    (void)arg;
    struct timespec ts = {raw_wait_s, 0};
    atomic_fetch_add(&raw_started, 1);
    CHECK_EQ(raw_fn(SYS_nanosleep, (long)&ts, 0, 0), 0);
    return NULL;
}

static void *raw_reader(void *arg)
{
    int i = (int)(intptr_t)arg;
    char c = 0;
    atomic_fetch_add(&raw_started, 1);
    CHECK_EQ(raw_fn(SYS_read, raw_pipes[i][0], (long)&c, 1), 1);
    CHECK_EQ(c, 'a' + i % 26);
    return NULL;
}

/* One round: the seconds it took. */
static double raw_round(long wait_s)
{
    raw_wait_s = wait_s;
    atomic_store(&raw_started, 0);
    for (int i = 0; i < RAW_READERS; i++)
        CHECK_EQ(pipe(raw_pipes[i]), 0);
    double t0 = now_seconds(CLOCK_MONOTONIC);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        sleep((unsigned)wait_s);
        for (int i = 0; i < RAW_READERS; i++) {
            char c = (char)('a' + i % 26);
            if (write(raw_pipes[i][1], &c, 1) != 1)
                _exit(1);
        }
        _exit(0);
    }
    pthread_t t[RAW_SLEEPERS + RAW_READERS];
    for (int i = 0; i < RAW_SLEEPERS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, raw_sleeper, NULL), 0);
    for (int i = 0; i < RAW_READERS; i++)
        CHECK_EQ(pthread_create(&t[RAW_SLEEPERS + i], NULL, raw_reader, (void *)(intptr_t)i), 0);
    while (atomic_load(&raw_started) < RAW_SLEEPERS + RAW_READERS)
        sleep_ms(1);
    if (wait_s)
        check_os_threads();
    for (int i = 0; i < RAW_SLEEPERS + RAW_READERS; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    double took = now_seconds(CLOCK_MONOTONIC) - t0;
    int status;
    CHECK_EQ(waitpid(child, &status, 0), child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (int i = 0; i < RAW_READERS; i++) {
        close(raw_pipes[i][0]);
        close(raw_pipes[i][1]);
    }
    return took;
}

/* The baseline, then the round that waits; exits with a message when it took too long. */
static double raw_sleep_and_read_together(raw_call_fn fn)
{
    raw_fn = fn;
    double base = raw_round(0);
    double took = raw_round(1);
    if (took > 1.5 + 2 * base) {
        fprintf(stderr, "FAIL: %d sleeps of 1 s and %d reads of pipes filled after 1 s took %.2f s "
                        "(at most 1.5 s and twice the %.2f s the same threads took with nothing "
                        "to wait for)\n", RAW_SLEEPERS, RAW_READERS, took, base);
        exit(1);
    }
    return took;
}

#endif
