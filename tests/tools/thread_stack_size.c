/* Prints the stack size that a thread created with default attributes reports through
 * pthread_getattr_np: the runner uses it to check GREEN_STACK_SIZE. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

static void *report(void *arg)
{
    (void)arg;
    pthread_attr_t attr;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstacksize(&attr, &size);
        pthread_attr_destroy(&attr);
    }
    printf("%zu\n", size);
    return NULL;
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, report, NULL) != 0)
        return 1;
    return pthread_join(t, NULL);
}
