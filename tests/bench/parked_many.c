// N threads parked on one condition variable, for scripts/bench_gdb.sh: prints "ready PID" once
// they all wait, then waits for a line on stdin, wakes them, joins them and prints "done N".
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int waiting;  // under lock
static int go;       // under lock

static void* park_in_cond(void* arg)
{
    pthread_mutex_lock(&lock);
    waiting++;
    while (!go)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    return arg;
}

int main(int argc, char** argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    pthread_t* t = malloc(sizeof *t * (size_t)n);
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, park_in_cond, NULL) != 0) {
            perror("pthread_create");
            return 1;
        }
    for (;;) {  // each counts itself under the lock it then waits with
        pthread_mutex_lock(&lock);
        int all = waiting == n;
        pthread_mutex_unlock(&lock);
        if (all)
            break;
        usleep(1000);
    }
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    char line[16];
    if (read(0, line, sizeof line) <= 0)
        return 1;
    pthread_mutex_lock(&lock);
    go = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    printf("done %d\n", n);
    return 0;
}
