/* pthread_cleanup_push/pop in plain C.  Built without -fexceptions (gcc's default for C), glibc's
 * macros use its setjmp-based mechanism (__pthread_register_cancel / __pthread_unwind_next);
 * with -fexceptions they would use __attribute__((cleanup)) instead, and the test still holds. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "plain.h"

/* Each thread logs to its own log. */
struct log {
    int ev[32];
    int n;
};

static void log_add(struct log *log, int e)
{
    CHECK(log->n < 32);
    log->ev[log->n++] = e;
}

static void check_log(const struct log *log, const int *want, int n)
{
    CHECK_EQ(log->n, n);
    for (int i = 0; i < n; i++)
        CHECK_EQ(log->ev[i], want[i]);
}

struct entry {
    struct log *log;
    int id;
};

static void handler(void *arg)
{
    struct entry *e = arg;
    log_add(e->log, e->id);
}

/* ------------------------------------------------------------------------------------------ */
/* pthread_exit in the innermost of three functions runs every pushed handler, LIFO, each with
 * its own argument; a handler popped with pop(0) never runs, one popped with pop(1) runs once.
 * Several threads do this at once; this is the peak concurrency. */

#define THREADS 6
static struct log logs[THREADS];
static atomic_int started, go;

static __attribute__((noinline)) void level3(struct log *log, intptr_t i)
{
    struct entry e5 = {log, 5}, e6 = {log, 6};
    pthread_cleanup_push(handler, &e5);
    pthread_cleanup_push(handler, &e6);
    pthread_exit((void *)(200 + i));
    pthread_cleanup_pop(1);
    pthread_cleanup_pop(1);
}

static __attribute__((noinline)) void level2(struct log *log, intptr_t i)
{
    struct entry e3 = {log, 3}, e90 = {log, 90}, e4 = {log, 4};
    pthread_cleanup_push(handler, &e3);
    pthread_cleanup_push(handler, &e90);
    pthread_cleanup_pop(0); /* must not run */
    pthread_cleanup_push(handler, &e4);
    level3(log, i);
    log_add(log, -2);
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
}

static __attribute__((noinline)) void level1(struct log *log, intptr_t i)
{
    struct entry e1 = {log, 1}, e91 = {log, 91}, e2 = {log, 2};
    pthread_cleanup_push(handler, &e1);
    pthread_cleanup_push(handler, &e91);
    pthread_cleanup_pop(1); /* runs now, once */
    pthread_cleanup_push(handler, &e2);
    atomic_fetch_add(&started, 1);
    while (!atomic_load(&go))
        sleep_ms(1);
    level2(log, i);
    log_add(log, -1);
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
}

static void *nested_body(void *arg)
{
    intptr_t i = (intptr_t)arg;
    level1(&logs[i], i);
    log_add(&logs[i], -3);
    return NULL;
}

static void test_nested_exit(void)
{
    pthread_t t[THREADS];
    for (intptr_t i = 0; i < THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, nested_body, (void *)i), 0);
    for (int i = 0; atomic_load(&started) < THREADS; i++) {
        CHECK(i < 10000);
        sleep_ms(1);
    }
    check_os_threads();
    atomic_store(&go, 1);
    static const int want[] = {91, 6, 5, 4, 3, 2, 1};
    for (intptr_t i = 0; i < THREADS; i++) {
        void *res = NULL;
        CHECK_EQ(pthread_join(t[i], &res), 0);
        CHECK_EQ((intptr_t)res, 200 + i);
        check_log(&logs[i], want, 7);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Without pthread_exit: pop(1) runs the handler (with its argument), pop(0) does not, and the
 * start routine's return value reaches join. */

static struct log pop_log;

static void *pop_body(void *arg)
{
    (void)arg;
    struct entry e1 = {&pop_log, 1}, e2 = {&pop_log, 2}, e3 = {&pop_log, 3}, e4 = {&pop_log, 4};
    pthread_cleanup_push(handler, &e1);
    pthread_cleanup_push(handler, &e2);
    pthread_cleanup_push(handler, &e3);
    pthread_cleanup_push(handler, &e4);
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(1);
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(1);
    return (void *)9;
}

static void test_pop(void)
{
    pthread_t t;
    void *res = NULL;
    CHECK_EQ(pthread_create(&t, NULL, pop_body, NULL), 0);
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK_EQ((intptr_t)res, 9);
    static const int want[] = {3, 1};
    check_log(&pop_log, want, 2);
}

/* ------------------------------------------------------------------------------------------ */
/* pthread_exit directly in the start routine, with handlers pushed there, and
 * a thread with no handlers at all: both deliver their value. */

static struct log start_log;

static void *start_body(void *arg)
{
    (void)arg;
    struct entry e1 = {&start_log, 1}, e2 = {&start_log, 2};
    pthread_cleanup_push(handler, &e1);
    pthread_cleanup_push(handler, &e2);
    pthread_exit((void *)33);
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
    return NULL;
}

static void *plain_exit_body(void *arg)
{
    (void)arg;
    pthread_exit((void *)44);
    return NULL;
}

static void test_exit_in_start_routine(void)
{
    pthread_t t;
    void *res = NULL;
    CHECK_EQ(pthread_create(&t, NULL, start_body, NULL), 0);
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK_EQ((intptr_t)res, 33);
    static const int want[] = {2, 1};
    check_log(&start_log, want, 2);

    CHECK_EQ(pthread_create(&t, NULL, plain_exit_body, NULL), 0);
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK_EQ((intptr_t)res, 44);
}

int main(void)
{
    test_nested_exit();
    test_pop();
    test_exit_in_start_routine();
    return 0;
}
