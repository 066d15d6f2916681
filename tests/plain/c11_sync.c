/* C11 <threads.h> synchronisation: mutexes and condition variables between threads. */
#include <stdatomic.h>
#include <stdint.h>
#include <threads.h>

#include "plain.h"

/* Sleeps through thrd_sleep, the C11 call under test. */
static void thrd_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (thrd_sleep(&ts, &ts) == -1)
        ;
}

/* ------------------------------------------------------------------------------------------ */
/* mtx_t/cnd_t: a request/reply handshake; mtx_trylock on a mutex held elsewhere is thrd_busy. */

static mtx_t mtx;
static cnd_t cnd;
static int request, reply;

static int handshake_body(void *arg)
{
    (void)arg;
    CHECK_EQ(mtx_lock(&mtx), thrd_success);
    while (request == 0)
        CHECK_EQ(cnd_wait(&cnd, &mtx), thrd_success);
    reply = request + 1;
    CHECK_EQ(cnd_broadcast(&cnd), thrd_success);
    CHECK_EQ(mtx_unlock(&mtx), thrd_success);
    return 0;
}

static int trylock_body(void *arg)
{
    (void)arg;
    return mtx_trylock(&mtx);
}

static void test_mtx_cnd(void)
{
    CHECK_EQ(mtx_init(&mtx, mtx_plain), thrd_success);
    CHECK_EQ(cnd_init(&cnd), thrd_success);
    thrd_t t;
    CHECK_EQ(thrd_create(&t, handshake_body, NULL), thrd_success);
    thrd_sleep_ms(10);
    CHECK_EQ(mtx_lock(&mtx), thrd_success);
    request = 41;
    CHECK_EQ(cnd_signal(&cnd), thrd_success);
    while (reply == 0)
        CHECK_EQ(cnd_wait(&cnd, &mtx), thrd_success);
    CHECK_EQ(reply, 42);

    /* Still holding the mutex: another thread's trylock fails. */
    thrd_t t2;
    int res = -1;
    CHECK_EQ(thrd_create(&t2, trylock_body, NULL), thrd_success);
    CHECK_EQ(thrd_join(t2, &res), thrd_success);
    CHECK_EQ(res, thrd_busy);
    CHECK_EQ(mtx_unlock(&mtx), thrd_success);
    CHECK_EQ(thrd_join(t, NULL), thrd_success);
    cnd_destroy(&cnd);
    mtx_destroy(&mtx);
}

int main(void)
{
    test_mtx_cnd();
    return 0;
}
