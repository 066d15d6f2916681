/* Many threads doing what crosses between OS threads when green threads run on several
 * workers: lock hand-offs, condition-variable broadcasts, descriptor wake-ups, thread creation
 * and exit, detached threads, cancellation and joins.  Every phase ends with an exact count.
 *
 *   mn_stress [ROUNDS]   (default 3) every phase ROUNDS times */
#include <semaphore.h>
#include <stdatomic.h>

#include "plain.h"

/* ---- lock hand-offs: exact sum under one mutex ---- */
enum { LOCKERS = 8, LOCK_ITERS = 20000 };
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *locker(void *arg)
{
    (void)arg;
    for (int i = 0; i < LOCK_ITERS; i++) {
        pthread_mutex_lock(&counter_lock);
        counter++;
        if (i % 64 == 0)
            sched_yield();  /* held across a yield: the others queue up behind it */
        pthread_mutex_unlock(&counter_lock);
    }
    return NULL;
}

static void phase_locks(void)
{
    pthread_t t[LOCKERS];
    counter = 0;
    for (int i = 0; i < LOCKERS; i++)
        CHECK(pthread_create(&t[i], NULL, locker, NULL) == 0);
    for (int i = 0; i < LOCKERS; i++)
        CHECK(pthread_join(t[i], NULL) == 0);
    CHECK_EQ(counter, (long)LOCKERS * LOCK_ITERS);
}

/* ---- broadcasts: a barrier made of a mutex, a condition variable and a generation ---- */
enum { PARTIES = 16, ROUNDS_B = 300 };
static pthread_mutex_t bar_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bar_cond = PTHREAD_COND_INITIALIZER;
static int bar_waiting;
static long bar_generation;
static atomic_long bar_passes;

static void barrier_wait(void)
{
    pthread_mutex_lock(&bar_lock);
    long gen = bar_generation;
    if (++bar_waiting == PARTIES) {
        bar_waiting = 0;
        bar_generation++;
        pthread_cond_broadcast(&bar_cond);
    } else {
        while (gen == bar_generation)
            pthread_cond_wait(&bar_cond, &bar_lock);
    }
    pthread_mutex_unlock(&bar_lock);
}

static void *party(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS_B; i++) {
        barrier_wait();
        atomic_fetch_add(&bar_passes, 1);
    }
    return NULL;
}

static void phase_broadcasts(void)
{
    pthread_t t[PARTIES];
    atomic_store(&bar_passes, 0);
    long gen0 = bar_generation;
    for (int i = 0; i < PARTIES; i++)
        CHECK(pthread_create(&t[i], NULL, party, NULL) == 0);
    check_os_threads();
    for (int i = 0; i < PARTIES; i++)
        CHECK(pthread_join(t[i], NULL) == 0);
    CHECK_EQ(atomic_load(&bar_passes), (long)PARTIES * ROUNDS_B);
    CHECK_EQ(bar_generation - gen0, ROUNDS_B);
}

/* ---- descriptor wake-ups: tokens passed around a ring of pipes ---- */
enum { RING = 24, LAPS = 300 };
static int ring_fd[RING][2];

static void *ring_member(void *arg)
{
    int i = (int)(intptr_t)arg;
    int in = ring_fd[i][0], out = ring_fd[(i + 1) % RING][1];
    long sum = 0;
    for (int lap = 0; lap < LAPS; lap++) {
        long token;
        CHECK(read(in, &token, sizeof token) == (ssize_t)sizeof token);
        sum += token;
        token++;
        if (!(i == RING - 1 && lap == LAPS - 1))
            CHECK(write(out, &token, sizeof token) == (ssize_t)sizeof token);
    }
    return (void *)sum;
}

static void phase_ring(void)
{
    pthread_t t[RING];
    for (int i = 0; i < RING; i++)
        CHECK(pipe(ring_fd[i]) == 0);
    for (int i = 0; i < RING; i++)
        CHECK(pthread_create(&t[i], NULL, ring_member, (void *)(intptr_t)i) == 0);
    long token = 0;
    CHECK(write(ring_fd[0][1], &token, sizeof token) == (ssize_t)sizeof token);
    long total = 0;
    for (int i = 0; i < RING; i++) {
        void *r;
        CHECK(pthread_join(t[i], &r) == 0);
        total += (long)r;
    }
    /* The token takes every value from 0 to RING*LAPS-1 once. */
    long n = (long)RING * LAPS;
    CHECK_EQ(total, n * (n - 1) / 2);
    for (int i = 0; i < RING; i++) {
        close(ring_fd[i][0]);
        close(ring_fd[i][1]);
    }
}

/* ---- creation and exit: creators that create, and join, workers ---- */
enum { CREATORS = 4, PER_CREATOR = 400, BATCH = 40 };
static atomic_long created_ran;

static void *leaf(void *arg)
{
    atomic_fetch_add(&created_ran, 1);
    return arg;
}

static void *creator(void *arg)
{
    (void)arg;
    for (int done = 0; done < PER_CREATOR; done += BATCH) {
        pthread_t t[BATCH];
        for (int i = 0; i < BATCH; i++)
            CHECK(pthread_create(&t[i], NULL, leaf, (void *)(intptr_t)(done + i)) == 0);
        for (int i = 0; i < BATCH; i++) {
            void *r;
            CHECK(pthread_join(t[i], &r) == 0);
            CHECK_EQ((intptr_t)r, done + i);
        }
    }
    return NULL;
}

static void phase_spawn(void)
{
    pthread_t t[CREATORS];
    atomic_store(&created_ran, 0);
    for (int i = 0; i < CREATORS; i++)
        CHECK(pthread_create(&t[i], NULL, creator, NULL) == 0);
    for (int i = 0; i < CREATORS; i++)
        CHECK(pthread_join(t[i], NULL) == 0);
    CHECK_EQ(atomic_load(&created_ran), (long)CREATORS * PER_CREATOR);
}

/* ---- detached threads, counted through a semaphore ---- */
enum { DETACHED = 600 };
static sem_t detached_done;
static atomic_long detached_ran;

static void *detached_body(void *arg)
{
    (void)arg;
    atomic_fetch_add(&detached_ran, 1);
    sem_post(&detached_done);
    return NULL;
}

static void phase_detached(void)
{
    atomic_store(&detached_ran, 0);
    CHECK(sem_init(&detached_done, 0, 0) == 0);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (int i = 0; i < DETACHED; i++) {
        pthread_t t;
        CHECK(pthread_create(&t, i % 2 ? &attr : NULL, detached_body, NULL) == 0);
        if (i % 2 == 0)
            CHECK(pthread_detach(t) == 0);  /* detached while it may be running or done */
    }
    pthread_attr_destroy(&attr);
    for (int i = 0; i < DETACHED; i++)
        CHECK(sem_wait(&detached_done) == 0);
    CHECK_EQ(atomic_load(&detached_ran), DETACHED);
    sem_destroy(&detached_done);
}

/* ---- cancellation of threads blocked in a read and in a condition wait ---- */
enum { VICTIMS = 40 };
static int cancel_pipe[2];
static pthread_mutex_t victim_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t victim_cond = PTHREAD_COND_INITIALIZER;
static atomic_int victims_ready;

static void unlock_it(void *m) { pthread_mutex_unlock(m); }

static void *victim(void *arg)
{
    if ((intptr_t)arg % 2) {
        char c;
        atomic_fetch_add(&victims_ready, 1);
        read(cancel_pipe[0], &c, 1);  /* nothing ever comes */
    } else {
        pthread_mutex_lock(&victim_lock);
        pthread_cleanup_push(unlock_it, &victim_lock);
        atomic_fetch_add(&victims_ready, 1);
        for (;;)
            pthread_cond_wait(&victim_cond, &victim_lock);
        pthread_cleanup_pop(1);
    }
    return NULL;
}

static void *canceller(void *arg)
{
    pthread_t *t = arg;
    for (int i = 0; i < VICTIMS; i++)
        CHECK(pthread_cancel(t[i]) == 0);
    return NULL;
}

static void phase_cancel(void)
{
    pthread_t t[VICTIMS], c;
    CHECK(pipe(cancel_pipe) == 0);
    atomic_store(&victims_ready, 0);
    for (int i = 0; i < VICTIMS; i++)
        CHECK(pthread_create(&t[i], NULL, victim, (void *)(intptr_t)i) == 0);
    while (atomic_load(&victims_ready) < VICTIMS)
        usleep(1000);
    usleep(20000);  /* let them reach their waits */
    CHECK(pthread_create(&c, NULL, canceller, t) == 0);
    CHECK(pthread_join(c, NULL) == 0);
    for (int i = 0; i < VICTIMS; i++) {
        void *r;
        CHECK(pthread_join(t[i], &r) == 0);
        CHECK(r == PTHREAD_CANCELED);
    }
    /* The lock was given back by every cancelled waiter's cleanup handler. */
    CHECK(pthread_mutex_trylock(&victim_lock) == 0);
    pthread_mutex_unlock(&victim_lock);
    close(cancel_pipe[0]);
    close(cancel_pipe[1]);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 3;
    for (int r = 0; r < rounds; r++) {
        phase_locks();
        phase_broadcasts();
        phase_ring();
        phase_spawn();
        phase_detached();
        phase_cancel();
    }
    printf("mn_stress: %d rounds of every phase passed\n", rounds);
    return 0;
}
