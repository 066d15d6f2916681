// pthread_cond_*: wait, timedwait (the condattr's clock), clockwait, signal, broadcast.
//
// A condition variable is a sequence number and a waiter count, laid over pthread_cond_t:
//   wait:   count ourselves, note seq, unlock the mutex, futex-wait while seq is unchanged,
//           uncount, relock;
//   signal: bump seq, and wake one waiter if any is counted (broadcast: all).
// Noting seq before unlocking closes the window in which a signal could be lost: a signal
// after that point changes seq, so the futex wait does not sleep.  Spurious wake-ups are
// allowed by POSIX and handled by every correct caller's loop.
//
// Both symbol versions of these functions (GLIBC_2.2.5 and GLIBC_2.3.2) bind to these
// wrappers, which own the whole layout, so a program built against either works.
#include <climits>
#include <cstddef>
#include <cstring>

#include "../hub/chaos.h"
#include "sync.h"

namespace green {

namespace {

struct Cond {
    uint32_t seq;          // bumped by every signal and broadcast: the futex word
    uint32_t waiters;      // threads inside a wait
    uint32_t clock;        // the condattr's clock: CLOCK_REALTIME (0, the static
                           // initialiser's) or CLOCK_MONOTONIC
    uint32_t unused[6];
    uint32_t glibc_wrefs;  // glibc's __wrefs: bit 0 marks a process-shared condvar, left to glibc
    uint32_t unused2[2];
};
static_assert(sizeof(Cond) == sizeof(pthread_cond_t), "Cond overlays pthread_cond_t");
static_assert(offsetof(Cond, glibc_wrefs) == offsetof(pthread_cond_t, __data.__wrefs),
              "the process-shared bit must stay where glibc puts it");

Cond* as_cond(pthread_cond_t* c) { return reinterpret_cast<Cond*>(c); }

bool is_shared(pthread_cond_t* c) { return (as_cond(c)->glibc_wrefs & 1) != 0; }

int cond_wait(pthread_cond_t* cv, pthread_mutex_t* m, clockid_t clock,
              const struct timespec* abstime)
{
    Cond* c = as_cond(cv);
    int64_t deadline = kForever;
    if (abstime) {
        if (!valid_abstime(abstime))
            return EINVAL;
        deadline = deadline_from(clock, abstime);
    }
    __atomic_fetch_add(&c->waiters, 1u, __ATOMIC_SEQ_CST);
    uint32_t seq = load(&c->seq);
    if (int r = mutex_unlock(m)) {
        __atomic_fetch_sub(&c->waiters, 1u, __ATOMIC_SEQ_CST);
        return r;
    }
    int r = futex_wait(&c->seq, seq, deadline, true, "pthread_cond_wait");
    __atomic_fetch_sub(&c->waiters, 1u, __ATOMIC_SEQ_CST);
    mutex_lock(m, CLOCK_REALTIME, nullptr, false);
    // POSIX: a cancelled waiter owns the mutex again before its cleanup handlers run.
    if (r == -ECANCELED)
        green_exit(PTHREAD_CANCELED);
    return r == -ETIMEDOUT ? ETIMEDOUT : 0;
}

void cond_wake(pthread_cond_t* cv, int n)
{
    Cond* c = as_cond(cv);
    __atomic_fetch_add(&c->seq, 1u, __ATOMIC_SEQ_CST);
    if (load(&c->waiters) != 0)
        futex_wake(&c->seq, n);
}

}  // namespace
}  // namespace green

using namespace green;

GREEN_EXPORT int pthread_cond_init(pthread_cond_t* cv, const pthread_condattr_t* attr)
{
    int pshared = PTHREAD_PROCESS_PRIVATE;
    clockid_t clock = CLOCK_REALTIME;
    if (attr) {
        pthread_condattr_getpshared(attr, &pshared);
        pthread_condattr_getclock(attr, &clock);
    }
    if (pshared == PTHREAD_PROCESS_SHARED)
        return REAL(pthread_cond_init)(cv, attr);
    memset(cv, 0, sizeof *cv);
    as_cond(cv)->clock = uint32_t(clock);
    return 0;
}

GREEN_EXPORT int pthread_cond_destroy(pthread_cond_t* cv)
{
    if (is_shared(cv))
        return REAL(pthread_cond_destroy)(cv);
    return 0;
}

GREEN_EXPORT int pthread_cond_wait(pthread_cond_t* cv, pthread_mutex_t* m)
{
    if (is_shared(cv))
        return REAL(pthread_cond_wait)(cv, m);
    return cond_wait(cv, m, CLOCK_REALTIME, nullptr);
}

GREEN_EXPORT int pthread_cond_timedwait(pthread_cond_t* cv, pthread_mutex_t* m,
                                        const struct timespec* abstime)
{
    if (is_shared(cv))
        return REAL(pthread_cond_timedwait)(cv, m, abstime);
    return cond_wait(cv, m, clockid_t(as_cond(cv)->clock), abstime);
}

GREEN_EXPORT int pthread_cond_clockwait(pthread_cond_t* cv, pthread_mutex_t* m, clockid_t clock,
                                        const struct timespec* abstime)
{
    if (is_shared(cv))
        return REAL(pthread_cond_clockwait)(cv, m, clock, abstime);
    if (!valid_wait_clock(clock))
        return EINVAL;
    return cond_wait(cv, m, clock, abstime);
}

GREEN_EXPORT int pthread_cond_signal(pthread_cond_t* cv)
{
    if (is_shared(cv))
        return REAL(pthread_cond_signal)(cv);
    cond_wake(cv, 1);
    chaos_point("pthread_cond_signal");
    return 0;
}

GREEN_EXPORT int pthread_cond_broadcast(pthread_cond_t* cv)
{
    if (is_shared(cv))
        return REAL(pthread_cond_broadcast)(cv);
    cond_wake(cv, INT_MAX);
    chaos_point("pthread_cond_broadcast");
    return 0;
}
