#include "fdtable.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
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

// Makes the chunk at *at once, under the lock, and publishes it whole (release) to readers on
// any OS thread.  Out of line: slot's fast path stays a few instructions (callgrind: 25 with
// this inlined, register saves included, on every descriptor call).
__attribute__((noinline)) FdRecord* make_chunk(FdRecord** at)
{
    SpinGuard g(chunks_lock);
    FdRecord* chunk = *at;
    if (!chunk) {
        chunk = static_cast<FdRecord*>(aligned_alloc(64, kChunk * sizeof(FdRecord)));
        if (chunk) {
            memset(static_cast<void*>(chunk), 0, kChunk * sizeof(FdRecord));
            __atomic_store_n(at, chunk, __ATOMIC_RELEASE);
        }
    }
    return chunk;
}

inline FdRecord* slot(int fd)
{
    if (unsigned(fd) >= unsigned(kChunk * kChunks))
        return nullptr;
    FdRecord** at = &chunks[fd >> kChunkBits];
    FdRecord* chunk = __atomic_load_n(at, __ATOMIC_ACQUIRE);
    if (__builtin_expect(!chunk, 0) && !(chunk = make_chunk(at)))
        return nullptr;
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

void reset(FdRecord* r, FdKind kind, bool user_nonblock, bool stream = false)
{
    r->desc = next_desc.fetch_add(1, std::memory_order_relaxed);
    r->dup_shared = false;
    r->stream = stream;
    r->kind = kind;
    r->user_nonblock = user_nonblock;
    r->internal_nonblock = false;
    r->nowait_read_unsupported = r->nowait_write_unsupported = false;
    r->rcvtimeo = r->sndtimeo = 0;
    __atomic_store_n(&r->wait_hub, nullptr, __ATOMIC_RELAXED);
    __atomic_fetch_add(&r->gen, 1, __ATOMIC_RELEASE);  // read by other hubs' poll sets
}

// Learns what an fd libgreen did not see created is: one fstat and one F_GETFL, once.  Out of
// line, as make_chunk is, for fd_get's fast path.
__attribute__((noinline)) bool learn(int fd, FdRecord* r)
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

// A hub's epoll set (see fdtable.h), touched only by the OS thread that runs the hub.
struct PollSet {
    int epfd;                 // the epoll instance, -1 until the first wait (or after fork)
    struct ev_loop* loop;     // the loop io is started on (a loop made anew needs it again)
    ev_io io;                 // readable while the set has events
    uint64_t* regs[kChunks];  // per fd: kRegistered | the generation it was registered with
};

constexpr uint64_t kRegistered = uint64_t(1) << 32;
constexpr uint64_t kEmpty = uint64_t(1) << 33;  // fd_read_found_empty, no read event since
// A state was seen in which a short read may leave something to read: the end of the stream
// or an error (EPOLLRDHUP, EPOLLHUP, EPOLLERR: the next read returns at once), TCP urgent data
// (EPOLLPRI: a read stops short at its mark, with data after it).  From then on a short read
// tells nothing for this registration.
constexpr uint64_t kNoHint = uint64_t(1) << 34;
constexpr uint32_t kNoHintEvents = EPOLLRDHUP | EPOLLHUP | EPOLLERR | EPOLLPRI;
constexpr int kBatch = 64;  // events taken per look; more wait for the loop's next iteration

int ev_of(uint32_t epoll_events)
{
    // As libev reads them: an error or a hang-up wakes readers and writers alike.
    return ((epoll_events & (EPOLLIN | EPOLLRDHUP | EPOLLPRI | EPOLLERR | EPOLLHUP)) ? EV_READ : 0) |
           ((epoll_events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) ? EV_WRITE : 0);
}

// With several workers, after an event of h's set for fd: when the fd's latest wait was on
// another hub and no wait of h is linked, its green thread moved there (work sharing) and this
// registration is left over.  It is dropped, else every later change of the fd's state would
// come here too, for as long as the fd lives.  When the latest wait was on h, nothing is done
// (an event that comes while the fd's thread runs is the steady state) and it costs no
// epoll_ctl.  Two threads of two hubs that take turns waiting on one fd may see it dropped and
// registered again by turns: an epoll_ctl per event at most, in that rare pattern only.
__attribute__((noinline)) void drop_left_over(Hub* h, PollSet* ps, int fd, FdRecord* r)
{
    Hub* latest = __atomic_load_n(&r->wait_hub, __ATOMIC_RELAXED);
    uint64_t* chunk = ps->regs[fd >> kChunkBits];
    if (!latest || latest == h || !chunk || !(chunk[fd & (kChunk - 1)] & kRegistered))
        return;
    {
        // None of h's is linked meanwhile: this is h's OS thread, and only h's green threads
        // link waits of h.
        WaitsGuard lock(fd);
        for (FdWait* w = r->waits; w; w = w->next)
            if (w->hub == h)
                return;
    }
    // The number still refers to the description registered (deliver saw the generation; a
    // close since makes this fail with ENOENT or removes nothing of this set's).
    raw_syscall(SYS_epoll_ctl, ps->epfd, EPOLL_CTL_DEL, fd, 0);
    chunk[fd & (kChunk - 1)] = 0;  // a wait here registers it again (the add reports readiness)
    h->stats.fd_regs_dropped++;
}

// Wakes the waits of this hub on fd for the events ev (the loop context runs this).  The
// event's generation tells a registration of the number's current description from one left
// by a description closed since (kept alive by a dup, or reused by dup2).  several:
// multi_worker, read once per batch.
void deliver(Hub* h, PollSet* ps, int fd, uint32_t gen, int ev, bool several)
{
    FdRecord* r = slot(fd);
    if (!r || __atomic_load_n(&r->gen, __ATOMIC_ACQUIRE) != gen)
        return;
    if (__atomic_load_n(&r->waits, __ATOMIC_ACQUIRE)) {
        WaitsGuard lock(fd);
        for (FdWait* w = r->waits; w; w = w->next) {
            int got = ev & w->events;
            if (w->hub != h || !got)
                continue;
            // The events first, then the park they end: the waiter, between two parks, writes
            // its seq and then looks at io_revents (wait_fds), so one of the two sees the other.
            __atomic_fetch_or(&w->green->io_revents, got, __ATOMIC_SEQ_CST);
            unpark_wait(w->green, __atomic_load_n(&w->seq, __ATOMIC_SEQ_CST));
        }
    }
    if (__builtin_expect(several, 0))
        drop_left_over(h, ps, fd, r);
}

void on_poll_set(struct ev_loop*, ev_io* io, int)
{
    Hub* h = hub_self();
    auto* ps = static_cast<PollSet*>(io->data);
    epoll_event evs[kBatch];
    long n = raw_syscall(SYS_epoll_wait, ps->epfd, long(evs), kBatch, 0);
    bool several = multi_worker;
    for (long i = 0; i < n; i++) {
        int fd = int(uint32_t(evs[i].data.u64));
        int ev = ev_of(evs[i].events);
        if (ev & EV_READ)
            if (uint64_t* chunk = ps->regs[fd >> kChunkBits]) {
                uint64_t& reg = chunk[fd & (kChunk - 1)];
                reg = (reg & ~kEmpty) | ((evs[i].events & kNoHintEvents) ? kNoHint : 0);
            }
        deliver(h, ps, fd, uint32_t(evs[i].data.u64 >> 32), ev, several);
    }
}

// The hub's poll set, its epoll instance made and watched by the hub's loop; nullptr when no
// epoll instance can be made.
PollSet* poll_set(Hub* h)
{
    auto* ps = static_cast<PollSet*>(h->fd_poll);
    if (!ps) {
        ps = static_cast<PollSet*>(calloc(1, sizeof(PollSet)));
        if (!ps)
            return nullptr;
        ps->epfd = -1;
        h->fd_poll = ps;
    }
    if (ps->epfd < 0) {
        int fd = int(raw_syscall(SYS_epoll_create1, EPOLL_CLOEXEC));
        if (fd >= 0 && fd <= 2) {  // never a standard stream's number, which a program reopens
            int moved = int(raw_syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 3));
            raw_syscall(SYS_close, fd);
            fd = moved;
        }
        if (fd < 0)
            return nullptr;
        ps->epfd = fd;
        ps->loop = nullptr;
    }
    if (ps->loop != h->evloop || ev_userdata(h->evloop) != ps) {
        ev_io_init(&ps->io, on_poll_set, ps->epfd, EV_READ);
        ps->io.data = ps;
        ev_io_start(h->evloop, &ps->io);
        ev_set_userdata(h->evloop, ps);  // tells this loop from a new one at the same address
        ps->loop = h->evloop;
    }
    return ps;
}

// Registers fd in the hub's set unless it is there already for the record's generation:
// 0, or -errno from epoll_ctl.
long poll_register(PollSet* ps, int fd, FdRecord* r)
{
    uint64_t*& chunk = ps->regs[fd >> kChunkBits];
    if (!chunk && !(chunk = static_cast<uint64_t*>(calloc(kChunk, sizeof(uint64_t)))))
        return -ENOMEM;
    uint32_t gen = __atomic_load_n(&r->gen, __ATOMIC_ACQUIRE);
    uint64_t& reg = chunk[fd & (kChunk - 1)];
    if ((reg & ~(kEmpty | kNoHint)) == (kRegistered | gen))
        return 0;
    epoll_event ev;
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET | kNoHintEvents;
    ev.data.u64 = uint64_t(gen) << 32 | uint32_t(fd);
    long rc = raw_syscall(SYS_epoll_ctl, ps->epfd, EPOLL_CTL_ADD, fd, long(&ev));
    // Already there: the same description under the same number, registered for an earlier
    // generation (dup2 of a dup back onto a closed number).  Modifying it checks readiness
    // again, as adding does.
    if (rc == -EEXIST)
        rc = raw_syscall(SYS_epoll_ctl, ps->epfd, EPOLL_CTL_MOD, fd, long(&ev));
    reg = rc == 0 ? kRegistered | gen : 0;
    return rc;
}

// The calling hub's registration word of fd when it is for the record's generation, or
// nullptr.
uint64_t* current_reg(int fd, FdRecord* r)
{
    Hub* h = hub_self();
    auto* ps = h ? static_cast<PollSet*>(h->fd_poll) : nullptr;
    if (!ps || ps->epfd < 0)
        return nullptr;
    uint64_t* chunk = ps->regs[fd >> kChunkBits];
    if (!chunk)
        return nullptr;
    uint64_t* reg = &chunk[fd & (kChunk - 1)];
    uint32_t gen = __atomic_load_n(&r->gen, __ATOMIC_ACQUIRE);
    return (*reg & ~(kEmpty | kNoHint)) == (kRegistered | gen) ? reg : nullptr;
}

// Unlinks what wait_fds linked that fd_closing has not already.
void unlink_waits(FdWatch* w, int n)
{
    for (int i = 0; i < n; i++) {
        if (!multi_worker && !w[i].wait.linked)
            continue;
        WaitsGuard lock(w[i].fd);
        unlink(slot(w[i].fd), &w[i].wait);
    }
}

}  // namespace

FdRecord* fd_get(int fd)
{
    FdRecord* r = slot(fd);
    if (r && r->kind == FdKind::Unknown && !learn(fd, r))
        return nullptr;
    return r;
}

void fd_created(int fd, FdKind kind, bool user_nonblock, bool stream)
{
    if (FdRecord* r = slot(fd)) {
        fd_closing(fd);
        reset(r, kind, user_nonblock, stream);
    }
}

bool stream_socket(int domain, int type, int protocol)
{
    // Not SCTP or MPTCP streams, nor other families: their reads may stop short of the end.
    return (type & 0xf) == SOCK_STREAM &&
           (domain == AF_UNIX ||
            ((domain == AF_INET || domain == AF_INET6) && (protocol == 0 || protocol == IPPROTO_TCP)));
}

bool fd_known_empty(int fd, FdRecord* r)
{
    uint64_t* reg = current_reg(fd, r);
    return reg && (*reg & kEmpty);
}

void fd_read_found_empty(int fd, FdRecord* r)
{
    // Registered on this hub before the read (nothing registers between a read and this), so
    // data that came after the read is an event still to come.
    if (uint64_t* reg = current_reg(fd, r))
        if (!(*reg & kNoHint))
            *reg |= kEmpty;
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
    FdRecord copy = *from;
    copy.gen = to->gen + 1;
    copy.waits = nullptr;
    copy.wait_hub = nullptr;
    *to = copy;
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
        // A waiter of this hub is woken here, one on another worker (several workers) through
        // its hub.  Closed from an unmanaged thread, the wait goes on, as a blocked read does
        // in Linux when another thread closes its fd.
        if (hub_of(w->green) == here) {
            unlink(r, w);
            __atomic_store_n(w->closed, true, __ATOMIC_RELEASE);
            unpark(w->green);
        } else if (multi_worker && here) {
            unlink(r, w);
            __atomic_store_n(w->closed, true, __ATOMIC_RELEASE);
            unpark_wait(w->green, 0, kWakeFdClosed);
        }
        w = next;
    }
    __atomic_fetch_add(&r->gen, 1, __ATOMIC_RELEASE);
}

void fd_after_fork_child()
{
    // The parent's epoll instances: a registration made here would wake the parent's hubs.
    for (Hub* h = all_hubs.load(); h; h = h->next_hub)
        if (auto* ps = static_cast<PollSet*>(h->fd_poll)) {
            if (ps->epfd >= 0)
                raw_syscall(SYS_close, ps->epfd);
            ps->epfd = -1;
            for (uint64_t* chunk : ps->regs)
                if (chunk)
                    memset(chunk, 0, kChunk * sizeof(uint64_t));
        }
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
    PollSet* ps = poll_set(h);
    bool closed = false;
    __atomic_store_n(&self->io_revents, 0, __ATOMIC_RELAXED);
    uint32_t seq = self->park_seq.load(std::memory_order_relaxed);
    int refused = 0;  // events of fds the set cannot take: reported ready
    bool degraded = false;
    for (int i = 0; i < n; i++) {
        FdRecord* r = slot(w[i].fd);
        w[i].wait = FdWait{self, h, nullptr, nullptr, seq, uint8_t(w[i].events), false, &closed};
        long rc = !r ? -EBADF : ps ? poll_register(ps, w[i].fd, r) : -ENOMEM;
        if (rc != 0) {
            // Not in the set: a regular file or a directory (EPERM: epoll refuses what is
            // always ready), a closed fd (EBADF: the caller's call reports it), or no memory
            // or room for watches, where a look every millisecond stands in for the event.
            refused |= w[i].events;
            degraded |= rc != -EPERM && rc != -EBADF;
        }
        if (r) {
            WaitsGuard lock(w[i].fd);
            link(r, &w[i].wait);
            if (__atomic_load_n(&r->wait_hub, __ATOMIC_RELAXED) != h)  // the same, in steady state
                __atomic_store_n(&r->wait_hub, h, __ATOMIC_RELAXED);
        }
    }
    if (refused && !degraded) {
        unlink_waits(w, n);
        return refused;
    }
    int64_t wake_at = deadline;
    if (degraded) {
        int64_t soon = mono_now() + 1000000;
        wake_at = deadline == kForever || soon < deadline ? soon : deadline;
    }
    h->fd_waits++;
    self->wait_fd = n > 0 ? w[0].fd : -1;
    self->wait_events = uint8_t(n > 0 ? w[0].events & (EV_READ | EV_WRITE) : 0);
    self->wait_nfds = n;
    int result;
    for (;;) {
        if (cancellable && cancel_requested(self) && !cancel_off(self) && !self->exiting) {
            unlink_waits(w, n);
            h->fd_waits--;
            green_exit(PTHREAD_CANCELED);
        }
        // This park's number, then the events: deliver() writes them in the other order.
        uint32_t now_seq = self->park_seq.load(std::memory_order_relaxed);
        for (int i = 0; i < n; i++)
            __atomic_store_n(&w[i].wait.seq, now_seq, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&self->io_revents, __ATOMIC_SEQ_CST) & (EV_READ | EV_WRITE)) {
            result = __atomic_load_n(&self->io_revents, __ATOMIC_RELAXED) & (EV_READ | EV_WRITE);
            break;
        }
        self->in_cancel_point = cancellable;
        int reason = park_until(wake_at, kWaitFd);
        self->in_cancel_point = false;
        if (__atomic_load_n(&closed, __ATOMIC_ACQUIRE)) {
            result = -EBADF;
            break;
        }
        if (int ready = __atomic_load_n(&self->io_revents, __ATOMIC_SEQ_CST) & (EV_READ | EV_WRITE)) {
            result = ready;
            break;
        }
        if (degraded && reason == kWakeTimeout && (deadline == kForever || mono_now() < deadline)) {
            result = refused;
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
    unlink_waits(w, n);
    h->fd_waits--;
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
