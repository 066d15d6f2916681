// The grammar of every GREEN_* variable (see env.h): used by the library and by greenrun's
// helper alike.
#include "env.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>

#include "config.h"

namespace green {

const EnvSpec env_specs[kEnvCount] = {
    {"GREEN_STACK_SIZE", "a size in bytes with optional k, m or g suffix, from 16k to 1g"},
    {"GREEN_LOG_LEVEL", "error, warn, info or debug"},
    {"GREEN_STATS", "1 (print statistics at exit) or 0"},
    {"GREEN_LOG_FILE", "a file that can be created or appended to"},
    {"GREEN_WATCHDOG", "0 (off) or a whole number of ms or s, from 10ms to 3600s"},
    {"GREEN_DUMP_SIGNAL", "a signal name (USR2, SIGUSR2, RTMIN+N, RTMAX-N) or number, not KILL, "
                          "STOP, ILL, TRAP, ABRT, BUS, FPE, SEGV, 32 or 33"},
    {"GREEN_RESOLV_CONF", "a readable file"},
    {"GREEN_CHILDREN", "green or plain (programs this one runs are green too, or not)"},
    {"GREEN_FAMILIES", "all, or names separated by commas among threads, sockets, dns, sleep, "
                       "sync, process, signals, stdio"},
    {"GREEN_SEED", "a decimal number from 0 to 18446744073709551615"},
    {"GREEN_CHAOS", "a probability from 0 to 1 (0, 1, 0.25 or .25)"},
    {"GREEN_INJECT", "comma-separated FAULT:PROBABILITY (short-read, short-write, eintr, eagain, "
                     "reset, connect-fail, dns-fail, dns-nxdomain) or FAULT:DURATION "
                     "(connect-delay, read-latency, dns-delay; e.g. 50ms)"},
    {"GREEN_WORKERS", "a number of workers from 1 to 256"},
    {"GREEN_HANDOFF", "1 (hand a worker stuck in a blocking call to another OS thread) or 0"},
    {"GREEN_TIMESLICE", "0 (off) or a whole number of ms, from 1ms to 1000ms"},
    {"GREEN_PCT", "a bug depth from 1 to 32"},
    {"GREEN_PCT_STEPS", "a number of scheduling steps from 1 to 1000000000"},
    {"GREEN_EXPIRE", "a probability from 0 to 1 (0, 1, 0.25 or .25)"},
    {"GREEN_SCHEDULE", "a readable file (a schedule written by greenrun --shrink)"},
    {"GREEN_TRACE", "a file that can be created or appended to"},
    {"GREEN_CHAOS_PREEMPT", "a number of preemptions per second from 1 to 100000"},
    {"GREEN_SYSCALL_DISPATCH", "auto (on when loaded code outside the C library may make system "
                               "calls of its own), on or off"},
    {"GREEN_THREAD_IDS", "green or os (gettid gives each green thread an id of its own, or the "
                         "OS thread's)"},
};

const char* const fault_names[kFaultCount] = {"short-read", "short-write", "eintr",
                                              "eagain", "reset", "connect-fail",
                                              "connect-delay", "read-latency", "dns-fail",
                                              "dns-nxdomain", "dns-delay"};

int env_find(const char* name, size_t len)
{
    for (int v = 0; v < kEnvCount; v++)
        if (strlen(env_specs[v].name) == len && memcmp(env_specs[v].name, name, len) == 0)
            return v;
    return -1;
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Decimal digits at text, at most max: no sign, no leading zero but in "0" itself.  Leaves
// *end after the digits.  strtoull is not used because it takes signs, spaces and leading zeros.
bool parse_decimal(const char* text, unsigned long long max, unsigned long long* out,
                   const char** end)
{
    if (!is_digit(text[0]) || (text[0] == '0' && is_digit(text[1])))
        return false;
    unsigned long long n = 0;
    for (; is_digit(*text); text++) {
        unsigned d = unsigned(*text - '0');
        if (n > (max - d) / 10)
            return false;
        n = n * 10 + d;
    }
    *out = n;
    *end = text;
    return true;
}

// "all", or family names separated by commas; false when text is not that.
bool parse_families(const char* text, unsigned* out)
{
    static const char* const names[kFamilyCount] = {"threads", "sockets", "dns", "sleep",
                                                    "sync", "process", "signals", "stdio"};
    if (strcmp(text, "all") == 0) {
        *out = kAllFamilies;
        return true;
    }
    unsigned set = 0;
    for (const char* p = text;;) {
        size_t len = strcspn(p, ",");
        unsigned f = 0;
        while (f < kFamilyCount && !(strlen(names[f]) == len && strncmp(names[f], p, len) == 0))
            f++;
        if (f == kFamilyCount)
            return false;
        set |= 1u << f;
        if (!p[len])
            break;
        p += len + 1;
    }
    *out = set;
    return true;
}

// A fault's duration in the len bytes at text: digits and ns, us, ms or s, at most an hour.
bool parse_fault_duration(const char* text, size_t len, int64_t* out)
{
    unsigned long long n;
    const char* end;
    if (!parse_decimal(text, 3600ull * 1000000000ull, &n, &end) || end > text + len)
        return false;
    static const struct {
        const char* name;
        uint64_t ns;
    } units[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}};
    size_t ulen = size_t(text + len - end);
    for (const auto& u : units) {
        if (strlen(u.name) != ulen || memcmp(end, u.name, ulen) != 0)
            continue;
        if (n > 3600ull * 1000000000ull / u.ns)  // at most an hour
            return false;
        *out = int64_t(n * u.ns);
        return true;
    }
    return false;
}

// Whether the len bytes at text spell a probability: 0, 1, 0.DIGITS, .DIGITS or 1.0...  The
// spelling is checked here; strtod only converts (it would also take " 1", "+1", "1e-1",
// "0x.8", "inf" and "nan").
bool probability_spelled(const char* text, size_t len)
{
    const char* p = text;
    const char* end = text + len;
    bool one = p < end && *p == '1';
    if (p < end && (*p == '0' || *p == '1'))
        p++;
    if (p < end && *p == '.') {
        p++;
        if (p == end || !is_digit(*p))
            return false;
        for (; p < end && is_digit(*p); p++)
            if (one && *p != '0')
                return false;
    }
    return p == end && len > 0;
}

// Could the library open path for appending, creating it if needed?  Asked without creating it:
// greenrun checks before the program runs.
bool appendable(const char* path)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return !S_ISDIR(st.st_mode) && access(path, W_OK) == 0;
    if (errno != ENOENT)  // a name too long, a file used as a directory, a loop: open fails too
        return false;
    const char* slash = strrchr(path, '/');
    if (!slash)
        return access(".", W_OK | X_OK) == 0;
    if (slash == path)
        return access("/", W_OK | X_OK) == 0;
    size_t len = size_t(slash - path);
    char* dir = static_cast<char*>(malloc(len + 1));
    if (!dir)
        return false;
    memcpy(dir, path, len);
    dir[len] = '\0';
    bool ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && access(dir, W_OK | X_OK) == 0;
    free(dir);
    return ok;
}

}  // namespace

size_t parse_size(const char* text)
{
    unsigned long long n;
    const char* end;
    if (!text || !parse_decimal(text, ~0ull, &n, &end))
        return 0;
    unsigned shift = 0;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: return 0;
    }
    if (*end != '\0' || n > (~0ull >> (shift + 1)))
        return 0;
    return size_t(n << shift);
}

long long parse_duration(const char* text)
{
    if (!text)
        return -1;
    if (strcmp(text, "0") == 0)
        return 0;
    unsigned long long n;
    const char* end;
    if (!parse_decimal(text, 3600ull * 1000, &n, &end))
        return -1;
    long long unit;
    if (strcmp(end, "ms") == 0)
        unit = 1000000;
    else if (strcmp(end, "s") == 0)
        unit = 1000000000;
    else
        return -1;
    long long ns = (long long)n * unit;  // at most 3600000 s: no overflow
    if (ns < 10 * 1000000ll || ns > 3600 * 1000000000ll)
        return -1;
    return ns;
}

int parse_signal(const char* text)
{
    static const struct {
        const char* name;
        int number;
    } names[] = {
        {"HUP", SIGHUP},       {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"USR1", SIGUSR1},
        {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},   {"TERM", SIGTERM},
        {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},     {"CONT", SIGCONT},   {"TSTP", SIGTSTP},
        {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},     {"URG", SIGURG},     {"XCPU", SIGXCPU},
        {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},   {"WINCH", SIGWINCH},
        {"IO", SIGIO},         {"POLL", SIGPOLL},     {"PWR", SIGPWR},     {"SYS", SIGSYS},
    };
    if (!text || !*text)
        return 0;
    int sig = 0;
    unsigned long long n;
    const char* end;
    if (is_digit(*text)) {
        if (!parse_decimal(text, 64, &n, &end) || *end != '\0')
            return 0;
        sig = int(n);
    } else {
        const char* name = strncmp(text, "SIG", 3) == 0 ? text + 3 : text;
        for (const auto& e : names)
            if (strcmp(name, e.name) == 0)
                return e.number;
        int base, dir;
        if (strncmp(name, "RTMIN", 5) == 0)
            base = SIGRTMIN, dir = 1;
        else if (strncmp(name, "RTMAX", 5) == 0)
            base = SIGRTMAX, dir = -1;
        else
            return 0;
        name += 5;
        n = 0;
        if (*name != '\0') {
            if (*name != (dir > 0 ? '+' : '-') || !parse_decimal(name + 1, 64, &n, &end) ||
                *end != '\0')
                return 0;
        }
        sig = base + dir * int(n);
        return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : 0;
    }
    switch (sig) {
    case 0: case SIGKILL: case SIGSTOP:
    case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE: case SIGSEGV:
        return 0;
    }
    if (sig > SIGSYS && sig < SIGRTMIN)  // glibc's own (cancellation, setxid)
        return 0;
    return sig <= SIGRTMAX ? sig : 0;
}

bool parse_probability(const char* text, double* out)
{
    if (!text || !probability_spelled(text, strlen(text)))
        return false;
    *out = strtod(text, nullptr);
    return true;
}

bool parse_inject_spec(const char* spec, double probs[kFaultCount], int64_t delays[kFaultCount],
                       const char** bad)
{
    for (int f = 0; f < kFaultCount; f++) {
        probs[f] = 0;
        delays[f] = 0;
    }
    const char* p = spec;
    while (*p) {
        const char* item = p;
        const char* end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char* colon = static_cast<const char*>(memchr(p, ':', size_t(end - p)));
        *bad = item;
        if (!colon)
            return false;
        int f = 0;
        for (; f < kFaultCount; f++)
            if (strlen(fault_names[f]) == size_t(colon - p) &&
                memcmp(fault_names[f], p, size_t(colon - p)) == 0)
                break;
        if (f == kFaultCount)
            return false;
        const char* v = colon + 1;
        size_t vlen = size_t(end - v);
        if (fault_is_delay(f)) {
            if (!parse_fault_duration(v, vlen, &delays[f]))
                return false;
            probs[f] = delays[f] > 0 ? 1 : 0;
        } else {
            if (!probability_spelled(v, vlen))
                return false;
            probs[f] = strtod(v, nullptr);  // stops at the comma after it, if any
        }
        if (*end == ',' && end[1] == '\0') {  // "eintr:0.1,": an empty last item
            *bad = end + 1;
            return false;
        }
        p = *end ? end + 1 : end;
    }
    *bad = nullptr;
    return true;
}

bool env_parse(int var, const char* text, EnvValue* out)
{
    if (!text || !*text)
        return false;
    switch (var) {
    case kEnvStackSize: {
        size_t size = parse_size(text);
        out->number = size;
        return size >= kStackSizeMin && size <= kStackSizeMax;
    }
    case kEnvLogLevel: {
        static const char* const names[] = {"error", "warn", "info", "debug"};
        for (int i = 0; i < 4; i++)
            if (strcmp(text, names[i]) == 0) {
                out->number = unsigned(i);
                return true;
            }
        return false;
    }
    case kEnvStats:
    case kEnvHandoff:
        // 0 and 1 only, so that a typo is not taken for either.
        out->number = text[0] == '1';
        return strcmp(text, "0") == 0 || strcmp(text, "1") == 0;
    case kEnvLogFile:
    case kEnvTrace:
        return appendable(text);
    case kEnvWatchdog: {
        long long ns = parse_duration(text);
        out->number = ns < 0 ? 0 : (unsigned long long)ns;
        return ns >= 0;
    }
    case kEnvDumpSignal:
        out->number = unsigned(parse_signal(text));
        return out->number != 0;
    case kEnvResolvConf:
    case kEnvSchedule: {
        struct stat st;
        return stat(text, &st) == 0 && S_ISREG(st.st_mode) && access(text, R_OK) == 0;
    }
    case kEnvSyscallDispatch:
        out->number = strcmp(text, "on") == 0 ? 1 : strcmp(text, "off") == 0 ? 2 : 0;
        return out->number || strcmp(text, "auto") == 0;
    case kEnvChildren:
        out->number = strcmp(text, "plain") == 0;
        return out->number || strcmp(text, "green") == 0;
    case kEnvThreadIds:
        out->number = strcmp(text, "os") == 0;
        return out->number || strcmp(text, "green") == 0;
    case kEnvFamilies: {
        unsigned set = 0;
        if (!parse_families(text, &set))
            return false;
        out->number = set;
        return true;
    }
    case kEnvSeed: {
        const char* end;
        return parse_decimal(text, ~0ull, &out->number, &end) && *end == '\0';
    }
    case kEnvChaos:
        return parse_probability(text, &out->probability);
    case kEnvInject:
        return parse_inject_spec(text, out->fault_prob, out->fault_delay, &out->bad);
    case kEnvWorkers: {
        const char* end;
        return parse_decimal(text, 256, &out->number, &end) && *end == '\0' && out->number >= 1;
    }
    case kEnvTimeslice: {
        const char* end;
        unsigned long long ms;
        if (strcmp(text, "0") == 0) {
            out->number = 0;
            return true;
        }
        if (!parse_decimal(text, 1000, &ms, &end) || strcmp(end, "ms") != 0 || ms < 1)
            return false;
        out->number = ms * 1000000;
        return true;
    }
    case kEnvPct:
    case kEnvPctSteps:
    case kEnvChaosPreempt: {
        const char* end;
        unsigned long long max = var == kEnvPct ? 32 : var == kEnvPctSteps ? 1000000000 : 100000;
        return parse_decimal(text, max, &out->number, &end) && *end == '\0' && out->number >= 1;
    }
    case kEnvExpire:
        return parse_probability(text, &out->probability);
    }
    return false;
}

}  // namespace green
