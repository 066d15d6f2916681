// Corpus of deliberately buggy programs (tests/bugs/README.md): an atomicity violation, depth 2.
//
// Four tellers each make 25 deposits into one account.  A deposit reads the balance in one
// critical section and writes the new balance in another (the lock is taken twice, as code
// does when the computation in between was meant to be slow): another teller's deposit between
// the two is lost.  Depth 2: one teller must be preempted inside its window, and another must
// then run a whole deposit.
// Failure: "BUG: ..." on stderr, exit status 1.
#include <pthread.h>
#include <stdio.h>

#define TELLERS 4
#define DEPOSITS 25

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long balance;

static void* teller(void* arg)
{
    (void)arg;
    for (int i = 0; i < DEPOSITS; i++) {
        pthread_mutex_lock(&lock);
        long seen = balance;
        pthread_mutex_unlock(&lock);
        long next = seen + 10;
        pthread_mutex_lock(&lock);
        balance = next;  // stale when another deposit came in between
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[TELLERS];
    for (long i = 0; i < TELLERS; i++)
        pthread_create(&t[i], NULL, teller, (void*)i);
    for (int i = 0; i < TELLERS; i++)
        pthread_join(t[i], NULL);
    printf("balance %ld\n", balance);
    if (balance != 10L * TELLERS * DEPOSITS) {
        fprintf(stderr, "BUG: lost deposits: balance %ld, expected %ld\n", balance,
                10L * TELLERS * DEPOSITS);
        return 1;
    }
    return 0;
}
