/* What a thread keeps of its own while the scheduler moves it from CPU to CPU: its thread-local
 * variables (values and addresses), errno, pthread_self, its key values, its locale, its signal
 * mask, memory it allocated, and a stream lock it holds (flockfile) across many yields.
 *
 * Threads of unequal length yield in loops, so that some finish early and the others' share of
 * the CPUs changes as they run (with real threads the kernel migrates them; under libgreen with
 * several workers, work sharing does).  Every check is what POSIX promises a thread.
 *
 *   migrate [ROUNDS]     (default 4000 yields for the longest thread) */
#include <locale.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "plain.h"

#define THREADS 8
#define LINES 20

static __thread long tl_value;
static __thread char tl_buf[256];
static pthread_key_t key;
static FILE *shared;
static int rounds = 4000;
static atomic_int alive;

/* One thread: rounds proportional to its index, each a yield with every piece of its state
 * checked around it. */
static void *worker(void *arg)
{
    intptr_t id = (intptr_t)arg;
    pthread_t self = pthread_self();
    long *tl_addr = &tl_value;
    int *errno_addr = &errno;
    CHECK_EQ(pthread_setspecific(key, (void *)(id + 1)), 0);
    /* Odd threads use a locale of their own. */
    locale_t mine = (locale_t)0, before = uselocale((locale_t)0);
    if (id & 1) {
        mine = newlocale(LC_ALL_MASK, "C", (locale_t)0);
        CHECK(mine != (locale_t)0);
        uselocale(mine);
    }
    /* Each thread blocks a signal of its own. */
    sigset_t set, got;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 1 + (int)id);
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, &set, NULL), 0);
    int n = rounds * (int)(id % 4 + 1) / 4;
    for (int k = 0; k < n; k++) {
        tl_value = id * 1000003 + k;
        memset(tl_buf, (int)(id + k) & 0xff, sizeof tl_buf);
        size_t len = 16 + (size_t)((id * 31 + k) % 700);
        unsigned char *mem = malloc(len);
        CHECK(mem != NULL);
        memset(mem, (int)(id ^ k) & 0xff, len);
        errno = (int)(1000 + id);
        CHECK_EQ(sched_yield(), 0);
        CHECK_EQ(errno, 1000 + id);
        CHECK(&errno == errno_addr);
        CHECK(&tl_value == tl_addr);
        CHECK_EQ(tl_value, id * 1000003 + k);
        for (size_t b = 0; b < sizeof tl_buf; b++)
            CHECK_EQ((unsigned char)tl_buf[b], (unsigned char)((id + k) & 0xff));
        for (size_t b = 0; b < len; b++)
            CHECK_EQ(mem[b], (unsigned char)((id ^ k) & 0xff));
        free(mem);
        CHECK(pthread_equal(pthread_self(), self));
        CHECK(pthread_getspecific(key) == (void *)(id + 1));
        CHECK(uselocale((locale_t)0) == ((id & 1) ? mine : before));
        CHECK_EQ(pthread_sigmask(SIG_BLOCK, NULL, &got), 0);
        CHECK(sigismember(&got, SIGRTMIN + 1 + (int)id));
        CHECK(!sigismember(&got, SIGRTMIN + 1 + (int)((id + 1) % THREADS)));
        /* Now and then: a stream lock held over yields, its lines written unbroken. */
        if (k % 97 == 0) {
            flockfile(shared);
            for (int l = 0; l < LINES; l++) {
                fprintf(shared, "%ld %d\n", (long)id, l);
                CHECK_EQ(sched_yield(), 0);
            }
            funlockfile(shared);
        }
    }
    if (mine != (locale_t)0) {
        uselocale(before);
        freelocale(mine);
    }
    if (atomic_fetch_add(&alive, -1) == THREADS)
        check_os_threads();
    return (void *)(intptr_t)n;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        rounds = atoi(argv[1]);
    CHECK(rounds > 0);
    CHECK_EQ(pthread_key_create(&key, NULL), 0);
    shared = tmpfile();
    CHECK(shared != NULL);
    atomic_store(&alive, THREADS);
    pthread_t t[THREADS];
    for (intptr_t i = 0; i < THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, worker, (void *)i), 0);
    long blocks = 0;
    for (intptr_t i = 0; i < THREADS; i++) {
        void *r;
        CHECK_EQ(pthread_join(t[i], &r), 0);
        int n = (int)(intptr_t)r;
        CHECK_EQ(n, rounds * (int)(i % 4 + 1) / 4);
        blocks += (n + 96) / 97;
    }
    /* Each locked block: LINES lines of one thread, numbered 0 to LINES-1, none cut. */
    rewind(shared);
    long id, line, got = 0, expect_line = 0, owner = -1;
    while (fscanf(shared, "%ld %ld", &id, &line) == 2) {
        if (expect_line == 0)
            owner = id;
        CHECK_EQ(id, owner);
        CHECK_EQ(line, expect_line);
        expect_line = (expect_line + 1) % LINES;
        got++;
    }
    CHECK_EQ(got, blocks * LINES);
    fclose(shared);
    printf("migrate: %d threads, %ld locked blocks, every thread's state kept\n", THREADS, blocks);
    return 0;
}
