// Corpus of deliberately buggy programs (tests/bugs/README.md): a deadlock of three, depth 3.
//
// Three philosophers each take their left fork, then their right one, and eat 10 times; a
// waiter counts the meals under its own lock.  All three holding their left fork is a cycle:
// two of them must be preempted between their two forks while the third takes its left one.
// Depth 3: two preemptions in the right places.
// Failure: a deadlock (status 86 seeded; a hang with real threads).
#include <pthread.h>
#include <stdio.h>

#define PHILOSOPHERS 3
#define MEALS 10

static pthread_mutex_t fork_[PHILOSOPHERS];
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static int meals, checks;

static void* philosopher(void* arg)
{
    long id = (long)arg;
    pthread_mutex_t* left = &fork_[id];
    pthread_mutex_t* right = &fork_[(id + 1) % PHILOSOPHERS];
    for (int i = 0; i < MEALS; i++) {
        pthread_mutex_lock(left);
        pthread_mutex_lock(right);
        pthread_mutex_lock(&count_lock);
        meals++;
        pthread_mutex_unlock(&count_lock);
        pthread_mutex_unlock(right);
        pthread_mutex_unlock(left);
    }
    return NULL;
}

static void* waiter(void* arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++) {
        pthread_mutex_lock(&count_lock);
        checks += meals >= 0;
        pthread_mutex_unlock(&count_lock);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[PHILOSOPHERS + 1];
    for (int i = 0; i < PHILOSOPHERS; i++)
        pthread_mutex_init(&fork_[i], NULL);
    for (long i = 0; i < PHILOSOPHERS; i++)
        pthread_create(&t[i], NULL, philosopher, (void*)i);
    pthread_create(&t[PHILOSOPHERS], NULL, waiter, NULL);
    for (int i = 0; i <= PHILOSOPHERS; i++)
        pthread_join(t[i], NULL);
    printf("meals %d, checks %d\n", meals, checks);
    return 0;
}
