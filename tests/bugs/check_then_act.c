// Corpus of deliberately buggy programs (tests/bugs/README.md): a check-then-act on a plain
// flag, depth 2.
//
// Four loaders walk a table of 4,096 entries in order and fill each one that is not ready yet:
// they test its flag, compute its value (pure arithmetic, no library call), count the fill and
// set the flag.  The test and the set are plain memory accesses with no lock between them: a
// loader preempted while it computes leaves an entry not ready, and the next loader to come by
// fills it again.  Depth 2: one loader must be preempted inside an entry's window, and another
// must then reach that entry.  Without a preemption between the two accesses, the first loader
// fills the whole table before any other runs, and the rest find it ready.
// Failure: "BUG: ..." on stderr, exit status 1.
#include <pthread.h>
#include <stdio.h>

#define LOADERS 4
#define ENTRIES 4096

struct entry {
    int ready;            // the plain flag (the bug: tested and set without a lock)
    int fills;            // how many loaders filled it (1 in a correct run)
    unsigned long value;
};
static struct entry table[ENTRIES];

// An entry's value: enough arithmetic (a few microseconds) that the window is most of the
// work; the asm keeps the compiler from folding the loop.
static unsigned long compute(unsigned long x)
{
    for (int i = 0; i < 1000; i++) {
        x = x * 6364136223846793005ul + 1442695040888963407ul;
        __asm__ volatile("" : "+r"(x));
    }
    return x;
}

static void* loader(void* arg)
{
    (void)arg;
    for (int i = 0; i < ENTRIES; i++) {
        struct entry* e = &table[i];
        if (!e->ready) {
            e->value = compute((unsigned long)i);
            e->fills++;
            __asm__ volatile("" ::: "memory");  // the flag is set after the fill, as written
            e->ready = 1;
        }
    }
    return NULL;
}

int main(void)
{
    pthread_t t[LOADERS];
    for (int i = 0; i < LOADERS; i++)
        pthread_create(&t[i], NULL, loader, NULL);
    for (int i = 0; i < LOADERS; i++)
        pthread_join(t[i], NULL);
    int twice = 0;
    for (int i = 0; i < ENTRIES; i++)
        if (table[i].fills != 1)
            twice++;
    printf("entries filled more than once: %d\n", twice);
    if (twice) {
        fprintf(stderr, "BUG: %d entries filled more than once\n", twice);
        return 1;
    }
    return 0;
}
