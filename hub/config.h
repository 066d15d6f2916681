// Configuration: read once, at start-up, from GREEN_* environment variables only.
//
// A bad value is never fatal in the library: it warns once on stderr, naming the variable and
// the values it accepts, and uses the default.  (greenrun refuses bad values before the program
// starts, judged by the same grammar: hub/env.h.)  Every variable here is documented in
// man/libgreen.7.
#ifndef GREEN_CONFIG_H
#define GREEN_CONFIG_H

#include <cstddef>

#include "env.h"  // the grammar of the variables: parse_size, parse_signal, ...

namespace green {

// The families of calls that go green (GREEN_FAMILIES); a family left out blocks the OS thread as
// glibc would (threads left out: pthread_create makes OS threads).
enum Family : unsigned {
    kThreads,
    kSockets,
    kDns,
    kSleep,
    kSync,
    kProcess,
    kSignals,
    kStdio,
    kFamilyCount
};
constexpr unsigned kAllFamilies = (1u << kFamilyCount) - 1;

struct Config {
    size_t stack_size;   // GREEN_STACK_SIZE: stack of a green thread whose attribute sets none
    size_t guard_size;   // the default guard below it (glibc's: one page)
    int log_level;       // GREEN_LOG_LEVEL: error, warn, info, debug
    bool stats;          // GREEN_STATS: print a summary of the hub's counters at exit
    long long watchdog_ns;  // GREEN_WATCHDOG: report a hub stalled longer than this; 0: off
    int dump_signal;     // GREEN_DUMP_SIGNAL: print every green thread on this signal; 0: off
    const char* resolv_conf;  // GREEN_RESOLV_CONF: read instead of /etc/resolv.conf; null: that
    bool children_plain;  // GREEN_CHILDREN=plain: programs this one runs lose libgreen's preload
    unsigned families = kAllFamilies;  // GREEN_FAMILIES: bit f for family f
    int workers;          // GREEN_WORKERS: OS threads running green threads; 0: the CPUs
    bool handoff = true;  // GREEN_HANDOFF: a worker stuck in a blocking call is handed off
    long long timeslice_ns = 10000000;  // GREEN_TIMESLICE: hub/preempt.h; 0: off
    bool timeslice_set = false;         // GREEN_TIMESLICE was given (seeded mode: off unless)
    int syscall_dispatch = 0;  // GREEN_SYSCALL_DISPATCH: 0 auto, 1 on, 2 off (shim/rawsys.cpp)
    bool os_thread_ids = false;  // GREEN_THREAD_IDS=os: gettid gives the OS thread's id
                                 //   (shim/identity.cpp)
};

extern Config config;

inline bool family_green(Family f) { return (config.families >> f) & 1; }

// Reads the environment into config (idempotent).
void config_load();

// Warns once that text, the value of variable v (hub/env.h), is not valid: the values accepted
// (in greenrun's words) and what is done instead ("using the default (0)").
void warn_invalid(int v, const char* text, const char* instead);

constexpr size_t kStackSizeMin = 16 * 1024;
constexpr size_t kStackSizeMax = size_t(1) << 30;

}  // namespace green

#endif
