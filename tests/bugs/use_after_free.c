// Corpus of deliberately buggy programs (tests/bugs/README.md): a use after free across
// threads, depth 2.
//
// Four readers look up the current session under the lock, let go of the lock, and then use
// the session; a rotator replaces the session (under the lock) and frees the old one at once,
// without waiting for readers that may still hold it.  Sessions come from a pool that poisons
// what it frees, so that a use after free is seen at the use (a real heap would let it pass or
// crash later).  Depth 2: a reader must be preempted between its look-up and its use, while
// the rotator replaces and frees that session.
// Failure: "BUG: ..." on stderr, then abort (SIGABRT).
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define READERS 4
#define LOOKUPS 15
#define ROTATIONS 5
#define LIVE 0x5e55
#define FREED 0xdead

struct session {
    int magic;
    int hits;
};
static struct session pool[ROTATIONS + 1];
static struct session* current;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static long uses;

static void session_free(struct session* s) { s->magic = FREED; }

static void* reader(void* arg)
{
    (void)arg;
    for (int i = 0; i < LOOKUPS; i++) {
        pthread_mutex_lock(&lock);
        struct session* s = current;
        pthread_mutex_unlock(&lock);
        pthread_mutex_lock(&log_lock);  // some work between the look-up and the use
        uses++;
        pthread_mutex_unlock(&log_lock);
        if (s->magic != LIVE) {  // the use, without a reference (the bug)
            fprintf(stderr, "BUG: session %d used after it was freed\n", (int)(s - pool));
            abort();
        }
        __atomic_fetch_add(&s->hits, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void* rotator(void* arg)
{
    (void)arg;
    for (int i = 1; i <= ROTATIONS; i++) {
        pool[i].magic = LIVE;
        pthread_mutex_lock(&lock);
        struct session* old = current;
        current = &pool[i];
        pthread_mutex_unlock(&lock);
        session_free(old);  // readers may still hold it
        pthread_mutex_lock(&log_lock);
        pthread_mutex_unlock(&log_lock);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[READERS + 1];
    pool[0].magic = LIVE;
    current = &pool[0];
    for (long i = 0; i < READERS; i++)
        pthread_create(&t[i], NULL, reader, NULL);
    pthread_create(&t[READERS], NULL, rotator, NULL);
    for (int i = 0; i <= READERS; i++)
        pthread_join(t[i], NULL);
    printf("uses %ld\n", uses);
    return 0;
}
