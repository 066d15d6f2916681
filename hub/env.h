// The grammar of every GREEN_* variable, in one place.
//
// The library reads its configuration through env_parse (hub/config.cpp, hub/chaos.cpp), and
// greenrun checks the values it is about to pass with the same function, compiled into its
// helper greenrun-env (scripts/greenrun-env.cpp): one definition, so that greenrun refuses
// exactly the values the library would warn about.  Only the C library is used here (no hub),
// so that the helper stays small and starts fast.
//
// Numbers are decimal, without a sign and without leading zeros ("0" itself excepted): "0010"
// might be meant as octal, so it is refused rather than guessed at.
#ifndef GREEN_ENV_H
#define GREEN_ENV_H

#include <cstddef>
#include <cstdint>

namespace green {

enum EnvVar : int {
    kEnvStackSize,
    kEnvLogLevel,
    kEnvStats,
    kEnvLogFile,
    kEnvWatchdog,
    kEnvDumpSignal,
    kEnvResolvConf,
    kEnvChildren,
    kEnvFamilies,
    kEnvSeed,
    kEnvChaos,
    kEnvInject,
    kEnvWorkers,
    kEnvHandoff,
    kEnvTimeslice,
    kEnvPct,
    kEnvPctSteps,
    kEnvExpire,
    kEnvSchedule,
    kEnvTrace,
    kEnvChaosPreempt,
    kEnvSyscallDispatch,
    kEnvThreadIds,
    kEnvCount
};

struct EnvSpec {
    const char* name;  // "GREEN_STACK_SIZE"
    const char* rule;  // the values accepted, as greenrun's refusal and the library's warning say
};
extern const EnvSpec env_specs[kEnvCount];

// The variable named by the len bytes at name, or -1.
int env_find(const char* name, size_t len);

// Faults of GREEN_INJECT (what each does: hub/chaos.h).
enum Fault : int {
    kShortRead,
    kShortWrite,
    kEintr,
    kEagain,
    kReset,
    kConnectFail,
    kConnectDelay,
    kReadLatency,
    kDnsFail,
    kDnsNxdomain,
    kDnsDelay,
    kFaultCount
};
extern const char* const fault_names[kFaultCount];
inline bool fault_is_delay(int f) { return f == kConnectDelay || f == kReadLatency || f == kDnsDelay; }

// A parsed value; which field holds it depends on the variable.
struct EnvValue {
    // GREEN_STACK_SIZE: bytes; GREEN_LOG_LEVEL: 0 (error) to 3 (debug); GREEN_STATS: 0 or 1;
    // GREEN_WATCHDOG: ns; GREEN_DUMP_SIGNAL: the signal; GREEN_CHILDREN: 1 for plain;
    // GREEN_FAMILIES: bit f for family f (hub/config.h); GREEN_SEED: the seed; GREEN_WORKERS:
    // the number of workers; GREEN_HANDOFF: 0 or 1; GREEN_TIMESLICE: ns; GREEN_PCT: the depth;
    // GREEN_PCT_STEPS: the steps; GREEN_CHAOS_PREEMPT: preemptions per second;
    // GREEN_SYSCALL_DISPATCH: 0 auto, 1 on, 2 off; GREEN_THREAD_IDS: 1 for os.
    unsigned long long number = 0;
    double probability = 0;  // GREEN_CHAOS, GREEN_EXPIRE
    double fault_prob[kFaultCount] = {};   // GREEN_INJECT: each fault's probability (1 for a
    int64_t fault_delay[kFaultCount] = {}; // delay fault with a duration) and duration in ns
    const char* bad = nullptr;             // GREEN_INJECT: the item that is not valid
};

// Whether text is a valid value of var, and its value.  GREEN_LOG_FILE and GREEN_RESOLV_CONF
// look at the file system: a file that can be appended to or created (without creating it), a
// readable regular file.  An empty value is not valid here: callers treat it as unset.
bool env_parse(int var, const char* text, EnvValue* out);

// The pieces, for the library's own use and the unit tests.

// A size as GREEN_STACK_SIZE takes it: digits, then optionally k, m or g (powers of 1024,
// either case).  Returns 0 when text is not a size.
size_t parse_size(const char* text);

// A duration as GREEN_WATCHDOG takes it: "0", or digits followed by ms or s.  Returns
// nanoseconds, or -1 when text is not one (or is out of range: 10ms to 3600s, or 0).
long long parse_duration(const char* text);

// A signal as GREEN_DUMP_SIGNAL takes it: a name (USR2, SIGUSR2, RTMIN+3, RTMAX-1) or a number,
// not one that the kernel or the C library keeps (KILL, STOP, the fault signals, glibc's
// internal 32 and 33).  Returns the number, or 0.
int parse_signal(const char* text);

// A probability as GREEN_CHAOS and GREEN_INJECT take it: 0, 1, 0.DIGITS, .DIGITS or 1.0...;
// no sign, exponent, hexadecimal, inf or nan.
bool parse_probability(const char* text, double* out);

// A GREEN_INJECT spec: FAULT:VALUE items separated by single commas.  On error returns false
// and points *bad at the faulty item.  An empty spec injects nothing.
bool parse_inject_spec(const char* spec, double probs[kFaultCount], int64_t delays[kFaultCount],
                       const char** bad);

}  // namespace green

#endif
