/* Thread stacks: requested sizes are usable, overflow is a SIGSEGV, user-provided stacks are
 * used, and default stacks are large. */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plain.h"

#define KiB 1024UL
#define MiB (1024UL * 1024UL)
#define FRAME (64 * KiB)

/* Recurses depth times with a 64 KiB buffer per frame, writing every byte of it (from the top
 * down, as a stack grows).  Records the lowest buffer address in *lowest. */
static __attribute__((noinline)) int use_stack(int depth, uintptr_t *lowest, int check_threads)
{
    volatile char buf[FRAME];
    for (size_t i = sizeof buf; i-- > 0;)
        buf[i] = (char)(i + (size_t)depth);
    if ((uintptr_t)buf < *lowest)
        *lowest = (uintptr_t)buf;
    int r = 0;
    if (depth > 1)
        r = use_stack(depth - 1, lowest, check_threads);
    else if (check_threads)
        check_os_threads(); /* deepest point of the biggest stack: peak concurrency */
    for (size_t i = 0; i < sizeof buf; i += 4096)
        CHECK_EQ(buf[i], (char)(i + (size_t)depth));
    return r + buf[depth];
}

struct stack_job {
    int depth;           /* frames of 64 KiB */
    int check_threads;   /* call check_os_threads at the deepest point */
    uintptr_t region_lo; /* if nonzero: every local must lie in [region_lo, region_hi) */
    uintptr_t region_hi;
    uintptr_t top;       /* out: address of a local in the start routine */
    uintptr_t lowest;    /* out: lowest buffer address reached */
};

static void *stack_body(void *arg)
{
    struct stack_job *job = arg;
    volatile int local = 0;
    job->top = (uintptr_t)&local;
    job->lowest = UINTPTR_MAX;
    use_stack(job->depth, &job->lowest, job->check_threads);
    return job;
}

/* Runs a stack_job on a new thread with the given attributes and checks how much stack it used. */
static void run_job(struct stack_job *job, const pthread_attr_t *attr)
{
    pthread_t t;
    void *res = NULL;
    CHECK_EQ(pthread_create(&t, attr, stack_body, job), 0);
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK(res == job);
    CHECK(job->lowest < job->top);
    CHECK(job->top - job->lowest >= (uintptr_t)(job->depth - 1) * FRAME);
    if (job->region_lo) {
        CHECK(job->top >= job->region_lo && job->top < job->region_hi);
        CHECK(job->lowest >= job->region_lo && job->lowest < job->region_hi);
    }
}

/* A thread created with a 4 MiB stacksize can use 3 MiB of it. */
static void test_big_stack(void)
{
    pthread_attr_t a;
    CHECK_EQ(pthread_attr_init(&a), 0);
    CHECK_EQ(pthread_attr_setstacksize(&a, 4 * MiB), 0);
    struct stack_job job = {.depth = 3 * MiB / FRAME, .check_threads = 1};
    run_job(&job, &a);
    CHECK_EQ(pthread_attr_destroy(&a), 0);
}

/* A thread with default attributes can use at least 1 MiB of stack (glibc: 8 MiB by default). */
static void test_default_stack(void)
{
    struct stack_job job = {.depth = 1 * MiB / FRAME};
    run_job(&job, NULL);
}

/* A thread on a user-provided 1 MiB stack (pthread_attr_setstack) runs on that region. */
static void test_user_stack(void)
{
    size_t size = 1 * MiB;
    void *region = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                        -1, 0);
    CHECK(region != MAP_FAILED);
    pthread_attr_t a;
    CHECK_EQ(pthread_attr_init(&a), 0);
    CHECK_EQ(pthread_attr_setstack(&a, region, size), 0);
    void *got_addr = NULL;
    size_t got_size = 0;
    CHECK_EQ(pthread_attr_getstack(&a, &got_addr, &got_size), 0);
    CHECK(got_addr == region);
    CHECK_EQ(got_size, size);
    struct stack_job job = {.depth = (int)(512 * KiB / FRAME),
                            .region_lo = (uintptr_t)region,
                            .region_hi = (uintptr_t)region + size};
    run_job(&job, &a);
    CHECK_EQ(pthread_attr_destroy(&a), 0);
    CHECK_EQ(munmap(region, size), 0); /* the thread is joined: the region is ours again */
}

/* pthread_attr_setstacksize rejects sizes below PTHREAD_STACK_MIN with EINVAL. */
static void test_stacksize_min(void)
{
    pthread_attr_t a;
    CHECK_EQ(pthread_attr_init(&a), 0);
    CHECK_EQ(pthread_attr_setstacksize(&a, PTHREAD_STACK_MIN - 1), EINVAL);
    CHECK_EQ(pthread_attr_setstacksize(&a, PTHREAD_STACK_MIN), 0);
    CHECK_EQ(pthread_attr_destroy(&a), 0);
}

/* ------------------------------------------------------------------------------------------ */
/* A thread with a 64 KiB stack that recurses without bound dies of SIGSEGV (the guard page),
 * which kills its process.  Done in a fork()ed child. */

static volatile int recursion_limit = INT_MAX;

static __attribute__((noinline)) int recurse_forever(int depth)
{
    volatile char buf[512];
    for (size_t i = sizeof buf; i-- > 0;)
        buf[i] = (char)depth;
    int r = depth < recursion_limit ? recurse_forever(depth + 1) : 0;
    return r + buf[depth % 512];
}

static void *overflow_body(void *arg)
{
    (void)arg;
    recurse_forever(0);
    return NULL;
}

static void test_overflow_segv(void)
{
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        alarm(10); /* should never fire */
        pthread_attr_t a;
        pthread_attr_init(&a);
        if (pthread_attr_setstacksize(&a, 64 * KiB) != 0)
            _exit(2);
        pthread_t t;
        if (pthread_create(&t, &a, overflow_body, NULL) != 0)
            _exit(3);
        pthread_join(t, NULL);
        _exit(4);
    }
    int status = 0;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status))
        CHECK_EQ(WEXITSTATUS(status), -1); /* shows the child's exit status */
    CHECK(WIFSIGNALED(status));
    CHECK_EQ(WTERMSIG(status), SIGSEGV);
}

int main(void)
{
    test_stacksize_min();
    test_big_stack();
    test_default_stack();
    test_user_stack();
    test_overflow_segv();
    return 0;
}
