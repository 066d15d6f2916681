/* A program exec'd by a threaded server sees the descriptors it inherits with exactly the flags
 * the server set: no O_NONBLOCK on a blocking listening socket, even while another thread of
 * the server waits in accept on it; and the server's accept still works afterwards. */
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plain.h"

static int listener;
static int accepted = -1;

static void *acceptor(void *arg)
{
    (void)arg;
    accepted = accept(listener, NULL, NULL);
    return NULL;
}

/* Re-executed as "exec_flags check FD": exit 0 when FD is open and blocking. */
static int check_mode(const char *fdtext)
{
    int fl = fcntl(atoi(fdtext), F_GETFL);
    return fl >= 0 && !(fl & O_NONBLOCK) ? 0 : 3;
}

int main(int argc, char **argv)
{
    if (argc == 3)
        return check_mode(argv[2]);
    alarm(20);
    listener = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(listener >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    CHECK_EQ(bind(listener, (struct sockaddr *)&a, sizeof a), 0);
    CHECK_EQ(listen(listener, 8), 0);
    CHECK_EQ(getsockname(listener, (struct sockaddr *)&a, &len), 0);

    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, acceptor, NULL), 0);
    usleep(20000); /* the acceptor waits in accept now */
    CHECK_EQ(fcntl(listener, F_GETFL) & O_NONBLOCK, 0);
    check_os_threads();

    char fdtext[16];
    snprintf(fdtext, sizeof fdtext, "%d", listener);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        execl("/proc/self/exe", argv[0], "check", fdtext, (char *)NULL);
        _exit(4);
    }
    int status;
    CHECK_EQ(waitpid(child, &status, 0), child);
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 0);

    /* The acceptor still gets its connection. */
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(connect(c, (struct sockaddr *)&a, sizeof a), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK(accepted >= 0);
    close(accepted);
    close(c);
    close(listener);
    return 0;
}
