// Seeded schedules, virtual time, schedule fuzzing and fault injection (see chaos.h).
#include "chaos.h"

#include <ev.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "config.h"
#include "green.h"
#include "log.h"
#include "seeded.h"
#include "sys.h"

namespace green {

bool sched_seeded = false;
bool chaos_on = false;
bool inject_on = false;
bool io_hooks_on = false;
bool pct_on = false;
bool chaos_preempt_on = false;

namespace seeded {

uint64_t the_seed = 0;
double chaos_probability = 0;
double expire_probability = 0;
int pct_depth = 0;
uint64_t pct_steps = 1000;
bool schedule_on = false;
Decision* plan = nullptr;
size_t plan_len = 0;
int trace_fd = -1;

namespace {
std::atomic<uint64_t> hubs_seeded{0};
int64_t chaos_preempt_mean = 0;  // GREEN_CHAOS_PREEMPT: the mean interval between ticks, ns
Rng chaos_preempt_rng;           // its draws (only the tick's handler uses it)
}  // namespace

SeedState* seed_state(Hub* h)
{
    SeedState* s = static_cast<SeedState*>(h->seed_state);
    if (__builtin_expect(s != nullptr, 1))
        return s;
    s = new SeedState;
    // The first hub uses the seed itself; later hubs (several OS threads) a derived one.
    uint64_t base = the_seed + 0x51ed2701ull * hubs_seeded.fetch_add(1);
    s->sched.seed(base);
    s->chaos.seed(base ^ 0xc4a05c4a05ull);
    s->inject.seed(base ^ 0x1a7ec71a7ecull);
    s->expire.seed(base ^ 0xe4b14eull);
    s->shuffle.seed(base ^ 0x5b0ff1eull);
    // PCT's d - 1 change points, uniform over the steps the run is estimated to take.
    Rng pct;
    pct.seed(base ^ 0x9c7ull);
    for (int i = 0; i + 1 < pct_depth; i++)
        s->change[i] = 1 + pct.below(pct_steps);
    s->ready = true;
    h->seed_state = s;
    return s;
}

}  // namespace seeded

using namespace seeded;

namespace {

double fault_prob[kFaultCount];
int64_t fault_delay[kFaultCount];
std::atomic<uint64_t> fault_count[kFaultCount];

// ---- virtual time ----

// The virtual CLOCK_MONOTONIC, process-wide; the other clocks keep their offset from it as
// measured at start-up.  Advanced by the hub's OS thread only (one hub per process today).
int64_t vnow = 0;
int64_t realtime_offset = 0, boottime_offset = 0;
constexpr int64_t kReadTick = 1000;     // each clock read: 1 µs
constexpr int64_t kSwitchTick = 1000;   // each context switch: 1 µs
constexpr int64_t kTimerSlack = 50000;  // timers due within 50 µs of each other fire together

int64_t real_ns(clockid_t clock)
{
    timespec ts;
    raw_syscall(SYS_clock_gettime, clock, long(&ts));
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// ---- configuration ----

char replay_line[256];  // "GREEN_SEED=N GREEN_CHAOS=..." to rerun this very schedule
size_t replay_len = 0;
char rerun_command[1024];  // replay_line, then the command: what a deadlock report prints

// The command line of this process (from /proc/self/cmdline), each word quoted for a shell
// where needed, after "greenrun --": appended to the replay line.
void make_rerun_command()
{
    size_t n = size_t(snprintf(rerun_command, sizeof rerun_command, "%s greenrun --", replay_line));
    char args[768];
    long fd = raw_syscall(SYS_openat, AT_FDCWD, long("/proc/self/cmdline"), O_RDONLY | O_CLOEXEC);
    long len = fd < 0 ? -1 : raw_syscall(SYS_read, fd, long(args), sizeof args - 1);
    if (fd >= 0)
        raw_syscall(SYS_close, fd);
    if (len <= 0)
        return;
    args[len] = '\0';
    for (const char* a = args; a < args + len && n + 8 < sizeof rerun_command; a += strlen(a) + 1) {
        bool plain = *a != '\0';
        for (const char* c = a; *c; c++)
            plain &= (bool)strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=,+-@%", *c);
        rerun_command[n++] = ' ';
        if (!plain)
            rerun_command[n++] = '\'';
        for (const char* c = a; *c && n + 6 < sizeof rerun_command; c++) {
            if (*c == '\'') {
                memcpy(rerun_command + n, "'\\''", 4);
                n += 4;
            } else {
                rerun_command[n++] = *c;
            }
        }
        if (!plain)
            rerun_command[n++] = '\'';
    }
    rerun_command[n < sizeof rerun_command ? n : sizeof rerun_command - 1] = '\0';
}

void print_replay(const char* why)
{
    log_msg(kLogError, "%s; seed %llu: rerun with %s%s", why, (unsigned long long)the_seed,
            replay_line,
            chaos_preempt_on ? " (not exactly this run: where the preemptions fall is not seeded)"
                             : "");
}

void print_summary()
{
    char buf[400];
    size_t n = 0;
    for (int f = 0; f < kFaultCount; f++) {
        uint64_t c = fault_count[f].load(std::memory_order_relaxed);
        if (c && n < sizeof buf - 40)
            n += size_t(snprintf(buf + n, sizeof buf - n, "%s%s %llu", n ? ", " : "",
                                 fault_names[f], (unsigned long long)c));
    }
    log_msg(n ? kLogWarn : kLogInfo, "injected faults: %s", n ? buf : "none");
}

void on_process_exit(int status, void*)
{
    if (inject_on)
        print_summary();
    if (status != 0) {
        char why[48];
        snprintf(why, sizeof why, "exit status %d", status);
        print_replay(why);
    }
}

// A failure signal: say the seed, then die of the signal as the program would have (the
// handler is reset on entry; the signal raised again is delivered when the handler returns).
char signal_line[320];
size_t signal_len = 0;

void on_failure_signal(int sig)
{
    int saved = errno;
    raw_syscall(SYS_write, 2, long(signal_line), long(signal_len));
    raise(sig);
    errno = saved;
}

void install_failure_handlers()
{
    signal_len = size_t(snprintf(signal_line, sizeof signal_line,
                                 "libgreen: failure signal; seed %llu: rerun with %s\n",
                                 (unsigned long long)the_seed, replay_line));
    if (signal_len >= sizeof signal_line)
        signal_len = sizeof signal_line - 1;
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (int sig : sigs) {
        struct sigaction old, sa = {};
        if (sigaction(sig, nullptr, &old) != 0 || old.sa_handler != SIG_DFL ||
            (old.sa_flags & SA_SIGINFO))
            continue;  // the program's (or a sanitizer's) own handler stays
        sa.sa_handler = on_failure_signal;
        sa.sa_flags = SA_RESETHAND;
        sigemptyset(&sa.sa_mask);
        sigaction(sig, &sa, nullptr);
    }
}

// In the child of fork only the forking green thread exists, and it was running, not waiting:
// no virtual timer of the parent's may fire here.
void after_fork_child()
{
    Hub* h = hub_self();
    if (SeedState* s = h ? static_cast<SeedState*>(h->seed_state) : nullptr)
        s->timers = nullptr;
}

}  // namespace

void chaos_config_load()
{
    bool have_seed = false;
    EnvValue value;
    if (const char* text = getenv("GREEN_SEED"); text && *text) {
        if (env_parse(kEnvSeed, text, &value)) {
            the_seed = value.number;
            have_seed = true;
        } else {
            warn_invalid(kEnvSeed, text, "running without a seed");
        }
    }
    if (const char* text = getenv("GREEN_PCT"); text && *text) {
        if (env_parse(kEnvPct, text, &value))
            pct_depth = int(value.number);
        else
            warn_invalid(kEnvPct, text, "using the default (no PCT)");
    }
    if (const char* text = getenv("GREEN_PCT_STEPS"); text && *text) {
        if (env_parse(kEnvPctSteps, text, &value))
            pct_steps = value.number;
        else
            warn_invalid(kEnvPctSteps, text, "using the default (1000)");
    }
    if (const char* text = getenv("GREEN_EXPIRE"); text && *text) {
        if (env_parse(kEnvExpire, text, &value))
            expire_probability = value.probability;
        else
            warn_invalid(kEnvExpire, text, "using the default (0: deadlines expire only when nothing can run)");
    }
    if (const char* text = getenv("GREEN_SCHEDULE"); text && *text) {
        if (!env_parse(kEnvSchedule, text, &value))
            warn_invalid(kEnvSchedule, text, "scheduling as without it");
        else if (load_schedule(text, &the_seed))
            have_seed = schedule_on = true;
    }
    if (const char* text = getenv("GREEN_TRACE"); text && *text) {
        if (env_parse(kEnvTrace, text, &value))
            open_trace(text);
        else
            warn_invalid(kEnvTrace, text, "tracing nothing");
    }
    if (const char* text = getenv("GREEN_CHAOS"); text && *text) {
        if (env_parse(kEnvChaos, text, &value))
            chaos_probability = value.probability;
        else
            warn_invalid(kEnvChaos, text, "using the default (0, no chaos)");
    }
    if (const char* text = getenv("GREEN_CHAOS_PREEMPT"); text && *text) {
        if (env_parse(kEnvChaosPreempt, text, &value))
            chaos_preempt_mean = int64_t(1000000000 / value.number);
        else
            warn_invalid(kEnvChaosPreempt, text, "preempting at no random point");
    }
    const char* inject = getenv("GREEN_INJECT");
    if (inject && *inject) {
        if (env_parse(kEnvInject, inject, &value)) {
            for (int f = 0; f < kFaultCount; f++) {
                fault_prob[f] = value.fault_prob[f];
                fault_delay[f] = value.fault_delay[f];
                inject_on |= fault_prob[f] > 0;
            }
        } else {
            // Name the item that is not valid: in a long spec it is not obvious.
            char item[41];
            size_t n = 0;
            for (const char* b = value.bad; b && *b && *b != ',' && n < sizeof item - 1; b++)
                item[n++] = (unsigned char)*b < 0x20 || *b == 0x7f ? '?' : *b;
            item[n] = '\0';
            char instead[96];
            snprintf(instead, sizeof instead, "'%s' is not an item; injecting nothing", item);
            warn_invalid(kEnvInject, inject, instead);
        }
    }
    if (schedule_on) {
        pct_depth = 0;  // the file decides: no other policy
        chaos_probability = 0;
        chaos_preempt_mean = 0;  // its steps would not be the file's
    }
    pct_on = pct_depth > 0;
    // chaos_on: the interception points (locks, unlocks, signals, I/O) call in.  A schedule
    // file and a trace number the steps as every other policy does, points included.
    chaos_on = chaos_probability > 0 || pct_on || expire_probability > 0 || schedule_on ||
               trace_fd >= 0;
    io_hooks_on = chaos_on || inject_on;
    chaos_preempt_on = chaos_preempt_mean > 0;
    if (!have_seed && !chaos_on && !inject_on && !chaos_preempt_on)
        return;
    if (!have_seed) {
        // Chaos and faults are only worth having when a failing run can be replayed.
        uint64_t r;
        if (getrandom(&r, sizeof r, 0) != sizeof r)
            r = uint64_t(real_ns(CLOCK_REALTIME)) ^ uint64_t(getpid());
        the_seed = r % 1000000000000ull;  // short enough to type
    }
    int n = schedule_on ? snprintf(replay_line, sizeof replay_line, "GREEN_SCHEDULE=%s",
                                   getenv("GREEN_SCHEDULE"))
                        : snprintf(replay_line, sizeof replay_line, "GREEN_SEED=%llu",
                                   (unsigned long long)the_seed);
    if (chaos_probability > 0)
        n += snprintf(replay_line + n, sizeof replay_line - size_t(n), " GREEN_CHAOS=%s",
                      getenv("GREEN_CHAOS"));
    if (pct_on)
        n += snprintf(replay_line + n, sizeof replay_line - size_t(n),
                      " GREEN_PCT=%d GREEN_PCT_STEPS=%llu", pct_depth,
                      (unsigned long long)pct_steps);
    if (expire_probability > 0)
        n += snprintf(replay_line + n, sizeof replay_line - size_t(n), " GREEN_EXPIRE=%s",
                      getenv("GREEN_EXPIRE"));
    if (chaos_preempt_on && size_t(n) < sizeof replay_line)
        n += snprintf(replay_line + n, sizeof replay_line - size_t(n), " GREEN_CHAOS_PREEMPT=%s",
                      getenv("GREEN_CHAOS_PREEMPT"));
    if (inject_on && size_t(n) < sizeof replay_line)
        n += snprintf(replay_line + n, sizeof replay_line - size_t(n), " GREEN_INJECT='%s'",
                      inject);
    replay_len = size_t(n) < sizeof replay_line ? size_t(n) : sizeof replay_line - 1;
    make_rerun_command();
    if (!have_seed)
        GREEN_WARN("no GREEN_SEED given: using seed %llu (rerun with %s)",
                   (unsigned long long)the_seed, replay_line);
    sched_seeded = true;
    chaos_preempt_rng.seed(the_seed ^ 0x9ee3b7ull);
    vnow = real_ns(CLOCK_MONOTONIC);
    realtime_offset = real_ns(CLOCK_REALTIME) - vnow;
    boottime_offset = real_ns(CLOCK_BOOTTIME) - vnow;
    on_exit(on_process_exit, nullptr);
    pthread_atfork(nullptr, nullptr, after_fork_child);
    install_failure_handlers();
}

uint64_t chaos_seed() { return the_seed; }

int64_t chaos_preempt_interval()
{
    return 1 + int64_t(chaos_preempt_rng.below(uint64_t(2 * chaos_preempt_mean)));
}

namespace {

// The green threads appended to the run queue after `after` (null: all of it) were woken
// together: put them in a canonical order, then shuffle them.
void canonicalize(Hub* h, SeedState* s, Green* after)
{
    RunQueue& q = h->runq;
    Green* first = after ? after->next : q.head;
    size_t n = 0;
    for (Green* g = first; g; g = g->next)
        n++;
    if (n < 2)
        return;
    if (n > s->batch_cap) {
        size_t cap = n * 2;
        auto* b = static_cast<Green**>(realloc(s->batch, cap * sizeof(Green*)));
        if (!b)
            return;  // the queue stays as libev filled it
        s->batch = b;
        s->batch_cap = cap;
    }
    n = 0;
    for (Green* g = first; g; g = g->next)
        s->batch[n++] = g;
    // Insertion sort by id: batches are small.
    for (size_t i = 1; i < n; i++) {
        Green* g = s->batch[i];
        size_t j = i;
        for (; j > 0 && s->batch[j - 1]->id > g->id; j--)
            s->batch[j] = s->batch[j - 1];
        s->batch[j] = g;
    }
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = size_t(s->shuffle.below(i + 1));
        Green* t = s->batch[i];
        s->batch[i] = s->batch[j];
        s->batch[j] = t;
    }
    Green** link = after ? &after->next : &q.head;
    for (size_t i = 0; i < n; i++) {
        *link = s->batch[i];
        link = &s->batch[i]->next;
    }
    *link = nullptr;
    q.tail = s->batch[n - 1];
}

// Wakes every green thread whose virtual deadline has come.
void fire_due(SeedState* s)
{
    for (VTimer* t = s->timers; t; t = t->next)
        if (t->deadline <= vnow)
            unpark(t->green, kWakeTimeout);
}

// When time jumps, it jumps to the earliest deadline, or a little later, to the latest
// deadline within kTimerSlack of it: those timers fire together (shuffled), as the kernel's
// timer slack (50 µs for a normal thread) lets sleepers that were due close together wake
// together.
int64_t next_jump(SeedState* s)
{
    int64_t e = INT64_MAX;
    for (VTimer* t = s->timers; t; t = t->next)
        if (t->deadline < e)
            e = t->deadline;
    int64_t latest = e;
    for (VTimer* t = s->timers; t; t = t->next)
        if (t->deadline <= e + kTimerSlack && t->deadline > latest)
            latest = t->deadline;
    return latest;
}


void on_real_wait(struct ev_loop*, ev_timer* w, int)
{
    static_cast<SeedState*>(w->data)->real_wait_fired = true;
}

}  // namespace

bool seeded::expire_some(SeedState* s)
{
    bool any = false;
    for (VTimer* t = s->timers; t; t = t->next)
        if (t->deadline > vnow && s->expire.unit() < expire_probability) {
            vnow = t->deadline;
            any = true;
        }
    if (any)
        fire_due(s);
    return any;
}

void seeded_poll(Hub* h)
{
    SeedState* s = seed_state(h);
    Green* old_tail = h->runq.tail;
    // Virtual time moves on with the work done, so that a green thread that yields in a loop
    // while another sleeps does not wait forever.
    uint64_t sw = h->stats.switches;
    vnow += int64_t(sw - s->last_switches) * kSwitchTick;
    s->last_switches = sw;
    ev_run(h->evloop, EVRUN_NOWAIT);
    // A signal (or a dump request) that came before that poll has spent its ev_async there:
    // the loop acts on it as soon as this returns, so nothing may block, nor time jump, now.
    bool signalled = h->pending_signals.load(std::memory_order_relaxed) != 0 ||
                     h->dump_requested.load(std::memory_order_relaxed);
    if (expire_probability > 0 && !h->runq.empty() && s->timers)
        expire_some(s);
    if (h->runq.empty() && !signalled && s->timers) {
        // Nothing can run: time jumps to the next deadline.  If some green thread waits on a
        // descriptor, what it waits for can only come from outside the process (nothing here
        // can run to produce it): give it, for real, the time left until that deadline.
        int64_t next = next_jump(s);
        if (h->fd_waits > 0 && next > vnow) {
            int64_t start = real_ns(CLOCK_MONOTONIC);
            ev_now_update(h->evloop);
            ev_timer_init(&s->real_wait, on_real_wait, double(next - vnow) / 1e9, 0.);
            s->real_wait.data = s;
            s->real_wait_fired = false;
            ev_timer_start(h->evloop, &s->real_wait);
            ev_run(h->evloop, EVRUN_ONCE);
            ev_timer_stop(h->evloop, &s->real_wait);
            int64_t elapsed = real_ns(CLOCK_MONOTONIC) - start;
            vnow = (s->real_wait_fired || vnow + elapsed >= next) ? next : vnow + elapsed;
        } else if (next > vnow) {
            vnow = next;
        }
    } else if (h->runq.empty() && !signalled) {
        // No timers either: only the outside world or another OS thread can wake anyone.
        ev_run(h->evloop, EVRUN_ONCE);
    }
    fire_due(s);
    canonicalize(h, s, old_tail);
}

int seeded_park_until(Hub* h, Green* self, int64_t deadline, int kind)
{
    SeedState* s = seed_state(h);
    VTimer t = {deadline, self, s->timers, &s->timers};
    if (s->timers)
        s->timers->pprev = &t.next;
    s->timers = &t;
    h->timed_waits++;
    int reason = park(kind);
    h->timed_waits--;
    *t.pprev = t.next;
    if (t.next)
        t.next->pprev = t.pprev;
    return reason;
}

bool virtual_clock(int clock, int64_t* ns)
{
    int64_t base;
    switch (clock) {
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
        base = 0;
        break;
    case CLOCK_BOOTTIME:
        base = boottime_offset;
        break;
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
        base = realtime_offset;
        break;
    default:
        return false;
    }
    vnow += kReadTick;
    *ns = vnow + base;
    return true;
}

// ---- schedule fuzzing ----

void seeded_deadlock_exit()
{
    log_msg(kLogError, "deadlock in seeded mode; seed %llu: exit status %d; rerun with %s",
            (unsigned long long)the_seed, kDeadlockStatus, rerun_command);
    // What the program printed before it stuck is part of the report; its exit handlers are
    // not run: they could wait on the very threads that are stuck.
    fflush(nullptr);
    _exit(kDeadlockStatus);
}

// ---- fault injection ----

bool inject_roll(int f)
{
    double p = fault_prob[f];
    if (p <= 0 || !green_self())
        return false;
    return p >= 1 || seed_state()->inject.unit() < p;
}

int64_t inject_delay(int f)
{
    if (fault_delay[f] <= 0 || !green_self())
        return 0;
    return int64_t(seed_state()->inject.below(uint64_t(fault_delay[f]) + 1));
}

size_t inject_short_length(size_t len)
{
    return len < 2 ? len : 1 + size_t(seed_state()->inject.below(len - 1));
}

void inject_note(int f, const char* call, int fd, const char* what)
{
    fault_count[f].fetch_add(1, std::memory_order_relaxed);
    if (log_level < kLogInfo)
        return;
    Green* g = green_self();
    log_msg(kLogInfo, "inject %s: thread %llu, %s(fd %d): %s", fault_names[f],
            g ? (unsigned long long)g->id : 0ull, call, fd, what);
}

int inject_dns(const char* name)
{
    Green* self = green_self();
    if (!self)
        return -1;
    if (int64_t d = inject_delay(kDnsDelay)) {
        fault_count[kDnsDelay].fetch_add(1, std::memory_order_relaxed);
        if (log_level >= kLogInfo)
            log_msg(kLogInfo, "inject dns-delay: thread %llu, look-up of %s: %lld ns",
                    (unsigned long long)self->id, name, (long long)d);
        sleep_until(mono_now() + d, false);
    }
    for (int f : {kDnsFail, kDnsNxdomain}) {
        if (!inject_roll(f))
            continue;
        fault_count[f].fetch_add(1, std::memory_order_relaxed);
        if (log_level >= kLogInfo)
            log_msg(kLogInfo, "inject %s: thread %llu, look-up of %s: %s", fault_names[f],
                    (unsigned long long)self->id, name, f == kDnsFail ? "EAI_AGAIN" : "EAI_NONAME");
        return f;
    }
    return -1;
}

}  // namespace green
