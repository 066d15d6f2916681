/* Old symbol versions: programs linked against glibc < 2.34 call pthread_create@GLIBC_2.2.5 etc.
 * (then in libpthread.so.0, now compat symbols in libc.so.6).  glibc 2.36 still serves them.
 * The .symver directives below make this program reference exactly those versions; check with
 *   objdump -T oldsym | grep -E 'pthread_(create|join|detach)|nanosleep'
 * nanosleep has only the one version GLIBC_2.2.5 (which is also its default). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "plain.h"

__asm__(".symver pthread_create, pthread_create@GLIBC_2.2.5");
__asm__(".symver pthread_join, pthread_join@GLIBC_2.2.5");
__asm__(".symver pthread_detach, pthread_detach@GLIBC_2.2.5");
__asm__(".symver nanosleep, nanosleep@GLIBC_2.2.5");

#define THREADS 8
static atomic_int started, go;

static void *worker(void *arg)
{
    atomic_fetch_add(&started, 1);
    while (!atomic_load(&go))
        sleep_ms(1);
    return (void *)((intptr_t)arg * 2 + 1);
}

/* Threads created and joined through the old versions run and deliver their results; all are
 * alive together (peak concurrency). */
static void test_create_join(void)
{
    pthread_t t[THREADS];
    for (intptr_t i = 0; i < THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, worker, (void *)i), 0);
    for (int i = 0; atomic_load(&started) < THREADS; i++) {
        CHECK(i < 10000);
        sleep_ms(1);
    }
    check_os_threads();
    atomic_store(&go, 1);
    for (intptr_t i = 0; i < THREADS; i++) {
        void *res = NULL;
        CHECK_EQ(pthread_join(t[i], &res), 0);
        CHECK_EQ((intptr_t)res, i * 2 + 1);
    }
}

static atomic_int detach_release, detach_done;

static void *detached_body(void *arg)
{
    (void)arg;
    while (!atomic_load(&detach_release))
        sleep_ms(1);
    atomic_store(&detach_done, 1);
    return NULL;
}

/* The old pthread_detach detaches: the thread still runs, joining it (while alive) is EINVAL. */
static void test_detach(void)
{
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, detached_body, NULL), 0);
    CHECK_EQ(pthread_detach(t), 0);
    CHECK_EQ(pthread_join(t, NULL), EINVAL);
    atomic_store(&detach_release, 1);
    for (int i = 0; !atomic_load(&detach_done); i++) {
        CHECK(i < 10000);
        sleep_ms(1);
    }
}

/* The old nanosleep sleeps at least as long as asked and reports EINVAL the usual way. */
static void test_nanosleep(void)
{
    struct timespec d = {0, 30 * 1000000L};
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(nanosleep(&d, NULL), 0);
    double took = now_seconds(CLOCK_MONOTONIC) - start;
    CHECK(took >= 0.030);
    CHECK(took < 5.0);
    struct timespec bad = {0, 1000000000L};
    errno = 0;
    CHECK_EQ(nanosleep(&bad, NULL), -1);
    CHECK_EQ(errno, EINVAL);
}

static void *join_from_thread_body(void *arg)
{
    pthread_t inner;
    void *res = NULL;
    CHECK_EQ(pthread_create(&inner, NULL, worker, arg), 0);
    CHECK_EQ(pthread_join(inner, &res), 0);
    return res;
}

/* A thread created through the old version can itself create and join through it. */
static void test_nested(void)
{
    pthread_t t;
    void *res = NULL;
    CHECK_EQ(pthread_create(&t, NULL, join_from_thread_body, (void *)20), 0);
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK_EQ((intptr_t)res, 41);
}

int main(void)
{
    test_create_join();
    test_detach();
    test_nanosleep();
    test_nested();
    return 0;
}
