/* A program that logs the order of its events and prints the log: worker threads that take a
 * mutex to log each step, hand a token around through a condition variable, sleep, yield, and
 * ping an echo thread through a socketpair.  As a plain program it checks that every event
 * happened once and the token went round; tests/run.sh also runs it under libgreen with
 * GREEN_SEED and compares the logs: the same seed must give the same log. */
#include <sched.h>
#include <sys/socket.h>

#include "plain.h"

#define WORKERS 4
#define STEPS 9
#define PINGS (STEPS / 3)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_changed = PTHREAD_COND_INITIALIZER;
static int turn;     /* whose turn it is to pass the token */
static int passes;   /* how often the token went from one worker to the next */
static char events[WORKERS * (STEPS + PINGS + 1)][16];
static int nevents;
static int pairs[WORKERS][2];

static void log_event(const char *fmt, int a, int b)
{
    pthread_mutex_lock(&lock);
    CHECK(nevents < (int)(sizeof events / sizeof events[0]));
    snprintf(events[nevents++], sizeof events[0], fmt, a, b);
    pthread_mutex_unlock(&lock);
}

static void *echo(void *arg)
{
    int id = (int)(intptr_t)arg;
    char c;
    for (int i = 0; i < PINGS; i++) {
        CHECK_EQ(read(pairs[id][1], &c, 1), 1);
        log_event("e%d.%d", id, i);
        CHECK_EQ(write(pairs[id][1], &c, 1), 1);
    }
    return NULL;
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    char c = 'x';
    for (int s = 0; s < STEPS; s++) {
        log_event("w%d.%d", id, s);
        switch (s % 3) {
        case 0:
            sched_yield();
            break;
        case 1:
            CHECK_EQ(write(pairs[id][0], &c, 1), 1);
            CHECK_EQ(read(pairs[id][0], &c, 1), 1);
            break;
        default:
            usleep(200 * (unsigned)((id + s) % 3 + 1));
            break;
        }
    }
    /* The token goes round once, worker 0 first. */
    pthread_mutex_lock(&lock);
    while (turn != id)
        pthread_cond_wait(&turn_changed, &lock);
    snprintf(events[nevents++], sizeof events[0], "t%d", id);
    turn++;
    passes++;
    pthread_cond_broadcast(&turn_changed);
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(void)
{
    pthread_t w[WORKERS], e[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pairs[i]), 0);
        CHECK_EQ(pthread_create(&e[i], NULL, echo, (void *)(intptr_t)i), 0);
    }
    for (int i = 0; i < WORKERS; i++)
        CHECK_EQ(pthread_create(&w[i], NULL, worker, (void *)(intptr_t)i), 0);
    check_os_threads();
    for (int i = 0; i < WORKERS; i++) {
        CHECK_EQ(pthread_join(w[i], NULL), 0);
        CHECK_EQ(pthread_join(e[i], NULL), 0);
    }
    CHECK_EQ(passes, WORKERS);
    CHECK_EQ(nevents, WORKERS * (STEPS + PINGS + 1));
    /* Each thread's own events are in its program order, whatever the interleaving. */
    int next_w[WORKERS] = {0}, next_e[WORKERS] = {0}, next_t = 0;
    for (int i = 0; i < nevents; i++) {
        int id, n;
        if (sscanf(events[i], "w%d.%d", &id, &n) == 2)
            CHECK_EQ(n, next_w[id]++);
        else if (sscanf(events[i], "e%d.%d", &id, &n) == 2)
            CHECK_EQ(n, next_e[id]++);
        else if (sscanf(events[i], "t%d", &id) == 1)
            CHECK_EQ(id, next_t++);
        else
            CHECK(!"an event the program did not log");
        printf("%s%c", events[i], i + 1 < nevents ? ' ' : '\n');
    }
    for (int i = 0; i < WORKERS; i++)
        close(pairs[i][0]), close(pairs[i][1]);
    return 0;
}
