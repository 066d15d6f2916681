/* Functions found at run time behave as the ones a program links: threads created with a
 * pthread_create found by dlsym, and nanosleep and read found the same way, let the other
 * threads run while they sleep or wait.  The look-ups: dlsym(RTLD_NEXT) and dlvsym(RTLD_NEXT)
 * from a library the program links (tests/plain/lib/dlnext.c), dlsym with a handle of the C
 * library, and dlsym(RTLD_DEFAULT).  Names that are not found or not special behave as always. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "plain.h"

void *dlnext_lookup(const char *name);
void *dlnext_vlookup(const char *name, const char *version);

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
typedef int (*nanosleep_fn)(const struct timespec *, struct timespec *);
typedef ssize_t (*read_fn)(int, void *, size_t);

enum { THREADS = 40 };
static const long SLEEP_NS = 300 * 1000000L;

static nanosleep_fn sleep_with;
static read_fn read_with;
static atomic_int asleep;

static void *sleeper(void *arg)
{
    (void)arg;
    struct timespec ts = {0, SLEEP_NS};
    atomic_fetch_add(&asleep, 1);
    CHECK_EQ(sleep_with(&ts, NULL), 0);
    return (void *)7;
}

/* THREADS threads made with create, each sleeping 300 ms with sleep_with, at once: they take
 * about 300 ms together, on as many OS threads as the runner allows. */
static void sleep_together(const char *what, create_fn create, nanosleep_fn sleep_fn)
{
    CHECK(create != NULL);
    CHECK(sleep_fn != NULL);
    sleep_with = sleep_fn;
    atomic_store(&asleep, 0);
    double t0 = now_seconds(CLOCK_MONOTONIC);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK_EQ(create(&t[i], NULL, sleeper, NULL), 0);
    while (atomic_load(&asleep) < THREADS)
        sched_yield();
    check_os_threads();
    for (int i = 0; i < THREADS; i++) {
        void *ret;
        CHECK_EQ(pthread_join(t[i], &ret), 0);
        CHECK(ret == (void *)7);
    }
    double took = now_seconds(CLOCK_MONOTONIC) - t0;
    /* One after another they would take 12 s (6 s on two OS threads). */
    if (took > 3.0) {
        fprintf(stderr, "FAIL: %s: %d sleeps of 0.3 s took %.2f s\n", what, THREADS, took);
        exit(1);
    }
}

static int pipefd[2];
static atomic_int reading;

static void *reader(void *arg)
{
    (void)arg;
    char buf[8];
    atomic_store(&reading, 1);
    CHECK_EQ(read_with(pipefd[0], buf, sizeof buf), 3);
    CHECK(memcmp(buf, "abc", 3) == 0);
    return NULL;
}

/* A thread in read (found by look-up) on an empty pipe lets this one write to it. */
static void read_waits(read_fn fn)
{
    CHECK(fn != NULL);
    read_with = fn;
    CHECK_EQ(pipe(pipefd), 0);
    atomic_store(&reading, 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, reader, NULL), 0);
    while (!atomic_load(&reading))
        sched_yield();
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
    CHECK_EQ(write(pipefd[1], "abc", 3), 3);
    CHECK_EQ(pthread_join(t, NULL), 0);
    close(pipefd[0]);
    close(pipefd[1]);
}

int main(void)
{
    sleep_together("RTLD_NEXT", (create_fn)dlnext_lookup("pthread_create"),
                   (nanosleep_fn)dlnext_lookup("nanosleep"));
    sleep_together("dlvsym RTLD_NEXT", (create_fn)dlnext_vlookup("pthread_create", "GLIBC_2.34"),
                   (nanosleep_fn)dlnext_vlookup("nanosleep", "GLIBC_2.2.5"));
    read_waits((read_fn)dlnext_lookup("read"));

    void *libc = dlopen("libc.so.6", RTLD_NOW);
    CHECK(libc != NULL);
    sleep_together("C library handle", (create_fn)dlsym(libc, "pthread_create"),
                   (nanosleep_fn)dlsym(libc, "nanosleep"));
    sleep_together("dlvsym C library handle", (create_fn)dlvsym(libc, "pthread_create", "GLIBC_2.34"),
                   (nanosleep_fn)dlvsym(libc, "nanosleep", "GLIBC_2.2.5"));
    read_waits((read_fn)dlsym(libc, "read"));
    sleep_together("RTLD_DEFAULT", (create_fn)dlsym(RTLD_DEFAULT, "pthread_create"),
                   (nanosleep_fn)dlsym(RTLD_DEFAULT, "nanosleep"));

    /* Other names: the C library's own functions, and failures as always. */
    size_t (*len)(const char *) = (size_t(*)(const char *))dlnext_lookup("strlen");
    CHECK(len != NULL);
    CHECK_EQ(len("four"), 4);
    len = (size_t(*)(const char *))dlsym(libc, "strlen");
    CHECK(len != NULL);
    CHECK_EQ(len("three"), 5);
    CHECK(dlnext_lookup("no_such_function_anywhere") == NULL);
    CHECK(dlerror() != NULL);
    CHECK(dlsym(libc, "no_such_function_anywhere") == NULL);
    CHECK(dlerror() != NULL);
    CHECK(dlvsym(libc, "nanosleep", "NO_SUCH_VERSION") == NULL);
    CHECK(dlerror() != NULL);
    CHECK_EQ(dlclose(libc), 0);
    puts("ok");
    return 0;
}
