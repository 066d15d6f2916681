/* The parent creates 3 threads, the child of its fork 1, each joined; both end with exit(): the
 * runner checks that GREEN_STATS prints one block for each process, with each one's own counts. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *nothing(void *arg)
{
    return arg;
}

static void spawn_and_join(int n)
{
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, nothing, NULL) != 0 || pthread_join(t, NULL) != 0)
            exit(1);
    }
}

int main(void)
{
    spawn_and_join(3);
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        spawn_and_join(1);
        exit(0);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return 1;
    printf("fork_stats: parent %d, child %d\n", (int)getpid(), (int)pid);
    return 0;
}
