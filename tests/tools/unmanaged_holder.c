/* A mutex held for a while by an OS thread libgreen does not manage (made with the C library's
 * own pthread_create, found with dlsym in libc.so.6, as a library loaded after libgreen finds
 * it), while the main thread waits for it.  That is no deadlock: the runner checks that libgreen
 * does not report one, and that the program ends when the holder lets go. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static volatile int held;

static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    held = 1;
    usleep(1500000);
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(void)
{
    void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    int (*create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *) =
        libc ? (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))dlsym(libc, "pthread_create") : NULL;
    if (!create) {
        fprintf(stderr, "unmanaged_holder: no pthread_create in libc.so.6\n");
        return 1;
    }
    pthread_t t;
    if (create(&t, NULL, holder, NULL) != 0)
        return 1;
    while (!held)
        usleep(1000);
    pthread_mutex_lock(&m);  /* waits about 1.5 s for the real thread */
    pthread_mutex_unlock(&m);
    puts("unmanaged_holder: done");
    return 0;
}
