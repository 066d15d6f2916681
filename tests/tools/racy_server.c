/* A deliberately racy thread-per-connection server, with its clients in the same process.
 *
 * Each connection's thread counts every request it serves in a shared counter, without a lock:
 * it reads the counter when a request starts, reads the rest of the request (a blocking call,
 * whose byte is normally there already), and writes the counter back incremented: the classic
 * lost update.  Each client sends a request every millisecond, the clients 45 µs apart.  With
 * real threads the window is one recv of data already there (about a µs), and the bug shows
 * rarely; under libgreen without chaos never (the recv does not block, so no other green
 * thread runs in the window); with GREEN_CHAOS a yield at the recv exposes it, and the same
 * seed exposes it again.
 *
 *   racy_server [CONNECTIONS [REQUESTS]]     (defaults 2 and 10)
 *
 * Prints "served N of M requests" and exits 1 when updates were lost, 0 otherwise. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int counter; /* the shared state, deliberately unlocked */
static int listener;
static struct sockaddr_in addr;
static int connections = 2, requests = 10;

static void die(const char *what)
{
    perror(what);
    exit(2);
}

static void *handler(void *arg)
{
    int fd = (int)(long)arg;
    char req[2];
    while (recv(fd, req, 1, 0) == 1) {
        int v = counter;                        /* read ... */
        if (recv(fd, req + 1, 1, 0) != 1)       /* ... a blocking call (its byte is there) ... */
            die("recv");
        counter = v + 1;                        /* ... write back: lost if another ran */
        if (send(fd, &v, sizeof v, 0) != sizeof v)
            die("send");
    }
    close(fd);
    return NULL;
}

static void *acceptor(void *arg)
{
    (void)arg;
    for (int i = 0; i < connections; i++) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0)
            die("accept");
        pthread_t t;
        if (pthread_create(&t, NULL, handler, (void *)(long)fd) != 0)
            die("pthread_create");
        pthread_detach(t);
    }
    return NULL;
}

static void *client(void *arg)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
        die("connect");
    usleep(1 + 45 * (unsigned)(long)arg); /* the clients' requests come 45 µs apart */
    for (int i = 0; i < requests; i++) {
        int v;
        if (send(fd, "+\n", 2, 0) != 2 || recv(fd, &v, sizeof v, MSG_WAITALL) != sizeof v)
            die("client");
        usleep(1000); /* think */
    }
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        connections = atoi(argv[1]);
    if (argc > 2)
        requests = atoi(argv[2]);
    /* Exact sleeps: real threads' requests then stay 45 µs apart, and their windows (a recv
     * of data already there) rarely meet.  libgreen's virtual time lets timers due within
     * 50 µs of each other fire together, as the kernel's default timer slack would. */
    prctl(PR_SET_TIMERSLACK, 1UL);
    listener = socket(AF_INET, SOCK_STREAM, 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(listener, 128) != 0 || getsockname(listener, (struct sockaddr *)&addr, &len) != 0)
        die("listen");
    pthread_t acc, cl[connections];
    pthread_create(&acc, NULL, acceptor, NULL);
    for (int i = 0; i < connections; i++)
        pthread_create(&cl[i], NULL, client, (void *)(long)i);
    for (int i = 0; i < connections; i++)
        pthread_join(cl[i], NULL);
    pthread_join(acc, NULL);
    int want = connections * requests;
    printf("served %d of %d requests\n", counter, want);
    return counter == want ? 0 : 1;
}
