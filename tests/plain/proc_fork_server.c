/* A fork-per-connection echo server in the same process as its clients: the parent accepts on
 * loopback and forks a child per connection, which echoes what it reads and exits; a reaper
 * thread collects the children with waitpid(-1) as they end; 200 client threads connect at
 * once and check every byte they get back.  Every child must be reaped, with status 0. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "plain.h"

#define N_CLIENTS 200
#define MSG 512

static struct sockaddr_in addr;
static atomic_int reaped, bad_status;

static unsigned char pattern(int id, int i) { return (unsigned char)(id * 37 + i * 11 + 1); }

/* The child: echoes one message and exits. */
static void serve(int fd)
{
    unsigned char buf[MSG];
    read_exact(fd, buf, MSG);
    write_all(fd, buf, MSG);
    _exit(0);
}

static void *acceptor(void *arg)
{
    int lfd = *(int *)arg;
    for (int n = 0; n < N_CLIENTS; n++) {
        int fd = accept(lfd, NULL, NULL);
        CHECK(fd >= 0);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            close(lfd);
            serve(fd);
        }
        close(fd);
    }
    return NULL;
}

/* Reaps until every child is accounted for; ECHILD only means none is running right now. */
static void *reaper(void *arg)
{
    (void)arg;
    while (atomic_load(&reaped) < N_CLIENTS) {
        int st;
        pid_t p = waitpid(-1, &st, 0);
        if (p < 0) {
            CHECK_EQ(errno, ECHILD);
            sleep_ms(2);
            continue;
        }
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            atomic_fetch_add(&bad_status, 1);
        atomic_fetch_add(&reaped, 1);
    }
    return NULL;
}

static atomic_int connected;

static void *client(void *arg)
{
    int id = (int)(intptr_t)arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    CHECK_EQ(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    atomic_fetch_add(&connected, 1);
    unsigned char out[MSG], in[MSG];
    for (int i = 0; i < MSG; i++)
        out[i] = pattern(id, i);
    write_all(fd, out, MSG);
    read_exact(fd, in, MSG);
    CHECK(memcmp(in, out, MSG) == 0);
    char extra;
    CHECK_EQ(read(fd, &extra, 1), 0); /* the child exited: end of file */
    close(fd);
    return NULL;
}

int main(void)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(lfd >= 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(bind(lfd, (struct sockaddr *)&addr, sizeof addr), 0);
    socklen_t len = sizeof addr;
    CHECK_EQ(getsockname(lfd, (struct sockaddr *)&addr, &len), 0);
    CHECK_EQ(listen(lfd, N_CLIENTS), 0);

    pthread_t acc, rp, cl[N_CLIENTS];
    CHECK_EQ(pthread_create(&acc, NULL, acceptor, &lfd), 0);
    CHECK_EQ(pthread_create(&rp, NULL, reaper, NULL), 0);
    for (int i = 0; i < N_CLIENTS; i++)
        CHECK_EQ(pthread_create(&cl[i], NULL, client, (void *)(intptr_t)i), 0);
    while (atomic_load(&connected) < N_CLIENTS / 2)
        sleep_ms(1);
    check_os_threads();
    for (int i = 0; i < N_CLIENTS; i++)
        CHECK_EQ(pthread_join(cl[i], NULL), 0);
    CHECK_EQ(pthread_join(acc, NULL), 0);
    CHECK_EQ(pthread_join(rp, NULL), 0);
    CHECK_EQ(atomic_load(&reaped), N_CLIENTS);
    CHECK_EQ(atomic_load(&bad_status), 0);
    int st;
    errno = 0;
    CHECK_EQ(waitpid(-1, &st, WNOHANG), -1); /* nothing left */
    CHECK_EQ(errno, ECHILD);
    close(lfd);
    return 0;
}
