// Workers: the OS threads that run green threads at once (M:N, first step).
//
// GREEN_WORKERS (default: the CPUs the process may run on, as sched_getaffinity and a cgroup v2
// CPU quota say) OS threads each run a hub of their own (run queue, libev loop, timers).  The
// program's main thread's OS thread is worker 0; the others are libgreen's own OS threads,
// started when the program creates its first thread, with every signal blocked while they
// wait, never program threads (their roots are not counted, listed or signalled).
//
// Placement, then sharing: a new green thread is placed on a worker, in turn, when it is
// created; a worker with threads waiting in its run queue while another worker idles gives it
// half of its movable ones (hub/hub.h, hub/sched.cpp share_work), so a thread may run on
// several OS threads in its life.  What it shares with its OS thread follows it: with several
// workers every green thread has a TLS block of its own (hub/tls.h), whose words that name the
// OS thread (libgreen's hub pointer, malloc's per-thread words, the control block's self and
// tid) are rewritten when it moves; a thread that holds a lock glibc records as its OS
// thread's (a stdio stream's, a process-shared mutex) is pinned until it lets go.
// Every wait is correct across workers: a wake for a thread of another hub is queued on that
// hub and its poll interrupted by an eventfd write when it sleeps (hub/sched.cpp), a close
// wakes waiters on every hub (hub/fdtable.cpp), joins and detaches are decided on one atomic
// word (hub/thread.cpp).  Seeded mode (hub/chaos.h) always runs one worker.
#ifndef GREEN_WORKERS_H
#define GREEN_WORKERS_H

#include <pthread.h>

#include "green.h"

namespace green {

// More than one worker runs: the paths that must be safe across hubs take their locks.  Set
// once, before the first worker starts (and cleared in a child of fork).
extern bool multi_worker;
// Workers running (1 unless workers_start started more).
extern int n_workers;
// The main thread's hub: worker 0, which takes process-directed signals.
extern Hub* main_hub;
// Called on each worker's OS thread as it starts, after its hub exists, and on each spare OS
// thread of hand-off (hub/handoff.h) as it starts (shim/ sets it: syscall user dispatch is per
// OS thread).
extern void (*worker_thread_started)();

// Workers GREEN_WORKERS asks for (config.workers), else the CPUs.
int workers_wanted();

// Starts workers 1 to n-1 with create (the real pthread_create), from the main thread after
// its hub_attach; returns how many workers run.  One worker in seeded mode.
using OsThreadCreate = int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
int workers_start(int n, OsThreadCreate create);

// At start-up, from the main thread after its hub_attach: workers 1 to n-1 start with create
// when the program creates its first thread (place_new_thread), so that a program that never
// does (a short command, a child that lists its descriptors) has none of their OS threads and
// descriptors.
void workers_init(int n, OsThreadCreate create);

// The hub a green thread created now on self's hub runs on.
Hub* place_new_thread(Hub* self);

// A worker's root: libgreen's own context, not a program thread.
inline bool is_worker_root(const Green* g) { return g->is_root && g->hub->worker_only; }

// In a child of fork only the forking hub exists: it becomes worker 0, and the others start
// again when the child first creates a thread.
void workers_after_fork_child(Hub* h);

// Worker i's hub (0: main_hub), or nullptr.
Hub* worker_hub(int i);

}  // namespace green

#endif
