// Shared by the synchronisation wrappers (mutex, cond, rwlock, sem, barrier, once, C11).
//
// Every primitive that a program keeps private to its process runs on libgreen's futex
// (hub/waitq.h), for green and real threads alike: a green thread parks, a real thread waits
// in the kernel, and each wakes the other.  glibc's own implementations would block the whole
// OS thread, and its internal lock owner is the OS thread, which all green threads share.
// Process-shared objects (PTHREAD_PROCESS_SHARED, named semaphores) stay glibc's: their
// other users are in other processes, which only the kernel can wake (libgreen(7)).
#ifndef GREEN_SHIM_SYNC_H
#define GREEN_SHIM_SYNC_H

#include <pthread.h>
#include <unistd.h>

#include <cerrno>

#include "../hub/waitq.h"
#include "shim.h"

namespace green {

// The owner id stored in a mutex or rwlock: a green thread's id with bit 30 set, or a real
// thread's TID (which never reaches bit 30: pid_max is at most 2^22).
inline int owner_id()
{
    if (Green* g = green_self())
        return int(0x40000000u | (g->id & 0x3fffffffu));
    return int(gettid());
}

inline uint32_t* as_word(void* p) { return static_cast<uint32_t*>(p); }

inline uint32_t load(const uint32_t* w) { return __atomic_load_n(w, __ATOMIC_SEQ_CST); }

// Checks a timespec as glibc's timed waits do when they have to wait.
inline bool valid_abstime(const struct timespec* ts)
{
    return ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000;
}

// The clocks glibc's timed waits accept.
inline bool valid_wait_clock(clockid_t clock)
{
    return clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC;
}

// The mutex operations (glibc's for a process-shared mutex), for cond and C11 to share.
// Return 0 or an errno value.
int mutex_lock(pthread_mutex_t* m, clockid_t clock, const struct timespec* abstime, bool try_only);
int mutex_unlock(pthread_mutex_t* m);

// What a green thread leaves behind in the mutexes when it ends (its robust ones).
void mutex_thread_exit(Green* self);

}  // namespace green

#endif
