#include "fdtable.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstdlib>
#include <new>

#include "green.h"
#include "sys.h"
#include "workers.h"

namespace green {

namespace {

constexpr int kChunkBits = 10;
constexpr int kChunk = 1 << kChunkBits;
constexpr int kChunks = 1024;  // fds below 1M; ulimit -n is far lower

FdRecord* chunks[kChunks];
SpinLock chunks_lock;

FdRecord* slot(int fd)
{
    if (fd < 0 || fd >= kChunk * kChunks)
        return nullptr;
    // Made once, under the lock, and published whole (release) to readers on any OS thread.
    FdRecord** at = &chunks[fd >> kChunkBits];
    FdRecord* chunk = __atomic_load_n(at, __ATOMIC_ACQUIRE);
    if (!chunk) {
        SpinGuard g(chunks_lock);
        chunk = *at;
        if (!chunk) {
            chunk = static_cast<FdRecord*>(calloc(kChunk, sizeof(FdRecord)));
            if (!chunk)
                return nullptr;
            __atomic_store_n(at, chunk, __ATOMIC_RELEASE);
        }
    }
    return &chunk[fd & (kChunk - 1)];
}

std::atomic<uint32_t> next_desc{1};

// With several workers, a record's list of waits is shared by hubs: a lock per fd (striped),
// taken only then, so that one worker pays nothing for it.
SpinLock wait_locks[256];

class WaitsGuard {
public:
    explicit WaitsGuard(int fd) : lock_(multi_worker ? &wait_locks[unsigned(fd) % 256] : nullptr)
    {
        if (lock_)
            lock_->lock();
    }
    ~WaitsGuard()
    {
        if (lock_)
            lock_->unlock();
    }
    WaitsGuard(const WaitsGuard&) = delete;
    WaitsGuard& operator=(const WaitsGuard&) = delete;

private:
    SpinLock* lock_;
};

void reset(FdRecord* r, FdKind kind, bool user_nonblock)
{
    r->desc = next_desc.fetch_add(1, std::memory_order_relaxed);
    r->dup_shared = false;
    r->kind = kind;
    r->user_nonblock = user_nonblock;
    r->internal_nonblock = false;
    r->nowait_read_unsupported = r->nowait_write_unsupported = false;
    r->rcvtimeo = r->sndtimeo = 0;
    r->gen++;
}

// Learns what an fd libgreen did not see created is: one fstat and one F_GETFL, once.
bool learn(int fd, FdRecord* r)
{
    struct stat st;
    if (raw_syscall(SYS_fstat, fd, long(&st)) != 0)
        return false;  // not open: the caller's real call reports it
    // Anonymous-inode files (eventfd, timerfd, signalfd, epoll, inotify) have no file type
    // bits at all; they are pollable, like character devices.
    FdKind kind = S_ISSOCK(st.st_mode)                                ? FdKind::Socket
                  : S_ISFIFO(st.st_mode)                              ? FdKind::Pipe
                  : S_ISCHR(st.st_mode) || (st.st_mode & S_IFMT) == 0 ? FdKind::Other
                                                                      : FdKind::Passive;
    long flags = raw_syscall(SYS_fcntl, fd, F_GETFL);
    reset(r, kind, flags >= 0 && (flags & O_NONBLOCK));
    return true;
}

void link(FdRecord* r, FdWait* w)
{
    w->prev = nullptr;
    w->next = r->waits;
    if (r->waits)
        r->waits->prev = w;
    r->waits = w;
    w->linked = true;
}

void unlink(FdRecord* r, FdWait* w)
{
    if (!w->linked)
        return;
    (w->prev ? w->prev->next : r->waits) = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->linked = false;
}

void on_ready(struct ev_loop* loop, ev_io* io, int revents)
{
    Green* g = static_cast<Green*>(io->data);
    g->io_revents |= revents;
    // Stop it now, not when the green thread runs: epoll is level-triggered, and until the
    // data is consumed every poll of the loop would report this fd again.
    ev_io_stop(loop, io);
    unpark(g);
}

// Stops and unlinks what wait_fds started that fd_closing has not already.  A close on another
// worker unlinks the wait but leaves the watcher, which only its own hub may stop: here (a
// stopped watcher's stop is a no-op).
void stop_watches(Hub* h, FdWatch* w, int n)
{
    for (int i = 0; i < n; i++) {
        if (!multi_worker && !w[i].wait.linked)
            continue;
        ev_io_stop(h->evloop, &w[i].io);
        WaitsGuard lock(w[i].fd);
        unlink(slot(w[i].fd), &w[i].wait);
    }
    h->fd_waits--;
}

}  // namespace

FdRecord* fd_get(int fd)
{
    FdRecord* r = slot(fd);
    if (r && r->kind == FdKind::Unknown && !learn(fd, r))
        return nullptr;
    return r;
}

void fd_created(int fd, FdKind kind, bool user_nonblock)
{
    if (FdRecord* r = slot(fd)) {
        fd_closing(fd);
        reset(r, kind, user_nonblock);
    }
}

void fd_forget(int fd)
{
    if (FdRecord* r = slot(fd)) {
        fd_closing(fd);
        reset(r, FdKind::Unknown, false);
    }
}

void fd_copied(int oldfd, int newfd)
{
    FdRecord* from = slot(oldfd);
    FdRecord* to = slot(newfd);
    if (!from || !to)
        return;
    fd_closing(newfd);
    uint32_t gen = to->gen;
    *to = *from;
    to->gen = gen + 1;
    to->waits = nullptr;
    from->dup_shared = to->dup_shared = true;
}

void fd_set_user_nonblock(int fd, bool on)
{
    FdRecord* r = slot(fd);
    if (!r)
        return;
    r->user_nonblock = on;
    if (!r->dup_shared)
        return;
    for (int c = 0; c < kChunks; c++) {  // rare: a dup'd description changes its flag
        if (!chunks[c])
            continue;
        for (int i = 0; i < kChunk; i++)
            if (chunks[c][i].desc == r->desc && chunks[c][i].kind != FdKind::Unknown)
                chunks[c][i].user_nonblock = on;
    }
}

void fd_closing(int fd)
{
    FdRecord* r = slot(fd);
    if (!r || !__atomic_load_n(&r->waits, __ATOMIC_ACQUIRE))
        return;  // a wait another worker links after this began after the close, as a read
                 // that blocks in the kernel after it would
    WaitsGuard lock(fd);
    Hub* here = hub_self();
    for (FdWait* w = r->waits; w;) {
        FdWait* next = w->next;
        // Only the waiter's own hub may touch its watcher.  A waiter of this hub, or of an OS
        // thread libgreen does not manage, is stopped and woken here.  One on another worker
        // (several workers) is unlinked and told, and stops its own watcher when it wakes.
        // Closed from an unmanaged thread, the wait goes on, as a blocked read does in Linux
        // when another thread closes its fd.
        if (w->green->hub == here) {
            unlink(r, w);
            ev_io_stop(w->green->hub->evloop, w->io);
            __atomic_store_n(w->closed, true, __ATOMIC_RELEASE);
            unpark(w->green);
        } else if (multi_worker && here) {
            unlink(r, w);
            __atomic_store_n(w->closed, true, __ATOMIC_RELEASE);
            unpark_wait(w->green, 0, kWakeFdClosed);
        }
        w = next;
    }
    r->gen++;
}

void fd_after_fork_child()
{
    new (&chunks_lock) SpinLock;
    for (SpinLock& l : wait_locks)
        new (&l) SpinLock;
    for (int c = 0; c < kChunks; c++) {
        if (!chunks[c])
            continue;
        for (int i = 0; i < kChunk; i++)
            chunks[c][i].waits = nullptr;
    }
}

namespace {

// Calls f(fd, record) for every record that holds libgreen's own O_NONBLOCK.
template <class F>
void for_each_internal(F f)
{
    for (int c = 0; c < kChunks; c++) {
        if (!chunks[c])
            continue;
        for (int i = 0; i < kChunk; i++)
            if (chunks[c][i].internal_nonblock && chunks[c][i].kind != FdKind::Unknown)
                f(c * kChunk + i, &chunks[c][i]);
    }
}

}  // namespace

void fd_release_internal()
{
    for_each_internal([](int fd, FdRecord* r) {
        long fdflags = raw_syscall(SYS_fcntl, fd, F_GETFD);
        if (fdflags < 0 || (fdflags & FD_CLOEXEC) || r->user_nonblock)
            return;
        long fl = raw_syscall(SYS_fcntl, fd, F_GETFL);
        if (fl >= 0)
            raw_syscall(SYS_fcntl, fd, F_SETFL, fl & ~O_NONBLOCK);
    });
}

void fd_restore_internal()
{
    for_each_internal([](int fd, FdRecord*) {
        long fl = raw_syscall(SYS_fcntl, fd, F_GETFL);
        if (fl >= 0 && !(fl & O_NONBLOCK))
            raw_syscall(SYS_fcntl, fd, F_SETFL, fl | O_NONBLOCK);
    });
}

int wait_fds(FdWatch* w, int n, int64_t deadline, bool cancellable)
{
    Hub* h = hub_self();
    Green* self = h->current;
    hub_ensure_loop(h);
    bool closed = false;
    self->io_revents = 0;
    for (int i = 0; i < n; i++) {
        ev_io_init(&w[i].io, on_ready, w[i].fd, w[i].events);
        w[i].io.data = self;
        ev_io_start(h->evloop, &w[i].io);
        w[i].wait = FdWait{self, &w[i].io, nullptr, nullptr, false, &closed};
        WaitsGuard lock(w[i].fd);
        link(slot(w[i].fd), &w[i].wait);
    }
    h->fd_waits++;
    self->wait_fd = n > 0 ? w[0].fd : -1;
    self->wait_events = uint8_t(n > 0 ? w[0].events & (EV_READ | EV_WRITE) : 0);
    self->wait_nfds = n;
    int result;
    for (;;) {
        if (cancellable && cancel_requested(self) && !cancel_off(self) && !self->exiting) {
            stop_watches(h, w, n);
            green_exit(PTHREAD_CANCELED);
        }
        self->in_cancel_point = cancellable;
        int reason = park_until(deadline, kWaitFd);
        self->in_cancel_point = false;
        if (__atomic_load_n(&closed, __ATOMIC_ACQUIRE)) {
            result = -EBADF;
            break;
        }
        if (int ready = self->io_revents & (EV_READ | EV_WRITE)) {
            result = ready;
            break;
        }
        if (reason == kWakeTimeout || (deadline != kForever && mono_now() >= deadline)) {
            result = -ETIMEDOUT;
            break;
        }
        if (reason == kWakeInterrupt) {
            result = -EINTR;
            break;
        }
        // Woken for nothing (a stale wake-up) or for a cancellation: look again.
    }
    stop_watches(h, w, n);
    return result;
}

int wait_fd(int fd, int events, int64_t deadline, bool cancellable)
{
    FdWatch w;
    w.fd = fd;
    w.events = events;
    return wait_fds(&w, 1, deadline, cancellable);
}

}  // namespace green
