/* Computing threads beside threads that hand off locks, wait on condition variables and do
 * socket I/O, for a while (argument: seconds, default 2): every result exact at the end.
 *
 *   8 spinners    compute without calls, keeping a count, a double and a vector in step;
 *   40 lockers    increment a shared counter under one mutex, in several steps, and their own;
 *   30 queuers    15 producers and 15 consumers of a bounded queue (mutex, two condvars);
 *   30 streamers  15 socket pairs, a writer of numbered 64-byte blocks and a reader checking
 *                 them, until the writer shuts its side.
 *
 * With time slices (and a short one: the runner sets 1 ms), the spinners are preempted at any
 * instruction of their loops while the others park and wake around them. */
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "plain.h"

typedef double v4 __attribute__((vector_size(32)));

enum { kSpinners = 8, kLockers = 40, kPairs = 15, kQueue = 16, kBlock = 64 };

static atomic_int stop;

struct spin {
    long n;
    int ok;
    atomic_int started;
};

static void *spinner(void *arg)
{
    struct spin *s = arg;
    errno = ERANGE;
    long n = 0;
    double acc = 0;
    v4 v = {0, 0, 0, 0}, d = {1, 2, 3, 4};
    atomic_store(&s->started, 1);
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        n++;
        acc += 0.5;
        v += d;
    }
    s->n = n;
    s->ok = acc == 0.5 * (double)n && v[0] == (double)n && v[3] == 4.0 * (double)n &&
            errno == ERANGE;
    return NULL;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile long shared;

static void *locker(void *arg)
{
    long *mine = arg;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        CHECK(pthread_mutex_lock(&lock) == 0);
        long v = shared;  /* a lost exclusion would lose increments */
        for (volatile int k = 0; k < 20; k++) {
        }
        shared = v + 1;
        CHECK(pthread_mutex_unlock(&lock) == 0);
        (*mine)++;
    }
    return NULL;
}

static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static long queue[kQueue];
static int qhead, qlen;

static void put(long v)
{
    CHECK(pthread_mutex_lock(&qlock) == 0);
    while (qlen == kQueue)
        CHECK(pthread_cond_wait(&not_full, &qlock) == 0);
    queue[(qhead + qlen++) % kQueue] = v;
    CHECK(pthread_cond_signal(&not_empty) == 0);
    CHECK(pthread_mutex_unlock(&qlock) == 0);
}

static long take(void)
{
    CHECK(pthread_mutex_lock(&qlock) == 0);
    while (qlen == 0)
        CHECK(pthread_cond_wait(&not_empty, &qlock) == 0);
    long v = queue[qhead];
    qhead = (qhead + 1) % kQueue;
    qlen--;
    CHECK(pthread_cond_signal(&not_full) == 0);
    CHECK(pthread_mutex_unlock(&qlock) == 0);
    return v;
}

struct tally {
    long count, sum;
};

static void *producer(void *arg)
{
    struct tally *t = arg;
    for (long v = 1; !atomic_load_explicit(&stop, memory_order_relaxed); v++) {
        put(v);
        t->count++;
        t->sum += v;
    }
    put(-1);  /* one end mark per producer, one consumer stops at each */
    return NULL;
}

static void *consumer(void *arg)
{
    struct tally *t = arg;
    for (long v; (v = take()) != -1;) {
        t->count++;
        t->sum += v;
    }
    return NULL;
}

struct stream {
    int fd;
    long blocks;
};

static void *writer(void *arg)
{
    struct stream *s = arg;
    unsigned char buf[kBlock];
    for (long b = 0; !atomic_load_explicit(&stop, memory_order_relaxed); b++) {
        for (int i = 0; i < kBlock; i++)
            buf[i] = (unsigned char)(b * 31 + i);
        for (size_t off = 0; off < sizeof buf;) {
            ssize_t n = write(s->fd, buf + off, sizeof buf - off);
            CHECK(n > 0);
            off += (size_t)n;
        }
        s->blocks++;
    }
    CHECK(shutdown(s->fd, SHUT_WR) == 0);
    return NULL;
}

static void *reader(void *arg)
{
    struct stream *s = arg;
    unsigned char buf[kBlock];
    for (;;) {
        size_t got = 0;
        while (got < sizeof buf) {
            ssize_t n = read(s->fd, buf + got, sizeof buf - got);
            CHECK(n >= 0);
            if (n == 0) {
                CHECK(got == 0);  /* the writer writes whole blocks */
                return NULL;
            }
            got += (size_t)n;
        }
        for (int i = 0; i < kBlock; i++)
            CHECK(buf[i] == (unsigned char)(s->blocks * 31 + i));
        s->blocks++;
    }
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2;
    pthread_t spin_t[kSpinners], lock_t[kLockers], prod_t[kPairs], cons_t[kPairs];
    pthread_t wr_t[kPairs], rd_t[kPairs];
    static struct spin spins[kSpinners];
    long mine[kLockers] = {0};
    struct tally made[kPairs] = {{0}}, used[kPairs] = {{0}};
    struct stream out[kPairs] = {{0}}, in[kPairs] = {{0}};

    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < kSpinners; i++)
        CHECK(pthread_create(&spin_t[i], NULL, spinner, &spins[i]) == 0);
    for (int i = 0; i < kLockers; i++)
        CHECK(pthread_create(&lock_t[i], NULL, locker, &mine[i]) == 0);
    for (int i = 0; i < kPairs; i++) {
        CHECK(pthread_create(&prod_t[i], NULL, producer, &made[i]) == 0);
        CHECK(pthread_create(&cons_t[i], NULL, consumer, &used[i]) == 0);
        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        out[i].fd = sv[0];
        in[i].fd = sv[1];
        CHECK(pthread_create(&wr_t[i], NULL, writer, &out[i]) == 0);
        CHECK(pthread_create(&rd_t[i], NULL, reader, &in[i]) == 0);
    }
    check_os_threads();
    struct timespec wait = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    CHECK(nanosleep(&wait, NULL) == 0);
    /* Every spinner must have had a turn (on a loaded machine, under valgrind, the time given
     * may not be enough; without time slices it never comes: the runner's timeout says so). */
    for (int i = 0; i < kSpinners; i++)
        while (!atomic_load(&spins[i].started)) {
            struct timespec ms = {0, 10000000};
            CHECK(nanosleep(&ms, NULL) == 0);
        }
    atomic_store(&stop, 1);

    long spun = 0, locked = 0, produced = 0, consumed = 0, psum = 0, csum = 0, sent = 0,
         received = 0;
    for (int i = 0; i < kSpinners; i++) {
        CHECK(pthread_join(spin_t[i], NULL) == 0);
        CHECK(spins[i].ok);
        spun += spins[i].n;
    }
    for (int i = 0; i < kLockers; i++) {
        CHECK(pthread_join(lock_t[i], NULL) == 0);
        locked += mine[i];
    }
    for (int i = 0; i < kPairs; i++) {
        CHECK(pthread_join(prod_t[i], NULL) == 0);
        CHECK(pthread_join(cons_t[i], NULL) == 0);
        CHECK(pthread_join(wr_t[i], NULL) == 0);
        CHECK(pthread_join(rd_t[i], NULL) == 0);
        CHECK_EQ(in[i].blocks, out[i].blocks);
        close(out[i].fd);
        close(in[i].fd);
        produced += made[i].count;
        psum += made[i].sum;
        consumed += used[i].count;
        csum += used[i].sum;
        sent += out[i].blocks;
        received += in[i].blocks;
    }
    CHECK_EQ(shared, locked);
    CHECK_EQ(produced, consumed);
    CHECK_EQ(psum, csum);
    CHECK_EQ(sent, received);
    CHECK(locked > 0 && produced > 0 && sent > 0);
    printf("slice_stress: %.1f s: %ld spins, %ld locked increments, %ld queued, %ld blocks\n",
           seconds, spun, locked, produced, sent);
    return 0;
}
