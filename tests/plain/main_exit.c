/* main calls pthread_exit(NULL) while other threads still run: the process lives on until the
 * last thread ends, then exits with status 0 (glibc calls exit(0) when the last thread ends).
 *
 * The scenario runs twice: first in a fork()ed child whose output and exit status the parent
 * checks (so that a process that silently ends early is caught), then in this process itself,
 * where the last thread prints "ok".  Nobody calls exit() on success. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plain.h"

#define THREADS 3
static atomic_int finished;
static int out_fd;
static double start_time;

static void *worker(void *arg)
{
    (void)arg;
    sleep_ms(200);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start_time >= 0.2);
    if (atomic_fetch_add(&finished, 1) + 1 == THREADS) {
        /* The last one: everybody has finished. */
        CHECK_EQ(atomic_load(&finished), THREADS);
        check_os_threads();
        CHECK_EQ(write(out_fd, "ok\n", 3), 3);
    }
    return NULL;
}

/* atexit handlers run when the last thread ends: by then all workers must have finished. */
static void at_exit_check(void)
{
    if (atomic_load(&finished) != THREADS) {
        fprintf(stderr, "FAIL: process exits with %d of %d threads finished\n",
                atomic_load(&finished), THREADS);
        _exit(1);
    }
}

/* Starts the workers and ends the main thread; never returns. */
static __attribute__((noreturn)) void run_scenario(int fd)
{
    out_fd = fd;
    start_time = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(atexit(at_exit_check), 0);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, worker, NULL), 0);
    check_os_threads(); /* peak: main and all workers */
    pthread_exit(NULL);
}

/* In a child process: exit status 0, exactly one "ok" line, and no earlier than 200 ms. */
static void test_in_child(void)
{
    int p[2];
    CHECK_EQ(pipe(p), 0);
    fflush(NULL);
    double start = now_seconds(CLOCK_MONOTONIC);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        run_scenario(p[1]);
    }
    close(p[1]);
    char buf[64];
    size_t len = 0;
    ssize_t n;
    while ((n = read(p[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    CHECK(n == 0);
    close(p[0]);
    buf[len] = '\0';
    int status;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 0);
    CHECK(strcmp(buf, "ok\n") == 0);
    double took = now_seconds(CLOCK_MONOTONIC) - start;
    CHECK(took >= 0.2);
    CHECK(took < 5.0);
}

int main(void)
{
    test_in_child();
    fflush(NULL);
    run_scenario(STDOUT_FILENO);
}
