// Configuration: read once, at start-up, from GREEN_* environment variables only.
//
// A bad value is never fatal in the library: it warns once on stderr, naming the variable and
// the values it accepts, and uses the default.  (greenrun refuses bad values before the program
// starts; see scripts/greenrun.)  Every variable here is documented in man/libgreen.7.
#ifndef GREEN_CONFIG_H
#define GREEN_CONFIG_H

#include <cstddef>

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
};

extern Config config;

inline bool family_green(Family f) { return (config.families >> f) & 1; }

// Reads the environment into config (idempotent).
void config_load();

// Parses a size as GREEN_STACK_SIZE takes it: digits, then optionally k, m or g (powers of
// 1024, either case).  Returns 0 when text is not a size.
size_t parse_size(const char* text);

// Parses a duration as GREEN_WATCHDOG takes it: "0", or digits followed by ms or s.  Returns
// nanoseconds, or -1 when text is not one (or is out of range: 10ms to 3600s, or 0).
long long parse_duration(const char* text);

// Parses a signal as GREEN_DUMP_SIGNAL takes it: a name (USR2, SIGUSR2, RTMIN+3, RTMAX-1) or
// a number, not one that the kernel or the C library keeps (KILL, STOP, the fault signals,
// glibc's internal 32 and 33).  Returns the number, or 0.
int parse_signal(const char* text);

constexpr size_t kStackSizeMin = 16 * 1024;
constexpr size_t kStackSizeMax = size_t(1) << 30;

}  // namespace green

#endif
