/* daemon(): a child becomes a daemon (glibc forks inside daemon(); the parent side exits at
 * once), keeps running its threads, which exchange messages over a socketpair, and reports
 * through a pipe it kept (noclose).  The test waits for the intermediate child, then for the
 * daemon's report: "ok" (and, under libgreen, at most 2 OS threads in the daemon). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plain.h"

static int sv[2];

static void *echo(void *arg)
{
    (void)arg;
    char c;
    for (int i = 0; i < 100; i++) {
        read_exact(sv[1], &c, 1);
        write_all(sv[1], &c, 1);
    }
    return NULL;
}

static void daemon_side(int report)
{
    if (daemon(1, 1) != 0)
        _exit(3);
    /* Now in the grandchild, in a session of its own. */
    const char *verdict = "ok";
    if (getsid(0) != getpid())
        verdict = "no new session";
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, echo, NULL), 0);
    for (int i = 0; i < 100; i++) {
        char c = (char)i, d;
        write_all(sv[0], &c, 1);
        read_exact(sv[0], &d, 1);
        if (c != d)
            verdict = "bad echo";
    }
    const char *max = getenv("TEST_MAX_OS_THREADS");
    if (max && *max && os_thread_count() > atoi(max))
        verdict = "too many OS threads";
    CHECK_EQ(pthread_join(t, NULL), 0);
    write_all(report, verdict, strlen(verdict));
    _exit(0);
}

int main(void)
{
    int p[2];
    CHECK_EQ(pipe(p), 0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        close(p[0]);
        daemon_side(p[1]);
    }
    close(p[1]);
    int status;
    CHECK_EQ(waitpid(child, &status, 0), child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);  /* daemon()'s parent side */
    char buf[64] = {0};
    size_t n = 0;
    ssize_t r;
    while ((r = read(p[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    if (strcmp(buf, "ok") != 0) {
        fprintf(stderr, "FAIL: the daemon said '%s'\n", buf);
        return 1;
    }
    puts("daemon: ok");
    return 0;
}
