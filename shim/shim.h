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
inline Green* as_green(pthread_t t)
{
    void* p = reinterpret_cast<void*>(t);
    return is_green(p) ? static_cast<Green*>(p) : nullptr;
}

inline pthread_t as_handle(Green* g) { return reinterpret_cast<pthread_t>(g); }

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

// Before fclose: lets a stream's pending output wait green for room, and forgets its
// descriptor, which glibc closes with an internal call (shim/stdio.cpp).
void stdio_closing(FILE* fp);

// Re-points the hosts database's "dns" source at libgreen's resolver and its "files" source at
// libgreen's copy of /etc/hosts (shim/dns.cpp).
void dns_setup();

// Makes the NSS module "greenfiles" loadable (shim/hostsfile.cpp); false if it cannot be.
bool files_setup();

}  // namespace green

#endif
