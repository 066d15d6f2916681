/* fork in a process with running threads: the child has only the thread that forked (POSIX),
 * so the others never run there; the child can still create, sleep in and join threads. */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plain.h"

static int report[2];    /* threads write their pid here each time they wake */
static atomic_int stop;

static void *ticker(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        usleep(5000);
        pid_t me = getpid();
        CHECK(write(report[1], &me, sizeof me) == sizeof me);
    }
    return NULL;
}

static void *child_worker(void *arg)
{
    usleep(20000);
    return (char *)arg + 1;
}

int main(void)
{
    CHECK_EQ(pipe(report), 0);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, ticker, NULL), 0);
    usleep(20000);
    check_os_threads();

    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        /* Only this thread exists: nothing writes the child's pid while it sleeps. */
        usleep(100000);
        pthread_t w;
        void *r;
        if (pthread_create(&w, NULL, child_worker, (void *)41) != 0 || pthread_join(w, &r) != 0 ||
            r != (void *)42)
            _exit(3);
        _exit(0);
    }
    int status;
    CHECK_EQ(waitpid(child, &status, 0), child);
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 0);

    atomic_store(&stop, 1);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    close(report[1]);
    pid_t who;
    int ticks = 0;
    while (read(report[0], &who, sizeof who) == sizeof who) {
        CHECK(who != child); /* a thread of the parent ran in the child */
        ticks++;
    }
    CHECK(ticks > 3);
    return 0;
}
