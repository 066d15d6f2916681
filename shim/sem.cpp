// POSIX semaphores: sem_init, sem_wait, sem_trywait, sem_timedwait, sem_clockwait, sem_post.
//
// An unnamed, process-private semaphore keeps glibc's layout (the value in the first 32-bit
// word, the number of waiters in the second, then glibc's "private" field), so glibc's
// sem_getvalue and sem_destroy keep working on it.  Named semaphores (sem_open) and
// process-shared ones stay glibc's: glibc marks them by a zero "private" field.
// Errors are reported through errno, as sem_* do.
#include <semaphore.h>

#include <climits>
#include <cstddef>

#include "../hub/chaos.h"
#include "../hub/signal.h"
#include "sync.h"

namespace green {

namespace {

struct Sem {
    uint32_t value;    // the semaphore's value: the futex word
    uint32_t waiters;  // threads in a wait
    int glibc_private; // glibc's: FUTEX_PRIVATE_FLAG (128) for a process-private semaphore
    int unused;
};
static_assert(sizeof(Sem) <= sizeof(sem_t), "Sem overlays sem_t");

constexpr int kPrivate = 128;

Sem* as_sem(sem_t* s) { return reinterpret_cast<Sem*>(s); }

bool is_ours(sem_t* s) { return as_sem(s)->glibc_private == kPrivate; }

bool try_take(Sem* s)
{
    uint32_t v = load(&s->value);
    while (v > 0)
        if (__atomic_compare_exchange_n(&s->value, &v, v - 1, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return true;
    return false;
}

int fail(int e)
{
    errno = e;
    return -1;
}

int sem_take(sem_t* sem, clockid_t clock, const struct timespec* abstime)
{
    Sem* s = as_sem(sem);
    if (try_take(s))
        return 0;
    int64_t deadline = kForever;
    if (abstime) {
        if (!valid_abstime(abstime))
            return fail(EINVAL);
        deadline = deadline_from(clock, abstime);
    }
    __atomic_fetch_add(&s->waiters, 1u, __ATOMIC_SEQ_CST);
    int r = 0;
    Green* self = green_self();
    while (!try_take(s)) {
        {
            Interruptible scope(self);
            r = futex_wait(&s->value, 0, deadline, true, "sem_wait");
        }
        // A signal handler: EINTR, unless it had SA_RESTART (the kernel restarts the wait).
        if (r == -ETIMEDOUT || r == -ECANCELED || (r == -EINTR && !(self && self->interrupt_restart)))
            break;
        r = 0;
    }
    __atomic_fetch_sub(&s->waiters, 1u, __ATOMIC_SEQ_CST);
    if (r == -ECANCELED)
        green_exit(PTHREAD_CANCELED);  // sem_wait is a cancellation point
    return r == -ETIMEDOUT ? fail(ETIMEDOUT) : r == -EINTR ? fail(EINTR) : 0;
}

}  // namespace
}  // namespace green

using namespace green;

GREEN_EXPORT int sem_init(sem_t* sem, int pshared, unsigned value)
{
    if (pshared || value > SEM_VALUE_MAX)
        return REAL(sem_init)(sem, pshared, value);
    Sem* s = as_sem(sem);
    *s = Sem{value, 0, kPrivate, 0};
    return 0;
}

GREEN_EXPORT int sem_wait(sem_t* sem)
{
    if (!is_ours(sem))
        return REAL(sem_wait)(sem);
    chaos_point("sem_wait");
    return sem_take(sem, CLOCK_REALTIME, nullptr);
}

GREEN_EXPORT int sem_trywait(sem_t* sem)
{
    if (!is_ours(sem))
        return REAL(sem_trywait)(sem);
    return try_take(as_sem(sem)) ? 0 : fail(EAGAIN);
}

GREEN_EXPORT int sem_timedwait(sem_t* sem, const struct timespec* abstime)
{
    if (!is_ours(sem))
        return REAL(sem_timedwait)(sem, abstime);
    return sem_take(sem, CLOCK_REALTIME, abstime);
}

GREEN_EXPORT int sem_clockwait(sem_t* sem, clockid_t clock, const struct timespec* abstime)
{
    if (!is_ours(sem))
        return REAL(sem_clockwait)(sem, clock, abstime);
    if (!valid_wait_clock(clock))
        return fail(EINVAL);
    return sem_take(sem, clock, abstime);
}

GREEN_EXPORT int sem_post(sem_t* sem)
{
    if (!is_ours(sem))
        return REAL(sem_post)(sem);
    Sem* s = as_sem(sem);
    uint32_t v = load(&s->value);
    do {
        if (v >= SEM_VALUE_MAX)
            return fail(EOVERFLOW);
    } while (!__atomic_compare_exchange_n(&s->value, &v, v + 1, false, __ATOMIC_SEQ_CST,
                                          __ATOMIC_RELAXED));
    if (load(&s->waiters) != 0)
        futex_wake(&s->value, 1);
    chaos_point("sem_post");  // after: the thread it woke may run first
    return 0;
}
