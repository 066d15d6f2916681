#include "diag.h"

#include <execinfo.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "chaos.h"
#include "config.h"
#include "green.h"
#include "handoff.h"
#include "workers.h"
#include "log.h"
#include "sys.h"

namespace green {

namespace {

// A block of lines formatted on the stack and written at once, so that a report is not
// interleaved with the program's output line by line.  snprintf into a caller's buffer
// allocates nothing for the conversions used here.
class Block {
public:
    explicit Block(int fd = log_fd) : fd_(fd) {}
    void line(const char* fmt, ...) __attribute__((format(printf, 2, 3)))
    {
        if (sizeof buf_ - n_ < 512)
            flush();
        int m = snprintf(buf_ + n_, sizeof buf_ - n_, "libgreen: ");
        n_ += size_t(m);
        va_list ap;
        va_start(ap, fmt);
        m = vsnprintf(buf_ + n_, sizeof buf_ - n_ - 1, fmt, ap);
        va_end(ap);
        n_ = m < 0 ? n_ : n_ + size_t(m) > sizeof buf_ - 2 ? sizeof buf_ - 2 : n_ + size_t(m);
        buf_[n_++] = '\n';
    }
    void flush()
    {
        log_write(buf_, n_, fd_);
        n_ = 0;
    }
    ~Block() { flush(); }

private:
    int fd_;
    char buf_[2048];
    size_t n_ = 0;
};

// Nanoseconds as a short human duration: "850 us", "12.3 ms", "1.52 s".
const char* duration(int64_t ns, char* buf, size_t size)
{
    if (ns < 0)
        ns = 0;
    if (ns < 1000000)
        snprintf(buf, size, "%" PRId64 " us", ns / 1000);
    else if (ns < 1000000000)
        snprintf(buf, size, "%.1f ms", double(ns) / 1e6);
    else
        snprintf(buf, size, "%.2f s", double(ns) / 1e9);
    return buf;
}

// "thread 3 (main) \"name\"" for reports.
const char* describe(const Green* g, char* buf, size_t size)
{
    char name[20] = "";
    if (g->name[0]) {
        char copy[16];
        memcpy(copy, g->name, sizeof copy);  // another OS thread may be renaming it
        copy[15] = '\0';
        snprintf(name, sizeof name, " \"%s\"", copy);
    }
    snprintf(buf, size, "thread %" PRIu64 "%s%s", g->id, g->is_root ? " (main)" : "", name);
    return buf;
}

// ---- statistics ---------------------------------------------------------------------------

void stats_at_exit() { print_stats(); }

// ---- dump signal --------------------------------------------------------------------------

// Only flags and wakes: the hub prints from its loop context (ev_async_send is safe here).
void on_dump_signal(int)
{
    int saved = errno;
    for (Hub* h = all_hubs.load(std::memory_order_acquire); h; h = h->next_hub) {
        h->dump_requested.store(true, std::memory_order_relaxed);
        if (h->loop_ready.load(std::memory_order_acquire))
            ev_async_send(h->evloop, &h->remote_async);
    }
    errno = saved;
}

// ---- watchdog -----------------------------------------------------------------------------

int backtrace_signal() { return SIGRTMAX - 3; }

std::atomic<bool> backtrace_done{false};

// Runs on the stalled OS thread itself, interrupting whatever it does (a restartable system
// call is restarted: SA_RESTART).  backtrace() was called once at start-up, so the unwinder
// library is already loaded and it allocates nothing here.
void on_backtrace_signal(int)
{
    int saved = errno;
    static void* frames[64];
    int n = backtrace(frames, 64);
    backtrace_symbols_fd(frames, n, log_fd);
    backtrace_done.store(true, std::memory_order_release);
    errno = saved;
}

bool backtrace_handler_installed()
{
    struct sigaction sa;
    return libc_sigaction(backtrace_signal(), nullptr, &sa) == 0 &&
           sa.sa_handler == on_backtrace_signal;
}

// Whether OS thread tid blocks sig (its SigBlk in /proc): a blocked backtrace signal would
// stay pending and run its handler at some later, unrelated moment.
bool signal_blocked(int tid, int sig)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
    if (!read_small_file(path, buf, sizeof buf))
        return false;
    const char* line = strstr(buf, "\nSigBlk:");
    if (!line)
        return false;
    unsigned long long mask = strtoull(line + 8, nullptr, 16);
    return (mask >> (sig - 1)) & 1;
}

// The watchdog has a descriptor table of its own, empty but for a pidfd of its process.  While
// two threads share a table, the kernel takes and drops a reference on the file in every
// system call on a descriptor (a lone thread borrows it): some 50 ns more on a 310 ns recv
// here, 2-3% of the CPU time of an echo round trip, which makes three such calls
// (scripts/bench_diag.sh, BENCHMARKS.md).  So the watchdog leaves the shared table, closing
// its copy of every descriptor in the same step: holding the program's files open, it would
// keep a pipe the program closed from ever reaching its end.  To report, it fetches the log's
// descriptor from the process's table (pidfd_getfd), so that it writes where the hub's own
// messages go at that moment.  Where these calls are refused (kernels before 5.9, a seccomp
// filter), it stays on the shared table.
int wd_pidfd = -1;  // in the watchdog's own table; -1: it shares the program's

void leave_descriptor_table()
{
    wd_pidfd = -1;
    long pid = raw_syscall(SYS_getpid);
    long pidfd = raw_syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0)
        return;
    long probe = raw_syscall(SYS_pidfd_getfd, pidfd, log_fd, 0);
    raw_syscall(SYS_close, pidfd);
    if (probe < 0)
        return;
    raw_syscall(SYS_close, probe);
    if (raw_syscall(SYS_close_range, 0, ~0U, CLOSE_RANGE_UNSHARE) != 0)
        return;
    // Into an empty table: fails only for want of memory, and the reports are then lost.
    wd_pidfd = int(raw_syscall(SYS_pidfd_open, pid, 0));
}

// The log's descriptor as the watchdog sees it, for one report.
class WatchdogLog {
public:
    WatchdogLog()
        : fd_(wd_pidfd < 0 ? log_fd : int(raw_syscall(SYS_pidfd_getfd, wd_pidfd, log_fd, 0)))
    {
    }
    ~WatchdogLog()
    {
        if (wd_pidfd >= 0 && fd_ >= 0)
            raw_syscall(SYS_close, fd_);
    }
    int fd() const { return fd_; }

private:
    int fd_;
};

void watchdog_report(Hub* h, int64_t stalled)
{
    char d1[32], d2[32], who[64];
    const Green* g = __atomic_load_n(&h->current, __ATOMIC_RELAXED);
    WatchdogLog log;
    {
        Block b(log.fd());
        if (g == &h->loop)
            snprintf(who, sizeof who, "its loop context (a libev callback)");
        else
            describe(g, who, sizeof who);
        b.line("watchdog: OS thread %d has not come back to its hub for %s (GREEN_WATCHDOG is "
               "%s); running: green %s", h->tid, duration(stalled, d1, sizeof d1),
               duration(config.watchdog_ns, d2, sizeof d2), who);
        // Only while the handler is still ours (the program may have taken the signal since)
        // and the thread can take it now.
        if (!backtrace_handler_installed()) {
            b.line("watchdog: no backtrace: the program handles signal %d itself",
                   backtrace_signal());
            return;
        }
        if (signal_blocked(h->tid, backtrace_signal())) {
            b.line("watchdog: no backtrace: OS thread %d blocks signal %d", h->tid,
                   backtrace_signal());
            return;
        }
        b.line("watchdog: backtrace of OS thread %d:", h->tid);
    }
    backtrace_done.store(false);
    if (raw_syscall(SYS_tgkill, getpid(), h->tid, backtrace_signal()) != 0)
        return;
    for (int i = 0; i < 50 && !backtrace_done.load(std::memory_order_acquire); i++) {
        timespec ts = {0, 10 * 1000000};
        raw_syscall(SYS_nanosleep, long(&ts), 0);
    }
    Block(log.fd()).line("watchdog: end of backtrace");
}

void watch(Hub* h, int64_t now)
{
    uint64_t beat = h->heartbeat.load(std::memory_order_relaxed);
    bool busy = !h->idle.load(std::memory_order_relaxed) &&
                (__atomic_load_n(&h->live, __ATOMIC_RELAXED) > 1 ||
                 __atomic_load_n(&h->timed_waits, __ATOMIC_RELAXED) > 0 ||
                 __atomic_load_n(&h->fd_waits, __ATOMIC_RELAXED) > 0);
    if (beat != h->wd_seen || !busy) {
        h->wd_seen = beat;
        h->wd_since = now;
        h->wd_reported = false;
        return;
    }
    if (!h->wd_reported && now - h->wd_since > config.watchdog_ns) {
        h->wd_reported = true;
        watchdog_report(h, now - h->wd_since);
    }
}

}  // namespace

bool diag_start()
{
    if (config.stats)
        atexit(stats_at_exit);
    if (config.dump_signal) {
        // The loop must exist before the signal can wake it.
        if (Hub* h = hub_self())
            hub_ensure_loop(h);
        struct sigaction sa = {};
        sa.sa_handler = on_dump_signal;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        libc_sigaction(config.dump_signal, &sa, nullptr);
    }
    if (config.watchdog_ns <= 0)
        return false;
    void* warm[4];
    backtrace(warm, 4);  // its first call loads libgcc_s: not in a signal handler
    struct sigaction sa = {};
    sa.sa_handler = on_backtrace_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    libc_sigaction(backtrace_signal(), &sa, nullptr);
    return true;
}

void* watchdog_main(void*)
{
    raw_syscall(SYS_prctl, PR_SET_NAME, long("green-watchdog"));
    leave_descriptor_table();
    int64_t period = config.watchdog_ns / 4;
    int64_t next = mono_now();
    for (Hub* h = all_hubs.load(std::memory_order_acquire); h; h = h->next_hub)
        h->wd_since = next;
    for (;;) {
        next += period;
        timespec ts = {time_t(next / 1000000000), long(next % 1000000000)};
        while (raw_syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, long(&ts), 0) ==
               -EINTR) {
        }
        int64_t now = mono_now();
        for (Hub* h = all_hubs.load(std::memory_order_acquire); h; h = h->next_hub)
            watch(h, now);
    }
}

void dump_hub(Hub* h)
{
    int64_t now = mono_now();
    int count = 0;
    for_each_green([&](Green* g) {
        count += hub_of(g) == h && g->state != State::Dead && !is_worker_root(g);
    });
    Block b;
    if (n_workers > 1)
        b.line("dump: process %d, worker %d, OS thread %d: %d green threads", int(getpid()),
               h == main_hub ? 0 : h->worker, h->tid, count);
    else
        b.line("dump: process %d, OS thread %d: %d green threads", int(getpid()), h->tid, count);
    for_each_green([&](Green* g) {
        if (hub_of(g) != h || g->state == State::Dead || is_worker_root(g))
            return;
        char who[64], d1[32], d2[32], what[128] = "", until[48] = "";
        describe(g, who, sizeof who);
        if (g->state == State::Running) {
            b.line("  %s: running", who);
            return;
        }
        if (g->state == State::Runnable) {
            b.line("  %s: runnable", who);
            return;
        }
        if (g->wait_deadline != kForever)
            snprintf(until, sizeof until, ", until %s from now",
                     duration(g->wait_deadline - now, d2, sizeof d2));
        switch (g->wait_kind) {
        case kWaitFd: {
            const char* dir = g->wait_events == (EV_READ | EV_WRITE) ? "read/write"
                              : g->wait_events == EV_WRITE          ? "write"
                                                                    : "read";
            if (g->wait_nfds > 1)
                snprintf(what, sizeof what, "fd %d %s (and %d more fds)", g->wait_fd, dir,
                         g->wait_nfds - 1);
            else
                snprintf(what, sizeof what, "fd %d %s", g->wait_fd, dir);
            break;
        }
        case kWaitTimer:
            snprintf(what, sizeof what, "timer");
            break;
        case kWaitFutex:
            snprintf(what, sizeof what, "%s %p", g->wait_what ? g->wait_what : "futex",
                     g->wait_addr);
            break;
        case kWaitJoin: {
            const Green* t = joined_by(g);
            snprintf(what, sizeof what, "pthread_join of thread %" PRIu64, t ? t->id : 0);
            break;
        }
        default:
            snprintf(what, sizeof what, "other");
            break;
        }
        b.line("  %s: parked for %s on %s%s", who, duration(now - g->wait_since, d1, sizeof d1),
               what, until);
    });
}

void print_stats()
{
    HubStats sum = {};
    int hubs = 0;
    uint64_t preempted = 0, refused = 0;
    for (Hub* h = all_hubs.load(std::memory_order_acquire); h; h = h->next_hub) {
        const HubStats& s = h->stats;
        hubs++;
        preempted += h->preempt.preemptions;
        refused += h->preempt.refused;
        sum.switches += s.switches;
        sum.polls += s.polls;
        sum.created += s.created;
        if (s.peak_live > sum.peak_live)
            sum.peak_live = s.peak_live;
        for (int k = 0; k < kWaitKinds; k++)
            sum.parks[k] += s.parks[k];
        if (s.max_stall_ns > sum.max_stall_ns)
            sum.max_stall_ns = s.max_stall_ns;
        sum.dns_lookups += s.dns_lookups;
        sum.handoffs += s.handoffs;
        sum.steals += s.steals;
        sum.fd_regs_dropped += s.fd_regs_dropped;
    }
    char d[32];
    Block b;
    b.line("statistics of process %d:", int(getpid()));
    b.line("  green threads created: %" PRIu64 ", peak alive: %" PRIu64, sum.created,
           sum.peak_live);
    b.line("  context switches: %" PRIu64, sum.switches);
    b.line("  parks: fd %" PRIu64 ", timer %" PRIu64 ", lock %" PRIu64 ", join %" PRIu64
           ", other %" PRIu64,
           sum.parks[kWaitFd], sum.parks[kWaitTimer], sum.parks[kWaitFutex], sum.parks[kWaitJoin],
           sum.parks[kWaitOther]);
    b.line("  hub loop iterations: %" PRIu64, sum.polls);
    if (preempt_enabled)
        b.line("  %s: %" PRIu64 " threads preempted, %" PRIu64 " ticks not at a safe point",
               chaos_preempt_on ? "preemptions at random" : "time slices", preempted, refused);
    b.line("  longest hub stall: %s", duration(sum.max_stall_ns, d, sizeof d));
    b.line("  DNS look-ups: %" PRIu64, sum.dns_lookups);
    if (sched_seeded)
        b.line("  scheduling points (seeded): %" PRIu64, seeded_steps());
    b.line("  OS threads managed: %d%s", hubs, config.watchdog_ns > 0 ? " (and the watchdog's)" : "");
    int spares = 0, stuck = 0;
    handoff_stats(&spares, &stuck);
    b.line("  hand-offs: %" PRIu64 " (spare OS threads started: %d, most stuck in calls at once: %d)",
           sum.handoffs, spares, stuck);
    if (n_workers > 1) {
        b.line("  threads moved between workers: %" PRIu64, sum.steals);
        b.line("  descriptor registrations dropped after their threads moved: %" PRIu64,
               sum.fd_regs_dropped);
        // Per worker, in worker order: how the work spread.
        for (int w = 0; w < n_workers; w++) {
            const HubStats& s = worker_hub(w)->stats;
            b.line("  worker %d: green threads created %" PRIu64 ", context switches %" PRIu64
                   ", hub loop iterations %" PRIu64 ", hand-offs %" PRIu64
                   ", threads taken from other workers %" PRIu64, w, s.created, s.switches,
                   s.polls, s.handoffs, s.steals);
        }
    }
}

}  // namespace green
