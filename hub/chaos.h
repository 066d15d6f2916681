// Testing under concurrency: a seeded schedule with virtual time (GREEN_SEED), schedule fuzzing
// (GREEN_CHAOS), PCT scheduling (GREEN_PCT), deadlines that expire while others run
// (GREEN_EXPIRE), schedule files and traces (GREEN_SCHEDULE, GREEN_TRACE) and fault injection
// (GREEN_INJECT).  hub/chaos.cpp: configuration, virtual time, faults; hub/steps.cpp: the
// scheduling steps and the policies that decide them; hub/seeded.h: what the two share.
//
// Seeded mode.  The hub's choices follow a PRNG (xoshiro256**, seeded through splitmix64): the
// next green thread to run is drawn from the run queue, and the green threads woken together
// in one loop iteration (fds ready together, timers due together) are put in a canonical order
// (by thread id) and then shuffled.  Time is virtual: a timed wait does not start a libev timer
// but goes into a list of virtual timers, which fire in deadline order only when nothing else
// can run, and the clocks a green thread reads (shim/clock.cpp) show the virtual time, which
// advances to each fired deadline (and by 1 µs at each read, so that a program polling the
// clock makes progress).  When nothing can run but a green thread waits on a descriptor whose
// data can only come from outside the process, the hub waits for real, for at most the virtual
// time left to the next deadline.  What this makes deterministic is in libgreen(7).
//
// Nothing here costs anything when unconfigured: the hot paths test one of the flags below,
// which are set once at start-up and never change.
#ifndef GREEN_CHAOS_H
#define GREEN_CHAOS_H

#include <cstddef>
#include <cstdint>

#include "env.h"
#include "hub.h"

namespace green {

struct Hub;
struct Green;

// Hidden: read with one PC-relative load, not through the GOT.
#define GREEN_HIDDEN __attribute__((visibility("hidden")))
extern GREEN_HIDDEN bool sched_seeded;  // GREEN_SEED, or a seed picked for chaos / injection
extern GREEN_HIDDEN bool chaos_on;      // GREEN_CHAOS > 0, GREEN_PCT or GREEN_EXPIRE: the
                                        //   interception points call chaos_point_slow
extern GREEN_HIDDEN bool pct_on;        // GREEN_PCT: PCT priorities decide who runs
extern GREEN_HIDDEN bool inject_on;     // GREEN_INJECT names at least one fault
extern GREEN_HIDDEN bool io_hooks_on;   // chaos_on || inject_on: the one flag io_loop tests
extern GREEN_HIDDEN bool chaos_preempt_on;  // GREEN_CHAOS_PREEMPT: hub/preempt.cpp preempts at
                                            //   random (chaos_preempt_interval, chaos_preempt_point)

// Reads GREEN_SEED, GREEN_CHAOS and GREEN_INJECT (warning once and using the default on a bad
// value, as every GREEN_* variable), seeds the PRNGs, and arranges for the seed to be printed
// when the process ends with a non-zero status or a failure signal.  Called by config_load().
void chaos_config_load();

// The seed in use (meaningful when sched_seeded).
uint64_t chaos_seed();

// ---- the scheduler's side (hub/sched.cpp), seeded mode only ----

// Removes and returns a green thread drawn from the run queue, or nullptr when it is empty.
Green* seeded_pick(Hub* h);
// One iteration of the loop context: poll libev, fire virtual timers when nothing can run.
void seeded_poll(Hub* h);
// park_until() on a virtual timer.
int seeded_park_until(Hub* h, Green* self, int64_t deadline, int kind);

// The scheduling points seeded mode adds (libgreen(7) says what real threads could do there):
// after pthread_create made child (which may run first), and before exit() or a return from
// main (runnable threads may run first).  child is null at exit.
void seeded_point(Green* child);
// Scheduling points passed so far (GREEN_STATS prints it: greenrun --explore sizes
// GREEN_PCT_STEPS with it).
uint64_t seeded_steps();

// The exit status of a seeded run that ends in a deadlock.
constexpr int kDeadlockStatus = 86;
// Called by the deadlock report in seeded mode: says the seed and the command that reruns this
// schedule, flushes stdio and ends the process with kDeadlockStatus.
[[noreturn]] void seeded_deadlock_exit();

// ---- the clocks (shim/clock.cpp) ----

// The virtual time of clock, or false when the clock is not one libgreen virtualises.
bool virtual_clock(int clock, int64_t* ns);

// ---- schedule fuzzing ----

void chaos_point_slow(const char* call);
// An interception point (lock, unlock, semaphore, cond signal, I/O entry), a scheduling step
// (hub/steps.cpp): with probability GREEN_CHAOS the running green thread yields; under PCT it
// does when a runnable thread has a higher priority, under a schedule file where the file says;
// with GREEN_EXPIRE, pending deadlines may expire here first.  call: the intercepted call, as
// the trace (GREEN_TRACE) names it.
inline void chaos_point(const char* call)
{
    if (__builtin_expect(chaos_on, 0))
        chaos_point_slow(call);
}

// ---- preemption at random (GREEN_CHAOS_PREEMPT) ----
//
// Seeded mode switches only at libc calls; a bug whose window lies between two plain memory
// accesses needs a switch there.  With GREEN_CHAOS_PREEMPT, hub/preempt.cpp's tick comes at
// random intervals (real time, CLOCK_MONOTONIC) instead of at the end of a time slice, and
// each preemption at a safe point is a scheduling step.  Where a tick lands depends on the
// machine, not on the seed: such runs are not exactly reproducible.

// The next interval between ticks, in ns: uniform over (0, 2 / GREEN_CHAOS_PREEMPT s], drawn
// from a stream of its own.  Called in the tick's handler, on the one worker of seeded mode.
int64_t chaos_preempt_interval();
// A preempted green thread's scheduling step (hub/steps.cpp): under the seeded draw and chaos
// another runnable thread, drawn, runs; under PCT the step may be a change point; a trace
// names it "preempt".
void chaos_preempt_point();

// ---- fault injection ----

// The faults (enum Fault, fault_names) and their grammar are in env.h.

// Draws whether fault f happens now (its probability from the spec); false when f is not in
// the spec or the caller is not a green thread.
bool inject_roll(int f);
// A delay drawn uniformly from [0, the spec's duration] for a delay fault, in ns (0: none).
int64_t inject_delay(int f);
// A length drawn uniformly from [1, len - 1] (len > 1).
size_t inject_short_length(size_t len);
// Counts an injected fault and logs it at info level with the green thread and the call.
void inject_note(int f, const char* call, int fd, const char* what);

// DNS faults, for the resolver's NSS functions (shim/dns.cpp): first a dns-delay (a green
// sleep), then whether the look-up of name fails as a name server that never answers makes it
// fail (kDnsFail: EAI_AGAIN) or as one that says the name does not exist (kDnsNxdomain:
// EAI_NONAME); -1 when it goes on normally.
int inject_dns(const char* name);

}  // namespace green

#endif
