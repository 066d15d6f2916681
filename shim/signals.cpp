// Signals: sigaction and its older forms, raise, pause, sigsuspend, sigwait and its timed forms.
//
// The program's handlers run as before, at once, on the OS thread the kernel picked.  libgreen
// installs, in the program's place, a trampoline that calls the program's handler and then
// tells the hub (hub/signal.h), which gives the green thread that would have been interrupted
// its EINTR.  The program sees the actions it set, never the trampoline: sigaction reports them
// back as given.  glibc's signal(), sysv_signal() and siginterrupt() set actions through an
// internal sigaction, so they are wrapped too.
//
// pause and sigsuspend park interruptibly, first in line for the next signal.  sigwait,
// sigwaitinfo and sigtimedwait wait on a signalfd of the set (the signals are blocked, so a
// signalfd sees them pending) and then take the signal with the real call.
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>

#include "../hub/fdtable.h"
#include "../hub/preempt.h"
#include "../hub/signal.h"
#include "../hub/spinlock.h"
#include "../hub/sys.h"
#include "../hub/handoff.h"
#include "shim.h"

using namespace green;

namespace {

constexpr int kMaxSignal = 64;

// The program's view of each signal's action, for the signals it set through these wrappers.
struct Action {
    std::atomic<bool> recorded{false};
    std::atomic<void*> handler{nullptr};  // sa_handler or sa_sigaction, as the program gave it
    std::atomic<int> flags{0};
    sigset_t mask{};
};
// Constant-initialised (no constructor runs): libgreen's own start-up may set actions before the
// dynamic initialisers of this file would run, and must not see them wiped.
Action actions[kMaxSignal + 1];
SpinLock actions_lock;
sigset_t interrupting;  // siginterrupt(sig, 1): signal() installs it without SA_RESTART

bool is_function(void* h)
{
    return h != reinterpret_cast<void*>(SIG_DFL) && h != reinterpret_cast<void*>(SIG_IGN);
}

void trampoline(int sig, siginfo_t* info, void* context)
{
    uint32_t mark = 0;
    if (__builtin_expect(handoff_on, 0) && !handoff_signal_enter(sig, info, &mark))
        return;
    int saved = errno;
    Action& a = actions[sig];
    void* h = a.handler.load(std::memory_order_acquire);
    int flags = a.flags.load(std::memory_order_relaxed);
    if (flags & SA_RESETHAND) {  // the kernel reset the real action already
        a.flags.store(0, std::memory_order_relaxed);
        a.handler.store(reinterpret_cast<void*>(SIG_DFL), std::memory_order_release);
    }
    if (!is_function(h))
        return;  // changed under us to SIG_DFL or SIG_IGN by another thread: nothing to call
    errno = saved;
    {
        // A handler of the program is no place for a time slice to end.
        NoPreempt scope(__builtin_frame_address(0));
        if (flags & SA_SIGINFO)
            reinterpret_cast<void (*)(int, siginfo_t*, void*)>(h)(sig, info, context);
        else
            reinterpret_cast<void (*)(int)>(h)(sig);
    }
    saved = errno;
    signal_handled(sig, flags & SA_RESTART, info && info->si_code == SI_TKILL);
    errno = saved;
    handoff_signal_leave(mark);
}

// Signals whose actions pass through untouched: invalid ones, those the kernel refuses to
// change, and glibc's own (32, 33), whose refusal glibc gives.
bool managed(int sig)
{
    return sig >= 1 && sig <= kMaxSignal && sig != SIGKILL && sig != SIGSTOP && sig != 32 &&
           sig != 33;
}

}  // namespace

// A SIGURG that is not a time-slice tick: the program's, as if its handler were installed.
void green::program_signal(int sig, siginfo_t* info, void* context)
{
    trampoline(sig, info, context);
}

// The program's handler of sig, if it has one: for pthread_kill's delivery to a green thread.
bool green::program_handles(int sig, bool* restart)
{
    if (!managed(sig) || !actions[sig].recorded.load(std::memory_order_acquire))
        return false;
    *restart = actions[sig].flags.load(std::memory_order_relaxed) & SA_RESTART;
    return is_function(actions[sig].handler.load(std::memory_order_relaxed));
}

GREEN_EXPORT int sigaction(int sig, const struct sigaction* act, struct sigaction* old)
{
    if (!managed(sig) || !family_green(kSignals))
        return REAL(sigaction)(sig, act, old);
    // A handler may call sigaction too: keep signals out while the table is updated.
    sigset_t all, saved_mask;
    sigfillset(&all);
    sigdelset(&all, SIGSYS);  // syscall user dispatch's (shim/rawsys.cpp)
    REAL(pthread_sigmask)(SIG_BLOCK, &all, &saved_mask);
    int rc = 0;
    {
        SpinGuard guard(actions_lock);
        Action& a = actions[sig];
        struct sigaction previous;
        bool had = a.recorded.load(std::memory_order_relaxed);
        // libgreen's tick handler keeps SIGURG (hub/preempt.h): the program's action is only
        // recorded, and reported back; until it sets one, the action libgreen found.
        bool kept = sig == preempt_signal();
        if (!had && kept) {
            previous = preempt_prior_action;
        } else if (had) {
            memset(&previous, 0, sizeof previous);
            previous.sa_sigaction = reinterpret_cast<void (*)(int, siginfo_t*, void*)>(
                a.handler.load(std::memory_order_relaxed));
            previous.sa_flags = a.flags.load(std::memory_order_relaxed);
            previous.sa_mask = a.mask;
        } else {
            rc = REAL(sigaction)(sig, nullptr, &previous);
        }
        if (rc == 0 && act) {
            struct sigaction real = *act;
            void* h = (act->sa_flags & SA_SIGINFO) ? reinterpret_cast<void*>(act->sa_sigaction)
                                                   : reinterpret_cast<void*>(act->sa_handler);
            if (is_function(h)) {
                real.sa_sigaction = trampoline;
                real.sa_flags |= SA_SIGINFO;
            }
            // Recorded first: the trampoline may run as soon as the real action is in place.
            a.flags.store(act->sa_flags, std::memory_order_relaxed);
            a.mask = act->sa_mask;
            a.handler.store(h, std::memory_order_release);
            rc = kept ? 0 : REAL(sigaction)(sig, &real, nullptr);
            if (rc == 0) {
                a.recorded.store(true, std::memory_order_release);
            } else if (had) {  // refused (bad flags, say): the old record stands
                a.flags.store(previous.sa_flags, std::memory_order_relaxed);
                a.mask = previous.sa_mask;
                a.handler.store(reinterpret_cast<void*>(previous.sa_sigaction),
                                std::memory_order_release);
            }
        }
        if (rc == 0 && old)
            *old = previous;
    }
    int e = errno;
    REAL(pthread_sigmask)(SIG_SETMASK, &saved_mask, nullptr);
    // A tick that came while every signal was blocked here was taken in the C library, where it
    // cannot preempt: a thread that sets handlers in a loop yields here (hub/preempt.h).
    preempt_point();
    errno = e;
    return rc;
}

// The C library's raise (it blocks every signal around the kill, and the handler runs before it
// returns), then the same preemption point: a thread that raises signals in a loop is inside
// the C library or a handler at nearly every tick.
GREEN_EXPORT int raise(int sig)
{
    int rc = REAL(raise)(sig);
    int e = errno;
    preempt_point();
    errno = e;
    return rc;
}

namespace {

// glibc's signal(): BSD semantics, the signal itself blocked while its handler runs.
sighandler_t set_handler(int sig, sighandler_t handler, int flags, bool mask_self)
{
    if (handler == SIG_ERR || !managed(sig)) {
        errno = EINVAL;
        return SIG_ERR;
    }
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = handler;
    sigemptyset(&act.sa_mask);
    if (mask_self)
        sigaddset(&act.sa_mask, sig);
    act.sa_flags = flags;
    if (sigaction(sig, &act, &old) < 0)
        return SIG_ERR;
    return old.sa_handler;
}

}  // namespace

GREEN_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
    bool interrupt = sig >= 1 && sig <= kMaxSignal && sigismember(&interrupting, sig) == 1;
    return set_handler(sig, handler, interrupt ? 0 : SA_RESTART, true);
}

GREEN_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler) { return signal(sig, handler); }

GREEN_EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler)
{
    return set_handler(sig, handler, SA_RESETHAND | SA_NODEFER, false);
}

GREEN_EXPORT sighandler_t __sysv_signal(int sig, sighandler_t handler)
{
    return sysv_signal(sig, handler);
}

GREEN_EXPORT int siginterrupt(int sig, int interrupt)
{
    struct sigaction act;
    if (!managed(sig) || sigaction(sig, nullptr, &act) < 0) {
        errno = EINVAL;
        return -1;
    }
    if (interrupt) {
        sigaddset(&interrupting, sig);
        act.sa_flags &= ~SA_RESTART;
    } else {
        sigdelset(&interrupting, sig);
        act.sa_flags |= SA_RESTART;
    }
    return sigaction(sig, &act, nullptr);
}

// ---- masks: per green thread (hub/signal.h) ----

namespace {

void to_set(uint64_t m, sigset_t* set)
{
    sigemptyset(set);
    memcpy(set, &m, sizeof m);
}

// pthread_sigmask for a green thread: returns 0 or an error number.
int green_sigmask(Green* self, int how, const sigset_t* set, sigset_t* old)
{
    uint64_t cur = self->sigmask;
    if (set) {
        uint64_t m = sigset_mask(set);
        uint64_t next;
        switch (how) {
        case SIG_BLOCK: next = cur | m; break;
        case SIG_UNBLOCK: next = cur & ~m; break;
        case SIG_SETMASK: next = m; break;
        default: return EINVAL;
        }
        if (old)
            to_set(cur, old);
        if (next != cur)
            sigmask_set(self, next);
        return 0;
    }
    if (old)
        to_set(cur, old);
    return 0;
}

}  // namespace

GREEN_EXPORT int pthread_sigmask(int how, const sigset_t* set, sigset_t* old)
{
    if (Green* self = green_in(kSignals))
        return green_sigmask(self, how, set, old);
    return REAL(pthread_sigmask)(how, set, old);
}

GREEN_EXPORT int sigprocmask(int how, const sigset_t* set, sigset_t* old)
{
    Green* self = green_in(kSignals);
    if (!self)
        return REAL(sigprocmask)(how, set, old);
    int err = green_sigmask(self, how, set, old);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

// ---- waiting for signals ----

namespace {

// Parks until a signal handler runs (first in line for it), with mask as its signal mask while it
// waits (sigsuspend's; pause: null, its own); always ends with EINTR.  A handler that runs from
// here on ends the wait, also one run by the unblocking itself (a signal pending until then, as
// the SIGCHLD of a child that exited while blocked, which timeout(1) waits for): the unblocking
// and the wait are one step (hub/signal.cpp's signal_handled).
int wait_for_handler(Green* self, const uint64_t* mask = nullptr)
{
    uint64_t saved = self->sigmask;
    {
        Interruptible scope(self, true);
        __atomic_store_n(&self->signal_came, false, __ATOMIC_RELAXED);
        if (mask)
            sigmask_set(self, *mask);
        if (!__atomic_load_n(&self->signal_came, __ATOMIC_RELAXED))
            park_for_interrupt(true);
        __atomic_store_n(&self->signal_came, false, __ATOMIC_RELAXED);
    }
    if (mask)
        sigmask_set(self, saved);
    errno = EINTR;
    return -1;
}

// A signal of set, taken if one is pending; waits on a signalfd of the set until one is, or
// the deadline.  interruptible: a handler of another signal ends the wait with EINTR.
int take_signal(Green* self, const sigset_t* set, siginfo_t* info, int64_t deadline,
                bool interruptible)
{
    const timespec zero = {0, 0};
    siginfo_t local;
    if (!info)
        info = &local;
    for (;;) {
        int sig = REAL(sigtimedwait)(set, info, &zero);
        if (sig > 0 || errno != EAGAIN)
            return sig;
        int fd = int(raw_syscall(SYS_signalfd4, -1, long(set), 8, SFD_NONBLOCK | SFD_CLOEXEC));
        if (fd < 0) {
            errno = int(-fd);
            return -1;
        }
        int w;
        {
            Interruptible scope(self);
            self->interruptible = interruptible;
            w = wait_fd(fd, EV_READ, deadline, true);
        }
        fd_forget(fd);
        raw_syscall(SYS_close, fd);
        if (w == -ETIMEDOUT) {
            errno = EAGAIN;
            return -1;
        }
        if (w == -EINTR) {
            errno = EINTR;
            return -1;
        }
    }
}

}  // namespace

GREEN_EXPORT int pause()
{
    if (Green* self = green_in(kSignals))
        return wait_for_handler(self);
    return REAL(pause)();
}

GREEN_EXPORT int sigsuspend(const sigset_t* mask)
{
    Green* self = green_in(kSignals);
    if (!self)
        return REAL(sigsuspend)(mask);
    uint64_t wanted = sigset_mask(mask);
    return wait_for_handler(self, &wanted);
}

GREEN_EXPORT int sigtimedwait(const sigset_t* set, siginfo_t* info, const struct timespec* timeout)
{
    Green* self = green_in(kSignals);
    if (!self)
        return REAL(sigtimedwait)(set, info, timeout);
    int64_t deadline = kForever;
    if (timeout) {
        if (timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000 || timeout->tv_sec < 0) {
            errno = EINVAL;
            return -1;
        }
        deadline = mono_now() + int64_t(timeout->tv_sec) * 1000000000 + timeout->tv_nsec;
    }
    return take_signal(self, set, info, deadline, true);
}

GREEN_EXPORT int sigwaitinfo(const sigset_t* set, siginfo_t* info)
{
    Green* self = green_in(kSignals);
    if (!self)
        return REAL(sigwaitinfo)(set, info);
    return take_signal(self, set, info, kForever, true);
}

// sigwait never fails with EINTR (POSIX): it waits again.
GREEN_EXPORT int sigwait(const sigset_t* set, int* sig)
{
    Green* self = green_in(kSignals);
    if (!self)
        return REAL(sigwait)(set, sig);
    int s = take_signal(self, set, nullptr, kForever, false);
    if (s < 0)
        return errno;
    *sig = s;
    return 0;
}
