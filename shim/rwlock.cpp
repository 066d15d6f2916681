// pthread_rwlock_*: read and write locks, try, timed and clock forms, on libgreen's futex.
//
// Laid over pthread_rwlock_t, keeping the two fields glibc's initialisers and attributes set:
// __shared (a process-shared rwlock stays glibc's) and __flags (the kind).  The state word is
// 0 when free, kWriter when write-locked, else the number of readers.  As glibc does by default
// (PTHREAD_RWLOCK_PREFER_READER_NP), a reader gets in while other readers hold the lock even if
// writers wait; PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP makes readers wait for waiting
// writers.  Unlock wakes every waiter and lets them compete: simple, and fair enough when the
// waiters are green threads taking turns on one OS thread.
#include <climits>
#include <cstddef>
#include <cstring>

#include "../hub/chaos.h"
#include "sync.h"

namespace green {

namespace {

struct RwLock {
    uint32_t state;            // 0 free, kWriter write-locked, else the reader count
    uint32_t waiters;          // threads waiting for any kind of access
    uint32_t writers_waiting;  // of which writers
    uint32_t unused[3];
    int writer;                // owner_id() of the writer, for EDEADLK
    int glibc_shared;          // glibc's __shared: non-zero for a process-shared rwlock
    uint32_t unused2[4];
    uint32_t glibc_flags;      // glibc's __flags: the PTHREAD_RWLOCK_PREFER_* kind
    uint32_t unused3;
};
static_assert(sizeof(RwLock) == sizeof(pthread_rwlock_t), "RwLock overlays pthread_rwlock_t");
static_assert(offsetof(RwLock, glibc_shared) == offsetof(pthread_rwlock_t, __data.__shared), "");
static_assert(offsetof(RwLock, glibc_flags) == offsetof(pthread_rwlock_t, __data.__flags), "");

constexpr uint32_t kWriter = 0xffffffffu;
constexpr uint32_t kMaxReaders = 0xfffffffeu;

RwLock* as_rw(pthread_rwlock_t* l) { return reinterpret_cast<RwLock*>(l); }

bool is_shared(pthread_rwlock_t* l) { return as_rw(l)->glibc_shared != 0; }

bool prefers_writers(RwLock* l)
{
    return l->glibc_flags == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP;
}

// One attempt: 0, EBUSY (must wait), or a definite error.
int try_read(RwLock* l)
{
    uint32_t s = load(&l->state);
    for (;;) {
        if (s == kWriter || (prefers_writers(l) && load(&l->writers_waiting) != 0))
            return l->writer == owner_id() && s == kWriter ? EDEADLK : EBUSY;
        if (s == kMaxReaders)
            return EAGAIN;
        if (__atomic_compare_exchange_n(&l->state, &s, s + 1, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return 0;
    }
}

int try_write(RwLock* l)
{
    uint32_t expected = 0;
    if (__atomic_compare_exchange_n(&l->state, &expected, kWriter, false, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED)) {
        l->writer = owner_id();
        return 0;
    }
    return expected == kWriter && l->writer == owner_id() ? EDEADLK : EBUSY;
}

int rw_lock(pthread_rwlock_t* lock, bool write, clockid_t clock, const struct timespec* abstime,
            bool try_only)
{
    RwLock* l = as_rw(lock);
    int r = write ? try_write(l) : try_read(l);
    if (try_only)
        return r == EDEADLK ? EBUSY : r;  // glibc: a try by the owner is EBUSY
    if (r != EBUSY)
        return r;
    int64_t deadline = kForever;
    if (abstime) {
        if (!valid_abstime(abstime))
            return EINVAL;
        deadline = deadline_from(clock, abstime);
    }
    if (write)
        __atomic_fetch_add(&l->writers_waiting, 1u, __ATOMIC_SEQ_CST);
    for (;;) {
        __atomic_fetch_add(&l->waiters, 1u, __ATOMIC_SEQ_CST);
        uint32_t s = load(&l->state);
        r = write ? try_write(l) : try_read(l);
        if (r == EBUSY &&
            futex_wait(&l->state, s, deadline, false,
                       write ? "pthread_rwlock_wrlock" : "pthread_rwlock_rdlock") == -ETIMEDOUT)
            r = ETIMEDOUT;
        __atomic_fetch_sub(&l->waiters, 1u, __ATOMIC_SEQ_CST);
        if (r != EBUSY)
            break;
    }
    if (write && __atomic_fetch_sub(&l->writers_waiting, 1u, __ATOMIC_SEQ_CST) == 1 && r != 0 &&
        load(&l->waiters) != 0)
        futex_wake(&l->state, INT_MAX);  // readers held back for this writer may go now
    return r;
}

int rw_unlock(pthread_rwlock_t* lock)
{
    RwLock* l = as_rw(lock);
    uint32_t s = load(&l->state);
    if (s == 0)
        return EPERM;
    if (s == kWriter) {
        l->writer = 0;
        __atomic_store_n(&l->state, 0u, __ATOMIC_SEQ_CST);
    } else if (__atomic_sub_fetch(&l->state, 1u, __ATOMIC_SEQ_CST) != 0) {
        return 0;  // other readers still hold it: nobody waiting can get in yet
    }
    if (load(&l->waiters) != 0)
        futex_wake(&l->state, INT_MAX);
    return 0;
}

}  // namespace
}  // namespace green

using namespace green;

GREEN_EXPORT int pthread_rwlock_init(pthread_rwlock_t* l, const pthread_rwlockattr_t* attr)
{
    int pshared = PTHREAD_PROCESS_PRIVATE, kind = PTHREAD_RWLOCK_DEFAULT_NP;
    if (attr) {
        pthread_rwlockattr_getpshared(attr, &pshared);
        pthread_rwlockattr_getkind_np(attr, &kind);
    }
    if (pshared == PTHREAD_PROCESS_SHARED)
        return REAL(pthread_rwlock_init)(l, attr);
    memset(l, 0, sizeof *l);
    as_rw(l)->glibc_flags = uint32_t(kind);
    return 0;
}

GREEN_EXPORT int pthread_rwlock_destroy(pthread_rwlock_t* l)
{
    if (is_shared(l))
        return REAL(pthread_rwlock_destroy)(l);
    return 0;
}

#define GREEN_RWLOCK_WRAPPER(name, params, args, write, clock, abstime, try_only)   \
    GREEN_EXPORT int name params                                                   \
    {                                                                              \
        if (is_shared(l))                                                          \
            return REAL(name) args;                                                \
        chaos_point(#name);                                                        \
        return rw_lock(l, write, clock, abstime, try_only);                        \
    }

GREEN_RWLOCK_WRAPPER(pthread_rwlock_rdlock, (pthread_rwlock_t* l), (l), false, CLOCK_REALTIME,
                     nullptr, false)
GREEN_RWLOCK_WRAPPER(pthread_rwlock_wrlock, (pthread_rwlock_t* l), (l), true, CLOCK_REALTIME,
                     nullptr, false)
GREEN_RWLOCK_WRAPPER(pthread_rwlock_tryrdlock, (pthread_rwlock_t* l), (l), false,
                     CLOCK_REALTIME, nullptr, true)
GREEN_RWLOCK_WRAPPER(pthread_rwlock_trywrlock, (pthread_rwlock_t* l), (l), true,
                     CLOCK_REALTIME, nullptr, true)
GREEN_RWLOCK_WRAPPER(pthread_rwlock_timedrdlock,
                     (pthread_rwlock_t* l, const struct timespec* abstime), (l, abstime), false,
                     CLOCK_REALTIME, abstime, false)
GREEN_RWLOCK_WRAPPER(pthread_rwlock_timedwrlock,
                     (pthread_rwlock_t* l, const struct timespec* abstime), (l, abstime), true,
                     CLOCK_REALTIME, abstime, false)

GREEN_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t* l, clockid_t clock,
                                            const struct timespec* abstime)
{
    if (is_shared(l))
        return REAL(pthread_rwlock_clockrdlock)(l, clock, abstime);
    if (!valid_wait_clock(clock))
        return EINVAL;
    chaos_point("pthread_rwlock_clockrdlock");
    return rw_lock(l, false, clock, abstime, false);
}

GREEN_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t* l, clockid_t clock,
                                            const struct timespec* abstime)
{
    if (is_shared(l))
        return REAL(pthread_rwlock_clockwrlock)(l, clock, abstime);
    if (!valid_wait_clock(clock))
        return EINVAL;
    chaos_point("pthread_rwlock_clockwrlock");
    return rw_lock(l, true, clock, abstime, false);
}

GREEN_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t* l)
{
    if (is_shared(l))
        return REAL(pthread_rwlock_unlock)(l);
    int r = rw_unlock(l);
    chaos_point("pthread_rwlock_unlock");  // after: another thread may take it now
    return r;
}
