/* A thread forks while the main thread waits in read() on a pipe; the child closes that pipe's
 * read end and writes to it.  In the child only the forking thread exists, so the close must
 * not try to wake the main thread's wait (it has no waiter there); the parent gets "OK" and the
 * child exits 0.  (CPython's test_thread.TestForkInThread does this.) */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plain.h"

static int fds[2];
static pid_t child;

static void *forker(void *arg)
{
    (void)arg;
    usleep(100 * 1000); /* let the main thread block in read first */
    child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        if (close(fds[0]) != 0 || write(fds[1], "OK", 2) != 2)
            _exit(3);
        _exit(0);
    }
    return NULL;
}

int main(void)
{
    alarm(10);
    CHECK_EQ(pipe(fds), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, forker, NULL), 0);
    char buf[2];
    CHECK_EQ(read(fds[0], buf, 2), 2);
    CHECK(memcmp(buf, "OK", 2) == 0);
    check_os_threads();
    CHECK_EQ(pthread_join(t, NULL), 0);
    int status;
    CHECK_EQ(waitpid(child, &status, 0), child);
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 0);
    return 0;
}
