/* main starts four threads and returns without joining them, on purpose: the runner checks that
 * in seeded mode the threads may run first (at their creation, and before main's return), as
 * real threads would, where before they never ran at all. */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t out = PTHREAD_MUTEX_INITIALIZER;

static void *run(void *arg)
{
    pthread_mutex_lock(&out);
    printf("thread %ld ran\n", (long)arg);
    pthread_mutex_unlock(&out);
    return NULL;
}

int main(void)
{
    pthread_t t;
    for (long i = 0; i < 4; i++) {
        pthread_create(&t, NULL, run, (void *)i);
        pthread_detach(t);
    }
    pthread_mutex_lock(&out);
    printf("main returns\n");
    pthread_mutex_unlock(&out);
    return 0;
}
