/* mlockall(MCL_CURRENT | MCL_FUTURE) locks what the program has mapped and will map, threads'
 * stacks included: a real thread's stack is one mapping, populated and locked.  The memory
 * actually locked (the Locked: lines of /proc/self/smaps) with four threads alive must stay
 * near four stacks' worth, whatever else the process has reserved.  (Run as root, or with an
 * RLIMIT_MEMLOCK large enough: mlockall failing is a failure here.) */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/mman.h>

#include "plain.h"

#define THREADS 4

static pthread_barrier_t barrier;

static void *parked(void *arg)
{
    pthread_barrier_wait(&barrier); /* all alive */
    pthread_barrier_wait(&barrier); /* measured */
    return arg;
}

/* KiB of memory locked and resident, over every mapping. */
static long locked_kib(void)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    CHECK(f != NULL);
    char line[512];
    long sum = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "Locked:", 7) == 0)
            sum += atol(line + 7);
    fclose(f);
    return sum;
}

int main(void)
{
    pthread_attr_t attr;
    size_t stack = 0;
    CHECK_EQ(pthread_attr_init(&attr), 0);
    CHECK_EQ(pthread_attr_getstacksize(&attr, &stack), 0);
    pthread_attr_destroy(&attr);

    if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
        perror("mlockall");
        return 1;
    }
    CHECK_EQ(pthread_barrier_init(&barrier, NULL, THREADS + 1), 0);
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, parked, (void *)i), 0);
    pthread_barrier_wait(&barrier);
    check_os_threads();
    long locked = locked_kib();
    /* The stacks (glibc's default size, each locked whole), plus 64 MiB for the program, the
     * libraries and anything else. */
    long bound = (long)(THREADS * stack / 1024) + 64 * 1024;
    if (locked > bound) {
        fprintf(stderr, "FAIL: %ld KiB locked with %d threads of %zu KiB stacks (at most %ld)\n",
                locked, THREADS, stack / 1024, bound);
        return 1;
    }
    pthread_barrier_wait(&barrier);
    for (long i = 0; i < THREADS; i++) {
        void *r;
        CHECK_EQ(pthread_join(t[i], &r), 0);
        CHECK_EQ((long)r, i);
    }
    CHECK_EQ(munlockall(), 0);
    CHECK_EQ(locked_kib(), 0);
    /* Threads still start once the memory is no longer locked. */
    CHECK_EQ(pthread_barrier_destroy(&barrier), 0);
    CHECK_EQ(pthread_barrier_init(&barrier, NULL, 2), 0);
    pthread_t u;
    void *r;
    CHECK_EQ(pthread_create(&u, NULL, parked, (void *)7L), 0);
    pthread_barrier_wait(&barrier);
    pthread_barrier_wait(&barrier);
    CHECK_EQ(pthread_join(u, &r), 0);
    CHECK_EQ((long)r, 7);
    return 0;
}
