// The scheduler: context switches, the run queue, the loop context, park/unpark.
//
// Every switch goes through switch_to(), and every context resumes in after_resume(): that is
// where the context we came from is saved (Boost.Context hands it over only to the side that
// was jumped to), where the stack of a green thread that just died is released (it could not
// release its own stack while running on it), and where errno comes back.
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "config.h"
#include "diag.h"
#include "chaos.h"
#include "fdtable.h"
#include "green.h"
#include "handoff.h"
#include "log.h"
#include "signal.h"
#include "sys.h"
#include "tls.h"
#include "waitq.h"
#include "workers.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define GREEN_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace green {

__attribute__((tls_model("initial-exec"))) __thread Hub* tl_hub = nullptr;
std::atomic<Hub*> all_hubs{nullptr};

namespace {

// Size of the loop context's stack: libev callbacks and signal handlers that interrupt
// epoll_wait run on it.
constexpr size_t kLoopStackSize = 256 * 1024;

void after_resume(ctx::transfer_t t);

// The next runnable green thread: the run queue's head, or one drawn by the seeded PRNG.
inline Green* pop_next(Hub* h)
{
    return __builtin_expect(sched_seeded, 0) ? seeded_pick(h) : h->runq.pop();
}

#ifdef GREEN_ASAN
void asan_start(Green* from, Green* to)
{
    __sanitizer_start_switch_fiber(from->state == State::Dead ? nullptr : &from->asan_fake_stack,
                                   to->stack_lo, to->stack_size);
}
void asan_finish(Green* self, Green* prev)
{
    const void* lo;
    size_t size;
    __sanitizer_finish_switch_fiber(self->asan_fake_stack, &lo, &size);
    if (!prev->stack_lo) {  // a root: learn the bounds of its OS stack the first time it leaves
        prev->stack_lo = static_cast<char*>(const_cast<void*>(lo));
        prev->stack_size = size;
    }
}
#else
inline void asan_start(Green*, Green*) {}
inline void asan_finish(Green*, Green*) {}
#endif

// ThreadSanitizer follows each context as a fiber of its own: it then orders what one green
// thread did before a switch and after it, on whichever OS thread, and sees what two contexts
// race on.  (The hand-off's own jumps are off in the sanitizer builds: hub/handoff.h.)
#if defined(__SANITIZE_THREAD__)
inline void tsan_switch(Green* next) { __tsan_switch_to_fiber(next->tsan_fiber, 0); }
#else
inline void tsan_switch(Green*) {}
#endif

inline int& errno_of(Hub* h) { return *reinterpret_cast<int*>(tls_current() - h->errno_off); }

// Releases what a dead green thread no longer needs once nobody runs on its stack, and only
// then says it is dead: a joiner or a detach on another worker may free the record at once.
// Out of line: the switch path (after_resume) stays as short as it was.
__attribute__((noinline)) void reap(Green* dead)
{
    if (dead->hub->words_owner == dead)
        dead->hub->words_owner = nullptr;
    if (has_own_tls(dead))
        tls_destroy(dead->tp);
    tsan_fiber_free(dead);
    stack_put(&dead->stack);
    bool is_root = dead->is_root;  // a root's record stays its hub's
    int before = dead->dead_word.fetch_or(kDeadBit);
    if (before & kDetachedBit) {
        if (!is_root)
            green_free(dead);
        return;
    }
    // A joiner said it waits on the same word before it waited: a green one in libgreen's
    // queue, an unmanaged one in the kernel.  The record may be freed (never unmapped) by now:
    // only its address is used, and a wake-up too many is harmless to a futex waiter.
    if (before & kJoinWaitBit)
        futex_wake(reinterpret_cast<const uint32_t*>(&dead->dead_word), INT_MAX);
    if (before & kOsJoinWaitBit)
        raw_syscall(SYS_futex, long(&dead->dead_word), FUTEX_WAKE_PRIVATE, INT_MAX);
}

void switch_to(Hub* h, Green* next)
{
    Green* self = h->current;
    // Saved and restored even when the two have blocks of their own: the root and the loop
    // context share one.
    self->saved_errno = errno_of(h);
    h->current = next;
    next->state = State::Running;
    sigmask_switch(h, next);
    h->stats.switches++;
    h->heartbeat.store(h->stats.switches, std::memory_order_relaxed);  // for the watchdog
    asan_start(self, next);
    tsan_switch(next);
    // The loop context has no block of its own: it runs on the block in use, which saves a
    // change of FS base (hub/tls.h) on each way through the loop.  But not on a dead green
    // thread's block, which the loop frees (reap), nor, with several workers, on a block whose
    // thread the loop may give to another worker (work sharing): on the OS thread's own.
    char* tp = next->tp;
    if (!tp && (self->state == State::Dead || multi_worker))
        tp = h->root_tp;
    if (tp && tp != h->tp) {
        tls_switch(h->tp, tp);
        h->tp = tp;
    }
    ctx::transfer_t t = ctx::jump_fcontext(next->ctx, self);
    after_resume(t);
}

void after_resume(ctx::transfer_t t)
{
    Green* prev = static_cast<Green*>(t.data);
    prev->ctx = t.fctx;
    Hub* h = tl_hub;
    Green* self = h->current;
    asan_finish(self, prev);
    if (prev->state == State::Dead)
        reap(prev);
    errno_of(h) = self->saved_errno;
    // A green thread sharing the OS thread's block (hub/tls.h) finds there its own words of it,
    // unless another one has run there since: then those go to their owner's record and its own
    // come back.  Lazily, so that the way through the loop and back to the same green thread
    // (the loop does not touch them) costs nothing.
    if (self->tp == h->root_tp && h->words_owner != self) {
        if (h->words_owner)
            tls_words_save(h->words_owner->tls_words, h->root_tp);
        tls_words_restore(self->tls_words, h->root_tp);
        h->words_owner = self;
    }
}

void share_work(Hub* h);

// Idle workers (their loops wait in epoll_wait with nothing runnable): work sharing's cue.
std::atomic<int> idle_workers{0};

// Whether h, with several workers, should give some of its runnable green threads to an idle
// worker: some may be movable, more than one waits, and a worker idles.
inline bool should_share(const Hub* h)
{
    return h->movable_hint && h->runq.length >= 2 &&
           idle_workers.load(std::memory_order_relaxed) > 0;
}

// The running green thread gives up the CPU (its state is already set): run the next runnable
// one directly, or the loop when none is runnable or the poll budget is spent.
void run_next(Hub* h)
{
    Green* next = nullptr;
    if (h->budget > 0 && (next = pop_next(h)) != nullptr) {
        h->budget--;
        if (next == h->current) {  // a lone yielder: nothing else to run
            next->state = State::Running;
            return;
        }
    } else {
        hub_ensure_loop(h);
        next = &h->loop;
    }
    switch_to(h, next);
}

// A wake from another worker that needs no sequence number, on the thread's own hub: a
// cancellation is for whichever cancellable wait it finds, a close for whichever descriptor
// wait (the waiter looks again at what woke it).
void unpark_any_wait(Green* g, int reason)
{
    if (g->state != State::Parked ||
        (reason == kWakeCancel ? !g->in_cancel_point : g->wait_kind != kWaitFd))
        return;
    unpark(g, reason == kWakeCancel ? kWakeCancel : kWakeNormal);
}

// The other side of loop_main's sleeping/queue check, after queueing on h's remote list.  No
// system call while that hub runs: it takes the wake at its next poll.
void wake_hub(Hub* h)
{
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (h->sleeping.load(std::memory_order_relaxed)) {
        uint64_t one = 1;
        raw_syscall(SYS_write, h->wake_fd, long(&one), sizeof one);
    }
}

// Queues a wake of g on its hub h from another OS thread; whether h must be woken.  Work
// sharing moves a runnable thread under its old hub's lock: the wake follows it (a wake for a
// runnable thread is stale, but must not sit where nobody looks).
bool queue_remote(Hub*& h, Green* g, uint32_t seq, int reason)
{
    for (;;) {
        SpinGuard lock(h->remote_lock);
        if (Hub* now = hub_of(g); __builtin_expect(now != h, 0)) {
            h = now;
            continue;
        }
        bool queued = g->remote_queued;
        if (queued && g->remote_reason == kWakeMigrate)
            return false;  // runnable, on its way to this hub: the wake is for an earlier wait
        // A wake already queued may be for an earlier wait: the latest one is what counts, but
        // for a cancellation or a close (which need no sequence number) when the one queued
        // would wake this very wait anyway.
        bool special = reason == kWakeCancel || reason == kWakeFdClosed;
        if (!(queued && special && g->remote_reason == kWakeNormal &&
              g->remote_seq == g->park_seq.load(std::memory_order_relaxed))) {
            g->remote_seq = seq;
            g->remote_reason = reason;
        }
        if (queued)
            return false;
        g->remote_queued = true;
        g->remote_next = h->remote_head;
        __atomic_store_n(&h->remote_head, g, __ATOMIC_RELEASE);
        return true;
    }
}

// ---- work sharing ----
//
// A hub gives, an idle worker takes: the giver, at a scheduling point of its own (a yield, a
// loop iteration), moves up to half of its run queue's movable green threads (hub/hub.h) to a
// worker whose loop sleeps, through that worker's remote list, and wakes it.  The giver owns
// its run queue, so nothing on the switch path is atomic (Acar et al.'s "work requesting"
// turned around: the busy side notices the idle one).  A computing thread is preempted at
// its time slice, which is such a point.

// Whether g, in h's run queue, may move now (under h's remote_lock: a wake queued for it
// would be in h's list).  Not with a joiner: one on this hub waits to be woken by its exit
// here (hub/thread.cpp).
inline bool can_move(const Hub* h, const Green* g)
{
    return g->movable && g->pins == 0 && !g->remote_queued && g != h->current &&
           g != h->preempt.in_handler && !g->is_root && !joiner_of(g);
}

// On the giving hub's OS thread: g leaves h for t.  h's counts lose it (a thread placed here
// that never ran was never counted), and a thread that never ran on a shared block takes t's.
void leave(Hub* h, Hub* t, Green* g)
{
    if (!g->arriving) {
        h->live--;
        sigmask_finished(g);
    }
    if (g->tp == h->root_tp)
        g->tp = t->root_tp;
    // Queued on t before its hub says t, so that a waker that reads the new hub finds the
    // thread already in a list (hub/sched.cpp unpark_wait).
    g->remote_queued = true;
    g->remote_reason = kWakeMigrate;
    __atomic_store_n(&g->hub, t, __ATOMIC_RELEASE);
}

__attribute__((noinline)) void share_work(Hub* h)
{
    Hub* t = nullptr;
    for (int i = 0; i < n_workers && !t; i++) {
        Hub* w = worker_hub(i);
        if (w != h && w->idle.load(std::memory_order_relaxed))
            t = w;
    }
    if (!t)
        return;
    unsigned want = h->runq.length / 2;
    Green* chain = nullptr;
    Green** tail = &chain;
    unsigned moved = 0;
    {
        SpinGuard lock(h->remote_lock);
        RunQueue& q = h->runq;
        Green* prev = nullptr;
        for (Green* g = q.head; g && moved < want;) {
            Green* next = g->next;
            if (can_move(h, g)) {
                if (prev)
                    prev->next = next;
                else
                    q.set_head(next);
                if (q.tail == g)
                    q.tail = prev;
                q.length--;
                leave(h, t, g);
                *tail = g;
                tail = &g->remote_next;
                moved++;
            } else {
                prev = g;
            }
            g = next;
        }
    }
    if (moved == 0) {
        h->movable_hint = 0;  // nothing to give until a movable thread is queued again
        return;
    }
    {
        SpinGuard lock(t->remote_lock);
        *tail = t->remote_head;
        __atomic_store_n(&t->remote_head, chain, __ATOMIC_RELEASE);
    }
    wake_hub(t);
}

// On the taking hub's OS thread: g, given by another worker, joins the run queue.
void adopt(Hub* h, Green* g)
{
    if (g->tp != h->root_tp)
        tls_move(g->tp, h->root_tp);
    if (!g->arriving) {
        h->live++;
        sigmask_arrived(h, g);
    }
    h->stats.steals++;
    h->movable_hint++;
    h->runq.push(g);
    if (__builtin_expect(preempt_enabled && !h->preempt.armed, 0))
        preempt_woken(h, g);
}

void take_remote_wakes(Hub* h)
{
    if (!__atomic_load_n(&h->remote_head, __ATOMIC_ACQUIRE))
        return;
    // Under the lock: once a green thread is off the list, another OS thread may queue it
    // again, rewriting its links.  unpark_wait here only puts it in the run queue.
    SpinGuard lock(h->remote_lock);
    Green* list = h->remote_head;
    __atomic_store_n(&h->remote_head, nullptr, __ATOMIC_RELAXED);  // read unlocked elsewhere
    while (list) {
        Green* g = list;
        list = g->remote_next;
        g->remote_queued = false;
        int reason = g->remote_reason;
        if (__builtin_expect(reason == kWakeMigrate, 0))
            adopt(h, g);
        else if (__builtin_expect(reason == kWakeCancel || reason == kWakeFdClosed, 0))
            unpark_any_wait(g, reason);
        else
            unpark_wait(g, g->remote_seq, reason);
    }
}

void on_remote(struct ev_loop*, ev_async* w, int) { take_remote_wakes(static_cast<Hub*>(w->data)); }

void on_wake_fd(struct ev_loop*, ev_io* w, int)
{
    Hub* h = static_cast<Hub*>(w->data);
    uint64_t n;
    raw_syscall(SYS_read, h->wake_fd, long(&n), sizeof n);
    take_remote_wakes(h);
}

void on_timer(struct ev_loop*, ev_timer* w, int) { unpark(static_cast<Green*>(w->data), kWakeTimeout); }

// Parked in a lock or a join with no deadline (a timed wait is no deadlock).
bool waits_forever(const Green* g)
{
    if (g->state != State::Parked || !g->wait_what || g->wait_deadline != kForever)
        return false;
    // A join of a thread that has died is being ended: the reap says dead, then wakes the
    // joiner (on another worker, through its hub's remote list, a moment later).
    const Green* t = joined_by(g);
    return !t || !(t->dead_word.load(std::memory_order_acquire) & kDeadBit);
}

std::atomic<bool> deadlock_reported_any{false};

// Whether the process has an OS thread libgreen does not manage (one a library made behind the
// C library's back, as jemalloc's background threads): it may hold what green threads wait on,
// and release it, so their waiting is no deadlock.  Counted in /proc/self/task against the hubs
// and the watchdog; only when a report is about to be made.
bool unmanaged_threads_exist()
{
    long fd = raw_syscall(SYS_openat, AT_FDCWD, long("/proc/self/task"),
                          O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    int tasks = 0;
    alignas(8) char buf[2048];
    for (long n; (n = raw_syscall(SYS_getdents64, fd, long(buf), sizeof buf)) > 0;)
        for (long off = 0; off < n;) {
            // struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name
            unsigned short reclen;
            memcpy(&reclen, buf + off + 16, sizeof reclen);
            if (buf[off + 19] != '.')
                tasks++;
            off += reclen;
        }
    raw_syscall(SYS_close, fd);
    int managed = (config.watchdog_ns > 0 ? 1 : 0) + handoff_os_threads();
    for (Hub* h = all_hubs.load(std::memory_order_acquire); h; h = h->next_hub)
        managed++;
    return tasks > managed;
}

uint64_t switches_of_all()
{
    uint64_t n = 0;
    for (Hub* h = all_hubs.load(std::memory_order_acquire); h; h = h->next_hub)
        n += h->heartbeat.load(std::memory_order_relaxed);
    return n;
}

// Every hub quiet: nothing runnable, queued from elsewhere, timed or watched.
bool all_hubs_quiet()
{
    for (Hub* o = all_hubs.load(std::memory_order_acquire); o; o = o->next_hub)
        if (__atomic_load_n(&o->runq.head, __ATOMIC_SEQ_CST) ||
            __atomic_load_n(&o->remote_head, __ATOMIC_SEQ_CST) ||
            __atomic_load_n(&o->timed_waits, __ATOMIC_SEQ_CST) ||
            __atomic_load_n(&o->fd_waits, __ATOMIC_SEQ_CST))
            return false;
    return true;
}

// Nothing is runnable and no timer or descriptor can wake anyone: if every green thread of
// this hub (with several workers: of the process) waits forever for another one, say so once,
// as Go's "all goroutines are asleep" does, and then keep waiting (a signal may still wake one).
// With several workers the other hubs run meanwhile: they must all be quiet, and nothing may
// switch anywhere while the threads are looked at.  Never while an OS thread libgreen does not
// manage exists: it may hold the lock and let go.
void report_deadlock(Hub* h)
{
    bool all = multi_worker;
    if (all ? deadlock_reported_any.load(std::memory_order_relaxed) : h->deadlock_reported)
        return;
    uint64_t before = all ? switches_of_all() : 0;
    if (all && !all_hubs_quiet())
        return;
    auto counted = [&](const Green* g) { return all ? !is_worker_root(g) : hub_of(g) == h; };
    int waiting = 0, other = 0;
    for_each_green([&](Green* g) {
        if (!counted(g))
            return;
        if (g->state == State::Dead) {
            // Not reaped yet: its joiner is about to be woken.
            if (!(g->dead_word.load() & kDeadBit))
                other++;
            return;
        }
        (waits_forever(g) ? waiting : other)++;
    });
    if (other > 0 || waiting == 0)
        return;
    if (all) {
        // A thread seen parked may have queued a wake just before it parked: look again.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (!all_hubs_quiet() || switches_of_all() != before)
            return;
    }
    if (unmanaged_threads_exist())
        return;
    if (all ? deadlock_reported_any.exchange(true) : std::exchange(h->deadlock_reported, true))
        return;
    GREEN_WARN("all %d green threads of this %s wait for one another (deadlock?):", waiting,
               all ? "process" : "OS thread");
    for_each_green([&](Green* g) {
        if (counted(g) && waits_forever(g))
            GREEN_WARN("  thread %llu%s%s%s: in %s(%p)", (unsigned long long)g->id,
                       g->is_root ? " (main)" : "", g->name[0] ? " " : "", g->name,
                       g->wait_what, g->wait_addr);
    });
    if (sched_seeded)
        seeded_deadlock_exit();  // a seeded run ends here, with a status of its own
}

// The loop context: poll libev (blocking only when nothing is runnable), then run the head of
// the run queue with a fresh poll budget.  It returns here whenever a green thread has nothing
// to switch to.
[[noreturn]] void loop_main(ctx::transfer_t t)
{
    after_resume(t);
    Hub* h = tl_hub;
    for (;;) {
        // The stretch since the last poll, when someone else could have been waiting for the
        // loop: the hub's longest stall (GREEN_STATS).  One clock read per poll (two when the
        // poll may block), none per switch.
        int64_t now = mono_now();
        if (h->live > 1 || h->timed_waits > 0 || h->fd_waits > 0) {
            if (now - h->loop_now > h->stats.max_stall_ns)
                h->stats.max_stall_ns = now - h->loop_now;
        }
        h->stats.polls++;
        if (h->runq.empty() && h->timed_waits == 0 && h->fd_waits == 0)
            report_deadlock(h);
        bool block = h->runq.empty();
        if (block) {
            if (multi_worker)
                idle_workers.fetch_add(1, std::memory_order_relaxed);
            h->idle.store(true, std::memory_order_relaxed);  // waiting is no stall
            // A waker on another OS thread writes the eventfd only while this is set: set it,
            // then look at the queue (the waker queues, then looks at this).
            h->sleeping.store(true, std::memory_order_seq_cst);
            if (__atomic_load_n(&h->remote_head, __ATOMIC_SEQ_CST))
                block = false;
        }
        if (__builtin_expect(sched_seeded, 0))
            seeded_poll(h);  // virtual time: hub/chaos.cpp
        else
            ev_run(h->evloop, block ? EVRUN_ONCE : EVRUN_NOWAIT);
        if (h->idle.load(std::memory_order_relaxed)) {
            h->sleeping.store(false, std::memory_order_relaxed);
            h->idle.store(false, std::memory_order_relaxed);
            if (multi_worker)
                idle_workers.fetch_sub(1, std::memory_order_relaxed);
            now = mono_now();
        }
        take_remote_wakes(h);
        if (multi_worker && should_share(h))
            share_work(h);
        h->loop_now = now;
        if (h->dump_requested.load(std::memory_order_relaxed) &&
            h->dump_requested.exchange(false))
            dump_hub(h);
        if (h->pending_signals.load(std::memory_order_relaxed))
            signal_deliver(h);
        // The next poll comes after every green thread now runnable had its turn, and after
        // kPollBudget switches at least.
        h->budget = h->runq.length > kPollBudget ? h->runq.length : kPollBudget;
        if (Green* next = pop_next(h))
            switch_to(h, next);
    }
}

}  // namespace

void resume_entry(ctx::transfer_t t) { after_resume(t); }

void exit_switch()
{
    run_next(tl_hub);
    fatal("a dead green thread was resumed");
}


std::atomic<bool> hub_started_flag{false};

namespace {

// With several workers another OS thread may hold a wait-queue lock when this one forks: take
// them all first, as glibc does with malloc's, so that the child finds them free and whole.
void before_fork()
{
    if (multi_worker)
        waitq_lock_all();
}

void after_fork_parent()
{
    if (multi_worker)
        waitq_unlock_all();
}

// In the child of fork only the forking green thread exists, as only the forking thread does
// with real threads.  Its hub forgets every other green thread and gets a new loop on first
// need: the parent's epoll and eventfd descriptors must not be shared, and no watcher of a
// green thread that does not exist here may fire.
void after_fork_child()
{
    Hub* h = tl_hub;
    if (!h)
        return;
    if (has_own_tls(h->current))
        tls_after_fork(h->current->tp, h->root_tp);
    if (h->words_owner != h->current)  // the one whose words the block holds is not here
        h->words_owner = nullptr;
    arena_after_fork();
    stack_after_fork();
    fd_after_fork_child();
    h->loop_ready.store(false);
    h->dump_requested.store(false);
    if (h->evloop) {
        ev_loop_destroy(h->evloop);
        h->evloop = nullptr;
        stack_put(&h->loop.stack);
        raw_syscall(SYS_close, h->wake_fd);  // the parent's: a wake here must not reach it
        h->wake_fd = -1;
    }
    h->sleeping.store(false);
    idle_workers.store(0);  // the parent's idle workers are not here
    workers_after_fork_child(h);
    handoff_after_fork_child();
    waitq_after_fork_child();
    h->runq = RunQueue{};
    new (&h->remote_lock) SpinLock;
    h->remote_head = nullptr;
    h->budget = kPollBudget;
    live_greens.store(1);
    // Its counters start again (GREEN_STATS at the child's exit tells of the child), and it
    // is the only hub left.
    h->stats = HubStats{};
    h->stats.peak_live = 1;
    h->live = 1;
    sigmask_after_fork(h, h->current);
    h->loop_now = mono_now();
    h->tid = int(raw_syscall(SYS_gettid));
    h->next_hub = nullptr;
    all_hubs.store(h, std::memory_order_release);
}

}  // namespace


bool hub_attach()
{
    if (tl_hub)
        return true;
    Green* root = green_alloc();
    if (!root)
        return false;
    Hub* h = new (std::nothrow) Hub;
    if (!h) {
        green_free(root);
        return false;
    }
    root->hub = h;
    root->is_root = true;
    root->state = State::Running;
    root->entry_marker = UINTPTR_MAX;  // its exit unwinding runs to the end of the stack
    root->tsan_fiber = tsan_fiber_current();
    h->root = root;
    h->current = root;
    h->loop.hub = h;
    h->os_thread = pthread_self();
    tls_setup();
    root->tp = tls_current();
    h->tp = h->root_tp = root->tp;
    tls_words_attach(root->tls_words, root->tp);
    h->words_owner = root;
    h->errno_off = uintptr_t(root->tp - reinterpret_cast<char*>(&errno));
    h->tid = int(raw_syscall(SYS_gettid));
    h->live = 1;
    h->loop_now = mono_now();
    h->stats.peak_live = uint64_t(live_greens.fetch_add(1) + 1);
    sigmask_attach(h, root);
    tl_hub = h;
    Hub* head = all_hubs.load(std::memory_order_relaxed);
    do
        h->next_hub = head;
    while (!all_hubs.compare_exchange_weak(head, h, std::memory_order_release));
    if (!hub_started_flag.exchange(true))
        pthread_atfork(before_fork, after_fork_parent, after_fork_child);
    return true;
}

namespace {

// Holds the standard descriptors the program has closed (on /dev/null) while libev makes its
// own (the epoll instance, the eventfd of ev_async), so that those do not take their numbers:
// a program that closed fd 1 must get EBADF when it writes there, not reach libev's epoll.
class HoldStdFds {
public:
    HoldStdFds()
    {
        for (;;) {
            long fd = raw_syscall(SYS_openat, AT_FDCWD, long("/dev/null"), O_RDWR | O_CLOEXEC);
            if (fd < 0)
                return;
            if (fd > 2) {
                raw_syscall(SYS_close, fd);
                return;
            }
            held_[n_++] = int(fd);
        }
    }
    ~HoldStdFds()
    {
        for (int i = 0; i < n_; i++)
            raw_syscall(SYS_close, held_[i]);
    }
    HoldStdFds(const HoldStdFds&) = delete;
    HoldStdFds& operator=(const HoldStdFds&) = delete;

private:
    int held_[3] = {};
    int n_ = 0;
};

}  // namespace

void hub_ensure_loop(Hub* h)
{
    if (h->evloop)
        return;
    // Until the loop exists nothing here may park: a wrapper reached from libev or the stack
    // allocator (a C++ static's initialisation guard waits with syscall(SYS_futex) when another
    // worker runs the same initialisation) would switch to a loop context not made yet.  The
    // wrappers pass through while the loop context is current.
    Green* was = h->current;
    h->current = &h->loop;
    HoldStdFds hold;
    // EVFLAG_NOSIGMASK: libev must not touch the signal mask, which belongs to the program.
    // EVFLAG_NOENV: LIBEV_FLAGS in the program's environment is not ours to obey.
    h->evloop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV | EVFLAG_NOSIGMASK);
    if (!h->evloop)
        h->evloop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV | EVFLAG_NOSIGMASK);
    Stack* s = &h->loop.stack;
    if (!h->evloop || !stack_get(s, kLoopStackSize, page_size()))
        fatal("cannot create the hub's event loop: %s", strerror(errno));
    h->loop.stack_lo = s->lo;
    h->loop.stack_size = s->size;
    h->loop.ctx = ctx::make_fcontext(s->lo + s->size, s->size, loop_main);
    h->loop.tsan_fiber = tsan_fiber_new();
    // The remote-wake watcher stays active for the hub's life: it is also what keeps
    // ev_run(EVRUN_ONCE) asleep, instead of spinning, when every green thread waits forever.
    ev_async_init(&h->remote_async, on_remote);
    h->remote_async.data = h;
    ev_async_start(h->evloop, &h->remote_async);
    h->wake_fd = int(raw_syscall(SYS_eventfd2, 0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (h->wake_fd < 0)
        fatal("cannot create the hub's eventfd: %s", strerror(-h->wake_fd));
    ev_io_init(&h->wake_io, on_wake_fd, h->wake_fd, EV_READ);
    h->wake_io.data = h;
    ev_io_start(h->evloop, &h->wake_io);
    h->current = was;
    h->loop_ready.store(true, std::memory_order_release);
}

namespace {

// since: when the wait began, as far as known without another clock read (the dump signal
// shows it).
int park_since(int kind, int64_t since)
{
    Hub* h = tl_hub;
    Green* self = h->current;
    hub_ensure_loop(h);  // a waker on another OS thread will need its ev_async
    h->stats.parks[kind]++;
    self->wait_kind = uint8_t(kind);
    self->wait_since = since;
    // Lock, condition, semaphore, join and sleep waits leave nothing of this hub's for the
    // thread to touch when it resumes: it may move as soon as it is woken.
    if (__builtin_expect(multi_worker, 0)) {
        self->movable = false;
        self->movable_on_wake =
            (kind == kWaitFutex || kind == kWaitJoin || kind == kWaitTimer) && has_own_tls(self);
    }
    self->state = State::Parked;
    run_next(h);
    // Bumped after the wait, not before: while a green thread waits its park_seq is stable, so
    // a waker on another OS thread that found it in a wait queue names this very wait.
    self->park_seq.fetch_add(1, std::memory_order_relaxed);
    return self->wake_reason;
}

}  // namespace

int park(int kind) { return park_since(kind, tl_hub->loop_now); }

void unpark(Green* g, int reason) { unpark_wait(g, g->park_seq.load(std::memory_order_relaxed), reason); }

void unpark_wait(Green* g, uint32_t seq, int reason)
{
    Hub* h = hub_of(g);
    if (h == tl_hub) {
        if (g->state != State::Parked || g->park_seq.load(std::memory_order_relaxed) != seq)
            return;
        g->wake_reason = reason;
        g->state = State::Runnable;
        // The deadline's timer goes here, on the hub whose loop has it, so that nothing of
        // this hub's is left for the thread to take down wherever it resumes.
        if (g->timer_armed) {
            g->timer_armed = false;
            ev_timer_stop(h->evloop, &g->timer);
            h->timed_waits--;
        }
        // Movable at once after a wait that leaves nothing of its hub's behind (park_since);
        // otherwise not until it ran (a descriptor wait's watchers, a lost hand-off's resume:
        // movable is false since its park).
        if (__builtin_expect(g->movable_on_wake, 0)) {
            g->movable = true;
            g->movable_on_wake = false;
            h->movable_hint++;
        }
        h->runq.push(g);
        if (__builtin_expect(preempt_enabled && !h->preempt.armed, 0))
            preempt_woken(h, g);
        return;
    }
    // From another OS thread: queue the wake for the hub's own thread to apply.
    if (queue_remote(h, g, seq, reason))
        wake_hub(h);
}

void yield()
{
    Hub* h = tl_hub;
    Green* self = h->current;
    self->state = State::Runnable;
    h->runq.push(self);
    // With several workers: a yield is where a thread may move (hub/hub.h), and where a hub
    // that computes notices an idle worker (the time slice's preemption yields).  The loop
    // shares too, at every poll.
    if (__builtin_expect(multi_worker, 0)) {
        if (has_own_tls(self)) {
            self->movable = true;
            h->movable_hint++;
        }
        if (should_share(h))
            share_work(h);
    }
    run_next(h);
}

void poll_fairness()
{
    Hub* h = tl_hub;
    if (!h || h->live < 2 || h->current == &h->loop)
        return;
    if (mono_now() - h->loop_now < 1000000)
        return;
    // Budget spent: the yield goes through the loop, which polls before this thread runs again.
    h->budget = 0;
    yield();
}

int park_until(int64_t deadline, int kind)
{
    Hub* h = tl_hub;
    Green* self = h->current;
    self->wait_deadline = deadline;
    if (deadline == kForever)
        return park(kind);
    if (__builtin_expect(sched_seeded, 0))
        return seeded_park_until(h, self, deadline, kind);
    hub_ensure_loop(h);
    // libev adds the interval to its cached monotonic time, which is stale when green threads
    // ran for a while without polling: refresh it, or the timer fires early.
    ev_now_update(h->evloop);
    int64_t now = mono_now();
    int64_t left = deadline - now;
    ev_timer_init(&self->timer, on_timer, left > 0 ? double(left) / 1e9 : 0., 0.);
    self->timer.data = self;
    ev_timer_start(h->evloop, &self->timer);
    h->timed_waits++;
    self->timer_armed = true;  // the wake stops it, on this hub (unpark_wait)
    return park_since(kind, now);
}

HubStats hub_stats()
{
    Hub* h = tl_hub;
    return h ? h->stats : HubStats{};
}

namespace {

// A cancellable wait ends the green thread when a cancellation is due.
void act_on_cancel(Green* self)
{
    if (cancel_requested(self) && !cancel_off(self) && !self->exiting)
        green_exit(PTHREAD_CANCELED);
}

}  // namespace

void testcancel()
{
    if (Green* self = green_self())
        act_on_cancel(self);
}

int park_for_interrupt(bool cancellable)
{
    Green* self = tl_hub->current;
    for (;;) {
        if (cancellable)
            act_on_cancel(self);
        self->in_cancel_point = cancellable;
        int reason = park_until(kForever, kWaitOther);
        self->in_cancel_point = false;
        if (reason == kWakeInterrupt)
            return -EINTR;
    }
}

int sleep_until(int64_t deadline, bool cancellable)
{
    Green* self = tl_hub->current;
    for (;;) {
        if (cancellable)
            act_on_cancel(self);
        if (mono_now() >= deadline)
            return 0;
        self->in_cancel_point = cancellable;
        int reason = park_until(deadline, kWaitTimer);
        self->in_cancel_point = false;
        if (reason == kWakeInterrupt)
            return -EINTR;
    }
}

}  // namespace green
