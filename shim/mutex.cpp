// pthread_mutex_*: every type (normal, recursive, errorcheck, adaptive), static initialisers
// included, on libgreen's futex.
//
// The mutex keeps glibc's layout and kind encoding (so that glibc's static initialisers,
// pthread_mutexattr_* and the process-shared test all keep working), and uses its fields as
// glibc does: __lock is the futex word (0 free, 1 locked, 2 locked and maybe waited for),
// __owner the owner's id (owner_id(): green threads share a TID, so they cannot use it),
// __count the recursion depth, __nusers the holders.
#include "sync.h"

namespace green {

namespace {

constexpr int kKindMask = 3;      // PTHREAD_MUTEX_{NORMAL,RECURSIVE,ERRORCHECK,ADAPTIVE}_NP
constexpr int kRobust = 16;       // PTHREAD_MUTEX_ROBUST_NORMAL_NP
constexpr int kPrioInherit = 32;  // PTHREAD_MUTEX_PRIO_INHERIT_NP
constexpr int kPrioProtect = 64;  // PTHREAD_MUTEX_PRIO_PROTECT_NP
constexpr int kPshared = 128;     // PTHREAD_MUTEX_PSHARED_BIT

bool is_shared(const pthread_mutex_t* m) { return (m->__data.__kind & kPshared) != 0; }

// Whether the type checks who unlocks (glibc: recursive, errorcheck, and every robust mutex).
bool checks_owner(int kind)
{
    int type = kind & kKindMask;
    return type == PTHREAD_MUTEX_RECURSIVE || type == PTHREAD_MUTEX_ERRORCHECK || (kind & kRobust);
}

// Contended: mark the word "waited for" and wait until it was free when we marked it.
int lock_contended(uint32_t* w, int64_t deadline)
{
    while (__atomic_exchange_n(w, 2u, __ATOMIC_SEQ_CST) != 0) {
        if (futex_wait(w, 2, deadline, false, "pthread_mutex_lock") == -ETIMEDOUT)
            return ETIMEDOUT;
    }
    return 0;
}

// A process-shared mutex is glibc's, in every form of lock.
int lock_shared(pthread_mutex_t* m, clockid_t clock, const struct timespec* abstime, bool try_only)
{
    if (try_only)
        return REAL(pthread_mutex_trylock)(m);
    if (!abstime)
        return REAL(pthread_mutex_lock)(m);
    return REAL(pthread_mutex_clocklock)(m, clock, abstime);
}

}  // namespace

int mutex_lock(pthread_mutex_t* m, clockid_t clock, const struct timespec* abstime, bool try_only)
{
    if (is_shared(m))
        return lock_shared(m, clock, abstime, try_only);
    int kind = m->__data.__kind;
    int me = owner_id();
    if (m->__data.__owner == me && checks_owner(kind)) {  // the owner locks it again
        if ((kind & kKindMask) != PTHREAD_MUTEX_RECURSIVE)
            return try_only ? EBUSY : EDEADLK;  // glibc: trylock by the owner is EBUSY
        if (m->__data.__count + 1 == 0)
            return EAGAIN;
        m->__data.__count++;
        return 0;
    }
    uint32_t* w = as_word(&m->__data.__lock);
    uint32_t expected = 0;
    if (!__atomic_compare_exchange_n(w, &expected, 1u, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        if (try_only)
            return EBUSY;
        int64_t deadline = kForever;
        if (abstime) {
            if (!valid_abstime(abstime))
                return EINVAL;
            deadline = deadline_from(clock, abstime);
        }
        if (int r = lock_contended(w, deadline))
            return r;
    }
    m->__data.__owner = me;
    m->__data.__count = 1;
    m->__data.__nusers++;
    return 0;
}

int mutex_unlock(pthread_mutex_t* m)
{
    if (is_shared(m))
        return REAL(pthread_mutex_unlock)(m);
    int kind = m->__data.__kind;
    if (checks_owner(kind)) {
        if (m->__data.__owner != owner_id() || load(as_word(&m->__data.__lock)) == 0)
            return EPERM;
        if ((kind & kKindMask) == PTHREAD_MUTEX_RECURSIVE && --m->__data.__count != 0)
            return 0;
    }
    m->__data.__owner = 0;
    m->__data.__nusers--;
    uint32_t* w = as_word(&m->__data.__lock);
    if (__atomic_exchange_n(w, 0u, __ATOMIC_RELEASE) == 2)
        futex_wake(w, 1);
    return 0;
}

}  // namespace green

using namespace green;

GREEN_EXPORT int pthread_mutex_init(pthread_mutex_t* m, const pthread_mutexattr_t* attr)
{
    int type = PTHREAD_MUTEX_DEFAULT, pshared = PTHREAD_PROCESS_PRIVATE;
    int robust = PTHREAD_MUTEX_STALLED, protocol = PTHREAD_PRIO_NONE;
    if (attr) {
        pthread_mutexattr_gettype(attr, &type);
        pthread_mutexattr_getpshared(attr, &pshared);
        pthread_mutexattr_getrobust(attr, &robust);
        pthread_mutexattr_getprotocol(attr, &protocol);
    }
    if (pshared == PTHREAD_PROCESS_SHARED)
        return REAL(pthread_mutex_init)(m, attr);
    *m = pthread_mutex_t{};
    m->__data.__kind = (type & kKindMask) | (robust == PTHREAD_MUTEX_ROBUST ? kRobust : 0) |
                       (protocol == PTHREAD_PRIO_INHERIT ? kPrioInherit : 0) |
                       (protocol == PTHREAD_PRIO_PROTECT ? kPrioProtect : 0);
    return 0;
}

GREEN_EXPORT int pthread_mutex_destroy(pthread_mutex_t* m)
{
    if (is_shared(m))
        return REAL(pthread_mutex_destroy)(m);
    if (load(as_word(&m->__data.__lock)) != 0)
        return EBUSY;
    m->__data.__kind = -1;  // as glibc: a destroyed mutex is recognisable
    return 0;
}

GREEN_EXPORT int pthread_mutex_lock(pthread_mutex_t* m)
{
    return mutex_lock(m, CLOCK_REALTIME, nullptr, false);
}

GREEN_EXPORT int pthread_mutex_trylock(pthread_mutex_t* m)
{
    return mutex_lock(m, CLOCK_REALTIME, nullptr, true);
}

GREEN_EXPORT int pthread_mutex_timedlock(pthread_mutex_t* m, const struct timespec* abstime)
{
    return mutex_lock(m, CLOCK_REALTIME, abstime, false);
}

GREEN_EXPORT int pthread_mutex_clocklock(pthread_mutex_t* m, clockid_t clock,
                                         const struct timespec* abstime)
{
    if (!valid_wait_clock(clock))
        return EINVAL;
    return mutex_lock(m, clock, abstime, false);
}

GREEN_EXPORT int pthread_mutex_unlock(pthread_mutex_t* m) { return mutex_unlock(m); }
