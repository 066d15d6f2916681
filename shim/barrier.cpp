// pthread_barrier_*: a process-private barrier on libgreen's futex.
//
// Laid over pthread_barrier_t, keeping glibc's "shared" field at its place (glibc marks a
// process-private barrier with FUTEX_PRIVATE_FLAG there; anything else is glibc's to run).
// The last thread to arrive starts the next round by bumping the round number (the futex
// word) and waking everyone waiting on it; the arrival count is reset before that, so a thread
// that hurries into the next round counts there.
#include <climits>
#include <cstddef>

#include "sync.h"

namespace green {

namespace {

struct Barrier {
    uint32_t count;    // threads per round, from pthread_barrier_init
    uint32_t arrived;  // threads in the current round so far
    uint32_t round;    // bumped when a round completes: the futex word
    int glibc_shared;  // glibc's field: FUTEX_PRIVATE_FLAG (128) for a process-private barrier
    uint32_t unused[4];
};
static_assert(sizeof(Barrier) == sizeof(pthread_barrier_t), "Barrier overlays pthread_barrier_t");

constexpr int kPrivate = 128;

Barrier* as_barrier(pthread_barrier_t* b) { return reinterpret_cast<Barrier*>(b); }

bool is_ours(pthread_barrier_t* b) { return as_barrier(b)->glibc_shared == kPrivate; }

}  // namespace
}  // namespace green

using namespace green;

GREEN_EXPORT int pthread_barrier_init(pthread_barrier_t* barrier,
                                      const pthread_barrierattr_t* attr, unsigned count)
{
    int pshared = PTHREAD_PROCESS_PRIVATE;
    if (attr)
        pthread_barrierattr_getpshared(attr, &pshared);
    if (pshared == PTHREAD_PROCESS_SHARED || count == 0 || count > INT_MAX)
        return REAL(pthread_barrier_init)(barrier, attr, count);  // glibc's, or its EINVAL
    *as_barrier(barrier) = Barrier{count, 0, 0, kPrivate, {}};
    return 0;
}

GREEN_EXPORT int pthread_barrier_destroy(pthread_barrier_t* barrier)
{
    if (!is_ours(barrier))
        return REAL(pthread_barrier_destroy)(barrier);
    return load(&as_barrier(barrier)->arrived) != 0 ? EBUSY : 0;
}

GREEN_EXPORT int pthread_barrier_wait(pthread_barrier_t* barrier)
{
    if (!is_ours(barrier))
        return REAL(pthread_barrier_wait)(barrier);
    Barrier* b = as_barrier(barrier);
    uint32_t round = load(&b->round);
    if (__atomic_add_fetch(&b->arrived, 1u, __ATOMIC_SEQ_CST) == b->count) {
        __atomic_store_n(&b->arrived, 0u, __ATOMIC_SEQ_CST);
        __atomic_fetch_add(&b->round, 1u, __ATOMIC_SEQ_CST);
        futex_wake(&b->round, INT_MAX);
        return PTHREAD_BARRIER_SERIAL_THREAD;
    }
    while (load(&b->round) == round)
        futex_wait(&b->round, round, kForever, false, "pthread_barrier_wait");
    return 0;
}
