/* dns_flood: many concurrent look-ups, one thread each, all threads alive at once.
 *
 *   dns_flood COUNT [NAME_PREFIX]
 *
 * Starts COUNT threads with 64 KiB stacks.  Thread N resolves NAME_PREFIX N ".load.green.test"
 * (NAME_PREFIX defaults to "h"; the test zone answers hN.load.green.test with A 10.54.N/256.N%256)
 * with getaddrinfo(AF_INET, SOCK_STREAM), checks that the answer is that one address, and then
 * waits until every thread has finished its look-up, so that all COUNT threads exist at the same
 * time.  One more thread, started first, resolves slow.green.test (answered after 300 ms): the
 * fast look-ups must not queue behind it.  "fast_done_before_slow yes" means some fast look-up,
 * started after the slow one was under way, completed before it (an order of completion, not a
 * time); it is reported, never judged, because it says how the resolver waits, not whether it
 * is right.
 *
 * Prints one line:
 *   lookups COUNT ok K seconds S os_threads T fast_done_before_slow yes|no
 * S is the wall time from the first pthread_create until every fast look-up's thread has been
 * joined (the slow one is waited for afterwards, and is not counted in S).
 * T is the largest number of OS threads (entries of /proc/self/task) seen while the threads
 * were alive, sampled by the main thread and by some of the workers.  Exit status 0 when all
 * COUNT look-ups (and the slow one) returned the right address, 1 otherwise, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define STACK_SIZE (64 * 1024)
#define WAIT_LIMIT_S 120 /* a thread stops waiting for the others after this long */

static const char *prefix = "h";
static int count;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t all_done = PTHREAD_COND_INITIALIZER;
static pthread_cond_t slow_started_cond = PTHREAD_COND_INITIALIZER;
static int finished;  /* look-ups finished (right or wrong), under lock */
static int expected;  /* threads that exist and will finish, under lock */
static int slow_started;

static atomic_int ok_count;
static atomic_int completion_seq; /* order in which look-ups complete */
static atomic_int first_fast_seq = INT32_MAX;
static int slow_seq = -1;
static int slow_ok;
static atomic_int max_threads;
static int sample_every;

static int os_thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void sample_threads(void)
{
    int n = os_thread_count();
    int seen = atomic_load(&max_threads);
    while (n > seen && !atomic_compare_exchange_weak(&max_threads, &seen, n))
        ;
}

static atomic_int failures;

/* The first few failures are described on stderr; the rest are only counted. */
static int tell_failure(void)
{
    return atomic_fetch_add(&failures, 1) < 10;
}

/* Resolves name and checks that the answer is exactly one IPv4 address, want. */
static int resolve_one(const char *name, const char *want)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    if (rc != 0) {
        if (tell_failure())
            fprintf(stderr, "dns_flood: %s: %s\n", name, gai_strerror(rc));
        return 0;
    }
    char got[INET_ADDRSTRLEN] = "?";
    int good = res && !res->ai_next && res->ai_family == AF_INET;
    if (res && res->ai_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, got, sizeof got);
    good = good && strcmp(got, want) == 0;
    if (!good && tell_failure())
        fprintf(stderr, "dns_flood: %s: got %s%s, want %s\n", name, got,
                res && res->ai_next ? " and more" : "", want);
    freeaddrinfo(res);
    return good;
}

static struct timespec deadline(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += WAIT_LIMIT_S;
    return ts;
}

/* Counts one finished look-up; waits until all expected ones are finished. */
static void finish_and_wait(void)
{
    pthread_mutex_lock(&lock);
    finished++;
    if (finished >= expected) {
        pthread_cond_broadcast(&all_done);
    } else {
        struct timespec dl = deadline();
        while (finished < expected)
            if (pthread_cond_timedwait(&all_done, &lock, &dl) == ETIMEDOUT)
                break;
    }
    pthread_mutex_unlock(&lock);
}

static void *slow_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    slow_started = 1;
    pthread_cond_signal(&slow_started_cond);
    pthread_mutex_unlock(&lock);
    slow_ok = resolve_one("slow.green.test", "10.53.0.9");
    slow_seq = atomic_fetch_add(&completion_seq, 1);
    return NULL;
}

static void *worker(void *arg)
{
    int n = (int)(long)arg;
    char name[300], want[INET_ADDRSTRLEN];
    snprintf(name, sizeof name, "%s%d.load.green.test", prefix, n);
    snprintf(want, sizeof want, "10.54.%d.%d", (n / 256) % 256, n % 256);
    if (resolve_one(name, want))
        atomic_fetch_add(&ok_count, 1);
    int seq = atomic_fetch_add(&completion_seq, 1);
    int first = atomic_load(&first_fast_seq);
    while (seq < first && !atomic_compare_exchange_weak(&first_fast_seq, &first, seq))
        ;
    /* The last one to finish sees every thread alive; a few others sample on the way. */
    pthread_mutex_lock(&lock);
    int last = finished + 1 >= expected;
    pthread_mutex_unlock(&lock);
    if (last || n % sample_every == 0)
        sample_threads();
    finish_and_wait();
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3 || atoi(argv[1]) <= 0) {
        fprintf(stderr, "usage: dns_flood COUNT [NAME_PREFIX]\n"
                        "  COUNT threads resolve NAME_PREFIX<N>.load.green.test at once "
                        "(NAME_PREFIX: h)\n");
        return 2;
    }
    count = atoi(argv[1]);
    if (argc == 3)
        prefix = argv[2];
    sample_every = count / 8 > 0 ? count / 8 : 1;

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, STACK_SIZE);
    pthread_t *threads = calloc((size_t)count, sizeof *threads);
    if (!threads) {
        perror("dns_flood: calloc");
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    /* The slow look-up is under way before the first fast one starts. */
    pthread_t slow;
    if (pthread_create(&slow, &attr, slow_thread, NULL) != 0) {
        perror("dns_flood: pthread_create");
        return 1;
    }
    pthread_mutex_lock(&lock);
    while (!slow_started)
        pthread_cond_wait(&slow_started_cond, &lock);
    expected = count;
    pthread_mutex_unlock(&lock);

    int created = 0;
    for (; created < count; created++) {
        int err = pthread_create(&threads[created], &attr, worker, (void *)(long)created);
        if (err != 0) {
            fprintf(stderr, "dns_flood: pthread_create of thread %d of %d: %s\n", created + 1,
                    count, strerror(err));
            /* The threads already started must not wait for the ones that never will. */
            pthread_mutex_lock(&lock);
            expected = created;
            pthread_cond_broadcast(&all_done);
            pthread_mutex_unlock(&lock);
            break;
        }
    }
    sample_threads();
    for (int i = 0; i < created; i++)
        pthread_join(threads[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(slow, NULL);

    int ok = atomic_load(&ok_count);
    int fast_first = atomic_load(&first_fast_seq);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("lookups %d ok %d seconds %.3f os_threads %d fast_done_before_slow %s\n", count, ok,
           seconds, atomic_load(&max_threads), fast_first < slow_seq ? "yes" : "no");
    if (atomic_load(&failures) > 10)
        fprintf(stderr, "dns_flood: %d look-ups failed in all\n", atomic_load(&failures));
    free(threads);
    pthread_attr_destroy(&attr);
    return ok == count && slow_ok ? 0 : 1;
}
