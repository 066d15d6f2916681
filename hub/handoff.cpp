// Hand-off (hub/handoff.h): the monitor, the spares, and the two sides of taking a hub.
#include "handoff.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <climits>
#include <new>

#include "chaos.h"
#include "config.h"
#include "log.h"
#include "preempt.h"
#include "signal.h"
#include "stack.h"
#include "tls.h"
#include "workers.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

namespace green {

bool handoff_on = false;
std::atomic<bool> monitor_parked{false};

namespace {

using Create = int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
Create os_create;

// Spares started at most: each one is an OS thread stuck in a call, or idle.  Beyond it a
// stuck worker waits, as it did before hand-off.
constexpr int kMaxSpares = 64;
// The stack an OS thread runs its idle loop on once it has lost its hub (small: the loop
// only waits and switches).
constexpr size_t kIdleStack = 64 * 1024;
// How long a hub may stay in one marked call before it is taken, and the monitor's sleeps.
constexpr int64_t kTakeAfterNs = 20000;
constexpr int64_t kMinSleepNs = 20000;
constexpr int64_t kMaxSleepNs = 5000000;
// Looks at the longest sleep with no marked call anywhere before the monitor sleeps until the
// next one (about 1 s).
constexpr int kParkAfter = 200;

SpinLock arm_lock;  // arming a hub, starting the monitor
bool monitor_started = false;
std::atomic<uint32_t> monitor_word{0};  // futex word of the monitor's deep sleep
SpinLock idle_lock;
OsThread* idle_spares = nullptr;  // guarded by idle_lock
int idle_count = 0;               // guarded by idle_lock
std::atomic<int> spares_started{0};
std::atomic<bool> spare_starting{false};
std::atomic<int> stuck_most{0};   // most OS threads stuck in calls at once

// What libgreen's own OS threads block: every signal but glibc's own two (SIGCANCEL,
// SIGSETXID: setuid must reach every thread) and those that must never be blocked (SIGSYS while
// syscall user dispatch is on: hub/signal.h).
void block_signals(uint64_t* old = nullptr)
{
    uint64_t all = ~((uint64_t(1) << (32 - 1)) | (uint64_t(1) << (33 - 1))) & ~sigmask_kept_open;
    raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, long(&all), long(old), sizeof all);
}

void futex_wake_one(std::atomic<uint32_t>* w)
{
    raw_syscall(SYS_futex, long(w), FUTEX_WAKE_PRIVATE, 1);
}

void futex_sleep(std::atomic<uint32_t>* w, uint32_t seen)
{
    raw_syscall(SYS_futex, long(w), FUTEX_WAIT_PRIVATE, long(seen), 0);
}

// The two hand-overs between OS threads: a hub to an idle spare (assigned), a block to the OS
// thread that lost its hub (handback).  The taker sleeps on its own wake word.
template <class T> void hand_over(OsThread* to, std::atomic<T*>& slot, T* value)
{
    slot.store(value, std::memory_order_release);
    to->wake.fetch_add(1, std::memory_order_release);
    futex_wake_one(&to->wake);
}

template <class T> T* take_handed(OsThread* me, std::atomic<T*>& slot)
{
    for (;;) {
        uint32_t seen = me->wake.load(std::memory_order_acquire);
        if (T* value = slot.exchange(nullptr, std::memory_order_acquire))
            return value;
        futex_sleep(&me->wake, seen);
    }
}

int64_t now_ns()
{
    timespec ts;
    raw_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, long(&ts));
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

OsThread* new_os_thread()
{
    OsThread* t = new (std::nothrow) OsThread;
    if (!t)
        return nullptr;
    if (!stack_get(&t->stack, kIdleStack, page_size())) {
        delete t;
        return nullptr;
    }
    t->tid = int(raw_syscall(SYS_gettid));
    t->pseudo.state = State::Running;
    return t;
}

// The OS thread t now runs on the block at tp: the block says so (its tid), for the calls of
// the C library that read it there.
void own_block(char* tp, int tid)
{
    if (int* w = tls_tid_word(tp))
        *w = tid;
}

[[noreturn]] void idle_loop(OsThread* me);

// AddressSanitizer is told of the two jumps of its own a hand-off makes, as hub/sched.cpp tells
// it of every switch: from a stack to another, and, on the new one, that it arrived.
#if defined(__SANITIZE_ADDRESS__)
void asan_leave(void** fake_stack, const Stack& to) { __sanitizer_start_switch_fiber(fake_stack, to.lo, to.size); }
void asan_arrived() { __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr); }
#else
inline void asan_leave(void**, const Stack&) {}
inline void asan_arrived() {}
#endif

// Runs on a spare given hub h: takes over the OS thread's part of it and runs its loop.
[[noreturn]] void take_over(OsThread* me, Hub* h)
{
    Green* stuck = h->current;
    char* mine = tls_current();  // the block this OS thread leaves to the one that lost h
    // The green thread in the call is parked, as far as the hub knows; its errno is in the
    // block it runs on, which the hub's loop is about to overwrite.
    stuck->saved_errno = *reinterpret_cast<int*>(h->tp - h->errno_off);
    stuck->wait_kind = kWaitOther;
    stuck->wait_what = nullptr;  // not a wait for another thread: never a deadlock
    stuck->wait_deadline = kForever;
    stuck->wait_since = h->loop_now;
    // Not movable when its call returns: it resumes in code that expects this hub.
    stuck->movable = stuck->movable_on_wake = false;
    stuck->state = State::Parked;
    h->stats.handoffs++;
    // The OS thread's part: the block, its id in it, the signal mask the hub's threads run with.
    // The sanitizers' per-thread state stays this OS thread's: it goes with it into the block.
    tls_swap_carried(mine, h->root_tp);
    tls_set_fs(h->root_tp);
    h->tp = h->root_tp;
    own_block(h->root_tp, me->tid);
    __atomic_store_n(&h->tid, me->tid, __ATOMIC_RELEASE);
    OsThread* loser = h->m;
    h->m = me;
    raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, long(&h->os_mask), 0, sizeof h->os_mask);
    if (preempt_enabled)
        preempt_moved(h);
    hub_ensure_loop(h);
    h->current = &h->loop;
    me->pseudo.stack_lo = nullptr;
    asan_leave(&me->pseudo.asan_fake_stack, h->loop.stack);
    // The other side may take the block now: nothing here touches it any more.
    hand_over(loser, loser->handback, mine);
    ctx::jump_fcontext(h->loop.ctx, &me->pseudo);
    fatal("a spare's hand-off context was resumed");
}

struct Reclaim {
    Green* self;
    OsThread* me;
};

// First context of an OS thread that lost its hub in a call, on its own idle stack: the green
// thread's context is saved now, so it may be woken.
[[noreturn]] void reclaimed_entry(ctx::transfer_t t)
{
    asan_arrived();
    Reclaim* r = static_cast<Reclaim*>(t.data);
    Green* self = r->self;
    OsThread* me = r->me;
    self->ctx = t.fctx;
    // This block's hub pointer is null (it was a spare's): the wake goes to the hub's queue of
    // wakes from other OS threads.
    unpark_wait(self, self->park_seq.load(std::memory_order_relaxed));
    idle_loop(me);
}

void push_idle(OsThread* t)
{
    SpinGuard lock(idle_lock);
    t->next_idle = idle_spares;
    idle_spares = t;
    idle_count++;
}

// Waits, as an idle spare, for a hub to run.
[[noreturn]] void idle_loop(OsThread* me)
{
    push_idle(me);
    take_over(me, take_handed(me, me->assigned));
}

void* spare_main(void*)
{
    // It will run hubs' green threads: what a worker's OS thread gets, it gets (syscall user
    // dispatch, per OS thread).
    if (worker_thread_started)
        worker_thread_started();
    raw_syscall(SYS_prctl, PR_SET_NAME, long("green-spare"));
    OsThread* me = new_os_thread();
    if (!me)
        fatal("cannot set up a spare OS thread for hand-off");
    spare_starting.store(false, std::memory_order_release);
    idle_loop(me);
}

OsThread* pop_idle()
{
    SpinGuard lock(idle_lock);
    OsThread* t = idle_spares;
    if (t) {
        idle_spares = t->next_idle;
        idle_count--;
        int stuck = spares_started.load(std::memory_order_relaxed) - idle_count;
        if (stuck > stuck_most.load(std::memory_order_relaxed))
            stuck_most.store(stuck, std::memory_order_relaxed);
    }
    return t;
}


// Starts one more spare, which joins the idle ones when it runs (one at a time, up to the cap).
void start_spare()
{
    if (spares_started.load(std::memory_order_relaxed) >= kMaxSpares ||
        spare_starting.exchange(true, std::memory_order_acq_rel))
        return;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t t;
    if (os_create(&t, &attr, spare_main, nullptr) == 0)
        spares_started.fetch_add(1, std::memory_order_relaxed);
    else
        spare_starting.store(false, std::memory_order_release);
    pthread_attr_destroy(&attr);
}

// Whether a hub stuck in a call has anything the others wait for: threads to run, wakes,
// timers or descriptors.  Read without its owner's ordering: a miss waits for the next look.
bool has_work(const Hub* h)
{
    return __atomic_load_n(&h->runq.head, __ATOMIC_RELAXED) ||
           __atomic_load_n(&h->remote_head, __ATOMIC_RELAXED) ||
           __atomic_load_n(&h->timed_waits, __ATOMIC_RELAXED) ||
           __atomic_load_n(&h->fd_waits, __ATOMIC_RELAXED);
}

enum Look { kTook, kActive, kQuiet };

// Looks at every worker once: takes those stuck long enough.  kQuiet: no marked call was made
// anywhere since the last look.
Look look(int64_t now)
{
    bool took = false, active = false;
    for (int i = 0; i < n_workers; i++) {
        Hub* h = worker_hub(i);
        if (!h || !h->m)
            continue;
        uint32_t mark = h->call_word.load(std::memory_order_seq_cst);
        if (mark != h->mon_mark || (mark & 1))
            active = true;
        if (!(mark & 1)) {
            h->mon_mark = mark;
            continue;
        }
        if (mark != h->mon_mark) {  // a new call since the last look
            h->mon_mark = mark;
            h->mon_since = now;
            continue;
        }
        if (now - h->mon_since < kTakeAfterNs || !has_work(h))
            continue;
        OsThread* spare = pop_idle();
        if (!spare) {  // one is started; it is there for the next look
            start_spare();
            continue;
        }
        // The owner's unmark and this race on one word: one of them wins.
        if (!h->call_word.compare_exchange_strong(mark, mark + 1, std::memory_order_acq_rel)) {
            push_idle(spare);
            continue;
        }
        hand_over(spare, spare->assigned, h);
        took = true;
    }
    return took ? kTook : active ? kActive : kQuiet;
}

void* monitor_main(void*)
{
    // Named, as the spares are, so that a look at the process's tasks tells libgreen's apart.
    raw_syscall(SYS_prctl, PR_SET_NAME, long("green-monitor"));
    int64_t sleep_ns = kMinSleepNs;
    int idle = 0, quiet = 0;
    for (;;) {
        timespec ts = {time_t(sleep_ns / 1000000000), long(sleep_ns % 1000000000)};
        raw_syscall(SYS_nanosleep, long(&ts), 0);
        Look seen = look(now_ns());
        if (seen == kTook) {
            idle = quiet = 0;
            sleep_ns = kMinSleepNs;
            continue;
        }
        // Go's sysmon: after 1 ms of nothing to take, each sleep twice as long.
        if (++idle > 50 && sleep_ns < kMaxSleepNs)
            sleep_ns = sleep_ns * 2 > kMaxSleepNs ? kMaxSleepNs : sleep_ns * 2;
        quiet = seen == kQuiet ? quiet + 1 : 0;
        if (quiet < kParkAfter)
            continue;
        // No marked call for a second: sleep until the next one says so (blocking_syscall).
        // The flag, then the marks; the caller stores its mark, then reads the flag: one of the
        // two sees the other.
        uint32_t word = monitor_word.load(std::memory_order_relaxed);
        monitor_parked.store(true, std::memory_order_seq_cst);
        if (look(now_ns()) == kQuiet)
            raw_syscall(SYS_futex, long(&monitor_word), FUTEX_WAIT_PRIVATE, long(word), 0);
        monitor_parked.store(false, std::memory_order_relaxed);
        quiet = 0;
    }
}

}  // namespace

void handoff_init(Create create)
{
    os_create = create;
    handoff_on = config.handoff && !sched_seeded && tls_tid_word(tls_current()) != nullptr;
#if defined(__SANITIZE_THREAD__)
    handoff_on = false;  // TSan's fibers and its per-thread state are not told of hand-offs
#endif
}

bool handoff_arm(Hub* h)
{
    // Not worth an OS thread while the program has one green thread: nobody would wait.
    if (!handoff_on || live_greens.load(std::memory_order_relaxed) < 2)
        return false;
    OsThread* t = new_os_thread();
    if (!t) {
        GREEN_WARN("no memory for hand-off: a long blocking call will stall its worker");
        handoff_on = false;
        return false;
    }
    SpinGuard lock(arm_lock);
    if (!monitor_started) {
        // Started with every signal blocked: process-directed signals go to the workers.
        uint64_t old = 0;
        block_signals(&old);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        pthread_t id;
        int err = os_create(&id, &attr, monitor_main, nullptr);
        pthread_attr_destroy(&attr);
        raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, long(&old), 0, sizeof old);
        if (err != 0) {
            GREEN_WARN("cannot start the hand-off monitor: a long blocking call will stall its "
                       "worker");
            handoff_on = false;
            stack_put(&t->stack);
            delete t;
            return false;
        }
        monitor_started = true;
    }
    h->m = t;
    return true;
}

long handoff_reclaimed(OsThread* me, Green* self, long r)
{
    // No handler may run here on the block the hub's new OS thread uses (they forward
    // meanwhile: handoff_signal_enter); an idle OS thread takes none.
    block_signals();
    // Until the spare has left its block, this OS thread has none it may touch.
    char* block = take_handed(me, me->handback);
    tls_set_fs(block);
    own_block(block, me->tid);
    Reclaim rec = {self, me};
    asan_leave(&self->asan_fake_stack, me->stack);
    ctx::fcontext_t idle = ctx::make_fcontext(me->stack.lo + me->stack.size, me->stack.size,
                                              reclaimed_entry);
    ctx::transfer_t t = ctx::jump_fcontext(idle, &rec);
    // Resumed by the hub's loop like any woken green thread, on whichever OS thread runs it.
    resume_entry(t);
    self->park_seq.fetch_add(1, std::memory_order_relaxed);
    return r;
}

bool handoff_signal_enter(int sig, siginfo_t* info, uint32_t* mark)
{
    *mark = 0;
    Hub* h = tl_hub;  // read-only: a block another OS thread may be using
    if (!h || !h->m)
        return true;
    int self = int(raw_syscall(SYS_gettid));
    for (;;) {
        int owner = __atomic_load_n(&h->tid, __ATOMIC_ACQUIRE);
        if (owner != self) {
            // Not ours (any more): to the OS thread that runs the hub, with its siginfo.
            raw_syscall(SYS_rt_tgsigqueueinfo, raw_syscall(SYS_getpid), owner, sig, long(info));
            return false;
        }
        uint32_t w = h->call_word.load(std::memory_order_seq_cst);
        if (!(w & 1))
            return true;  // not in a marked call: the hub is this OS thread's
        if (h->call_word.compare_exchange_strong(w, w + 1, std::memory_order_seq_cst)) {
            *mark = w;  // the call goes on after the handler: the same mark, as its unmark expects
            return true;
        }
        // Taken this very moment: wait until the spare says it runs the hub, then forward.
        while (__atomic_load_n(&h->tid, __ATOMIC_ACQUIRE) == self)
            raw_syscall(SYS_sched_yield);
    }
}

void handoff_wake_monitor()
{
    if (monitor_parked.exchange(false)) {
        monitor_word.fetch_add(1, std::memory_order_release);
        raw_syscall(SYS_futex, long(&monitor_word), FUTEX_WAKE_PRIVATE, 1);
    }
}

int handoff_os_threads()
{
    return (monitor_started ? 1 : 0) + spares_started.load(std::memory_order_relaxed);
}

void handoff_stats(int* started, int* most)
{
    *started = spares_started.load(std::memory_order_relaxed);
    *most = stuck_most.load(std::memory_order_relaxed);
}

void handoff_after_fork_child()
{
    new (&arm_lock) SpinLock;
    new (&idle_lock) SpinLock;
    idle_spares = nullptr;
    idle_count = 0;
    monitor_started = false;
    spares_started.store(0);
    spare_starting.store(false);
    stuck_most.store(0);
    for (int i = 0; i < n_workers; i++)
        if (Hub* h = worker_hub(i))
            h->m = nullptr;
}

}  // namespace green
