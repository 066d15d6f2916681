#include "signal.h"

#include <dlfcn.h>
#include <ev.h>
#include <signal.h>
#include <sys/syscall.h>

#include <cerrno>

#include "hub.h"
#include "sys.h"
#include "workers.h"

namespace green {

namespace {

// In pending_signals, the bit of signal 32 (glibc's, whose handler is never the program's):
// a handler ran on a green thread on its way into a wait it ends (signal_handled).
constexpr uint64_t kHandlerCameBit = uint64_t(1) << (32 - 1);

// The hub a signal concerns: the OS thread's own, else (a signal that landed on an unmanaged OS
// thread) the first hub, the main thread's.
Hub* hub_for_signal()
{
    if (Hub* h = tl_hub)
        return h;
    Hub* h = all_hubs.load(std::memory_order_acquire);
    while (h && h->next_hub)
        h = h->next_hub;
    return h;
}

bool parked_interruptibly(const Green* g)
{
    return g->state == State::Parked && g->interruptible;
}

bool blocks(const Green* g, int sig) { return (g->sigmask >> (sig - 1)) & 1; }

// The loop's mask: the signals every green thread of the hub blocks.
void update_loop_mask(Hub* h)
{

    // Only the signals some green thread blocks can be blocked by all: a thread start or exit
    // costs a few instructions, not a pass over 64 counters.
    uint64_t m = 0;
    if (h->mask_members > 0)
        for (uint64_t left = h->blocked_any; left; left &= left - 1) {
            int i = __builtin_ctzll(left);
            if (h->blockers[i] == h->mask_members)
                m |= uint64_t(1) << i;
        }
    h->loop.sigmask = m;
}

void count_mask(Hub* h, uint64_t mask, int delta)
{
    for (; mask; mask &= mask - 1) {
        int i = __builtin_ctzll(mask);
        h->blockers[i] += delta;
        if (h->blockers[i])
            h->blocked_any |= uint64_t(1) << i;
        else
            h->blocked_any &= ~(uint64_t(1) << i);
    }
}

// Linux's choice for a process-directed signal, in green terms (see signal.h): green threads
// that block the signal are passed over, as threads that block it are.
Green* target_of(Hub* h, int sig)
{
    // With several workers, the threads of every hub: h is then the main thread's.
    bool any_hub = multi_worker;
    Green* waiting = nullptr;
    for_each_green([&](Green* g) {
        if (!waiting && (hub_of(g) == h || any_hub) && g->waits_signal && !blocks(g, sig) &&
            parked_interruptibly(g))
            waiting = g;
    });
    if (waiting)
        return waiting;
    if (h->root && h->root->state != State::Dead && !blocks(h->root, sig))
        return parked_interruptibly(h->root) ? h->root : nullptr;
    Green* first = nullptr;
    for_each_green([&](Green* g) {
        if (!first && (hub_of(g) == h || (any_hub && !is_worker_root(g))) && !blocks(g, sig) &&
            parked_interruptibly(g))
            first = g;
    });
    return first;
}

// Whether Linux would have given a process-directed signal to the main thread, parked in a call
// the signal interrupts: it offers such a signal to the main thread first, unless the main
// thread blocks it (complete_signal).  The kernel may still have passed over the main thread's
// OS thread for a moment of libgreen's own (a signal of libgreen's pending there, another green
// thread's mask on) and delivered it to a worker: then the main thread's call must still end
// with EINTR (left parked, it could wait for ever).  A look at another hub's thread, as
// target_of's: a moment later it may have changed, as a real thread's may.
GREEN_NO_TSAN bool main_interrupted_by(int sig)
{
    Green* root = main_hub ? main_hub->root : nullptr;
    return root && !blocks(root, sig) && parked_interruptibly(root);
}

}  // namespace

void signal_handled(int sig, bool restart, bool thread_directed)
{
    if (sig < 1 || sig > 64)
        return;
    Hub* t = tl_hub;
    if (t && t->current != &t->loop && ends_on_handler(t->current)) {
        // It ran on a green thread on its way into pause, sigsuspend or a wait under a mask of
        // the call's: from the unblocking of its mask (a signal pending until then) or between
        // its look and its park.  That is the signal its wait is for, whoever the rules below
        // would pick, as the unblocking and the wait are one step: the wait ends as soon as it
        // parks (signal_deliver), or at once if it looks first.  (A signal sent to another green
        // thread of this OS thread ends it too: its handler ran in this one.)
        __atomic_store_n(&t->current->signal_came, true, __ATOMIC_RELAXED);
        t->pending_signals.fetch_or(kHandlerCameBit, std::memory_order_release);
        if (t->loop_ready.load(std::memory_order_acquire))
            ev_async_send(t->evloop, &t->remote_async);
        return;
    }
    Hub* h = hub_for_signal();
    if (!h || (thread_directed && h == tl_hub && h->current != &h->loop))
        return;  // the green thread that was running took it: nothing to interrupt
    if (multi_worker && h != main_hub && !thread_directed) {
        // On a worker: a green thread running there took it, as a running thread does, unless
        // the main thread would have (above); else (the worker's loop) it is the main thread's
        // hub's to give.
        if (h == tl_hub && h->current != &h->loop && !main_interrupted_by(sig))
            return;
        h = main_hub;
    }
    if (h == tl_hub && h->unmasking && h->unmasking == h->current)
        return;  // pending until it unblocked it: it takes it, as a thread that unblocks does
    // A process-directed signal is the main thread's (signal.h); if the main thread was the one
    // running when it came, it took it there and then, as Linux's running main thread does, and
    // no later call of it may fail with EINTR for it.
    if (!thread_directed && h == tl_hub && h->root && h->current == h->root)
        return;
    uint64_t bit = uint64_t(1) << (sig - 1);
    if (restart)
        h->restart_signals.fetch_or(bit, std::memory_order_relaxed);
    else
        h->restart_signals.fetch_and(~bit, std::memory_order_relaxed);
    h->pending_signals.fetch_or(bit, std::memory_order_release);
    // Wake the loop if it sleeps in epoll_wait (which this signal may not have interrupted,
    // when it landed on another OS thread).
    if (h->loop_ready.load(std::memory_order_acquire))
        ev_async_send(h->evloop, &h->remote_async);
}

void signal_interrupt(Green* g, bool restart)
{
    if (!parked_interruptibly(g))
        return;
    g->interrupt_restart = restart;
    unpark(g, kWakeInterrupt);
}

int libc_sigaction(int sig, const struct sigaction* act, struct sigaction* old)
{
    using Fn = int (*)(int, const struct sigaction*, struct sigaction*);
    static Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "sigaction"));
    return real(sig, act, old);
}

void* green_libc_syscall_insn = nullptr;
uint64_t sigmask_kept_open = 0;

void sigmask_apply(Hub* h, uint64_t mask)
{
    uint64_t os = mask & ~sigmask_kept_open;
    raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, long(&os), 0, sizeof os);
    h->os_mask = mask;
}

uint64_t unblockable_signals = 0;

void sigmask_attach(Hub* h, Green* root)
{
    uint64_t cur = 0;
    raw_syscall(SYS_rt_sigprocmask, SIG_BLOCK, 0, long(&cur), sizeof cur);
    if (cur & unblockable_signals) {  // inherited blocked (an exec, a worker's start)
        cur &= ~unblockable_signals;
        raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, long(&cur), 0, sizeof cur);
    }
    root->sigmask = cur;
    h->os_mask = cur;
    h->mask_members = 1;
    count_mask(h, cur, +1);
    update_loop_mask(h);
}

void sigmask_spawned(Hub* h, Green* g)
{
    sigmask_inherit(h, g);
    sigmask_arrived(h, g);
}

void sigmask_inherit(Hub* h, Green* g)
{
    Green* creator = green_self();
    g->sigmask = creator ? creator->sigmask : h->os_mask;
}

void sigmask_arrived(Hub* h, Green* g)
{
    h->mask_members++;
    count_mask(h, g->sigmask, +1);
    update_loop_mask(h);
}

void sigmask_worker(Hub* h) { update_loop_mask(h); }

void sigmask_finished(Green* g)
{
    Hub* h = g->hub;
    h->mask_members--;
    count_mask(h, g->sigmask, -1);
    update_loop_mask(h);
}

void sigmask_after_fork(Hub* h, Green* self)
{
    for (int& b : h->blockers)
        b = 0;
    h->blocked_any = 0;
    h->mask_members = 1;
    count_mask(h, self->sigmask, +1);
    h->os_mask = self->sigmask;
    update_loop_mask(h);
}

void sigmask_set(Green* self, uint64_t mask)
{
    Hub* h = self->hub;
    count_mask(h, self->sigmask, -1);
    count_mask(h, mask, +1);
    self->sigmask = mask;
    update_loop_mask(h);
    h->unmasking = self;  // a signal pending until now arrives inside this call: it is ours
    sigmask_apply(h, mask);
    h->unmasking = nullptr;
}

void signal_deliver(Hub* h)
{
    uint64_t pending = h->pending_signals.exchange(0, std::memory_order_acquire);
    uint64_t restart = h->restart_signals.load(std::memory_order_relaxed);
    if (pending & kHandlerCameBit) {
        pending &= ~kHandlerCameBit;
        for_each_green([&](Green* g) {
            if (hub_of(g) == h && ends_on_handler(g) &&
                __atomic_load_n(&g->signal_came, __ATOMIC_RELAXED) && parked_interruptibly(g))
                signal_interrupt(g, false);
        });
    }
    for (int sig = 1; pending; sig++, pending >>= 1) {
        if (!(pending & 1))
            continue;
        if (Green* g = target_of(h, sig))
            signal_interrupt(g, (restart >> (sig - 1)) & 1);
    }
}

}  // namespace green
