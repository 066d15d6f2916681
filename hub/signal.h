// Signals and green threads: which green thread a signal handler's run interrupts.
//
// The program's handlers run as they would without libgreen: on the OS thread the kernel picked,
// at once (shim/signals.cpp installs a trampoline that calls them).  What libgreen adds is the
// EINTR a blocked call returns when a handler ran: with real threads the kernel interrupts the
// thread it delivered the signal to; here that thread is a green thread, chosen as Linux chooses
// for a process-directed signal:
//   1. a green thread waiting for signals (pause, sigsuspend), if one is;
//   2. else the main thread (the hub's root green thread) while it lives: if it is not parked in
//      an interruptible call, nobody gets EINTR (it "took" the signal, as Linux gives it to the
//      main thread);
//   3. else the first green thread, in creation order, parked in an interruptible call.
// A signal sent to one thread (raise, pthread_kill) interrupts that green thread only.
// "Interruptible" is set by the wrapper of a call that can fail with EINTR (shim/), around its
// wait; the wait then ends with -EINTR and green->interrupt_restart says whether the handler had
// SA_RESTART, for the calls the kernel restarts.
#ifndef GREEN_SIGNAL_H
#define GREEN_SIGNAL_H

#include <csignal>

#include "green.h"

namespace green {

// From a signal handler (async-signal-safe): a handler of the program ran for sig; restart is its
// SA_RESTART.  A signal sent to this OS thread while one of its green threads ran was that green
// thread's (it was not blocked): thread_directed says so, and then nothing is interrupted.
void signal_handled(int sig, bool restart, bool thread_directed);

// Interrupts g (a green thread of the calling OS thread's hub) if it is parked in an
// interruptible call: pthread_kill's delivery to a green thread, after the handler ran.
void signal_interrupt(Green* g, bool restart);

// Called by the hub's loop after each poll: delivers the interrupts signal_handled queued.
void signal_deliver(Hub* h);

// Signal masks are per green thread, as per thread with real threads: each green thread's mask
// is the OS thread's while it runs (one comparison per switch, a system call only when the
// masks differ).  While the loop runs (waiting in epoll_wait), the OS thread blocks only the
// signals every green thread blocks, so a signal that one of them would take is taken.
// Masks are 64-bit kernel masks (bit sig-1).

// Signals an OS thread never blocks, whatever its green threads' masks (SIGSYS while syscall
// user dispatch is on: the kernel kills a process whose thread traps with it blocked).
extern uint64_t sigmask_kept_open;

// The root green thread of a new hub takes the OS thread's mask.
void sigmask_attach(Hub* h, Green* root);
// A new green thread takes the mask of the one that creates it (pthread_create).
void sigmask_spawned(Hub* h, Green* g);
// The same in two steps, for a thread placed on another worker's hub (hub/workers.h): the mask
// when it is created, the count on its hub when it first runs there.
void sigmask_inherit(Hub* h, Green* g);
void sigmask_arrived(Hub* h, Green* g);
// A worker's hub: its root (libgreen's, started with every signal blocked) counts in the
// loop's mask like any thread, which so blocks what every green thread placed there blocks.  A
// process-directed signal the kernel gives an idle worker is the main thread's hub's to give
// (signal_handled); one a green thread running there takes is that thread's.
void sigmask_worker(Hub* h);
// A green thread ended.
void sigmask_finished(Green* g);
// After fork: the child's only green thread is the forking one.
void sigmask_after_fork(Hub* h, Green* self);
// Sets the OS thread's mask to mask (less sigmask_kept_open) and records it as h's: the next
// switch gives a green thread its own again.  For a stretch in which the running thread must
// take no signal (shim/rawsys.cpp's glibc scope).
void sigmask_apply(Hub* h, uint64_t mask);

// Sets the running green thread's mask (pthread_sigmask, sigsuspend).
void sigmask_set(Green* self, uint64_t mask);

// Signals libgreen never lets a green thread block (bit sig-1): SIGURG while time slices are
// on (hub/preempt.h).
extern uint64_t unblockable_signals;

// The kernel mask of a sigset_t (its first word: signals 1 to 64), without what cannot be
// blocked: SIGKILL, SIGSTOP, glibc's own two signals (32, 33), which it never blocks, and
// unblockable_signals.
inline uint64_t sigset_mask(const sigset_t* set)
{
    uint64_t m;
    __builtin_memcpy(&m, set, sizeof m);
    return m & ~((uint64_t(1) << (32 - 1)) | (uint64_t(1) << (33 - 1)) |
                 (uint64_t(1) << (SIGKILL - 1)) | (uint64_t(1) << (SIGSTOP - 1)) |
                 unblockable_signals);
}

// Applies next's mask before the hub switches to it (the loop context included).
inline void sigmask_switch(Hub* h, Green* next)
{
    if (__builtin_expect(next->sigmask != h->os_mask, 0))
        sigmask_apply(h, next->sigmask);
}

// Whether a handler that runs on g ends g's wait even before g parked (signal_came): g waits
// for a signal (pause, sigsuspend) or under a mask of the call's (ppoll, pselect, epoll_pwait),
// whose unblocking and wait are one step.
inline bool ends_on_handler(const Green* g) { return g->waits_signal || g->mask_wait; }

// Marks the running green thread's waits interruptible while it lives (a wrapper's scope);
// self null (not a green thread): nothing.
class Interruptible {
public:
    explicit Interruptible(Green* self, bool waits_signal = false) : self_(self)
    {
        if (self_) {
            self_->interruptible = true;
            self_->waits_signal = waits_signal;
            self_->interrupt_restart = false;
        }
    }
    ~Interruptible()
    {
        if (self_) {
            self_->interruptible = false;
            self_->waits_signal = false;
        }
    }
    Interruptible(const Interruptible&) = delete;
    Interruptible& operator=(const Interruptible&) = delete;

private:
    Green* self_;
};

}  // namespace green

#endif
