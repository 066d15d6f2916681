// Polling: poll, ppoll, select, pselect, epoll_wait, epoll_pwait, epoll_pwait2, and the
// fortified __poll_chk, __ppoll_chk.
//
// Each asks the kernel once without waiting; if nothing is ready and the caller would block,
// the green thread waits with a libev watcher on every descriptor involved (an epoll fd is one
// descriptor: it is readable when one of its members is ready), then asks the kernel again,
// without waiting, for the exact answer.  Results are always the kernel's own.
// The signal masks of ppoll, pselect and epoll_pwait hold for the whole call, as in the
// kernel: the immediate check hands the mask to the kernel, and while the green thread waits
// the mask is its own (as sigsuspend does: WaitMask), so that a signal it unblocks runs its
// handler and ends the wait with EINTR, also one pending before the call.
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include <cstdlib>
#include <cstring>

#include "../hub/signal.h"
#include "fdio.h"

extern "C" void __chk_fail(void) __attribute__((noreturn));

using namespace green;

namespace {

constexpr short kReadEvents = POLLIN | POLLPRI | POLLRDNORM | POLLRDBAND | POLLRDHUP;
constexpr short kWriteEvents = POLLOUT | POLLWRNORM | POLLWRBAND;

// A call's signal mask is the waiting green thread's own mask while it waits (masks are per
// green thread: hub/signal.h), and its old one after, as sigsuspend does: a handler that runs
// from the unblocking on (a signal pending until then included) ends the wait with EINTR
// (handler_came).  With the signals family left out (GREEN_FAMILIES), masks are the OS
// thread's: set it and put it back.
class WaitMask {
public:
    explicit WaitMask(const sigset_t* mask)
    {
        if (!mask)
            return;
        if ((self_ = green_in(kSignals))) {
            saved_ = self_->sigmask;
            __atomic_store_n(&self_->signal_came, false, __ATOMIC_RELAXED);
            self_->mask_wait = true;
            sigmask_set(self_, sigset_mask(mask));
        } else {
            os_set_ = REAL(pthread_sigmask)(SIG_SETMASK, mask, &os_saved_) == 0;
        }
    }
    ~WaitMask()
    {
        if (self_) {
            sigmask_set(self_, saved_);
            self_->mask_wait = false;
            __atomic_store_n(&self_->signal_came, false, __ATOMIC_RELAXED);
        } else if (os_set_) {
            REAL(pthread_sigmask)(SIG_SETMASK, &os_saved_, nullptr);
        }
    }
    WaitMask(const WaitMask&) = delete;
    WaitMask& operator=(const WaitMask&) = delete;

private:
    Green* self_ = nullptr;
    uint64_t saved_ = 0;
    bool os_set_ = false;
    sigset_t os_saved_;
};

// Whether a handler ran on self during its call's wait under the call's mask, before it
// parked (WaitMask): the call ends with EINTR without waiting.
bool handler_came(const Green* self)
{
    return self && self->mask_wait && __atomic_load_n(&self->signal_came, __ATOMIC_RELAXED);
}

int64_t deadline_ms(int timeout)
{
    return timeout < 0 ? kForever : mono_now() + int64_t(timeout) * 1000000;
}

int64_t deadline_ts(const struct timespec* ts)
{
    if (!ts)
        return kForever;
    return mono_now() + int64_t(ts->tv_sec) * 1000000000 + ts->tv_nsec;
}

// Watches for n descriptors: on the stack when few, else on the heap.
class Watches {
public:
    explicit Watches(size_t n)
        : w_(n <= kInline ? inline_ : static_cast<FdWatch*>(malloc(n * sizeof(FdWatch))))
    {
    }
    ~Watches()
    {
        if (w_ != inline_)
            free(w_);
    }
    FdWatch* get() { return w_; }
    void add(int fd, int events)
    {
        w_[n_].fd = fd;
        w_[n_].events = events;
        n_++;
    }
    int size() const { return n_; }

private:
    static constexpr size_t kInline = 16;
    FdWatch inline_[kInline];
    FdWatch* w_;
    int n_ = 0;
};

// Repeats check() (which must not wait) until it reports something or the deadline passes;
// between checks, waits on the watches that add_watches() sets up.  A signal handler ends the
// wait with EINTR whatever its SA_RESTART (signal(7)), unless a check then finds something.
template <class Check, class AddWatches>
int green_poll_loop(int64_t deadline, size_t capacity, Check check, AddWatches add_watches)
{
    Green* self = green_self();
    Interruptible scope(self);
    for (;;) {
        Watches w(capacity);
        if (!w.get()) {
            errno = ENOMEM;
            return -1;
        }
        add_watches(w);
        int r;
        if (handler_came(self)) {
            r = -EINTR;
        } else if (w.size()) {
            r = wait_fds(w.get(), w.size(), deadline, true);
        } else if (deadline == kForever) {  // nothing to watch, no timeout: until a signal
            r = park_for_interrupt(true);
        } else {  // nothing to watch: a sleep
            r = sleep_until(deadline, true);
            if (r == 0)
                r = -ETIMEDOUT;
        }
        int n = check();
        if (r == -EINTR && n == 0) {
            errno = EINTR;
            return -1;
        }
        if (n != 0 || r == -ETIMEDOUT)
            return n;
    }
}

int green_poll(struct pollfd* fds, nfds_t nfds, int64_t deadline, const sigset_t* mask = nullptr)
{
    WaitMask m(mask);
    return green_poll_loop(
        deadline, nfds, [&] { return REAL(poll)(fds, nfds, 0); },
        [&](Watches& w) {
            for (nfds_t i = 0; i < nfds; i++) {
                if (fds[i].fd < 0 || !fd_get(fds[i].fd))
                    continue;
                int ev = (fds[i].events & kWriteEvents) ? EV_WRITE : 0;
                if ((fds[i].events & kReadEvents) || !ev)
                    ev |= EV_READ;  // hang-ups and errors show as readable
                w.add(fds[i].fd, ev);
            }
        });
}

int do_poll(struct pollfd* fds, nfds_t nfds, int timeout)
{
    if (!green_in(kSockets) || timeout == 0)
        return REAL(poll)(fds, nfds, timeout);
    poll_fairness();
    int n = REAL(poll)(fds, nfds, 0);
    if (n != 0)
        return n;
    return green_poll(fds, nfds, deadline_ms(timeout));
}

int do_ppoll(struct pollfd* fds, nfds_t nfds, const struct timespec* ts, const sigset_t* mask)
{
    static const timespec zero = {0, 0};
    if (!green_in(kSockets) || (ts && ts->tv_sec == 0 && ts->tv_nsec == 0))
        return REAL(ppoll)(fds, nfds, ts, mask);
    poll_fairness();
    int n = REAL(ppoll)(fds, nfds, &zero, mask);
    if (n != 0)
        return n;
    return green_poll(fds, nfds, deadline_ts(ts), mask);
}

// select and pselect: the sets are kept, and handed back to each immediate check.
int green_select(int nfds, fd_set* rd, fd_set* wr, fd_set* ex, int64_t deadline,
                 const sigset_t* mask, struct timespec* left)
{
    static const timespec zero = {0, 0};
    fd_set r0, w0, e0;
    if (rd) r0 = *rd;
    if (wr) w0 = *wr;
    if (ex) e0 = *ex;
    auto restore = [&] {
        if (rd) *rd = r0;
        if (wr) *wr = w0;
        if (ex) *ex = e0;
    };
    WaitMask m(mask);
    int n = green_poll_loop(
        deadline, size_t(nfds),
        [&] {
            restore();
            return REAL(pselect)(nfds, rd, wr, ex, &zero, mask);
        },
        [&](Watches& w) {
            for (int fd = 0; fd < nfds; fd++) {
                int ev = ((rd && FD_ISSET(fd, &r0)) || (ex && FD_ISSET(fd, &e0)) ? EV_READ : 0) |
                         (wr && FD_ISSET(fd, &w0) ? EV_WRITE : 0);
                if (ev && fd_get(fd))
                    w.add(fd, ev);
            }
        });
    if (left) {  // Linux reports the time not slept
        int64_t rest = deadline == kForever ? 0 : deadline - mono_now();
        rest = rest < 0 ? 0 : rest;
        *left = {time_t(rest / 1000000000), long(rest % 1000000000)};
    }
    return n;
}

bool select_is_immediate(int nfds, fd_set* rd, fd_set* wr, fd_set* ex, const sigset_t* mask, int* n)
{
    static const timespec zero = {0, 0};
    poll_fairness();
    fd_set r0, w0, e0;
    if (rd) r0 = *rd;
    if (wr) w0 = *wr;
    if (ex) e0 = *ex;
    *n = REAL(pselect)(nfds, rd, wr, ex, &zero, mask);
    if (*n != 0)
        return true;
    if (rd) *rd = r0;
    if (wr) *wr = w0;
    if (ex) *ex = e0;
    return false;
}

}  // namespace

GREEN_EXPORT int poll(struct pollfd* fds, nfds_t nfds, int timeout)
{
    return do_poll(fds, nfds, timeout);
}

GREEN_EXPORT int __poll_chk(struct pollfd* fds, nfds_t nfds, int timeout, size_t fdslen)
{
    if (fdslen / sizeof(*fds) < nfds)
        __chk_fail();
    return do_poll(fds, nfds, timeout);
}

GREEN_EXPORT int ppoll(struct pollfd* fds, nfds_t nfds, const struct timespec* ts,
                       const sigset_t* mask)
{
    return do_ppoll(fds, nfds, ts, mask);
}

GREEN_EXPORT int __ppoll_chk(struct pollfd* fds, nfds_t nfds, const struct timespec* ts,
                             const sigset_t* mask, size_t fdslen)
{
    if (fdslen / sizeof(*fds) < nfds)
        __chk_fail();
    return do_ppoll(fds, nfds, ts, mask);
}

GREEN_EXPORT int select(int nfds, fd_set* rd, fd_set* wr, fd_set* ex, struct timeval* tv)
{
    if (!green_in(kSockets) || (tv && tv->tv_sec == 0 && tv->tv_usec == 0) || nfds < 0)
        return REAL(select)(nfds, rd, wr, ex, tv);
    int n;
    if (select_is_immediate(nfds, rd, wr, ex, nullptr, &n))
        return n;
    int64_t deadline = tv ? mono_now() + int64_t(tv->tv_sec) * 1000000000 + tv->tv_usec * 1000 : kForever;
    timespec left;
    n = green_select(nfds, rd, wr, ex, deadline, nullptr, &left);
    if (tv) {
        tv->tv_sec = left.tv_sec;
        tv->tv_usec = left.tv_nsec / 1000;
    }
    return n;
}

GREEN_EXPORT int pselect(int nfds, fd_set* rd, fd_set* wr, fd_set* ex, const struct timespec* ts,
                         const sigset_t* mask)
{
    if (!green_in(kSockets) || (ts && ts->tv_sec == 0 && ts->tv_nsec == 0) || nfds < 0)
        return REAL(pselect)(nfds, rd, wr, ex, ts, mask);
    int n;
    if (select_is_immediate(nfds, rd, wr, ex, mask, &n))
        return n;
    return green_select(nfds, rd, wr, ex, deadline_ts(ts), mask, nullptr);
}

namespace {

int green_epoll(int epfd, struct epoll_event* events, int max, int64_t deadline,
                const sigset_t* mask)
{
    poll_fairness();
    int n = REAL(epoll_pwait)(epfd, events, max, 0, mask);
    if (n != 0)
        return n;
    WaitMask m(mask);
    Green* self = green_self();
    Interruptible scope(self);
    for (;;) {
        int w = handler_came(self) ? -EINTR : wait_fd(epfd, EV_READ, deadline, true);
        if (w == -EBADF) {
            errno = EBADF;
            return -1;
        }
        n = REAL(epoll_pwait)(epfd, events, max, 0, mask);
        if (w == -EINTR && n == 0) {
            errno = EINTR;
            return -1;
        }
        if (n != 0 || w == -ETIMEDOUT)
            return n;
    }
}

}  // namespace

GREEN_EXPORT int epoll_wait(int epfd, struct epoll_event* events, int max, int timeout)
{
    if (!green_in(kSockets) || timeout == 0 || max <= 0)
        return REAL(epoll_wait)(epfd, events, max, timeout);
    return green_epoll(epfd, events, max, deadline_ms(timeout), nullptr);
}

GREEN_EXPORT int epoll_pwait(int epfd, struct epoll_event* events, int max, int timeout,
                             const sigset_t* mask)
{
    if (!green_in(kSockets) || timeout == 0 || max <= 0)
        return REAL(epoll_pwait)(epfd, events, max, timeout, mask);
    return green_epoll(epfd, events, max, deadline_ms(timeout), mask);
}

GREEN_EXPORT int epoll_pwait2(int epfd, struct epoll_event* events, int max,
                              const struct timespec* ts, const sigset_t* mask)
{
    if (!green_in(kSockets) || (ts && ts->tv_sec == 0 && ts->tv_nsec == 0) || max <= 0)
        return REAL(epoll_pwait2)(epfd, events, max, ts, mask);
    return green_epoll(epfd, events, max, deadline_ts(ts), mask);
}
