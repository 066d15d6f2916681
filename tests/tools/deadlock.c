/* Two threads lock two mutexes in opposite orders and deadlock, on purpose: the runner checks
 * that libgreen reports it (and the program then hangs, as it would with real threads, until
 * the runner's timeout ends it). */
#include <pthread.h>
#include <unistd.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;

static void *other(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&b);
    usleep(20000);
    pthread_mutex_lock(&a);
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, other, NULL);
    pthread_mutex_lock(&a);
    usleep(20000);
    pthread_mutex_lock(&b);
    pthread_join(t, NULL);
    return 0;
}
