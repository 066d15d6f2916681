// 20 threads parked in different blocking calls, for the debugger's tests (tests/run.sh, debug):
//   4 in sleep, 4 in read on a socket, 3 in pthread_mutex_lock, 3 in pthread_cond_wait,
//   3 in sem_wait, 3 in pthread_join (each of a sleeper);
// the main thread reads its standard input.  Once every thread has reached its call, it prints
// "ready PID" and waits for a line on stdin; then it releases every thread (unlocks the mutex,
// broadcasts, posts, writes one byte to each socket, interrupts the sleepers with SIGUSR1),
// joins them all, checks what each did and prints "done: 20 threads finished".  Each kind of
// thread starts in a function of its own (park_in_*), which a backtrace must show.
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { SLEEPERS = 4, READERS = 4, LOCKERS = 3, WAITERS = 3, SEMS = 3, JOINERS = 3 };
enum { THREADS = SLEEPERS + READERS + LOCKERS + WAITERS + SEMS + JOINERS };

static atomic_int arrived;   // threads that reached (or are about to make) their blocking call
static atomic_int released;  // the main thread said go
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int cond_go;          // under cond_lock
static sem_t sem;
static int locked_count;     // under lock
static int socks[READERS][2];
static pthread_t sleepers[SLEEPERS];

static void fail(const char* what)
{
    perror(what);
    exit(1);
}

static void name_self(const char* kind, long i)
{
    char name[16];
    snprintf(name, sizeof name, "%s-%ld", kind, i);
    pthread_setname_np(pthread_self(), name);
}

static void on_usr1(int sig) { (void)sig; }

static void* park_in_sleep(void* arg)
{
    name_self("sleeper", (long)arg);
    atomic_fetch_add(&arrived, 1);
    while (!atomic_load(&released))
        sleep(60);  // SIGUSR1 cuts it short
    return arg;
}

static void* park_in_read(void* arg)
{
    long i = (long)arg;
    name_self("reader", i);
    char c = 0;
    atomic_fetch_add(&arrived, 1);
    if (read(socks[i][1], &c, 1) != 1)
        fail("read");
    return (void*)(long)c;
}

static void* park_in_mutex(void* arg)
{
    atomic_fetch_add(&arrived, 1);
    pthread_mutex_lock(&lock);
    locked_count++;
    pthread_mutex_unlock(&lock);
    return arg;
}

static void* park_in_cond(void* arg)
{
    pthread_mutex_lock(&cond_lock);
    atomic_fetch_add(&arrived, 1);
    while (!cond_go)
        pthread_cond_wait(&cond, &cond_lock);
    pthread_mutex_unlock(&cond_lock);
    return arg;
}

static void* park_in_sem(void* arg)
{
    atomic_fetch_add(&arrived, 1);
    while (sem_wait(&sem) != 0)
        ;
    return arg;
}

static void* park_in_join(void* arg)
{
    void* result = NULL;
    atomic_fetch_add(&arrived, 1);
    if (pthread_join(sleepers[(long)arg], &result) != 0)
        fail("pthread_join");
    return result;
}

// The main thread's wait: one line on stdin.
static void wait_for_go(void)
{
    char line[64];
    ssize_t n = read(0, line, sizeof line);
    if (n <= 0) {
        fprintf(stderr, "parked: no go on stdin\n");
        exit(1);
    }
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    if (sem_init(&sem, 0, 0) != 0)
        fail("sem_init");
    for (int i = 0; i < READERS; i++)
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, socks[i]) != 0)
            fail("socketpair");

    pthread_mutex_lock(&lock);  // held until go: the lockers wait for it
    static void* (*const kinds[])(void*) = {park_in_read, park_in_mutex, park_in_cond, park_in_sem};
    static const int counts[] = {READERS, LOCKERS, WAITERS, SEMS};
    pthread_t t[READERS + LOCKERS + WAITERS + SEMS], joiners[JOINERS];
    long expect[READERS + LOCKERS + WAITERS + SEMS];  // what each returns
    int n = 0;
    for (long i = 0; i < SLEEPERS; i++)
        if (pthread_create(&sleepers[i], NULL, park_in_sleep, (void*)i) != 0)
            fail("pthread_create");
    for (int k = 0; k < 4; k++)
        for (long i = 0; i < counts[k]; i++) {
            expect[n] = k == 0 ? 'r' : i;
            if (pthread_create(&t[n++], NULL, kinds[k], (void*)i) != 0)
                fail("pthread_create");
        }
    for (long i = 0; i < JOINERS; i++)
        if (pthread_create(&joiners[i], NULL, park_in_join, (void*)i) != 0)
            fail("pthread_create");
    while (atomic_load(&arrived) < THREADS)
        usleep(1000);
    usleep(100000);  // from "arrived" into the call itself
    printf("ready %d\n", (int)getpid());
    fflush(stdout);

    wait_for_go();
    atomic_store(&released, 1);
    pthread_mutex_unlock(&lock);
    pthread_mutex_lock(&cond_lock);
    cond_go = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&cond_lock);
    for (int i = 0; i < SEMS; i++)
        sem_post(&sem);
    for (int i = 0; i < READERS; i++)
        if (write(socks[i][0], "r", 1) != 1)
            fail("write");
    for (int i = 0; i < SLEEPERS; i++)
        pthread_kill(sleepers[i], SIGUSR1);

    int finished = 0;
    for (int i = 0; i < n; i++) {  // each reader got its byte, the others ran to their end
        void* r;
        pthread_join(t[i], &r);
        finished += (long)r == expect[i];
    }
    for (long i = 0; i < JOINERS; i++) {  // each joiner got its sleeper's result
        void* r;
        pthread_join(joiners[i], &r);
        finished += 2 * ((long)r == i);  // the joiner and the sleeper it joined
    }
    finished += pthread_join(sleepers[SLEEPERS - 1], NULL) == 0;
    if (locked_count != LOCKERS || finished != THREADS) {
        fprintf(stderr, "parked: %d threads finished well, %d lockers ran\n", finished,
                locked_count);
        return 1;
    }
    printf("done: %d threads finished\n", finished);
    return 0;
}
