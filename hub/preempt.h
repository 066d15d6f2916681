// Time slices: a green thread that computes without parking is preempted.
//
// Contract
// --------
// * GREEN_TIMESLICE (default 10 ms, 0: off; off in seeded mode unless set) is how long a green
//   thread may keep its OS thread while another green thread of that OS thread's hub is
//   runnable or the hub has something to look at (a timed or descriptor wait, a wake from
//   another OS thread, a signal to deliver).  Past it, the thread is put at the back of the run
//   queue and the hub polls before it runs again, as the kernel's scheduler would do.
// * The tick: each hub has two POSIX timers sending SIGURG to its OS thread (SIGEV_THREAD_ID).
//   The look runs on the OS thread's CPU-time clock, which the kernel checks at its scheduler
//   tick (a jiffy, 4 ms here): a signal at each jiffy the thread runs, and no timer interrupt
//   of its own.  It dates each context it sees from the switch counter (Hub::heartbeat, bumped
//   at every switch): the first look at a new count dates its start halfway from the look
//   before; a later look that finds the same count within two jiffies of the end of the slice
//   sets the second timer, a CLOCK_MONOTONIC one-shot at that end.  A context is so preempted
//   after a slice, give or take half a jiffy (more when the OS thread waits for a CPU).  The
//   look is armed the first time a second green thread becomes runnable on the hub and
//   disarmed when the hub has a single green thread left and nothing to look at (competing):
//   a program with one thread never takes a tick, and a worker that waits in epoll_wait takes
//   none (its CPU clock stands still).  Not disarmed because the loop was about to wait: a
//   tick there could come after the poll made threads runnable, which would then compute
//   without a slice (a thread given by another worker counts in live only once it ran).
//   Nothing is added to the switch path but the counter that was there.
// * Safe points only.  The tick preempts when the interrupted address is in the program's own
//   code: not in the C library, the dynamic linker, the C++ runtime, the unwinder, libev,
//   c-ares, Boost.Context, the vDSO or libgreen (the modules that hold the real futex and spin
//   locks), told apart by the module that holds the address (_dl_find_object, which the
//   dynamic linker keeps current across dlopen and dlclose without a lock), and code in no
//   module (a JIT's) counting as the program's.  Never inside a handler of the program's or
//   its atfork handlers, which the C library runs under a lock of its own (NoPreempt, in
//   shim/signals.cpp and shim/process.cpp), nor on a stack that is not the thread's.
//   Elsewhere the next look tries again; meanwhile a tick inside one of the C library's memory
//   and string routines makes the routine return to the yield (hub/preempt.cpp explains why
//   that is safe), and the wrappers that return to the program from long stays in the C
//   library (raise, sigaction) yield on their way out if a tick was refused (preempt_point).
// * The preemption is a call injected at the interrupted point: the handler edits the saved
//   context so that, after sigreturn, the thread itself saves every register, the flags and
//   the whole FP/SSE/AVX state (XSAVE) on its own stack, below the red zone, yields, restores
//   them and returns to the interrupted instruction.  No switch inside the handler; the
//   signal mask is the one sigreturn restored; errno is kept.
// * SIGURG: a standard signal (ticks coalesce, never queue), ignored by default, left alone by
//   debuggers (gdb passes it silently), used by the kernel only for sockets' out-of-band data
//   (F_SETOWN): Go's choice for the same job.  While time slices are on, libgreen's handler
//   stays installed: the program's sigaction for SIGURG is recorded and reported back, and
//   every SIGURG that is not a tick goes to the program's handler (or is ignored, SIGURG's
//   default).  The program cannot block SIGURG (as glibc's own signals 32 and 33): the masks
//   it sets leave it out, so that no green thread escapes its slice by blocking all signals.
//   SA_RESTART restarts the calls the kernel restarts; a call the kernel does not restart
//   (poll, nanosleep) could fail with EINTR only if made without libgreen (which makes them
//   green) on an OS thread whose tick runs, as with a profiler's ITIMER_PROF.
// * GREEN_CHAOS_PREEMPT (seeded mode, hub/chaos.h) replaces the slices: the tick is the
//   CLOCK_MONOTONIC timer alone, one-shot, re-armed at each tick at a random interval; a tick
//   that finds another green thread runnable preempts at a safe point as above, and the
//   injected call takes a scheduling step of seeded mode instead of a yield.
#ifndef GREEN_PREEMPT_H
#define GREEN_PREEMPT_H

#include <csignal>
#include <cstdint>

namespace green {

struct Hub;
struct Green;

// A hub's time-slice state, read and written on its own OS thread (by the tick handler too).
struct PreemptState {
    int timer = -1;            // kernel id of the look (CPU time); -1: none made yet, -2: none
    int deadline_timer = -1;   // kernel id of the end-of-slice timer (CLOCK_MONOTONIC; the
                               //   random tick of GREEN_CHAOS_PREEMPT)
    bool armed = false;        // the look runs
    bool deadline_armed = false;  // the end-of-slice timer is set
    uint64_t seen = 0;         // Hub::heartbeat at the latest look
    int64_t seen_at = 0;       // when the context that made it began (CLOCK_MONOTONIC, about)
    int64_t looked_at = 0;     // the latest look
    const Green* in_handler = nullptr;  // running a handler of the program (innermost), on
    uintptr_t handler_sp = 0;           //   a stack below this: a handler that leaves by
                                        //   longjmp leaves no stale state (the stack is above)
    uint64_t preemptions = 0;  // threads preempted (GREEN_STATS)
    uint64_t refused = 0;      // ticks due that found no safe point
    uint64_t owed = 0;         // Hub::heartbeat + 1 when such a tick came: the context it would
                               //   have preempted yields at its next preempt_point
};

// Time slices are on (GREEN_TIMESLICE > 0, and not in seeded mode unless set there), or
// GREEN_CHAOS_PREEMPT is.
extern bool preempt_enabled;

// Once, at start-up, after config_load and before the main thread's hub_attach: installs the
// tick's handler (with libc_sigaction), takes SIGURG out of the signals a program may block.
void preempt_setup();

// On h's own OS thread, when g was just made runnable there and h's tick is not armed: arms
// it when g competes with another green thread of h.
void preempt_woken(Hub* h, Green* g);

// h is now run by another OS thread (hand-off, hub/handoff.h), on it: the timers, which name the
// one that lost it (its thread id, its CPU-time clock), go; this one makes its own on need.
void preempt_moved(Hub* h);

// Where a SIGURG that is not a tick goes: the program's handler (shim/signals.cpp sets it).
extern void (*preempt_forward)(int sig, siginfo_t* info, void* context);

// SIGURG when libgreen owns it (time slices on), else 0.
int preempt_signal();

// The action SIGURG had when libgreen took it (inherited across exec: SIG_DFL or SIG_IGN),
// for sigaction to report until the program sets its own.
extern struct sigaction preempt_prior_action;

// Where a wrapper of libgreen returns to the program's code (after a call into the C library
// that may keep a thread there for most of its time, such as raise): the running green thread
// yields if a tick found it at no safe point since it last switched and it may yield here (not
// inside a handler of the program's).  One compare when nothing is owed.
void preempt_point();

// A scope in which what runs deeper on the stack than frame (the caller's
// __builtin_frame_address(0)) is not preempted: a handler of the program, which it calls.
class NoPreempt {
public:
    explicit NoPreempt(void* frame);
    ~NoPreempt();
    NoPreempt(const NoPreempt&) = delete;
    NoPreempt& operator=(const NoPreempt&) = delete;

private:
    Hub* h_;
    const Green* saved_green_ = nullptr;
    uintptr_t saved_sp_ = 0;
};

}  // namespace green

#endif
