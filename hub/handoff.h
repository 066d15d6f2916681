// Hand-off: a green thread stuck in a system call that blocks its OS thread does not stall the
// other green threads of its worker (Go's sysmon and handoffp, done with TLS blocks).
//
// The contract.
// * A hub (run queue, libev loop, timers) and its OS thread's TLS block belong together: the
//   green threads that share that block (hub/tls.h) and every green thread's inherited words
//   (libgreen's hub pointer, malloc's per-thread cache) name the block, never a kernel thread.
//   Whatever kernel thread runs the hub runs on that block.
// * A call libgreen knows may block its OS thread in the kernel (fsync, a read of a regular
//   file, open, ...: shim/files.cpp) is made through blocking_syscall(): it marks the hub "in a
//   blocking call" (one exchange), makes the system call, and unmarks it (one compare-and-swap).
// * The monitor, one OS thread of libgreen's started with the first such call made while
//   another green thread exists, looks at the marks, sleeping 20 us at first, backing off to
//   5 ms when there is nothing to take, and sleeping until the next marked call when none was
//   made for a second.  A hub that has stayed in one marked call longer than about 20 us while
//   it has other work (runnable threads, timers, descriptors or wakes) is taken: a spare OS
//   thread (started on demand, capped, kept for reuse) switches to the hub's TLS block, takes
//   over its identity (kernel thread id in the block, signal mask) and runs its loop.  The
//   green thread in the call is, for the hub, parked.
// * When the call returns, the unmark fails: that OS thread then touches no thread-local
//   storage until it has taken the block the spare left (so each block is used by one kernel
//   thread at a time), queues its green thread back on the hub as a wake-up, and becomes an
//   idle spare itself.
// * GREEN_WORKERS bounds the OS threads running green code at once, not those blocked in calls,
//   as GOMAXPROCS does.  The sanitizers' per-thread state (carried spans, hub/tls.h) is the
//   kernel thread's: the two OS threads exchange it with the blocks.  Seeded mode (one worker,
//   exact replay), the ThreadSanitizer build and GREEN_HANDOFF=0 turn it off.
#ifndef GREEN_HANDOFF_H
#define GREEN_HANDOFF_H

#include <signal.h>

#include <atomic>
#include <cstdint>

#include "green.h"
#include "sys.h"

namespace green {

// An OS thread that runs hubs: a worker's, or a spare's.  Its own stack is where it goes when
// it loses its hub in a call.
struct OsThread {
    Stack stack;                        // for its idle loop after a lost call
    Green pseudo;                       // what it is while it hands itself to a hub's loop
    int tid = 0;                        // kernel thread id
    std::atomic<Hub*> assigned{nullptr};  // a hub the monitor gave it, while idle
    std::atomic<char*> handback{nullptr};  // after it lost its hub: the block the spare that
                                        //   took it left for it
    std::atomic<uint32_t> wake{0};      // futex word for both
    OsThread* next_idle = nullptr;      // in the list of idle spares
};

// Whether hand-off is on (config, not seeded, no sanitizer) and the layout allows it.
extern bool handoff_on;

// The monitor sleeps until the next marked call (none was made for a while).
extern std::atomic<bool> monitor_parked;
void handoff_wake_monitor();

// At start-up (after the workers): the real pthread_create for the monitor and the spares.
void handoff_init(int (*create)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*));

// Prepares h's OS thread for marked calls and starts the monitor: false while hand-off is off
// or not yet worth it (no other green thread exists).
bool handoff_arm(Hub* h);

// The marked call lost its hub: out of line, touches no thread-local storage until it has a
// block again; returns r on whichever OS thread runs the hub when the green thread is resumed.
long handoff_reclaimed(OsThread* me, Green* self, long r);

// At the start of a signal handler, before anything touches thread-local storage: whether the
// calling OS thread may run it.  An OS thread that lost its hub in a call (or is about to) may
// not: the signal goes on to the OS thread that runs the hub now, and false.  A signal that
// interrupts the hub's own OS thread in a marked call takes the call back from the monitor for
// the handler's time: *mark is then the mark that handoff_signal_leave puts back, else 0.
bool handoff_signal_enter(int sig, siginfo_t* info, uint32_t* mark);
inline void handoff_signal_leave(uint32_t mark)
{
    if (mark)
        tl_hub->call_word.store(mark, std::memory_order_seq_cst);
}

// In a signal handler: whether h, the hub of the block the calling OS thread runs on, is run by
// another OS thread now (this one lost it in a call).  A system call, only once hand-off armed.
inline bool handoff_lost(const Hub* h)
{
    return h->m && int(raw_syscall(SYS_gettid)) != __atomic_load_n(&h->tid, __ATOMIC_ACQUIRE);
}

// OS threads hand-off runs besides the workers (the monitor and the spares started).
int handoff_os_threads();

// For --stats: spares started, and most OS threads stuck in calls at once.
void handoff_stats(int* started, int* most);

// After fork, in the child: no monitor, no spares (started again on need).
void handoff_after_fork_child();

// A system call that may block the OS thread in the kernel (not one that waits for a
// descriptor libgreen could poll): marked, so that a long one hands the hub to another OS
// thread.  The raw result (-errno on failure).
inline long blocking_syscall(long nr, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0,
                             long a5 = 0, long a6 = 0)
{
    Hub* h = tl_hub;
    if (!handoff_on || !h || h->current == &h->loop || (!h->m && !handoff_arm(h)))
        return raw_syscall(nr, a1, a2, a3, a4, a5, a6);
    OsThread* me = h->m;
    Green* self = h->current;
    uint32_t mark = h->call_word.load(std::memory_order_relaxed) + 1;  // odd: in the call
    h->call_word.store(mark, std::memory_order_seq_cst);  // before the monitor's flag is read
    if (__builtin_expect(monitor_parked.load(std::memory_order_seq_cst), 0))
        handoff_wake_monitor();
    long r = raw_syscall(nr, a1, a2, a3, a4, a5, a6);
    if (__builtin_expect(h->call_word.compare_exchange_strong(mark, mark + 1,
                                                              std::memory_order_acq_rel), 1))
        return r;
    return handoff_reclaimed(me, self, r);
}

}  // namespace green

#endif
