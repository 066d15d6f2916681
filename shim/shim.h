// What every family of wrappers shares: the exported-stub conventions.
//
// Each wrapper is "extern C", catches nothing (no exception crosses it: the logic below is
// written not to throw), and follows one shape:
//     if (Green* self = green_self()) return <green logic>;
//     return REAL(name)(args...);
// green_self() is null on an unmanaged OS thread, on the hub's loop context and before start-up.
#ifndef GREEN_SHIM_H
#define GREEN_SHIM_H

#include "../hub/config.h"
#include "../hub/green.h"
#include "../hub/hub.h"
#include "real.h"

#define GREEN_EXPORT extern "C" __attribute__((visibility("default")))

namespace green {

// The calling green thread if there is one and calls of family f go green (GREEN_FAMILIES),
// else null: the wrapper then passes the call through.
inline Green* green_in(Family f) { return family_green(f) ? green_self() : nullptr; }

// The green thread behind a pthread_t, or null when it is a real thread's handle.
GREEN_NO_TSAN inline Green* as_green(pthread_t t)
{
    void* p = reinterpret_cast<void*>(t);
    return is_green(p) ? static_cast<Green*>(p) : nullptr;
}

GREEN_NO_TSAN inline pthread_t as_handle(Green* g) { return reinterpret_cast<pthread_t>(g); }

// An absolute time on clock, as a CLOCK_MONOTONIC deadline in nanoseconds.  A CLOCK_REALTIME
// deadline is converted once, now: a later jump of the wall clock does not move it.
int64_t deadline_from(clockid_t clock, const struct timespec* abstime);

// Runs the program's handler of sig as the kernel would have (shim/signals.cpp): where a
// SIGURG that is not a time-slice tick goes (hub/preempt.h).
void program_signal(int sig, siginfo_t* info, void* context);

// Whether the program has a handler (a function) for sig, and its SA_RESTART (shim/signals.cpp).
bool program_handles(int sig, bool* restart);

// The environment a new program gets: envp as given, or (GREEN_CHILDREN=plain) a copy without
// libgreen in LD_PRELOAD (shim/exec.cpp).
class ChildEnv {
public:
    explicit ChildEnv(char* const* envp);
    ~ChildEnv();
    ChildEnv(const ChildEnv&) = delete;
    ChildEnv& operator=(const ChildEnv&) = delete;
    char* const* get() const { return env_; }

private:
    char* const* env_;
    char** copy_ = nullptr;
    char* preload_ = nullptr;
};

// Registers the wait for room before exit's flush of every stream (shim/stdio.cpp).
void stdio_setup();

// Before fclose: lets a stream's pending output wait green for room, and forgets its
// descriptor, which glibc closes with an internal call (shim/stdio.cpp).
void stdio_closing(FILE* fp);

// Re-points the hosts database's "dns" source at libgreen's resolver and its "files" source at
// libgreen's copy of /etc/hosts (shim/dns.cpp).
void dns_setup();

// Makes the NSS module "greenfiles" loadable (shim/hostsfile.cpp); false if it cannot be.
bool files_setup();

// The green form of system call number with arguments a, as syscall() makes it (-1 and errno
// on failure); false when the call has none or the caller is not a green thread: then the
// system call is made as it is (shim/syscall.cpp).
bool syscall_green(long number, const long a[6], long* result);

// Thread ids (shim/identity.cpp).  A green thread's id, which no real task can have (above the
// kernel's PID_MAX_LIMIT, below 2^28 so that a CPU-time clock id holds it); whether id is one.
constexpr pid_t kFirstGreenTid = 4194305;
constexpr pid_t kGreenTidEnd = pid_t(1) << 28;
inline pid_t green_tid(const Green* g)
{
    return kFirstGreenTid + pid_t(g->id % uint64_t(kGreenTidEnd - kFirstGreenTid));
}
inline bool is_green_tid(long id) { return id >= kFirstGreenTid && id < kGreenTidEnd; }

// The live green thread (not a root) whose id is tid, or null.
Green* green_by_tid(pid_t tid);

// The kernel's id of the OS thread that runs g now.
inline pid_t os_tid_of(const Green* g)
{
    return __atomic_load_n(&__atomic_load_n(&g->hub, __ATOMIC_RELAXED)->tid, __ATOMIC_ACQUIRE);
}

// The calls that take a thread id, made through syscall() (with the system calls' contract),
// when id names a green thread; false otherwise: then the system call is made as it is.
bool identity_syscall(long number, const long a[6], long* result);

// A thread's CPU-time clock as the kernel encodes it (glibc's pthread_getcpuclockid does the
// same), the thread id it names, and whether a clock is a green thread's (shim/clock.cpp).
inline clockid_t thread_cpu_clock(pid_t tid, int which = 2 /* CPUCLOCK_SCHED */)
{
    return clockid_t(~uint32_t(tid) << 3 | 4 | uint32_t(which));
}
inline pid_t cpu_clock_thread(clockid_t clock) { return pid_t(~(clock >> 3)); }
inline bool is_green_cpu_clock(clockid_t clock)
{
    return clock < 0 && (clock & 4) && is_green_tid(cpu_clock_thread(clock));
}

// io_uring_enter(a...) waiting for completions, green (shim/uring.cpp): as syscall_green.
bool uring_enter_green(const long a[6], long* result);

// Syscall user dispatch for system call instructions outside the C library, on the calling OS
// thread and on every worker's when loaded code may hold one (shim/rawsys.cpp); again in a
// child of fork.
void rawsys_start();
void rawsys_after_fork();
// After a dlopen (green_modules_pending): scans the objects loaded since, and turns dispatch on
// for every OS thread libgreen manages if one may make system calls of its own.
void rawsys_scan_loaded();

// For its lifetime, the C library's own reads and writes on the calling green thread go green
// (shim/rawsys.cpp: they trap by syscall user dispatch and go where syscall(SYS_write) would):
// for calls whose blocking writes happen inside the C library (wide-character stdio, perror, a
// flush larger than a pipe's room).  Nothing when dispatch is unavailable or off
// (GREEN_SYSCALL_DISPATCH=off, valgrind, TSan, a refusing kernel) or the caller is not a green
// thread.  The green thread may park inside, while holding whatever locks the C library took.
class GlibcScope {
public:
    explicit GlibcScope(bool wanted = true);
    ~GlibcScope();
    GlibcScope(const GlibcScope&) = delete;
    GlibcScope& operator=(const GlibcScope&) = delete;
    bool on() const { return on_; }

private:
    bool on_;
};

}  // namespace green

#endif
