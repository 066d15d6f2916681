// The hub: green threads and the per-OS-thread scheduler that runs them.
//
// Contract
// --------
// * A green thread (struct Green) is a Boost.Context context on its own stack.  It runs only on
//   the OS thread of its hub (Green::hub), and only while that hub has switched to it; it runs
//   until it parks, yields, exits, or computes past its time slice while others wait
//   (hub/preempt.h: then a yield is injected at a safe point of the program's code).
// * Work sharing (several workers, hub/workers.h): a hub with green threads waiting in its run
//   queue while another worker sleeps idle gives that worker half of its movable ones.  A green
//   thread is movable while it waits in a run queue after a yield, after a lock, condition,
//   semaphore, join or sleep wait, or before it first ran; unpinned (Green::pins); with a TLS
//   block of its own.  One woken from a descriptor wait (or any other park) stays until it
//   runs again: its hub may still have watchers of its wait to take down.  Code that
//   captured a Hub* before a yield or a lock wait must read tl_hub again after it.
// * Each managed OS thread has one Hub (thread local): a FIFO run queue, a libev loop created
//   with ev_loop_new (never libev's default loop, which the program may use), and a context of
//   its own (the "loop context") that runs the loop when no green thread is runnable.  The OS
//   thread's original context becomes the hub's root green thread, so the program's main thread
//   is a green thread like the others.
// * Switches go directly from one green thread to the next runnable one; the loop context is
//   entered when the run queue is empty, and at least once every kPollBudget switches so that
//   I/O and timers are never starved by green threads that only yield.
// * Thread-local storage belongs to the green thread (hub/tls.h): it has TLS blocks of its own
//   (a switch changes the FS base), or shares its OS thread's and has its own words of it
//   saved and restored; the loop context runs on any block.  errno is saved when any context
//   switches away and restored when it resumes.
// * Blocking primitives (sleep_until, wait_fd) may be called only by a green thread of the
//   calling OS thread's hub.  They return 0 or a positive result, or -ETIMEDOUT when the
//   deadline passed, or -EINTR when a signal handler ran while the green thread was
//   interruptible (hub/signal.h).  When the caller says the call is a cancellation point and a cancellation
//   is due (pthread_cancel, deferred), they do not return: the green thread exits as by
//   pthread_exit(PTHREAD_CANCELED).
// * unpark() from the hub's own OS thread is immediate; from another OS thread it goes through
//   the hub's ev_async (wake_remote), and a stale wake-up for an earlier park is dropped by the
//   park sequence number.
// * Nothing in hub/ calls into shim/, but for the one exit hook shim/ registers
//   (green_exit_hook: per-thread state of shim/'s own, such as robust mutexes held).  libev and
//   the hub call libc through the PLT and so land in shim/'s wrappers, which pass through
//   because they see that the loop context is running (green_self() returns nullptr there).
// * No hub lock is held across a switch; internal locks are spinlocks, never pthread mutexes
//   (which shim/ may one day make green).
#ifndef GREEN_HUB_H
#define GREEN_HUB_H

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <ctime>

namespace green {

struct Green;
struct Hub;

// Deadlines are absolute CLOCK_MONOTONIC times in nanoseconds; kForever means none.
constexpr int64_t kForever = -1;

// How a parked green thread was woken (the value park() returns).
enum Wake : int {
    kWakeNormal = 0,   // unparked by whoever it waited for
    kWakeTimeout = 1,  // its deadline passed
    kWakeCancel = 2,   // pthread_cancel reached it in a cancellation point
    kWakeInterrupt = 3,  // a signal handler ran while it waited interruptibly (hub/signal.h)
    kWakeFdClosed = 4,   // (to unpark only) a descriptor it waits on was closed elsewhere:
                         //   wakes whichever descriptor wait it is in, as kWakeNormal
    kWakeMigrate = 5,    // (in a hub's remote list only) a runnable thread another worker
                         //   gave this hub (work sharing, hub/sched.cpp)
};

inline int64_t clock_ns(clockid_t clock)
{
    timespec ts;
    clock_gettime(clock, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
inline int64_t mono_now() { return clock_ns(CLOCK_MONOTONIC); }

// The calling OS thread's hub, or nullptr when this OS thread is not managed.
inline Hub* hub_self();

// The green thread running on this OS thread, or nullptr when the OS thread is not managed or
// its hub's loop context is running (libev callbacks, and signal handlers interrupting it).
// Inline: every wrapper asks it first.
inline Green* green_self();

// Makes the calling OS thread managed: creates its hub and turns its current context into the
// hub's root green thread.  Cheap: the libev loop and the loop context are created on first
// need.  Returns false if it could not (then the OS thread stays unmanaged).
bool hub_attach();

// Whether libgreen has started (the first hub exists).
// Functions the sanitizer runtimes themselves reach (through pthread_key_create and
// pthread_getattr_np, while they start or set a thread up): not instrumented by
// ThreadSanitizer, which cannot record anything yet there.
#define GREEN_NO_TSAN __attribute__((no_sanitize_thread))

extern std::atomic<bool> hub_started_flag;
GREEN_NO_TSAN inline bool hub_started()
{
    // The builtin, not std::atomic's load, which would be a call of an instrumented function.
    return __atomic_load_n(reinterpret_cast<const bool*>(&hub_started_flag), __ATOMIC_RELAXED);
}

// Parks the running green thread until someone unparks it; returns the Wake reason.  kind
// (a WaitKind) says what it waits for, for GREEN_STATS and the dump signal.
int park(int kind = 0);

// Makes a parked green thread runnable with the given reason.  Ignored when it is not parked
// (it was already woken by another event) or, for a remote wake, when it has parked again since.
void unpark(Green* g, int reason = kWakeNormal);

// Puts the running green thread at the back of the run queue and runs the next one.
void yield();

// Parks, with no deadline, until a signal handler interrupts the (interruptible) green thread:
// returns -EINTR (pause, sigsuspend, a poll of nothing without a timeout).
int park_for_interrupt(bool cancellable);

// Called by the wrappers of poll, select and epoll_wait before their immediate check: when the
// hub has not polled for a millisecond while other green threads exist, the caller goes through
// the hub first.  A green thread that polls in a loop, always finding something ready (a
// writable socket), would otherwise never park, and the threads waiting on descriptors would
// never be woken.
void poll_fairness();

// Parks until the CLOCK_MONOTONIC deadline; returns 0.  Never returns early, but for a signal
// handler when the green thread is interruptible (hub/signal.h): then -EINTR.
int sleep_until(int64_t deadline, bool cancellable);

// Ends the running green thread as pthread_exit does: unwinds its stack (C++ destructors,
// pthread_cleanup_push handlers), runs its thread-specific data destructors, and makes result
// what pthread_join returns.
[[noreturn]] void green_exit(void* result);

// Acts on a pending, enabled cancellation of the running green thread (pthread_testcancel).
void testcancel();

// What a parked green thread waits for (counted per hub, shown by the dump signal).
enum WaitKind : uint8_t {
    kWaitOther = 0,  // anything else (poll with nothing to watch, a bare park)
    kWaitFd,         // a descriptor (read, write, accept, poll, ...)
    kWaitTimer,      // a sleep
    kWaitFutex,      // a lock, condition variable, semaphore, futex
    kWaitJoin,       // pthread_join
    kWaitKinds
};

// Counters for diagnostics and benchmarks.
struct HubStats {
    uint64_t switches;    // context switches between green threads or to the loop
    uint64_t polls;       // iterations of the libev loop
    uint64_t created;     // green threads created
    uint64_t peak_live;   // most green threads alive at once
    uint64_t parks[kWaitKinds];  // parks, by what the green thread waited for
    int64_t max_stall_ns; // longest stretch without polling while others waited (see sched.cpp)
    uint64_t dns_lookups; // host look-ups that went to the name servers (resolver/)
    uint64_t handoffs;    // times a spare OS thread took the hub from one stuck in a call
    uint64_t steals;      // green threads it took from busier workers (work sharing)
    uint64_t fd_regs_dropped;  // fd registrations its poll set dropped: their waits had moved
};
HubStats hub_stats();

}  // namespace green

#endif
