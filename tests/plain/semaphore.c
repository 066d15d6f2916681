/* POSIX semaphores: counting between many posters and waiters, try/timed/clock waits and their
 * errors, waking a blocked waiter, a named semaphore. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "plain.h"

/* sem_wait, retried when a signal handler interrupts it (EINTR). */
static void sem_wait_ok(sem_t *s)
{
    int r;
    while ((r = sem_wait(s)) == -1 && errno == EINTR)
        ;
    CHECK_EQ(r, 0);
}

static int sem_value(sem_t *s)
{
    int v = -12345;
    CHECK_EQ(sem_getvalue(s, &v), 0);
    return v;
}

/* ------------------------------------------------------------------------------------------ */

#define POSTERS 10
#define POSTS 1000
#define SEM_WAITERS 5
static sem_t count_sem;
static pthread_barrier_t count_gate;
static atomic_int consumed;

static void gate(void)
{
    int r = pthread_barrier_wait(&count_gate);
    CHECK(r == 0 || r == PTHREAD_BARRIER_SERIAL_THREAD);
}

static void *poster_body(void *arg)
{
    (void)arg;
    gate();
    for (int i = 0; i < POSTS; i++) {
        CHECK_EQ(sem_post(&count_sem), 0);
        if (i % 100 == 0)
            sleep_ms(1);
    }
    return NULL;
}

static void *sem_waiter_body(void *arg)
{
    (void)arg;
    gate();
    for (int i = 0; i < POSTERS * POSTS / SEM_WAITERS; i++) {
        sem_wait_ok(&count_sem);
        atomic_fetch_add(&consumed, 1);
    }
    return NULL;
}

/* A semaphore counts: 10 x 1000 posts satisfy exactly 10000 waits and leave the value at 0. */
static void test_counting(void)
{
    pthread_t p[POSTERS], w[SEM_WAITERS];
    CHECK_EQ(sem_init(&count_sem, 0, 0), 0);
    CHECK_EQ(sem_value(&count_sem), 0);
    CHECK_EQ(pthread_barrier_init(&count_gate, NULL, POSTERS + SEM_WAITERS + 1), 0);
    for (int i = 0; i < SEM_WAITERS; i++)
        CHECK_EQ(pthread_create(&w[i], NULL, sem_waiter_body, NULL), 0);
    for (int i = 0; i < POSTERS; i++)
        CHECK_EQ(pthread_create(&p[i], NULL, poster_body, NULL), 0);
    check_os_threads(); /* nobody passes the gate before main arrives */
    gate();
    for (int i = 0; i < POSTERS; i++)
        CHECK_EQ(pthread_join(p[i], NULL), 0);
    for (int i = 0; i < SEM_WAITERS; i++)
        CHECK_EQ(pthread_join(w[i], NULL), 0);
    CHECK_EQ(atomic_load(&consumed), POSTERS * POSTS);
    CHECK_EQ(sem_value(&count_sem), 0);
    errno = 0;
    CHECK_EQ(sem_trywait(&count_sem), -1);
    CHECK_EQ(errno, EAGAIN);
    CHECK_EQ(pthread_barrier_destroy(&count_gate), 0);
    CHECK_EQ(sem_destroy(&count_sem), 0);
}

/* ------------------------------------------------------------------------------------------ */

/* On an empty semaphore: sem_trywait is -1/EAGAIN; sem_timedwait (CLOCK_REALTIME) and
 * sem_clockwait (either clock) are -1/ETIMEDOUT once the deadline has passed; a tv_nsec out of
 * [0, 1e9) or an unsupported clock id is -1/EINVAL. */
static void test_empty(void)
{
    sem_t s;
    CHECK_EQ(sem_init(&s, 0, 0), 0);

    errno = 0;
    CHECK_EQ(sem_trywait(&s), -1);
    CHECK_EQ(errno, EAGAIN);

    struct timespec dl = abstime_in(CLOCK_REALTIME, 50);
    double start = now_seconds(CLOCK_MONOTONIC);
    errno = 0;
    CHECK_EQ(sem_timedwait(&s, &dl), -1);
    CHECK_EQ(errno, ETIMEDOUT);
    double took = now_seconds(CLOCK_MONOTONIC) - start;
    CHECK(deadline_passed(CLOCK_REALTIME, dl));
    CHECK(took >= 0.049 && took < 5.0);

    dl = abstime_in(CLOCK_MONOTONIC, 50);
    start = now_seconds(CLOCK_MONOTONIC);
    errno = 0;
    CHECK_EQ(sem_clockwait(&s, CLOCK_MONOTONIC, &dl), -1);
    CHECK_EQ(errno, ETIMEDOUT);
    CHECK(deadline_passed(CLOCK_MONOTONIC, dl));
    CHECK(now_seconds(CLOCK_MONOTONIC) - start < 5.0);

    dl = abstime_in(CLOCK_REALTIME, 30);
    errno = 0;
    CHECK_EQ(sem_clockwait(&s, CLOCK_REALTIME, &dl), -1);
    CHECK_EQ(errno, ETIMEDOUT);
    CHECK(deadline_passed(CLOCK_REALTIME, dl));

    dl = abstime_in(CLOCK_REALTIME, 0);
    dl.tv_nsec = 2000000000L;
    errno = 0;
    CHECK_EQ(sem_timedwait(&s, &dl), -1);
    CHECK_EQ(errno, EINVAL);
    dl.tv_nsec = -1;
    errno = 0;
    CHECK_EQ(sem_timedwait(&s, &dl), -1);
    CHECK_EQ(errno, EINVAL);

    dl = abstime_in(CLOCK_MONOTONIC, 50);
    errno = 0;
    CHECK_EQ(sem_clockwait(&s, (clockid_t)12345, &dl), -1);
    CHECK_EQ(errno, EINVAL);

    /* With a unit available, the timed waits succeed at once. */
    CHECK_EQ(sem_post(&s), 0);
    dl = abstime_in(CLOCK_REALTIME, 10000);
    CHECK_EQ(sem_timedwait(&s, &dl), 0);
    CHECK_EQ(sem_post(&s), 0);
    dl = abstime_in(CLOCK_MONOTONIC, 10000);
    CHECK_EQ(sem_clockwait(&s, CLOCK_MONOTONIC, &dl), 0);
    CHECK_EQ(sem_value(&s), 0);
    CHECK_EQ(sem_destroy(&s), 0);
}

/* ------------------------------------------------------------------------------------------ */

static sem_t wake_sem;
static atomic_int wake_done;

static void *blocked_waiter_body(void *arg)
{
    (void)arg;
    sem_wait_ok(&wake_sem);
    atomic_store(&wake_done, 1);
    return NULL;
}

/* sem_post wakes a thread blocked in sem_wait (which cannot return before the post). */
static void test_post_wakes(void)
{
    CHECK_EQ(sem_init(&wake_sem, 0, 0), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, blocked_waiter_body, NULL), 0);
    sleep_ms(30);
    CHECK_EQ(atomic_load(&wake_done), 0);
    CHECK_EQ(sem_post(&wake_sem), 0);
    double start = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start < 5.0);
    CHECK_EQ(atomic_load(&wake_done), 1);
    CHECK_EQ(sem_value(&wake_sem), 0);
    CHECK_EQ(sem_destroy(&wake_sem), 0);
}

/* ------------------------------------------------------------------------------------------ */

#define PINGS 100
static char ping_name[64], pong_name[64];

static void *pong_body(void *arg)
{
    (void)arg;
    sem_t *ping = sem_open(ping_name, 0);
    sem_t *pong = sem_open(pong_name, 0);
    CHECK(ping != SEM_FAILED && pong != SEM_FAILED);
    CHECK_EQ(sem_post(pong), 0); /* opened: the names may go */
    for (int i = 0; i < PINGS; i++) {
        sem_wait_ok(ping);
        CHECK_EQ(sem_post(pong), 0);
    }
    CHECK_EQ(sem_close(ping), 0);
    CHECK_EQ(sem_close(pong), 0);
    return NULL;
}

/* Named semaphores (sem_open O_CREAT|O_EXCL, opened again by name, sem_unlink, sem_close)
 * synchronise two threads like unnamed ones; O_EXCL on an existing name is EEXIST; after
 * sem_unlink the name is gone but open handles still work. */
static void test_named(void)
{
    snprintf(ping_name, sizeof ping_name, "/plain_semaphore_ping_%ld", (long)getpid());
    snprintf(pong_name, sizeof pong_name, "/plain_semaphore_pong_%ld", (long)getpid());
    sem_t *ping = sem_open(ping_name, O_CREAT | O_EXCL, 0600, 0);
    CHECK(ping != SEM_FAILED);
    sem_t *pong = sem_open(pong_name, O_CREAT | O_EXCL, 0600, 0);
    if (pong == SEM_FAILED)
        sem_unlink(ping_name);
    CHECK(pong != SEM_FAILED);
    errno = 0;
    sem_t *again = sem_open(ping_name, O_CREAT | O_EXCL, 0600, 0);
    int again_errno = errno;

    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, pong_body, NULL), 0);
    sem_wait_ok(pong);
    CHECK_EQ(sem_unlink(ping_name), 0);
    CHECK_EQ(sem_unlink(pong_name), 0);
    CHECK(again == SEM_FAILED);
    CHECK_EQ(again_errno, EEXIST);
    errno = 0;
    CHECK(sem_open(ping_name, 0) == SEM_FAILED);
    CHECK_EQ(errno, ENOENT);

    for (int i = 0; i < PINGS; i++) {
        CHECK_EQ(sem_post(ping), 0);
        sem_wait_ok(pong);
    }
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(sem_value(ping), 0);
    CHECK_EQ(sem_value(pong), 0);
    CHECK_EQ(sem_close(ping), 0);
    CHECK_EQ(sem_close(pong), 0);
}

int main(void)
{
    test_counting();
    test_empty();
    test_post_wakes();
    test_named();
    return 0;
}
