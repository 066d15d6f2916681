// Corpus of deliberately buggy programs (tests/bugs/README.md): an order violation, depth 1.
//
// main starts the first of four workers, then sets up the configuration they read, then starts
// the others.  Nothing orders the set-up before the first worker's first read: if it runs before
// main gets back from pthread_create it finds no configuration.  Real threads nearly always win
// this race for main (a new thread takes tens of microseconds to start, main needs a few
// nanoseconds), which is why it ships.  Depth 1: it shows whenever the first worker is
// scheduled before main at its creation, with no preemption after.
// Failure: "BUG: ..." on stderr, exit status 1.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define WORKERS 4
#define ROUNDS 25

struct config {
    int scale;
};
static struct config* config;  // set by main after it starts the workers (the bug)
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long total;

static void* worker(void* arg)
{
    long id = (long)arg;
    struct config* c = config;  // read before anything says it is ready
    if (!c) {
        fprintf(stderr, "BUG: worker %ld ran before the configuration existed\n", id);
        exit(1);
    }
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&lock);
        total += c->scale;
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[WORKERS];
    static struct config cfg = {2};
    for (long i = 0; i < WORKERS; i++) {
        pthread_create(&t[i], NULL, worker, (void*)i);
        config = &cfg;  // after the first worker may have read it (the bug)
    }
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    printf("total %ld\n", total);
    return total == 2L * WORKERS * ROUNDS ? 0 : 1;
}
