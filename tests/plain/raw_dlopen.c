/* System call instructions in a library loaded with dlopen while the program runs, on every OS
 * thread: 100 threads sleeping 1 s in nanosleep and 100 reading pipes another process fills
 * after 1 s, each made by the library's own `syscall` instruction, all finish together (in at
 * most 1.5 s, raw_util.h), also when the program itself holds no such instruction and its
 * threads already run (under libgreen: dispatch is turned on at the dlopen for every OS thread,
 * or the calls would block their OS threads one after another). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <unistd.h>

#include "plain.h"
#include "raw_util.h"

static long (*stub)(long nr, long a1, long a2, long a3);

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

    double took = raw_sleep_and_read_together(stub);
    printf("raw_dlopen: ok, %.2f s\n", took);
    return 0;
}
