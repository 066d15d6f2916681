// Corpus of deliberately buggy programs (tests/bugs/README.md): a timed wait that must expire
// early, depth 1 (with GREEN_EXPIRE).
//
// A consumer takes jobs from a queue and waits at most one second for the next one; when the
// wait times out it decides the producers are finished and closes the queue.  Four producers
// each queue 10 jobs, with locked bookkeeping in between.  Nothing says the producers are
// finished: on a loaded machine a producer can be off the CPU for a second, the consumer's
// wait expires, and a later job finds the queue closed.  Under virtual time a deadline expires
// only when nothing else can run, unless GREEN_EXPIRE lets it expire while producers are busy.
// Failure: "BUG: ..." on stderr, exit status 1.
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define PRODUCERS 4
#define JOBS 10

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t book = PTHREAD_MUTEX_INITIALIZER;
static int queued, taken, closed, bookkeeping;

static void* producer(void* arg)
{
    (void)arg;
    for (int i = 0; i < JOBS; i++) {
        pthread_mutex_lock(&book);
        bookkeeping++;
        pthread_mutex_unlock(&book);
        pthread_mutex_lock(&lock);
        if (closed) {
            fprintf(stderr, "BUG: a job came after the consumer closed the queue\n");
            exit(1);
        }
        queued++;
        pthread_cond_signal(&more);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static void* consumer(void* arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    while (taken < PRODUCERS * JOBS) {
        if (queued > taken) {
            taken++;
            continue;
        }
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 1;
        if (pthread_cond_timedwait(&more, &lock, &deadline) == ETIMEDOUT && queued == taken) {
            closed = 1;  // idle for a second: assumes the producers are done (the bug)
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(void)
{
    pthread_t t[PRODUCERS + 1];
    pthread_create(&t[PRODUCERS], NULL, consumer, NULL);
    for (long i = 0; i < PRODUCERS; i++)
        pthread_create(&t[i], NULL, producer, NULL);
    for (int i = 0; i <= PRODUCERS; i++)
        pthread_join(t[i], NULL);
    printf("taken %d of %d\n", taken, PRODUCERS * JOBS);
    return taken == PRODUCERS * JOBS ? 0 : 1;
}
