// Thread ids: gettid, and the calls that take a thread id (tgkill, tkill, sched_setaffinity and
// sched_getaffinity, sched_setparam, sched_getparam, sched_setscheduler, sched_getscheduler,
// setpriority and getpriority with PRIO_PROCESS), as C functions and through syscall().
//
// A green thread that is not a root has an id of its own: the kernel's ids are below
// PID_MAX_LIMIT (4,194,304), so kFirstGreenTid + its record's id (in creation order, never
// reused) can never name a real task, and two live green threads never share one, whatever OS
// thread runs them.  Ids stay below 2^28 so that a CPU-time clock id can carry one as the kernel
// encodes a thread's (pthread_getcpuclockid: shim/thread_attrs.cpp, shim/clock.cpp).  A root
// (main, or an OS thread libgreen does not manage) keeps the kernel's id: main's is the process
// id, which programs compare with getpid().
//
// A call given a green id acts on that green thread as the pthread_* call on its handle does
// (shim/thread_attrs.cpp: a signal as pthread_kill sends it, affinity and scheduling recorded
// and reported, not acted on), from any caller; an id that names no live green thread fails
// with ESRCH, as the id of a task that has exited does.  Id 0 from a green thread names itself,
// as it names the calling thread in the kernel.  Real ids go to the kernel unchanged.
//
// glibc's own code reads the OS thread's id from the thread control block (robust and pshared
// mutex owners, raise, pthread_getcpuclockid of a real thread): that word is left alone (hand-off
// rewrites it), only what the program asks for changes.  GREEN_THREAD_IDS=os gives every green
// thread its OS thread's id again.
//
// Finding the green thread of an id walks the records in use: a few microseconds per thousand
// threads, paid only by these calls, never by a switch or a spawn.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "shim.h"

using namespace green;

namespace {

// The green thread that id names for a call: a live green thread by its id, or the calling
// green thread for 0.  *gone is set when id is a green id of no live green thread.  Null for the
// kernel (real ids, callers that are roots or unmanaged, GREEN_THREAD_IDS=os).
Green* target(pid_t id, bool* gone)
{
    *gone = false;
    if (id == 0) {
        Green* self = green_self();
        return self && !self->is_root && !config.os_thread_ids ? self : nullptr;
    }
    if (!is_green_tid(id))
        return nullptr;
    Green* g = green_by_tid(id);
    *gone = !g;
    return g;
}

int fail(int e)
{
    errno = e;
    return -1;
}

// A pthread_* result (0 or an errno value) as a system call's wrapper reports it.
int as_call(int rc) { return rc ? fail(rc) : 0; }

// g's nice value: recorded, or its OS thread's.
int nice_of(const Green* g)
{
    int n = __atomic_load_n(&g->nice, __ATOMIC_RELAXED);
    if (n != kNiceUnset)
        return n;
    int saved = errno;
    errno = 0;
    n = REAL(getpriority)(PRIO_PROCESS, id_t(os_tid_of(g)));
    if (errno)
        n = 0;  // the OS thread has just been handed to another: what a new thread starts with
    errno = saved;
    return n;
}

// setpriority on a green thread: the kernel's rules (clamped to -20..19; lowering the nice
// value needs RLIMIT_NICE or privilege), then recorded.
int set_nice(Green* g, int prio)
{
    prio = prio < -20 ? -20 : prio > 19 ? 19 : prio;
    if (prio < nice_of(g) && geteuid() != 0) {
        rlimit rl;
        if (getrlimit(RLIMIT_NICE, &rl) != 0 || rlim_t(20 - prio) > rl.rlim_cur)
            return fail(EACCES);
    }
    __atomic_store_n(&g->nice, prio, __ATOMIC_RELAXED);
    return 0;
}

pid_t thread_id()
{
    Green* self = green_self();
    if (self && !self->is_root && !config.os_thread_ids)
        return green_tid(self);
    return REAL(gettid)();
}

// tgkill (with_group) and tkill: -2 when the kernel is to answer.
int signal_thread(bool with_group, pid_t tgid, pid_t tid, int sig)
{
    bool gone;
    Green* g = target(tid, &gone);
    if (!g && !gone)
        return -2;
    if (tid <= 0 || (with_group && tgid <= 0))
        return fail(EINVAL);
    if (gone || (with_group && tgid != getpid()))
        return fail(ESRCH);
    return as_call(pthread_kill(as_handle(g), sig));
}

}  // namespace

namespace green {

GREEN_NO_TSAN Green* green_by_tid(pid_t tid)
{
    Green* found = nullptr;
    for_each_green([&](Green* g) {
        if (!g->is_root && green_tid(g) == tid &&
            __atomic_load_n(&g->state, __ATOMIC_RELAXED) != State::Dead)
            found = g;
    });
    return found;
}

bool identity_syscall(long number, const long a[6], long* result)
{
    bool gone;
    Green* g;
    switch (number) {
    case SYS_gettid: *result = thread_id(); return true;
    case SYS_tgkill:
    case SYS_tkill: {
        bool tg = number == SYS_tgkill;
        int r = signal_thread(tg, pid_t(a[0]), pid_t(a[tg ? 1 : 0]), int(a[tg ? 2 : 1]));
        if (r == -2)
            return false;
        *result = r;
        return true;
    }
    case SYS_sched_getaffinity:
        if (!(g = target(pid_t(a[0]), &gone)) && !gone)
            return false;
        if (gone) {
            *result = fail(ESRCH);
            return true;
        }
        // The kernel's answer for the OS thread gives the size it reports and its checks of the
        // buffer; then the green thread's mask replaces the OS thread's, when it has one.
        *result = REAL(syscall)(SYS_sched_getaffinity, 0, a[1], a[2]);
        if (*result > 0 && pthread_getaffinity_np(as_handle(g), size_t(*result),
                                                  reinterpret_cast<cpu_set_t*>(a[2])) != 0)
            *result = fail(EINVAL);
        return true;
    case SYS_getpriority:
        // The system call's value is 20 - nice (never negative); glibc's function converts it.
        if (int(a[0]) != PRIO_PROCESS || (!(g = target(pid_t(a[1]), &gone)) && !gone))
            return false;
        *result = gone ? fail(ESRCH) : 20 - nice_of(g);
        return true;
    case SYS_sched_setaffinity:
    case SYS_sched_setparam:
    case SYS_sched_getparam:
    case SYS_sched_setscheduler:
    case SYS_sched_getscheduler:
    case SYS_setpriority:
    case SYS_clock_gettime:
    case SYS_clock_getres: {
        // The C functions have the system calls' contract here.
        pid_t id = pid_t(number == SYS_setpriority ? a[1] : a[0]);
        if (number == SYS_clock_gettime || number == SYS_clock_getres) {
            if (!is_green_cpu_clock(clockid_t(a[0])))
                return false;
        } else if ((number == SYS_setpriority && int(a[0]) != PRIO_PROCESS) ||
                   (!target(id, &gone) && !gone)) {
            return false;
        }
        auto p = [](long v) { return reinterpret_cast<void*>(v); };
        switch (number) {
        case SYS_sched_setaffinity:
            *result = sched_setaffinity(id, size_t(a[1]), static_cast<cpu_set_t*>(p(a[2])));
            break;
        case SYS_sched_setparam: *result = sched_setparam(id, static_cast<sched_param*>(p(a[1]))); break;
        case SYS_sched_getparam: *result = sched_getparam(id, static_cast<sched_param*>(p(a[1]))); break;
        case SYS_sched_setscheduler:
            *result = sched_setscheduler(id, int(a[1]), static_cast<sched_param*>(p(a[2])));
            break;
        case SYS_sched_getscheduler: *result = sched_getscheduler(id); break;
        case SYS_setpriority: *result = setpriority(PRIO_PROCESS, id_t(id), int(a[2])); break;
        case SYS_clock_gettime:
            *result = clock_gettime(clockid_t(a[0]), static_cast<timespec*>(p(a[1])));
            break;
        default: *result = clock_getres(clockid_t(a[0]), static_cast<timespec*>(p(a[1])));
        }
        return true;
    }
    default: return false;
    }
}

}  // namespace green

GREEN_EXPORT pid_t gettid(void) { return thread_id(); }

GREEN_EXPORT int tgkill(pid_t tgid, pid_t tid, int sig)
{
    int r = signal_thread(true, tgid, tid, sig);
    return r == -2 ? REAL(tgkill)(tgid, tid, sig) : r;
}

GREEN_EXPORT int sched_setaffinity(pid_t pid, size_t size, const cpu_set_t* set)
{
    bool gone;
    Green* g = target(pid, &gone);
    if (!g)
        return gone ? fail(ESRCH) : REAL(sched_setaffinity)(pid, size, set);
    return as_call(pthread_setaffinity_np(as_handle(g), size, set));
}

GREEN_EXPORT int sched_getaffinity(pid_t pid, size_t size, cpu_set_t* set)
{
    bool gone;
    Green* g = target(pid, &gone);
    if (!g)
        return gone ? fail(ESRCH) : REAL(sched_getaffinity)(pid, size, set);
    return as_call(pthread_getaffinity_np(as_handle(g), size, set));
}

GREEN_EXPORT int sched_setparam(pid_t pid, const struct sched_param* param)
{
    bool gone;
    Green* g = target(pid, &gone);
    if (!g)
        return gone ? fail(ESRCH) : REAL(sched_setparam)(pid, param);
    if (!param)
        return fail(EINVAL);
    return as_call(pthread_setschedparam(as_handle(g), g->sched_policy, param));
}

GREEN_EXPORT int sched_getparam(pid_t pid, struct sched_param* param)
{
    bool gone;
    Green* g = target(pid, &gone);
    if (!g)
        return gone ? fail(ESRCH) : REAL(sched_getparam)(pid, param);
    if (!param)
        return fail(EINVAL);
    int policy;
    return as_call(pthread_getschedparam(as_handle(g), &policy, param));
}

GREEN_EXPORT int sched_setscheduler(pid_t pid, int policy, const struct sched_param* param)
{
    bool gone;
    Green* g = target(pid, &gone);
    if (!g)
        return gone ? fail(ESRCH) : REAL(sched_setscheduler)(pid, policy, param);
    if (!param || policy < 0)
        return fail(EINVAL);
    return as_call(pthread_setschedparam(as_handle(g), policy, param));
}

GREEN_EXPORT int sched_getscheduler(pid_t pid)
{
    bool gone;
    Green* g = target(pid, &gone);
    if (!g)
        return gone ? fail(ESRCH) : REAL(sched_getscheduler)(pid);
    return g->sched_policy;
}

// Only PRIO_PROCESS names a thread (PRIO_PGRP and PRIO_USER name process groups and users).
GREEN_EXPORT int setpriority(__priority_which_t which, id_t who, int prio)
{
    bool gone;
    Green* g = which == PRIO_PROCESS ? target(pid_t(who), &gone) : nullptr;
    if (!g)
        return which == PRIO_PROCESS && gone ? fail(ESRCH) : REAL(setpriority)(which, who, prio);
    return set_nice(g, prio);
}

GREEN_EXPORT int getpriority(__priority_which_t which, id_t who)
{
    bool gone;
    Green* g = which == PRIO_PROCESS ? target(pid_t(who), &gone) : nullptr;
    if (!g)
        return which == PRIO_PROCESS && gone ? fail(ESRCH) : REAL(getpriority)(which, who);
    return nice_of(g);
}
