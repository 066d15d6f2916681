/* A process-directed signal that arrives while the main thread runs (not blocked in a call) is
 * taken by the main thread: its handler runs, and no later call of the main thread fails with
 * EINTR because of it.  (CPython's test_signal: a SIGPROF from an itimer while the main thread
 * computes, then signal.pause() must still wait for the next signal.) */
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "plain.h"

static volatile sig_atomic_t handled;
static int fds[2];

static void on_signal(int sig)
{
    (void)sig;
    handled++;
}

static void *late_writer(void *arg)
{
    (void)arg;
    usleep(200 * 1000);
    CHECK_EQ(write(fds[1], "x", 1), 1);
    return NULL;
}

int main(void)
{
    alarm(10);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a blocked read would fail with EINTR */
    CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
    CHECK_EQ(pipe(fds), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, late_writer, NULL), 0);
    CHECK_EQ(kill(getpid(), SIGUSR1), 0); /* to the process, while this thread runs */
    for (int i = 0; i < 100 && !handled; i++)
        usleep(1000);
    CHECK_EQ(handled, 1);
    char c;
    CHECK_EQ(read(fds[0], &c, 1), 1); /* waits for the writer: the signal is long gone */
    check_os_threads();
    CHECK_EQ(pthread_join(t, NULL), 0);
    return 0;
}
