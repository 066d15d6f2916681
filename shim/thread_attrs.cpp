// Every other exported function that takes a pthread_t: names, attributes, affinity,
// scheduling, signals, CPU clock.  Handed a green thread, glibc would read a struct it does not
// own (see INTERPOSITION notes in libgreen(7)), so each of them is answered here.
//
// A root green thread is the OS thread itself: its questions go to glibc with the real handle.
// Other green threads record what they are told; affinity and scheduling are reported back but
// cannot change how the hub schedules (documented in libgreen(7)).
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "../hub/signal.h"
#include "shim.h"

using namespace green;

namespace {

// The real handle to ask glibc about a root green thread, or a non-green handle as it is.
GREEN_NO_TSAN pthread_t os_handle(pthread_t t)
{
    Green* g = as_green(t);
    return g ? hub_of(g)->os_thread : t;
}

GREEN_NO_TSAN bool is_plain_green(pthread_t t)
{
    Green* g = as_green(t);
    return g && !g->is_root;
}

}  // namespace

GREEN_EXPORT int pthread_setname_np(pthread_t thread, const char* name)
{
    if (!is_plain_green(thread))
        return REAL(pthread_setname_np)(os_handle(thread), name);
    Green* g = as_green(thread);
    size_t len = strlen(name);
    if (len >= sizeof g->name)
        return ERANGE;
    memcpy(g->name, name, len + 1);
    return 0;
}

GREEN_EXPORT int pthread_getname_np(pthread_t thread, char* buf, size_t size)
{
    if (!is_plain_green(thread))
        return REAL(pthread_getname_np)(os_handle(thread), buf, size);
    Green* g = as_green(thread);
    if (size < sizeof g->name)  // glibc's rule: the buffer must hold any name
        return ERANGE;
    if (g->name[0] == '\0')  // never named: it has the name of the OS thread it runs on
        return REAL(pthread_getname_np)(hub_of(g)->os_thread, buf, size);
    memcpy(buf, g->name, strlen(g->name) + 1);
    return 0;
}

// Also called by the sanitizer runtimes while they set a thread up (hub/green.h).
GREEN_EXPORT GREEN_NO_TSAN int pthread_getattr_np(pthread_t thread, pthread_attr_t* attr)
{
    if (!is_plain_green(thread))
        return REAL(pthread_getattr_np)(os_handle(thread), attr);
    Green* g = as_green(thread);
    int r = pthread_attr_init(attr);
    if (r != 0)
        return r;
    pthread_attr_setstack(attr, g->stack_lo, g->stack_size);
    pthread_attr_setguardsize(attr, g->guard_size);
    pthread_attr_setdetachstate(attr, g->detached ? PTHREAD_CREATE_DETACHED
                                                  : PTHREAD_CREATE_JOINABLE);
    pthread_attr_setschedpolicy(attr, g->sched_policy);
    sched_param param = {};
    param.sched_priority = g->sched_priority;
    pthread_attr_setschedparam(attr, &param);
    return 0;
}

GREEN_EXPORT int pthread_setaffinity_np(pthread_t thread, size_t size, const cpu_set_t* set)
{
    if (!is_plain_green(thread))
        return REAL(pthread_setaffinity_np)(os_handle(thread), size, set);
    // The kernel's rule for a mask: it must name at least one CPU this process may use.
    cpu_set_t allowed;
    if (REAL(sched_getaffinity)(0, sizeof allowed, &allowed) != 0)
        return errno;
    cpu_set_t mask;
    CPU_ZERO(&mask);
    memcpy(&mask, set, size < sizeof mask ? size : sizeof mask);
    CPU_AND(&allowed, &allowed, &mask);
    if (CPU_COUNT(&allowed) == 0)
        return EINVAL;
    Green* g = as_green(thread);
    if (!g->affinity && !(g->affinity = static_cast<cpu_set_t*>(malloc(sizeof(cpu_set_t)))))
        return ENOMEM;
    *g->affinity = mask;
    return 0;
}

GREEN_EXPORT int pthread_getaffinity_np(pthread_t thread, size_t size, cpu_set_t* set)
{
    Green* g = as_green(thread);
    if (!is_plain_green(thread) || !g->affinity)
        return REAL(pthread_getaffinity_np)(os_handle(thread), size, set);
    if (size < sizeof(cpu_set_t)) {
        // As the kernel: a buffer too small for the recorded mask is EINVAL.
        for (size_t cpu = size * 8; cpu < CPU_SETSIZE; cpu++)
            if (CPU_ISSET(cpu, g->affinity))
                return EINVAL;
    }
    memset(set, 0, size);
    memcpy(set, g->affinity, size < sizeof(cpu_set_t) ? size : sizeof(cpu_set_t));
    return 0;
}

GREEN_EXPORT int pthread_getschedparam(pthread_t thread, int* policy, struct sched_param* param)
{
    if (!is_plain_green(thread))
        return REAL(pthread_getschedparam)(os_handle(thread), policy, param);
    Green* g = as_green(thread);
    *policy = g->sched_policy;
    memset(param, 0, sizeof *param);
    param->sched_priority = g->sched_priority;
    return 0;
}

namespace {

// The kernel's checks for sched_setscheduler, so that a green thread is refused what a real
// one would be.
int check_sched(int policy, int priority)
{
    int base = policy & ~SCHED_RESET_ON_FORK;
    int lo = sched_get_priority_min(base), hi = sched_get_priority_max(base);
    if (lo < 0 || hi < 0 || priority < lo || priority > hi)
        return EINVAL;
    if ((base == SCHED_FIFO || base == SCHED_RR) && geteuid() != 0) {
        rlimit rl;
        if (getrlimit(RLIMIT_RTPRIO, &rl) != 0 || rlim_t(priority) > rl.rlim_cur)
            return EPERM;
    }
    return 0;
}

}  // namespace

GREEN_EXPORT int pthread_setschedparam(pthread_t thread, int policy,
                                       const struct sched_param* param)
{
    if (!is_plain_green(thread))
        return REAL(pthread_setschedparam)(os_handle(thread), policy, param);
    if (int r = check_sched(policy, param->sched_priority))
        return r;
    Green* g = as_green(thread);
    g->sched_policy = policy & ~SCHED_RESET_ON_FORK;
    g->sched_priority = param->sched_priority;
    return 0;
}

GREEN_EXPORT int pthread_setschedprio(pthread_t thread, int priority)
{
    if (!is_plain_green(thread))
        return REAL(pthread_setschedprio)(os_handle(thread), priority);
    Green* g = as_green(thread);
    if (int r = check_sched(g->sched_policy, priority))
        return r;
    g->sched_priority = priority;
    return 0;
}

// A signal for a green thread goes to the OS thread it runs on, whose handler runs at once in
// whichever green thread is running (libgreen(7)); then the green thread it was for gets the
// EINTR it would have got, if it waits in a call a handler interrupts.
namespace {

void interrupt_target(Green* g, int sig)
{
    bool restart;
    // On another worker's hub the interrupt is queued there (the handler has run or runs on
    // that worker's OS thread).
    if (g && g != green_self() && sig && program_handles(sig, &restart))
        signal_interrupt(g, restart);
}

}  // namespace

GREEN_EXPORT int pthread_kill(pthread_t thread, int sig)
{
    Green* g = as_green(thread);
    if (g && g->state == State::Dead)
        return 0;  // glibc 2.34+: a thread that has exited is not an error
    int rc = REAL(pthread_kill)(os_handle(thread), sig);
    if (rc == 0)
        interrupt_target(g, sig);
    return rc;
}

GREEN_EXPORT int pthread_sigqueue(pthread_t thread, int sig, const union sigval value)
{
    Green* g = as_green(thread);
    if (g && g->state == State::Dead)
        return ESRCH;
    int rc = REAL(pthread_sigqueue)(os_handle(thread), sig, value);
    if (rc == 0)
        interrupt_target(g, sig);
    return rc;
}

// Green threads share their OS thread's CPU clock, but a green thread's clock id names the
// green thread (its id: shim/identity.cpp), so that it reads the clock of whichever OS thread
// runs it when it is read, and fails once the thread has exited, as a real thread's does.
GREEN_EXPORT int pthread_getcpuclockid(pthread_t thread, clockid_t* clock)
{
    if (!is_plain_green(thread) || config.os_thread_ids)
        return REAL(pthread_getcpuclockid)(os_handle(thread), clock);
    *clock = thread_cpu_clock(green_tid(as_green(thread)));
    return 0;
}
