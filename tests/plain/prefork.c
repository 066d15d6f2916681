/* A prefork server: the parent listens, forks 4 workers that all accept on the same socket and
 * echo one message per connection, then 200 client threads of the parent connect at once and
 * check their echo.  Each worker exits with the number of connections it served; the parent
 * reaps them with waitpid and checks that the counts add up to 200 (every connection served
 * once, none lost).  Under libgreen each process is green on its own. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plain.h"

enum { WORKERS = 4, CLIENTS = 200, MSG = 16 };

static struct sockaddr_in addr;

static void worker(int l)
{
    int served = 0;
    for (;;) {
        int c = accept(l, NULL, NULL);
        CHECK(c >= 0);
        char buf[MSG];
        read_exact(c, buf, MSG);
        if (memcmp(buf, "quit", 4) == 0) {
            close(c);
            check_os_threads();
            _exit(served);
        }
        write_all(c, buf, MSG);
        close(c);
        served++;
    }
}

static void *client(void *arg)
{
    long i = (long)arg;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s >= 0);
    CHECK_EQ(connect(s, (struct sockaddr *)&addr, sizeof addr), 0);
    char msg[MSG], back[MSG];
    snprintf(msg, sizeof msg, "client %7ld", i);
    write_all(s, msg, MSG);
    read_exact(s, back, MSG);
    CHECK(memcmp(msg, back, MSG) == 0);
    close(s);
    return NULL;
}

int main(void)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    socklen_t len = sizeof addr;
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(bind(l, (struct sockaddr *)&addr, sizeof addr), 0);
    CHECK_EQ(listen(l, 256), 0);
    CHECK_EQ(getsockname(l, (struct sockaddr *)&addr, &len), 0);
    pid_t pids[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        pids[i] = fork();
        CHECK(pids[i] >= 0);
        if (pids[i] == 0)
            worker(l);
    }
    pthread_t t[CLIENTS];
    for (long i = 0; i < CLIENTS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, client, (void *)i), 0);
    check_os_threads();
    for (int i = 0; i < CLIENTS; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    /* Ask the workers to stop, one quit per connection, until every one has been reaped. */
    int live = WORKERS, total = 0;
    while (live > 0) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        CHECK_EQ(connect(s, (struct sockaddr *)&addr, sizeof addr), 0);
        char quit[MSG] = "quit";
        write_all(s, quit, MSG);
        close(s);
        int status;
        pid_t p = waitpid(-1, &status, 0);
        CHECK(p > 0);
        CHECK(WIFEXITED(status));
        total += WEXITSTATUS(status);
        live--;
    }
    CHECK_EQ(total, CLIENTS);
    close(l);
    puts("prefork: ok");
    return 0;
}
