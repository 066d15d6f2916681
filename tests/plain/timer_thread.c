/* timer_create with SIGEV_THREAD: each expiry runs the callback in a thread of its own (not the
 * creating one), with the sigev_value given; timer_gettime reports the interval; after
 * timer_delete no callback runs any more.  Under libgreen the callbacks are green threads:
 * at most 2 OS threads while the timer runs. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "plain.h"

static atomic_int calls;
static atomic_int other_thread = 1;
static pthread_t main_thread;

static void tick(union sigval v)
{
    if (v.sival_int != 42 || pthread_equal(pthread_self(), main_thread))
        atomic_store(&other_thread, 0);
    atomic_fetch_add(&calls, 1);
    check_os_threads();
}

int main(void)
{
    main_thread = pthread_self();
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD;
    sev.sigev_notify_function = tick;
    sev.sigev_value.sival_int = 42;
    timer_t id;
    CHECK_EQ(timer_create(CLOCK_MONOTONIC, &sev, &id), 0);
    struct itimerspec its = {{0, 20 * 1000000L}, {0, 20 * 1000000L}};
    CHECK_EQ(timer_settime(id, 0, &its, NULL), 0);
    struct itimerspec now;
    CHECK_EQ(timer_gettime(id, &now), 0);
    CHECK_EQ(now.it_interval.tv_nsec, 20 * 1000000L);
    for (int i = 0; atomic_load(&calls) < 5; i++) {
        CHECK(i < 5000);
        sleep_ms(1);
    }
    check_os_threads();
    CHECK(timer_getoverrun(id) >= 0);
    CHECK_EQ(timer_delete(id), 0);
    sleep_ms(50);  /* a callback already started may still finish */
    int after = atomic_load(&calls);
    sleep_ms(100);
    CHECK_EQ(atomic_load(&calls), after);
    CHECK_EQ(atomic_load(&other_thread), 1);
    /* one-shot, absolute */
    atomic_store(&calls, 0);
    CHECK_EQ(timer_create(CLOCK_REALTIME, &sev, &id), 0);
    struct itimerspec once = {{0, 0}, abstime_in(CLOCK_REALTIME, 30)};
    CHECK_EQ(timer_settime(id, TIMER_ABSTIME, &once, NULL), 0);
    for (int i = 0; atomic_load(&calls) < 1; i++) {
        CHECK(i < 5000);
        sleep_ms(1);
    }
    sleep_ms(60);
    CHECK_EQ(atomic_load(&calls), 1);
    CHECK_EQ(timer_delete(id), 0);
    puts("timer_thread: ok");
    return 0;
}
