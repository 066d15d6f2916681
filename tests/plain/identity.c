/* Thread identity and per-thread attributes: pthread_self/equal, names, getattr_np, affinity,
 * scheduling parameters, pthread_kill(.., 0), CPU-time clocks, cancellation. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "plain.h"

/* A thread that stays alive until released. */
struct waiter {
    pthread_t t;
    atomic_int release;
    atomic_int done;
};

static void *waiter_body(void *arg)
{
    struct waiter *w = arg;
    wait_flag(&w->release);
    atomic_store(&w->done, 1);
    return arg;
}

static void waiter_start(struct waiter *w, const pthread_attr_t *attr)
{
    atomic_store(&w->release, 0);
    atomic_store(&w->done, 0);
    CHECK_EQ(pthread_create(&w->t, attr, waiter_body, w), 0);
}

static void waiter_finish(struct waiter *w)
{
    atomic_store(&w->release, 1);
    void *res = NULL;
    CHECK_EQ(pthread_join(w->t, &res), 0);
    CHECK(res == w);
}

/* ------------------------------------------------------------------------------------------ */
/* pthread_self in a thread equals the id pthread_create returned; live threads have distinct
 * ids, distinct from main's; pthread_self is stable.  Peak concurrency: main + 3 threads. */

#define SELF_THREADS 3
static pthread_t self_seen[SELF_THREADS];
static atomic_int self_started, self_go;

static void *self_body(void *arg)
{
    intptr_t i = (intptr_t)arg;
    self_seen[i] = pthread_self();
    atomic_fetch_add(&self_started, 1);
    wait_flag(&self_go);
    CHECK(pthread_equal(self_seen[i], pthread_self()));
    return NULL;
}

static void test_self_equal(void)
{
    pthread_t main_self = pthread_self();
    CHECK(pthread_equal(main_self, pthread_self()));
    pthread_t t[SELF_THREADS];
    for (intptr_t i = 0; i < SELF_THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, self_body, (void *)i), 0);
    for (int i = 0; atomic_load(&self_started) < SELF_THREADS; i++) {
        CHECK(i < 10000);
        sleep_ms(1);
    }
    check_os_threads();
    for (int i = 0; i < SELF_THREADS; i++) {
        CHECK(pthread_equal(t[i], self_seen[i]));
        CHECK(!pthread_equal(main_self, self_seen[i]));
        for (int j = 0; j < i; j++)
            CHECK(!pthread_equal(self_seen[i], self_seen[j]));
    }
    atomic_store(&self_go, 1);
    for (int i = 0; i < SELF_THREADS; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    CHECK(pthread_equal(main_self, pthread_self()));
}

/* ------------------------------------------------------------------------------------------ */
/* Names: up to 15 characters are accepted, 16 give ERANGE; pthread_getname_np with a buffer
 * shorter than 16 bytes gives ERANGE.  Works on oneself and on another thread, and a thread sees
 * the name another thread gave it. */

static const char NAME15[] = "abcdefghijklmno";  /* 15 characters */
static const char NAME16[] = "abcdefghijklmnop"; /* 16 characters */

struct named {
    struct waiter w;
    atomic_int named;
    char seen[16];
};

static void *named_body(void *arg)
{
    struct named *n = arg;
    wait_flag(&n->named);
    CHECK_EQ(pthread_getname_np(pthread_self(), n->seen, sizeof n->seen), 0);
    wait_flag(&n->w.release);
    return &n->w;
}

static void test_names(void)
{
    char orig[16], buf[16];
    pthread_t self = pthread_self();
    CHECK_EQ(pthread_getname_np(self, orig, sizeof orig), 0);
    CHECK_EQ(pthread_setname_np(self, NAME15), 0);
    CHECK_EQ(pthread_getname_np(self, buf, sizeof buf), 0);
    CHECK(strcmp(buf, NAME15) == 0);
    CHECK_EQ(pthread_setname_np(self, NAME16), ERANGE);
    CHECK_EQ(pthread_getname_np(self, buf, 15), ERANGE);
    CHECK_EQ(pthread_setname_np(self, "main-x"), 0);
    CHECK_EQ(pthread_getname_np(self, buf, sizeof buf), 0);
    CHECK(strcmp(buf, "main-x") == 0);

    static struct named n;
    CHECK_EQ(pthread_create(&n.w.t, NULL, named_body, &n), 0);
    CHECK_EQ(pthread_setname_np(n.w.t, NAME15), 0);
    CHECK_EQ(pthread_getname_np(n.w.t, buf, sizeof buf), 0);
    CHECK(strcmp(buf, NAME15) == 0);
    CHECK_EQ(pthread_setname_np(n.w.t, NAME16), ERANGE);
    CHECK_EQ(pthread_getname_np(n.w.t, buf, 8), ERANGE);
    CHECK_EQ(pthread_setname_np(n.w.t, "worker-1"), 0);
    atomic_store(&n.named, 1);
    /* Main's own name is unaffected. */
    CHECK_EQ(pthread_getname_np(self, buf, sizeof buf), 0);
    CHECK(strcmp(buf, "main-x") == 0);
    waiter_finish(&n.w);
    CHECK(strcmp(n.seen, "worker-1") == 0);

    CHECK_EQ(pthread_setname_np(self, orig), 0);
}

/* ------------------------------------------------------------------------------------------ */
/* pthread_getattr_np on a thread created with a 256 KiB stack: the reported stack is at least
 * 256 KiB and contains the thread's locals; the same is reported from another thread. */

#define SMALL_STACK (256 * 1024)

static void *stack_body(void *arg)
{
    struct waiter *w = arg;
    volatile char local = 1;
    pthread_attr_t a;
    void *addr;
    size_t size;
    CHECK_EQ(pthread_getattr_np(pthread_self(), &a), 0);
    CHECK_EQ(pthread_attr_getstack(&a, &addr, &size), 0);
    CHECK_EQ(pthread_attr_destroy(&a), 0);
    CHECK(size >= SMALL_STACK);
    CHECK((uintptr_t)&local >= (uintptr_t)addr);
    CHECK((uintptr_t)&local < (uintptr_t)addr + size);
    wait_flag(&w->release);
    return arg;
}

static void test_getattr_stack(void)
{
    pthread_attr_t a;
    size_t size = 0;
    CHECK_EQ(pthread_attr_init(&a), 0);
    CHECK_EQ(pthread_attr_setstacksize(&a, SMALL_STACK), 0);
    CHECK_EQ(pthread_attr_getstacksize(&a, &size), 0);
    CHECK_EQ(size, SMALL_STACK);
    static struct waiter w;
    CHECK_EQ(pthread_create(&w.t, &a, stack_body, &w), 0);
    CHECK_EQ(pthread_attr_destroy(&a), 0);

    pthread_attr_t ga;
    void *addr;
    CHECK_EQ(pthread_getattr_np(w.t, &ga), 0);
    CHECK_EQ(pthread_attr_getstack(&ga, &addr, &size), 0);
    CHECK(size >= SMALL_STACK);
    CHECK_EQ(pthread_attr_getstacksize(&ga, &size), 0);
    CHECK(size >= SMALL_STACK);
    CHECK_EQ(pthread_attr_destroy(&ga), 0);
    waiter_finish(&w);
}

/* ------------------------------------------------------------------------------------------ */
/* pthread_getattr_np reports the detach state: created detached, joinable, and detached later. */

static atomic_int detached_state = -1, detached_done;

static void *detached_body(void *arg)
{
    (void)arg;
    pthread_attr_t a;
    int state = -1;
    CHECK_EQ(pthread_getattr_np(pthread_self(), &a), 0);
    CHECK_EQ(pthread_attr_getdetachstate(&a, &state), 0);
    CHECK_EQ(pthread_attr_destroy(&a), 0);
    atomic_store(&detached_state, state);
    atomic_store(&detached_done, 1);
    return NULL;
}

static int detach_state_of(pthread_t t)
{
    pthread_attr_t a;
    int state = -1;
    CHECK_EQ(pthread_getattr_np(t, &a), 0);
    CHECK_EQ(pthread_attr_getdetachstate(&a, &state), 0);
    CHECK_EQ(pthread_attr_destroy(&a), 0);
    return state;
}

static void test_getattr_detached(void)
{
    pthread_attr_t a;
    CHECK_EQ(pthread_attr_init(&a), 0);
    CHECK_EQ(pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, &a, detached_body, NULL), 0);
    CHECK_EQ(pthread_attr_destroy(&a), 0);
    wait_flag(&detached_done);
    CHECK_EQ(atomic_load(&detached_state), PTHREAD_CREATE_DETACHED);

    static struct waiter w;
    waiter_start(&w, NULL);
    CHECK_EQ(detach_state_of(w.t), PTHREAD_CREATE_JOINABLE);
    waiter_finish(&w);

    /* Detached after creation (kept alive while we look at it). */
    static struct waiter w2;
    waiter_start(&w2, NULL);
    CHECK_EQ(pthread_detach(w2.t), 0);
    CHECK_EQ(detach_state_of(w2.t), PTHREAD_CREATE_DETACHED);
    atomic_store(&w2.release, 1);
    wait_flag(&w2.done); /* it exits on its own; nothing may touch w2.t any more */
}

/* ------------------------------------------------------------------------------------------ */
/* Affinity of another thread: non-empty, and setting the same set back succeeds. */
static void test_affinity(void)
{
    static struct waiter w;
    waiter_start(&w, NULL);
    cpu_set_t set;
    CPU_ZERO(&set);
    CHECK_EQ(pthread_getaffinity_np(w.t, sizeof set, &set), 0);
    CHECK(CPU_COUNT(&set) > 0);
    CHECK_EQ(pthread_setaffinity_np(w.t, sizeof set, &set), 0);
    cpu_set_t again;
    CPU_ZERO(&again);
    CHECK_EQ(pthread_getaffinity_np(w.t, sizeof again, &again), 0);
    CHECK(CPU_EQUAL(&set, &again));
    waiter_finish(&w);
}

/* ------------------------------------------------------------------------------------------ */
/* Scheduling: a default thread is SCHED_OTHER with priority 0; setting exactly that succeeds;
 * pthread_setschedprio(t, 0) succeeds. */
static void test_sched(void)
{
    static struct waiter w;
    waiter_start(&w, NULL);
    int policy = -1;
    struct sched_param sp = {.sched_priority = -1};
    CHECK_EQ(pthread_getschedparam(w.t, &policy, &sp), 0);
    CHECK_EQ(policy, SCHED_OTHER);
    CHECK_EQ(sp.sched_priority, 0);
    sp.sched_priority = 0;
    CHECK_EQ(pthread_setschedparam(w.t, SCHED_OTHER, &sp), 0);
    CHECK_EQ(pthread_setschedprio(w.t, 0), 0);
    CHECK_EQ(pthread_getschedparam(w.t, &policy, &sp), 0);
    CHECK_EQ(policy, SCHED_OTHER);
    CHECK_EQ(sp.sched_priority, 0);
    waiter_finish(&w);
}

/* ------------------------------------------------------------------------------------------ */
/* pthread_kill(t, 0) checks a live thread without sending anything: 0. */
static void test_kill_zero(void)
{
    static struct waiter w;
    waiter_start(&w, NULL);
    CHECK_EQ(pthread_kill(w.t, 0), 0);
    CHECK_EQ(pthread_kill(pthread_self(), 0), 0);
    waiter_finish(&w);
}

/* ------------------------------------------------------------------------------------------ */
/* pthread_getcpuclockid gives a clock that clock_gettime accepts, for another thread and self. */
static void test_cpuclock(void)
{
    static struct waiter w;
    waiter_start(&w, NULL);
    clockid_t cid;
    struct timespec ts;
    CHECK_EQ(pthread_getcpuclockid(w.t, &cid), 0);
    CHECK_EQ(clock_gettime(cid, &ts), 0);
    CHECK(ts.tv_sec >= 0 && ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000L);
    CHECK_EQ(pthread_getcpuclockid(pthread_self(), &cid), 0);
    CHECK_EQ(clock_gettime(cid, &ts), 0);
    waiter_finish(&w);
}

/* ------------------------------------------------------------------------------------------ */
/* pthread_cancel of a thread blocked in nanosleep (a cancellation point): the sleep ends early,
 * the cleanup handler runs, and join returns PTHREAD_CANCELED. */

static atomic_int cancel_ready, cancel_handler_ran, cancel_sleep_returned;

static void set_flag_handler(void *arg)
{
    atomic_store((atomic_int *)arg, 1);
}

static void *cancel_sleep_body(void *arg)
{
    (void)arg;
    pthread_cleanup_push(set_flag_handler, &cancel_handler_ran);
    atomic_store(&cancel_ready, 1);
    struct timespec ts = {10, 0};
    nanosleep(&ts, NULL);
    atomic_store(&cancel_sleep_returned, 1);
    pthread_cleanup_pop(0);
    return NULL;
}

static void test_cancel_in_sleep(void)
{
    double start = now_seconds(CLOCK_MONOTONIC);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, cancel_sleep_body, NULL), 0);
    wait_flag(&cancel_ready);
    sleep_ms(20); /* most likely blocked in nanosleep by now; a pending cancel acts anyway */
    CHECK_EQ(pthread_cancel(t), 0);
    void *res = NULL;
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK(res == PTHREAD_CANCELED);
    CHECK_EQ(atomic_load(&cancel_handler_ran), 1);
    CHECK_EQ(atomic_load(&cancel_sleep_returned), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - start < 5.0);
}

/* ------------------------------------------------------------------------------------------ */
/* With cancellation disabled a cancel request stays pending (a nanosleep completes normally);
 * re-enabling it in deferred mode does not act by itself; pthread_testcancel then acts. */

static atomic_int dis_ready, dis_cancelled, dis_slept, dis_enabled, dis_after_test, dis_handler;

static void *cancel_disabled_body(void *arg)
{
    (void)arg;
    int old = -1;
    CHECK_EQ(pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old), 0);
    CHECK_EQ(old, PTHREAD_CANCEL_ENABLE);
    CHECK_EQ(pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, &old), 0);
    CHECK_EQ(old, PTHREAD_CANCEL_DEFERRED);
    atomic_store(&dis_ready, 1);
    wait_flag(&dis_cancelled); /* sleeps: cancellation points, but disabled */
    struct timespec ts = {0, 20 * 1000000L};
    CHECK_EQ(nanosleep(&ts, NULL), 0);
    pthread_testcancel();
    atomic_store(&dis_slept, 1);
    pthread_cleanup_push(set_flag_handler, &dis_handler);
    CHECK_EQ(pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old), 0);
    CHECK_EQ(old, PTHREAD_CANCEL_DISABLE);
    atomic_store(&dis_enabled, 1);
    pthread_testcancel();
    atomic_store(&dis_after_test, 1);
    pthread_cleanup_pop(0);
    return NULL;
}

static void test_cancel_disabled(void)
{
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, cancel_disabled_body, NULL), 0);
    wait_flag(&dis_ready);
    CHECK_EQ(pthread_cancel(t), 0);
    atomic_store(&dis_cancelled, 1);
    void *res = NULL;
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK(res == PTHREAD_CANCELED);
    CHECK_EQ(atomic_load(&dis_slept), 1);
    CHECK_EQ(atomic_load(&dis_enabled), 1);
    CHECK_EQ(atomic_load(&dis_handler), 1);
    CHECK_EQ(atomic_load(&dis_after_test), 0);
}

int main(void)
{
    test_self_equal();
    test_names();
    test_getattr_stack();
    test_getattr_detached();
    test_affinity();
    test_sched();
    test_kill_zero();
    test_cpuclock();
    test_cancel_in_sleep();
    test_cancel_disabled();
    return 0;
}
