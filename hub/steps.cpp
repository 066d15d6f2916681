// Seeded mode's scheduling steps and their policies (see below, and hub/chaos.h).
#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <sys/syscall.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "chaos.h"
#include "green.h"
#include "log.h"
#include "seeded.h"
#include "sys.h"

namespace green {

using namespace seeded;

namespace {

// The program's path, for call sites (what dladdr names the executable by may be relative, or
// empty); read when the trace is opened.
char exe_path[512];

}  // namespace

// Steps.  Every choice of the thread that runs next is a step, numbered from 1: a point where
// the running thread could give way (a lock, an unlock, a semaphore, a condition signal, an I/O
// call, thread creation, exit: chaos_point_slow and seeded_point; a preemption at random:
// chaos_preempt_point), where the default is that it goes on, and a pick after it parked,
// yielded or ended (seeded_pick), where the default is the run queue's head.  Each policy decides at the same steps: PCT by priority, chaos and the plain
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
// seeded policy draws here (chaos did, or a point seeded mode added); give_way, that it draws
// among the others only (a preemption).
void point_step(SeedState* s, Green* self, const char* call, bool draw, bool give_way = false)
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
    } else if (draw && (q.length || !give_way)) {
        // Self as if queued last, unless it gives way.
        uint64_t k = s->sched.below(uint64_t(q.length) + (give_way ? 0 : 1));
        chosen = k == q.length ? self : nth(q, k);
    }
    if (trace_fd >= 0)
        trace_step(step, self, chosen, call, chosen != self);
    if (chosen != self) {
        s->forced_next = chosen;
        yield();
    }
}

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
    Green* from = h->current == &h->loop ? nullptr : h->current;
    if (pct_on && from && from->state == State::Runnable)
        from->pct_priority = --s->low;  // it yielded (sched_yield): below every other thread
    if (schedule_on)
        g = planned(s, step, q, nullptr);
    else if (pct_on)
        g = highest(s, q);
    else
        g = nth(q, s->sched.below(q.length));
    if (!g)
        g = q.head;
    if (trace_fd >= 0)
        trace_step(step, from, g, pick_call(h), g != q.head);
    unlink(q, g);
    return g;
}

namespace seeded {

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

}  // namespace seeded

// ---- the interception points ----

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

void chaos_preempt_point()
{
    Green* self = green_self();
    if (self && self->state == State::Running)
        point_step(seed_state(), self, "preempt", true, true);
}

uint64_t seeded_steps()
{
    Hub* h = hub_self();
    SeedState* s = h ? static_cast<SeedState*>(h->seed_state) : nullptr;
    return s ? s->steps : 0;
}

}  // namespace green
