// Seeded schedules, virtual time, schedule fuzzing and fault injection (see chaos.h).
#include "chaos.h"

#include <ev.h>
#include <dlfcn.h>
#include <execinfo.h>
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
#include "sys.h"

namespace green {

bool sched_seeded = false;
bool chaos_on = false;
bool inject_on = false;
bool io_hooks_on = false;
bool pct_on = false;

namespace {

// ---- the PRNG: xoshiro256** (Blackman and Vigna), seeded through splitmix64 ----

uint64_t splitmix64(uint64_t* x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

struct Rng {
    uint64_t s[4];
    void seed(uint64_t x)
    {
        for (auto& w : s)
            w = splitmix64(&x);
    }
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t next()
    {
        uint64_t result = rotl(s[1] * 5, 7) * 9;
        uint64_t t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return result;
    }
    double unit() { return double(next() >> 11) * 0x1p-53; }  // [0, 1)
    uint64_t below(uint64_t n) { return n ? next() % n : 0; }
};

uint64_t the_seed = 0;
double chaos_probability = 0;
double expire_probability = 0;  // GREEN_EXPIRE
int pct_depth = 0;              // GREEN_PCT
uint64_t pct_steps = 1000;      // GREEN_PCT_STEPS: the run's length in steps, estimated
constexpr int kMaxPctDepth = 32;
// Priorities: change points lower a thread to 1 .. depth-1; a thread that yields of its own
// accord (sched_yield) goes below every other, from kPctBase down; drawn ones are above it.
constexpr uint64_t kPctBase = uint64_t(1) << 32;

// GREEN_SCHEDULE: the decisions of a schedule file, by step (see "Steps" below).
struct Decision {
    uint64_t step;
    uint64_t thread;
};
bool schedule_on = false;
Decision* plan = nullptr;
size_t plan_len = 0;
// GREEN_TRACE: where each step is written (-1: nowhere), and the program's path for its call
// sites (what dladdr names the executable by may be relative, or empty).
int trace_fd = -1;
char exe_path[512];
double fault_prob[kFaultCount];
int64_t fault_delay[kFaultCount];
std::atomic<uint64_t> fault_count[kFaultCount];

// A timed wait of a green thread, on its stack while it waits.
struct VTimer {
    int64_t deadline;
    Green* green;
    VTimer* next;
    VTimer** pprev;
};

// What a hub keeps in seeded mode (thread-local: one hub per OS thread).  Each purpose draws
// from its own stream, so that turning chaos on does not change which faults are injected
// for a given sequence of calls, and the other way round.
struct SeedState {
    bool ready = false;
    Rng sched, chaos, inject, expire, shuffle;
    uint64_t steps = 0;                  // scheduling steps taken (see "Steps" below)
    Green* forced_next = nullptr;        // chosen at a point: the pick that follows takes it
    size_t plan_at = 0;                  // GREEN_SCHEDULE: the next decision not yet passed
    uint64_t change[kMaxPctDepth] = {};  // PCT: at step change[i], the running thread's
                                         //   priority becomes i + 1
    uint64_t low = kPctBase;             // PCT: the priority the next yielder gets (decreasing)
    VTimer* timers = nullptr;
    uint64_t last_switches = 0;
    Green** batch = nullptr;  // canonicalize()'s buffer
    size_t batch_cap = 0;
    ev_timer real_wait;
    bool real_wait_fired = false;
};
std::atomic<uint64_t> hubs_seeded{0};

// The seeded state of hub h (by default the calling OS thread's).
SeedState* seed_state(Hub* h = hub_self())
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
    log_msg(kLogError, "%s; seed %llu: rerun with %s", why, (unsigned long long)the_seed,
            replay_line);
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

// Reads a schedule file: "seed N" (the seed of the faults and deadlines it was recorded with),
// then "STEP THREAD" decisions in increasing step order; '#' starts a comment.  False, with a
// warning, when it is not one.
bool load_schedule(const char* path, uint64_t* seed)
{
    FILE* f = fopen(path, "re");
    if (!f)
        return false;
    char line[256];
    size_t cap = 0, lineno = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof line, f)) {
        lineno++;
        char* hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        unsigned long long a, b;
        char extra;
        if (sscanf(line, " seed %llu %c", &a, &extra) == 1) {
            *seed = a;
        } else if (sscanf(line, " %llu %llu %c", &a, &b, &extra) == 2 &&
                   (!plan_len || a > plan[plan_len - 1].step)) {
            if (plan_len == cap) {
                cap = cap ? cap * 2 : 64;
                auto* p = static_cast<Decision*>(realloc(plan, cap * sizeof *plan));
                if (!p) {
                    ok = false;
                    break;
                }
                plan = p;
            }
            plan[plan_len++] = {a, b};
        } else if (strspn(line, " \t\r\n") != strlen(line)) {
            ok = false;
        }
    }
    fclose(f);
    if (!ok) {
        GREEN_WARN("GREEN_SCHEDULE: line %zu of %s is not 'seed N' or 'STEP THREAD' in increasing "
                   "steps; scheduling as without it", lineno, path);
        plan_len = 0;
    }
    return ok;
}

void open_trace(const char* path)
{
    long fd = raw_syscall(SYS_openat, AT_FDCWD, long(path),
                          O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        GREEN_WARN("GREEN_TRACE: cannot open %s: %s; tracing nothing", path, strerror(int(-fd)));
        return;
    }
    // High, out of the program's way, as the log file's.
    long high = raw_syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 900);
    if (high >= 0) {
        raw_syscall(SYS_close, fd);
        fd = high;
    }
    trace_fd = int(fd);
    long n = raw_syscall(SYS_readlinkat, AT_FDCWD, long("/proc/self/exe"), long(exe_path),
                         sizeof exe_path - 1);
    exe_path[n > 0 ? n : 0] = '\0';
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
    }
    pct_on = pct_depth > 0;
    // chaos_on: the interception points (locks, unlocks, signals, I/O) call in.  A schedule
    // file and a trace number the steps as every other policy does, points included.
    chaos_on = chaos_probability > 0 || pct_on || expire_probability > 0 || schedule_on ||
               trace_fd >= 0;
    io_hooks_on = chaos_on || inject_on;
    if (!have_seed && !chaos_on && !inject_on)
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
    if (inject_on && size_t(n) < sizeof replay_line)
        n += snprintf(replay_line + n, sizeof replay_line - size_t(n), " GREEN_INJECT='%s'",
                      inject);
    replay_len = size_t(n) < sizeof replay_line ? size_t(n) : sizeof replay_line - 1;
    make_rerun_command();
    if (!have_seed)
        GREEN_WARN("no GREEN_SEED given: using seed %llu (rerun with %s)",
                   (unsigned long long)the_seed, replay_line);
    sched_seeded = true;
    vnow = real_ns(CLOCK_MONOTONIC);
    realtime_offset = real_ns(CLOCK_REALTIME) - vnow;
    boottime_offset = real_ns(CLOCK_BOOTTIME) - vnow;
    on_exit(on_process_exit, nullptr);
    pthread_atfork(nullptr, nullptr, after_fork_child);
    install_failure_handlers();
}

uint64_t chaos_seed() { return the_seed; }

// ---- the scheduler's side ----
//
// Steps.  Every choice of the thread that runs next is a step, numbered from 1: a point where
// the running thread could give way (a lock, an unlock, a condition signal, an I/O call, thread
// creation, exit: chaos_point_slow and seeded_point), where the default is that it goes on,
// and a pick after it parked, yielded or ended (seeded_pick), where the default is the run
// queue's head.  Each policy decides at the same steps: PCT by priority, chaos and the plain
// seeded schedule by a draw, a schedule file by its list ("at step S, thread T runs"; the
// default wherever it says nothing).  A decision that differs from the default is a forced
// one: a trace marks it, and a schedule file needs only those to replay a run exactly.
// Whatever the policy, a thread chosen at a point runs through the pick that follows at once.

namespace {

// A green thread's PCT priority, drawn the first time it is asked for (at its creation, when
// pthread_create made it): distinct (64 random bits, above every lowered one) with certainty
// for any practical run.
uint64_t priority_of(SeedState* s, Green* g)
{
    if (!g->pct_priority)
        g->pct_priority = kPctBase + 1 + (s->sched.next() >> 1);
    return g->pct_priority;
}

// The run queue's thread of highest priority.
Green* highest(SeedState* s, RunQueue& q)
{
    Green* best = nullptr;
    for (Green* g = q.head; g; g = g->next)
        if (!best || priority_of(s, g) > best->pct_priority)
            best = g;
    return best;
}

Green* nth(RunQueue& q, uint64_t k)
{
    Green* g = q.head;
    while (k--)
        g = g->next;
    return g;
}

void unlink(RunQueue& q, Green* g)
{
    Green* prev = nullptr;
    for (Green* c = q.head; c != g; c = c->next)
        prev = c;
    (prev ? prev->next : q.head) = g->next;
    if (q.tail == g)
        q.tail = prev;
    q.length--;
    g->next = nullptr;
}

// What the schedule file says runs after this step: self or a runnable thread, or null.
Green* planned(SeedState* s, uint64_t step, RunQueue& q, Green* self)
{
    while (s->plan_at < plan_len && plan[s->plan_at].step < step)
        s->plan_at++;
    if (s->plan_at == plan_len || plan[s->plan_at].step != step)
        return nullptr;
    uint64_t id = plan[s->plan_at].thread;
    if (self && self->id == id)
        return self;
    for (Green* g = q.head; g; g = g->next)
        if (g->id == id)
            return g;
    return nullptr;  // not runnable here: the run has gone another way
}

// Where the program made the call the running thread is in: the first frame of its stack
// outside libgreen, as FILE+0xOFFSET (addr2line's input).  Only for the trace.
void call_site(char* out, size_t size)
{
    static void* own_base = [] {
        Dl_info self;
        return dladdr(reinterpret_cast<void*>(&call_site), &self) ? self.dli_fbase : nullptr;
    }();
    void* frames[48];
    int n = backtrace(frames, 48);
    for (int i = 1; i < n; i++) {
        Dl_info info;
        if (!dladdr(frames[i], &info) || info.dli_fbase == own_base)
            continue;
        const char* file = info.dli_fname;
        if (!file || file[0] != '/')
            file = exe_path[0] ? exe_path : "?";
        // The return address is after the call: one byte back is in the calling line.
        snprintf(out, size, "%s+0x%lx", file,
                 (unsigned long)(static_cast<char*>(frames[i]) - 1 -
                                 static_cast<char*>(info.dli_fbase)));
        return;
    }
    snprintf(out, size, "-");
}

// GREEN_TRACE: one line per step, "STEP FROM TO CALL SITE", "forced" at the end of a decision
// that differs from the default.  FROM is the thread that took the step (0: the hub's loop).
void trace_step(uint64_t step, Green* from, Green* to, const char* call, bool forced)
{
    char site[600] = "-";
    if (from && from->state != State::Dead)  // a dead one is on libgreen's own frames
        call_site(site, sizeof site);
    char line[800];
    int n = snprintf(line, sizeof line, "%llu %llu %llu %s %s%s\n", (unsigned long long)step,
                     from ? (unsigned long long)from->id : 0ull, (unsigned long long)to->id,
                     call, site, forced ? " forced" : "");
    raw_syscall(SYS_write, trace_fd, long(line), long(n < int(sizeof line) ? n : sizeof line - 1));
}

// What a thread that gave up the CPU was doing, for the trace.
const char* pick_call(Hub* h)
{
    Green* g = h->current;
    if (g == &h->loop)
        return "(loop)";
    if (g->state == State::Dead)
        return "thread-exit";
    if (g->state == State::Runnable)
        return "yield";
    if (g->wait_what)
        return g->wait_what;
    switch (g->wait_kind) {
    case kWaitFd: return "io-wait";
    case kWaitTimer: return "sleep";
    case kWaitJoin: return "pthread_join";
    case kWaitFutex: return "lock-wait";
    default: return "wait";
    }
}

// A step at a point of the running thread self (see "Steps"): draw says whether the plain
// seeded policy draws here (chaos did, or a point seeded mode added).
void point_step(SeedState* s, Green* self, const char* call, bool draw)
{
    RunQueue& q = hub_self()->runq;
    uint64_t step = ++s->steps;
    Green* chosen = self;
    if (schedule_on) {
        if (Green* t = planned(s, step, q, self))
            chosen = t;
    } else if (pct_on) {
        for (int i = 0; i + 1 < pct_depth; i++)
            if (s->change[i] == step)
                self->pct_priority = uint64_t(i) + 1;
        Green* best = highest(s, q);
        if (best && best->pct_priority > priority_of(s, self))
            chosen = best;
    } else if (draw) {
        uint64_t k = s->sched.below(uint64_t(q.length) + 1);  // self as if queued last
        chosen = k == q.length ? self : nth(q, k);
    }
    if (trace_fd >= 0)
        trace_step(step, self, chosen, call, chosen != self);
    if (chosen != self) {
        s->forced_next = chosen;
        yield();
    }
}

// Fires, each with probability GREEN_EXPIRE, the virtual timers of this hub whose deadline has
// not come: time jumps to the latest such deadline (the others were busy for that long), and
// every timer due by then fires.  Whether any did.
bool expire_some(SeedState* s);

}  // namespace

Green* seeded_pick(Hub* h)
{
    RunQueue& q = h->runq;
    if (q.empty())
        return nullptr;
    SeedState* s = seed_state(h);
    Green* g = s->forced_next;
    if (g) {
        s->forced_next = nullptr;
        unlink(q, g);
        return g;
    }
    uint64_t step = ++s->steps;
    if (schedule_on)
        g = planned(s, step, q, nullptr);
    else if (pct_on)
        g = highest(s, q);
    else
        g = nth(q, s->sched.below(q.length));
    if (!g)
        g = q.head;
    if (trace_fd >= 0)
        trace_step(step, h->current == &h->loop ? nullptr : h->current, g, pick_call(h), g != q.head);
    unlink(q, g);
    return g;
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

bool expire_some(SeedState* s)
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

void on_real_wait(struct ev_loop*, ev_timer* w, int)
{
    static_cast<SeedState*>(w->data)->real_wait_fired = true;
}

}  // namespace

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
    if (expire_probability > 0 && !h->runq.empty() && s->timers)
        expire_some(s);
    if (h->runq.empty() && s->timers) {
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
    } else if (h->runq.empty()) {
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

void chaos_point_slow(const char* call)
{
    Green* self = green_self();
    if (!self)
        return;
    SeedState* s = seed_state();
    bool woke = expire_probability > 0 && s->timers && expire_some(s);
    point_step(s, self, call,
               woke || (chaos_probability > 0 && s->chaos.unit() < chaos_probability));
}

// The points seeded mode adds where real threads could run but libgreen would not switch.
void seeded_point(Green* child)
{
    Green* self = green_self();
    if (!self || self->state != State::Running || self->exiting)
        return;  // the last thread ending calls exit() dead (hub/thread.cpp)
    SeedState* s = seed_state();
    if (pct_on && child)
        priority_of(s, child);
    point_step(s, self, child ? "pthread_create" : "exit", true);
}

void seeded_yield_hint()
{
    if (Green* self = green_self(); self && pct_on)
        self->pct_priority = --seed_state()->low;
}

uint64_t seeded_steps()
{
    Hub* h = hub_self();
    SeedState* s = h ? static_cast<SeedState*>(h->seed_state) : nullptr;
    return s ? s->steps : 0;
}

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
