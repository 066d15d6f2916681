// Corpus of deliberately buggy programs (tests/bugs/README.md): a deadlock, depth 2.
//
// Three workers move items from list A to list B, locking A then B; an auditor locks B then A
// (someone added "audit" later, in the opposite order).  Each does 10 rounds, with other locked
// work in between.  Depth 2: a worker must be preempted between its two locks, while the
// auditor takes B and then waits for A.
// Failure: a deadlock (seeded mode ends the run with status 86; real threads hang).
#include <pthread.h>
#include <stdio.h>

#define MOVERS 3
#define ROUNDS 10

static pthread_mutex_t list_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t list_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t stats = PTHREAD_MUTEX_INITIALIZER;
static int a_items = 100, b_items, audits;

static void* mover(void* arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&list_a);
        pthread_mutex_lock(&list_b);
        a_items--;
        b_items++;
        pthread_mutex_unlock(&list_b);
        pthread_mutex_unlock(&list_a);
        pthread_mutex_lock(&stats);
        pthread_mutex_unlock(&stats);
    }
    return NULL;
}

static void* auditor(void* arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&list_b);  // the opposite order (the bug)
        pthread_mutex_lock(&list_a);
        audits += a_items + b_items == 100;
        pthread_mutex_unlock(&list_a);
        pthread_mutex_unlock(&list_b);
        pthread_mutex_lock(&stats);
        pthread_mutex_unlock(&stats);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[MOVERS + 1];
    for (long i = 0; i < MOVERS; i++)
        pthread_create(&t[i], NULL, mover, NULL);
    pthread_create(&t[MOVERS], NULL, auditor, NULL);
    for (int i = 0; i <= MOVERS; i++)
        pthread_join(t[i], NULL);
    printf("moved %d, audits %d\n", b_items, audits);
    return 0;
}
