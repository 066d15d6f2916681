// Corpus of deliberately buggy programs (tests/bugs/README.md): a lost update between two plain
// memory accesses, depth 2.
//
// Four counters each count 2,000,000 events into one shared total with "total = total + 1" on a
// volatile long: volatile makes every load and store happen, not the increment atomic.  An
// increment is a load, an add and a store, and no library call comes anywhere near it, so
// nothing short of a preemption between the load and the store shows the bug: the thread
// preempted there stores a stale total over the counts the others made meanwhile.  Depth 2:
// one counter must be preempted inside its window, and another must then count.  Real threads
// on several cores lose counts at once; under libgreen only --chaos-preempt opens the window.
// Failure: "BUG: ..." on stderr, exit status 1.
#include <pthread.h>
#include <stdio.h>

#define COUNTERS 4
#define EVENTS 2000000

static volatile long total;  // the bug: shared, and read-modify-written without a lock

static void* counter(void* arg)
{
    (void)arg;
    for (long i = 0; i < EVENTS; i++)
        total = total + 1;
    return NULL;
}

int main(void)
{
    pthread_t t[COUNTERS];
    for (int i = 0; i < COUNTERS; i++)
        pthread_create(&t[i], NULL, counter, NULL);
    for (int i = 0; i < COUNTERS; i++)
        pthread_join(t[i], NULL);
    printf("total %ld\n", total);
    if (total != (long)COUNTERS * EVENTS) {
        fprintf(stderr, "BUG: lost updates: total %ld, expected %ld\n", total,
                (long)COUNTERS * EVENTS);
        return 1;
    }
    return 0;
}
