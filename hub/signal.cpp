#include "signal.h"

#include <dlfcn.h>
#include <ev.h>

#include <cerrno>

#include "hub.h"
#include "sys.h"

namespace green {

namespace {

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

// Linux's choice for a process-directed signal, in green terms (see signal.h).
Green* target_of(Hub* h)
{
    Green* waiting = nullptr;
    for_each_green([&](Green* g) {
        if (!waiting && g->hub == h && g->waits_signal && parked_interruptibly(g))
            waiting = g;
    });
    if (waiting)
        return waiting;
    if (h->root && h->root->state != State::Dead)
        return parked_interruptibly(h->root) ? h->root : nullptr;
    Green* first = nullptr;
    for_each_green([&](Green* g) {
        if (!first && g->hub == h && parked_interruptibly(g))
            first = g;
    });
    return first;
}

}  // namespace

void signal_handled(int sig, bool restart, bool thread_directed)
{
    if (sig < 1 || sig > 64)
        return;
    Hub* h = hub_for_signal();
    if (!h || (thread_directed && h == tl_hub && h->current != &h->loop))
        return;  // the green thread that was running took it: nothing to interrupt
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

void signal_deliver(Hub* h)
{
    uint64_t pending = h->pending_signals.exchange(0, std::memory_order_acquire);
    uint64_t restart = h->restart_signals.load(std::memory_order_relaxed);
    for (int sig = 1; pending; sig++, pending >>= 1) {
        if (!(pending & 1))
            continue;
        if (Green* g = target_of(h))
            signal_interrupt(g, (restart >> (sig - 1)) & 1);
    }
}

}  // namespace green
