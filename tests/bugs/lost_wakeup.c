// Corpus of deliberately buggy programs (tests/bugs/README.md): a lost wake-up, depth 2.
//
// Four consumers each wait for their own job.  A consumer tests "ready" before it takes the
// mutex, then waits on the condition variable: a producer that sets "ready" and signals in
// between signals nobody, and the consumer then waits forever.  The producer hands out the jobs
// one after another, with locked bookkeeping in between.  Depth 2: a consumer must be preempted
// between its test and its wait, and the producer must then post its job.
// Failure: a deadlock (main joins a consumer that waits forever: status 86 seeded; a hang with
// real threads).
#include <pthread.h>
#include <stdio.h>

#define CONSUMERS 4

struct slot {
    pthread_mutex_t m;
    pthread_cond_t c;
    int ready;
};
static struct slot slots[CONSUMERS];
static pthread_mutex_t book = PTHREAD_MUTEX_INITIALIZER;
static int handed, done;

static void* consumer(void* arg)
{
    struct slot* s = &slots[(long)arg];
    for (int i = 0; i < 5; i++) {  // some locked work first
        pthread_mutex_lock(&book);
        pthread_mutex_unlock(&book);
    }
    if (!s->ready) {  // tested without the mutex (the bug)
        pthread_mutex_lock(&s->m);
        pthread_cond_wait(&s->c, &s->m);
        pthread_mutex_unlock(&s->m);
    }
    pthread_mutex_lock(&book);
    done++;
    pthread_mutex_unlock(&book);
    return NULL;
}

static void* producer(void* arg)
{
    (void)arg;
    for (int i = 0; i < CONSUMERS; i++) {
        for (int j = 0; j < 5; j++) {
            pthread_mutex_lock(&book);
            handed += j == 0;
            pthread_mutex_unlock(&book);
        }
        pthread_mutex_lock(&slots[i].m);
        slots[i].ready = 1;
        pthread_cond_signal(&slots[i].c);
        pthread_mutex_unlock(&slots[i].m);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[CONSUMERS + 1];
    for (int i = 0; i < CONSUMERS; i++) {
        pthread_mutex_init(&slots[i].m, NULL);
        pthread_cond_init(&slots[i].c, NULL);
    }
    for (long i = 0; i < CONSUMERS; i++)
        pthread_create(&t[i], NULL, consumer, (void*)i);
    pthread_create(&t[CONSUMERS], NULL, producer, NULL);
    for (int i = 0; i <= CONSUMERS; i++)
        pthread_join(t[i], NULL);
    printf("handed %d, done %d\n", handed, done);
    return 0;
}
