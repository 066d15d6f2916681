// Wait queues keyed by address, and a futex on them that green and real threads share.
//
// futex_wait/futex_wake behave like the kernel's FUTEX_WAIT/FUTEX_WAKE on a 32-bit word, for
// every caller: a green thread parks in a queue of libgreen's (a hashed table of buckets, each
// a spinlock and a FIFO list of waiters that live on the waiters' own stacks: no allocation to
// wait); a real thread (unmanaged, or the loop context) waits in the kernel, and is counted, so
// that a waker knows when it must also make the system call.  Every green synchronisation
// primitive in shim/ (mutexes, condition variables, rwlocks, semaphores, barriers, once, C11,
// and the program's own syscall(SYS_futex)) is built on these two functions, as musl builds
// its primitives on the kernel futex.
//
// Lost wake-ups are excluded as the kernel does it: futex_wait compares the word with the
// expected value under the bucket's lock, and a waker changes the word before it calls
// futex_wake, which takes the same lock.
#ifndef GREEN_WAITQ_H
#define GREEN_WAITQ_H

#include <cstdint>

namespace green {

// Waits while *word == expected, until woken, or until the CLOCK_MONOTONIC deadline (kForever
// for none).  what names the call for diagnostics (e.g. "pthread_mutex_lock").
// Returns 0 when woken (spurious wake-ups are possible, as with the kernel's), -EAGAIN when
// *word != expected already, -ETIMEDOUT, or -ECANCELED when the caller allowed cancellation and
// a pthread_cancel is due (the caller acts on it once it has restored what it must).
// shared: the word may be in memory shared with another process; a real thread then waits on
// a shared kernel futex (a green thread still parks: see libgreen(7)).
int futex_wait(const uint32_t* word, uint32_t expected, int64_t deadline, bool cancellable,
               const char* what, bool shared = false);
// The same, counted as a join (kWaitJoin) by GREEN_STATS and the dump signal.
int futex_wait_join(const uint32_t* word, uint32_t expected, int64_t deadline);

// Wakes up to n waiters of word (green ones first, in FIFO order).  kernel_too: also wake real
// threads that may wait in the kernel without libgreen's knowledge (a futex word the program
// manages itself).  Returns how many were woken (as far as known).
int futex_wake(const uint32_t* word, int n, bool kernel_too = false, bool shared = false);

// Fork with several workers: every queue lock taken before (in a fixed order), released after
// in the parent; the child's are reset.
void waitq_lock_all();
void waitq_unlock_all();
void waitq_after_fork_child();

}  // namespace green

#endif
