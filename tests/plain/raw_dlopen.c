/* System call instructions in a library loaded with dlopen while the program runs, on every OS
 * thread: 100 threads sleeping 1 s in nanosleep and 100 reading pipes another process fills
 * after 1 s, each made by the library's own `syscall` instruction, all finish together (in at
 * most 1.5 s), also when the program itself holds no such instruction and its threads already
 * run (under libgreen: dispatch is turned on at the dlopen for every OS thread, or the calls
 * would block their OS threads one after another). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plain.h"

enum { SLEEPERS = 100, READERS = 100 };
static long (*stub)(long nr, long a1, long a2, long a3);
static int pipes[READERS][2];
static atomic_int started;

static void *sleeper(void *arg)
{
    (void)arg;
    struct timespec ts = {1, 0};
    atomic_fetch_add(&started, 1);
    CHECK_EQ(stub(SYS_nanosleep, (long)&ts, 0, 0), 0);
    return NULL;
}

static void *reader(void *arg)
{
    int i = (int)(intptr_t)arg;
    char c = 0;
    atomic_fetch_add(&started, 1);
    CHECK_EQ(stub(SYS_read, pipes[i][0], (long)&c, 1), 1);
    CHECK_EQ(c, 'a' + i % 26);
    return NULL;
}

static void *idle(void *arg)
{
    (void)arg;
    sleep_ms(50);
    return NULL;
}

int main(void)
{
    /* Threads (and under libgreen every worker) before the library is loaded. */
    pthread_t early[4];
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pthread_create(&early[i], NULL, idle, NULL), 0);
    char exe[PATH_MAX], lib[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    CHECK(n > 0);
    exe[n] = '\0';
    snprintf(lib, sizeof lib, "%s/../plain-lib/librawstub.so", dirname(exe));
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "FAIL: dlopen: %s\n", dlerror());
        return 1;
    }
    stub = (long (*)(long, long, long, long))dlsym(h, "rawstub_call");
    CHECK(stub != NULL);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pthread_join(early[i], NULL), 0);

    for (int i = 0; i < READERS; i++)
        CHECK_EQ(pipe(pipes[i]), 0);
    double t0 = now_seconds(CLOCK_MONOTONIC);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        sleep(1);
        for (int i = 0; i < READERS; i++) {
            char c = (char)('a' + i % 26);
            if (write(pipes[i][1], &c, 1) != 1)
                _exit(1);
        }
        _exit(0);
    }
    pthread_t t[SLEEPERS + READERS];
    for (int i = 0; i < SLEEPERS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, sleeper, NULL), 0);
    for (int i = 0; i < READERS; i++)
        CHECK_EQ(pthread_create(&t[SLEEPERS + i], NULL, reader, (void *)(intptr_t)i), 0);
    while (atomic_load(&started) < SLEEPERS + READERS)
        sleep_ms(1);
    check_os_threads();
    for (int i = 0; i < SLEEPERS + READERS; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    double took = now_seconds(CLOCK_MONOTONIC) - t0;
    int status;
    CHECK_EQ(waitpid(child, &status, 0), child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (took > 1.5) {
        fprintf(stderr, "FAIL: %d sleeps of 1 s and %d reads of pipes filled after 1 s took %.2f s\n",
                SLEEPERS, READERS, took);
        return 1;
    }
    printf("raw_dlopen: ok, %.2f s\n", took);
    return 0;
}
