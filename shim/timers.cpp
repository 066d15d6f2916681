// POSIX timers whose expiry starts a thread (timer_create with SIGEV_THREAD).
//
// glibc runs those with a helper thread of its own and a new thread per expiry, both created
// behind libgreen's back: real OS threads running the program's callback unmanaged.  A green
// thread's SIGEV_THREAD timer is libgreen's instead: a timerfd on the same clock, watched by a
// green notifier thread that starts a green thread per expiry, with the attributes the program
// gave, as glibc does; the overrun count is the expiries one read of the timerfd reported
// beyond the first.  timer_settime, timer_gettime, timer_getoverrun and timer_delete recognise
// these timers by address and pass every other timer to glibc.
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "../hub/fdtable.h"
#include "../hub/spinlock.h"
#include "../hub/sys.h"
#include "shim.h"

using namespace green;

namespace {

struct Timer {
    int fd;                              // the timerfd
    void (*fn)(union sigval);
    union sigval value;
    bool has_attr;
    pthread_attr_t attr;                 // the program's sigev_notify_attributes, copied
    std::atomic<int> overrun{0};
    std::atomic<bool> deleted{false};
    Timer* next;                         // the list of live timers
};

SpinLock timers_lock;
Timer* timers = nullptr;

// The timer behind a timer_t, if it is one of ours.
Timer* ours(timer_t id)
{
    SpinGuard g(timers_lock);
    for (Timer* t = timers; t; t = t->next)
        if (t == reinterpret_cast<Timer*>(id))
            return t;
    return nullptr;
}

void forget(Timer* t)
{
    SpinGuard g(timers_lock);
    for (Timer** p = &timers; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            return;
        }
}

struct Call {
    void (*fn)(union sigval);
    union sigval value;
};

void* run_callback(void* arg)
{
    Call c = *static_cast<Call*>(arg);
    free(arg);
    c.fn(c.value);
    return nullptr;
}

// Waits for expiries until the timer is deleted (its timerfd closed under the wait: EBADF).
void* notifier(void* arg)
{
    auto* t = static_cast<Timer*>(arg);
    while (!t->deleted.load(std::memory_order_acquire)) {
        if (wait_fd(t->fd, EV_READ, kForever, false) < 0)
            break;
        uint64_t expiries = 0;
        if (raw_syscall(SYS_read, t->fd, long(&expiries), sizeof expiries) != sizeof expiries)
            continue;  // re-armed or read meanwhile: nothing to report
        t->overrun.store(int(expiries > uint64_t(INT32_MAX) ? INT32_MAX : expiries - 1));
        auto* c = static_cast<Call*>(malloc(sizeof(Call)));
        if (!c)
            continue;
        *c = {t->fn, t->value};
        pthread_t th;
        pthread_attr_t detached;
        pthread_attr_t* attr = t->has_attr ? &t->attr : &detached;
        if (!t->has_attr)
            pthread_attr_init(&detached);
        pthread_attr_setdetachstate(attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, attr, run_callback, c) != 0)
            free(c);
        if (!t->has_attr)
            pthread_attr_destroy(&detached);
    }
    if (t->has_attr)
        pthread_attr_destroy(&t->attr);
    free(t);
    return nullptr;
}

}  // namespace

GREEN_EXPORT int timer_create(clockid_t clock, struct sigevent* sev, timer_t* id)
{
    if (!green_in(kSleep) || !sev || sev->sigev_notify != SIGEV_THREAD)
        return REAL(timer_create)(clock, sev, id);
    // timerfd takes the clocks timer_create takes, but CPU-time ones: those go to glibc.
    int fd = int(raw_syscall(SYS_timerfd_create, clock, TFD_NONBLOCK | TFD_CLOEXEC));
    if (fd < 0)
        return REAL(timer_create)(clock, sev, id);
    auto* t = static_cast<Timer*>(calloc(1, sizeof(Timer)));
    if (!t) {
        raw_syscall(SYS_close, fd);
        errno = EAGAIN;
        return -1;
    }
    new (&t->overrun) std::atomic<int>(0);
    new (&t->deleted) std::atomic<bool>(false);
    t->fd = fd;
    t->fn = sev->sigev_notify_function;
    t->value = sev->sigev_value;
    if (sev->sigev_notify_attributes) {
        // A copy that stands alone: the program may destroy its attributes object.
        pthread_attr_init(&t->attr);
        size_t size;
        if (pthread_attr_getstacksize(sev->sigev_notify_attributes, &size) == 0)
            pthread_attr_setstacksize(&t->attr, size);
        t->has_attr = true;
    }
    fd_created(fd, FdKind::Other, false);
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    int rc = pthread_create(&th, &attr, notifier, t);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        fd_forget(fd);
        raw_syscall(SYS_close, fd);
        if (t->has_attr)
            pthread_attr_destroy(&t->attr);
        free(t);
        errno = EAGAIN;
        return -1;
    }
    {
        SpinGuard g(timers_lock);
        t->next = timers;
        timers = t;
    }
    *id = reinterpret_cast<timer_t>(t);
    return 0;
}

GREEN_EXPORT int timer_settime(timer_t id, int flags, const struct itimerspec* value,
                               struct itimerspec* old)
{
    Timer* t = ours(id);
    if (!t)
        return REAL(timer_settime)(id, flags, value, old);
    long r = raw_syscall(SYS_timerfd_settime, t->fd,
                         (flags & TIMER_ABSTIME) ? TFD_TIMER_ABSTIME : 0, long(value), long(old));
    if (r < 0) {
        errno = int(-r);
        return -1;
    }
    return 0;
}

GREEN_EXPORT int timer_gettime(timer_t id, struct itimerspec* value)
{
    Timer* t = ours(id);
    if (!t)
        return REAL(timer_gettime)(id, value);
    long r = raw_syscall(SYS_timerfd_gettime, t->fd, long(value));
    if (r < 0) {
        errno = int(-r);
        return -1;
    }
    return 0;
}

GREEN_EXPORT int timer_getoverrun(timer_t id)
{
    Timer* t = ours(id);
    if (!t)
        return REAL(timer_getoverrun)(id);
    return t->overrun.load();
}

GREEN_EXPORT int timer_delete(timer_t id)
{
    Timer* t = ours(id);
    if (!t)
        return REAL(timer_delete)(id);
    forget(t);
    t->deleted.store(true, std::memory_order_release);
    // Forgetting the descriptor wakes the notifier (EBADF), which frees the timer.
    int fd = t->fd;
    fd_forget(fd);
    raw_syscall(SYS_close, fd);
    return 0;
}
