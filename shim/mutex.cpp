// pthread_mutex_*: every type (normal, recursive, errorcheck, adaptive), static initialisers
// included, on libgreen's futex.
//
// The mutex keeps glibc's layout and kind encoding (so that glibc's static initialisers,
// pthread_mutexattr_* and the process-shared test all keep working), and uses its fields as
// glibc does: __lock is the futex word (0 free, 1 locked, 2 locked and maybe waited for),
// __owner the owner's id (owner_id(): green threads share a TID, so they cannot use it),
// __count the recursion depth, __nusers the holders.
//
// Robust mutexes (process-private ones; process-shared ones are glibc's): a green thread keeps
// the robust mutexes it holds in a list (linked through __list.__next), and when it ends
// holding one (green_exit_hook), the mutex is released marked "owner died": the next locker
// gets it with EOWNERDEAD and must call pthread_mutex_consistent, or unlocking makes it
// permanently ENOTRECOVERABLE, as POSIX says.  The marks live in __spins, which only glibc's
// adaptive spinning uses.
#include <climits>

#include "../hub/chaos.h"
#include "sync.h"

namespace green {

namespace {
// The owner is compared with the caller's id by any thread (is it mine?) while the holder may
// be setting it: relaxed atomics, plain moves on x86-64.
int owner_of(const pthread_mutex_t* m) { return __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED); }
void set_owner(pthread_mutex_t* m, int id) { __atomic_store_n(&m->__data.__owner, id, __ATOMIC_RELAXED); }

constexpr int kKindMask = 3;      // PTHREAD_MUTEX_{NORMAL,RECURSIVE,ERRORCHECK,ADAPTIVE}_NP
constexpr int kRobust = 16;       // PTHREAD_MUTEX_ROBUST_NORMAL_NP
constexpr int kPrioInherit = 32;  // PTHREAD_MUTEX_PRIO_INHERIT_NP
constexpr int kPrioProtect = 64;  // PTHREAD_MUTEX_PRIO_PROTECT_NP
constexpr int kPshared = 128;     // PTHREAD_MUTEX_PSHARED_BIT

constexpr short kOwnerDied = 1;       // in __spins: the last owner ended holding it
constexpr short kNotRecoverable = 2;  // in __spins: unlocked while inconsistent

bool is_shared(const pthread_mutex_t* m) { return (m->__data.__kind & kPshared) != 0; }

pthread_mutex_t* next_robust(pthread_mutex_t* m)
{
    return reinterpret_cast<pthread_mutex_t*>(m->__data.__list.__next);
}

void set_next_robust(pthread_mutex_t* m, pthread_mutex_t* next)
{
    m->__data.__list.__next = reinterpret_cast<__pthread_internal_list*>(next);
}

void robust_link(pthread_mutex_t* m)
{
    if (Green* g = green_self()) {
        set_next_robust(m, static_cast<pthread_mutex_t*>(g->robust_mutexes));
        g->robust_mutexes = m;
    }
}

void robust_unlink(pthread_mutex_t* m)
{
    Green* g = green_self();
    if (!g)
        return;
    pthread_mutex_t* prev = nullptr;
    for (auto* p = static_cast<pthread_mutex_t*>(g->robust_mutexes); p; prev = p, p = next_robust(p)) {
        if (p != m)
            continue;
        if (prev)
            set_next_robust(prev, next_robust(m));
        else
            g->robust_mutexes = next_robust(m);
        return;
    }
}

void release(pthread_mutex_t* m)
{
    set_owner(m, 0);
    m->__data.__nusers--;
    uint32_t* w = as_word(&m->__data.__lock);
    if (__atomic_exchange_n(w, 0u, __ATOMIC_RELEASE) == 2)
        futex_wake(w, 1);
}

// A green thread ends: the robust mutexes it still holds go to their next lockers.
void release_robust(Green* self)
{
    while (auto* m = static_cast<pthread_mutex_t*>(self->robust_mutexes)) {
        self->robust_mutexes = next_robust(m);
        m->__data.__spins = short(m->__data.__spins | kOwnerDied);
        m->__data.__count = 0;
        release(m);
    }
}

// After acquiring a robust mutex: what its state says the locker gets.
int robust_acquired(pthread_mutex_t* m)
{
    short marks = m->__data.__spins;
    if (marks & kNotRecoverable) {
        release(m);
        return ENOTRECOVERABLE;
    }
    robust_link(m);
    return (marks & kOwnerDied) ? EOWNERDEAD : 0;
}

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

// A process-shared mutex is glibc's, in every form of lock.  Its owner is the OS thread's id
// (the control block's tid): the green thread holding it is pinned (hub/green.h).
int lock_shared(pthread_mutex_t* m, clockid_t clock, const struct timespec* abstime, bool try_only)
{
    int r;
    if (try_only)
        r = REAL(pthread_mutex_trylock)(m);
    else if (!abstime)
        r = REAL(pthread_mutex_lock)(m);
    else
        r = REAL(pthread_mutex_clocklock)(m, clock, abstime);
    if (r == 0 || r == EOWNERDEAD)
        pin(green_self());
    return r;
}

}  // namespace

int mutex_lock(pthread_mutex_t* m, clockid_t clock, const struct timespec* abstime, bool try_only)
{
    if (is_shared(m))
        return lock_shared(m, clock, abstime, try_only);
    int kind = m->__data.__kind;
    int me = owner_id();
    if (owner_of(m) == me && checks_owner(kind)) {  // the owner locks it again
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
    set_owner(m, me);
    m->__data.__count = 1;
    m->__data.__nusers++;
    return (kind & kRobust) ? robust_acquired(m) : 0;
}

int mutex_unlock(pthread_mutex_t* m)
{
    if (is_shared(m)) {
        int r = REAL(pthread_mutex_unlock)(m);
        if (r == 0)
            unpin(green_self());
        return r;
    }
    int kind = m->__data.__kind;
    if (checks_owner(kind)) {
        if (owner_of(m) != owner_id() || load(as_word(&m->__data.__lock)) == 0)
            return EPERM;
        if ((kind & kKindMask) == PTHREAD_MUTEX_RECURSIVE && --m->__data.__count != 0)
            return 0;
    }
    if (kind & kRobust) {
        robust_unlink(m);
        if (m->__data.__spins & kOwnerDied) {  // never made consistent: unusable from now on
            m->__data.__spins = kNotRecoverable;
            release(m);
            futex_wake(as_word(&m->__data.__lock), INT_MAX);
            return 0;
        }
    }
    release(m);
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

GREEN_EXPORT int pthread_mutex_consistent(pthread_mutex_t* m)
{
    if (is_shared(m))
        return REAL(pthread_mutex_consistent)(m);
    if (!(m->__data.__kind & kRobust) || !(m->__data.__spins & kOwnerDied))
        return EINVAL;
    if (owner_of(m) != owner_id())
        return EPERM;
    m->__data.__spins &= short(~kOwnerDied);
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

namespace {

// Under GREEN_CHAOS: a chaos point before taking the lock, and one after releasing it, when
// another thread may take it.  Out of line, so that the ordinary calls stay tail calls.
__attribute__((noinline)) int lock_chaos(pthread_mutex_t* m)
{
    chaos_point_slow("pthread_mutex_lock");
    return mutex_lock(m, CLOCK_REALTIME, nullptr, false);
}

__attribute__((noinline)) int unlock_chaos(pthread_mutex_t* m)
{
    int r = mutex_unlock(m);
    chaos_point_slow("pthread_mutex_unlock");
    return r;
}

}  // namespace

GREEN_EXPORT int pthread_mutex_lock(pthread_mutex_t* m)
{
    if (__builtin_expect(chaos_on, 0))
        return lock_chaos(m);
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


GREEN_EXPORT int pthread_mutex_unlock(pthread_mutex_t* m)
{
    if (__builtin_expect(chaos_on, 0))
        return unlock_chaos(m);
    return mutex_unlock(m);
}

namespace green {

// Registered at start-up (shim/init.cpp).
void mutex_thread_exit(Green* self)
{
    if (self->robust_mutexes)
        release_robust(self);
}

}  // namespace green
