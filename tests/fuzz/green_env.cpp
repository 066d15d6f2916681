// Fuzz harness: the grammar of the GREEN_* variables (hub/env.cpp), which the library reads its
// configuration with and greenrun judges values with (through greenrun-env), against an
// independent statement of the same grammar written here from the manual pages: regular
// expressions and arithmetic on digit strings.  Since greenrun and the library share the parser,
// what can still go wrong is the parser itself: taking a spelling the pages do not promise,
// refusing one they do, or reading a value other than the one written.  For GREEN_LOG_FILE and
// GREEN_RESOLV_CONF, which name files, the reference is what the library then does with the
// path: open it for appending (creating it), or for reading.
//
// Input: the first byte picks the variable ('a' + its index in hub/env.h: a GREEN_STACK_SIZE,
// b GREEN_LOG_LEVEL, c GREEN_STATS, d GREEN_LOG_FILE, e GREEN_WATCHDOG, f GREEN_DUMP_SIGNAL,
// g GREEN_RESOLV_CONF, h GREEN_CHILDREN, i GREEN_FAMILIES, j GREEN_SEED, k GREEN_CHAOS,
// l GREEN_INJECT, m GREEN_WORKERS, n GREEN_HANDOFF, o GREEN_TIMESLICE, p GREEN_PCT,
// q GREEN_PCT_STEPS, r GREEN_EXPIRE, s GREEN_SCHEDULE, t GREEN_TRACE, u GREEN_CHAOS_PREEMPT,
// v GREEN_SYSCALL_DISPATCH, w GREEN_THREAD_IDS);
// the rest, up to a NUL, is the value, as getenv would return it.  The file variables take a path inside a scratch directory the harness makes and fills.
// A difference aborts with both verdicts on stderr.
// std::regex's internals set off g++'s -Wmaybe-uninitialized under the sanitizers.
#ifndef __clang__
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "../../hub/env.h"

using namespace green;

namespace {

std::string scratch;  // the directory the file variables' paths are in

struct Verdict {
    bool ok = false;
    unsigned long long number = 0;
    double probability = 0;
    std::vector<double> probs = std::vector<double>(kFaultCount, 0);
    std::vector<int64_t> delays = std::vector<int64_t>(kFaultCount, 0);
};

bool matches(const std::string& s, const std::string& re, std::smatch* m = nullptr)
{
    static std::map<std::string, std::regex> compiled;
    auto it = compiled.find(re);
    if (it == compiled.end())
        it = compiled.emplace(re, std::regex(re, std::regex::extended)).first;
    std::smatch local;
    return std::regex_match(s, m ? *m : local, it->second);
}

// Decimal digit strings, compared as numbers without converting (no overflow to worry about).
bool not_above(const std::string& digits, const std::string& max)
{
    return digits.size() < max.size() || (digits.size() == max.size() && digits <= max);
}

const char* const kNumber = "(0|[1-9][0-9]*)";

Verdict ref_stack_size(const std::string& s)
{
    Verdict v;
    std::smatch m;
    if (!matches(s, "^(0|[1-9][0-9]*)([kKmMgG]?)$", &m) || !not_above(m[1], "1073741824"))
        return v;
    std::string unit = m[2];
    unsigned long long mult = unit.empty() ? 1 : (unit == "k" || unit == "K") ? 1ull << 10
                              : (unit == "m" || unit == "M") ? 1ull << 20 : 1ull << 30;
    unsigned long long bytes = std::stoull(m[1]) * mult;
    v.ok = bytes >= 16 * 1024 && bytes <= (1ull << 30);
    v.number = bytes;
    return v;
}

Verdict ref_watchdog(const std::string& s)
{
    Verdict v;
    std::smatch m;
    if (s == "0") {
        v.ok = true;
        return v;
    }
    if (!matches(s, "^([1-9][0-9]*)(ms|s)$", &m) || !not_above(m[1], "3600000"))
        return v;
    unsigned long long ns = std::stoull(m[1]) * (m[2] == "ms" ? 1000000ull : 1000000000ull);
    v.ok = ns >= 10000000ull && ns <= 3600000000000ull;
    v.number = ns;
    return v;
}

Verdict ref_signal(const std::string& s)
{
    // kill -l on Linux x86_64; glibc's SIGRTMIN is 34 (32 and 33 are its own).
    static const std::map<std::string, int> names = {
        {"HUP", 1},     {"INT", 2},     {"QUIT", 3},   {"USR1", 10},    {"USR2", 12},
        {"PIPE", 13},   {"ALRM", 14},   {"TERM", 15},  {"STKFLT", 16},  {"CHLD", 17},
        {"CONT", 18},   {"TSTP", 20},   {"TTIN", 21},  {"TTOU", 22},    {"URG", 23},
        {"XCPU", 24},   {"XFSZ", 25},   {"VTALRM", 26}, {"PROF", 27},   {"WINCH", 28},
        {"IO", 29},     {"POLL", 29},   {"PWR", 30},   {"SYS", 31}};
    Verdict v;
    std::smatch m;
    int sig = 0;
    if (matches(s, "^(0|[1-9][0-9]*)$")) {
        if (!not_above(s, "64"))
            return v;
        sig = std::stoi(s);
        static const int kept[] = {0, 4, 5, 6, 7, 8, 9, 11, 19, 32, 33};  // ILL TRAP ABRT BUS FPE KILL SEGV STOP
        for (int k : kept)
            if (sig == k)
                return v;
    } else if (matches(s, "^(SIG)?([A-Z0-9]+)$", &m) && names.count(m[2])) {
        sig = names.at(m[2]);
    } else if (matches(s, "^(SIG)?RTMIN(\\+(0|[1-9][0-9]*))?$", &m)) {
        std::string n = m[3].matched ? std::string(m[3]) : "0";
        if (!not_above(n, "30"))
            return v;
        sig = 34 + std::stoi(n);
    } else if (matches(s, "^(SIG)?RTMAX(-(0|[1-9][0-9]*))?$", &m)) {
        std::string n = m[3].matched ? std::string(m[3]) : "0";
        if (!not_above(n, "30"))
            return v;
        sig = 64 - std::stoi(n);
    } else {
        return v;
    }
    v.ok = true;
    v.number = (unsigned long long)sig;
    return v;
}

Verdict ref_families(const std::string& s)
{
    static const char* const order[] = {"threads", "sockets", "dns", "sleep",
                                        "sync", "process", "signals", "stdio"};
    Verdict v;
    if (s == "all") {
        v.ok = true;
        v.number = 0xff;
        return v;
    }
    const char* item = "(threads|sockets|dns|sleep|sync|process|signals|stdio)";
    if (!matches(s, std::string("^") + item + "(," + item + ")*$"))
        return v;
    for (int f = 0; f < 8; f++) {
        std::string name = order[f];
        std::string padded = "," + s + ",";
        if (padded.find("," + name + ",") != std::string::npos)
            v.number |= 1ull << f;
    }
    v.ok = true;
    return v;
}

bool ref_probability(const std::string& s, double* p)
{
    if (!matches(s, "^(0|1|0\\.[0-9]+|\\.[0-9]+|1\\.0+)$"))
        return false;
    *p = strtod(s.c_str(), nullptr);
    return true;
}

Verdict ref_inject(const std::string& s)
{
    Verdict v;
    std::vector<std::string> items;
    size_t start = 0;
    for (;;) {
        size_t comma = s.find(',', start);
        items.push_back(s.substr(start, comma == std::string::npos ? std::string::npos
                                                                    : comma - start));
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
    for (const std::string& item : items) {
        std::smatch m;
        if (!matches(item, "^([a-z-]+):(.*)$", &m))
            return v;
        std::string name = m[1], value = m[2];
        int f = 0;
        while (f < kFaultCount && name != fault_names[f])
            f++;
        if (f == kFaultCount)
            return v;
        if (name == "connect-delay" || name == "read-latency" || name == "dns-delay") {
            std::smatch d;
            if (!matches(value, "^(0|[1-9][0-9]*)(ns|us|ms|s)$", &d) ||
                !not_above(d[1], "3600000000000"))
                return v;
            std::string unit = d[2];
            unsigned long long mult = unit == "ns" ? 1 : unit == "us" ? 1000
                                      : unit == "ms" ? 1000000 : 1000000000;
            unsigned long long n = std::stoull(d[1]);
            if (n > 3600000000000ull / mult)
                return v;
            v.delays[f] = int64_t(n * mult);  // a repeated fault: the last one counts
            v.probs[f] = n > 0 ? 1 : 0;
        } else if (!ref_probability(value, &v.probs[f])) {
            return v;
        }
    }
    v.ok = true;
    return v;
}

Verdict ref_seed(const std::string& s)
{
    Verdict v;
    v.ok = matches(s, std::string("^") + kNumber + "$") &&
           not_above(s, "18446744073709551615");
    if (v.ok)
        v.number = std::stoull(s);
    return v;
}

Verdict ref_workers(const std::string& s)
{
    Verdict v;
    v.ok = matches(s, std::string("^") + kNumber + "$") && not_above(s, "256") && s != "0";
    if (v.ok)
        v.number = std::stoull(s);
    return v;
}

Verdict ref_timeslice(const std::string& s)
{
    Verdict v;
    std::smatch m;
    if (s == "0") {
        v.ok = true;
        return v;
    }
    if (!matches(s, "^([1-9][0-9]*)ms$", &m) || !not_above(m[1], "1000"))
        return v;
    v.ok = true;
    v.number = std::stoull(m[1]) * 1000000ull;
    return v;
}

// GREEN_PCT (1 to 32), GREEN_PCT_STEPS (1 to 10^9) and GREEN_CHAOS_PREEMPT (1 to 100000).
Verdict ref_range(const std::string& s, const char* max)
{
    Verdict v;
    v.ok = matches(s, std::string("^") + kNumber + "$") && not_above(s, max) && s != "0";
    if (v.ok)
        v.number = std::stoull(s);
    return v;
}

// What the library does with a log file path: opens it for appending, creating it.
Verdict ref_log_file(const std::string& path)
{
    Verdict v;
    struct stat before;
    bool existed = lstat(path.c_str(), &before) == 0;
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0666);
    v.ok = fd >= 0;
    if (fd >= 0) {
        close(fd);
        if (!existed)
            unlink(path.c_str());  // the scratch directory stays as it was
    }
    return v;
}

// What the resolver does with GREEN_RESOLV_CONF: reads it, as a file.
Verdict ref_resolv_conf(const std::string& path)
{
    Verdict v;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    v.ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (fd >= 0)
        close(fd);
    return v;
}

Verdict reference(int var, const std::string& s)
{
    Verdict v;
    switch (var) {
    case kEnvStackSize: return ref_stack_size(s);
    case kEnvLogLevel:
        v.ok = s == "error" || s == "warn" || s == "info" || s == "debug";
        v.number = s == "warn" ? 1 : s == "info" ? 2 : s == "debug" ? 3 : 0;
        return v;
    case kEnvStats:
    case kEnvHandoff:
        v.ok = s == "0" || s == "1";
        v.number = s == "1";
        return v;
    case kEnvLogFile:
    case kEnvTrace: return ref_log_file(s);
    case kEnvWatchdog: return ref_watchdog(s);
    case kEnvDumpSignal: return ref_signal(s);
    case kEnvResolvConf:
    case kEnvSchedule: return ref_resolv_conf(s);
    case kEnvSyscallDispatch:
        v.ok = s == "auto" || s == "on" || s == "off";
        v.number = s == "on" ? 1 : s == "off" ? 2 : 0;
        return v;
    case kEnvChildren:
        v.ok = s == "green" || s == "plain";
        v.number = s == "plain";
        return v;
    case kEnvThreadIds:
        v.ok = s == "green" || s == "os";
        v.number = s == "os";
        return v;
    case kEnvFamilies: return ref_families(s);
    case kEnvSeed: return ref_seed(s);
    case kEnvChaos: v.ok = ref_probability(s, &v.probability); return v;
    case kEnvInject: return ref_inject(s);
    case kEnvWorkers: return ref_workers(s);
    case kEnvTimeslice: return ref_timeslice(s);
    case kEnvPct: return ref_range(s, "32");
    case kEnvPctSteps: return ref_range(s, "1000000000");
    case kEnvChaosPreempt: return ref_range(s, "100000");
    case kEnvExpire: v.ok = ref_probability(s, &v.probability); return v;
    }
    return v;
}

void remove_scratch()
{
    for (const char* name : {"/link", "/dir/inner", "/file", "/ro"})
        unlink((scratch + name).c_str());
    rmdir((scratch + "/dir").c_str());
    rmdir(scratch.c_str());
}

[[noreturn]] void differ(int var, const std::string& s, const char* what)
{
    std::string shown;
    for (unsigned char c : s) {
        char buf[8];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            shown += char(c);
        else
            snprintf(buf, sizeof buf, "\\x%02x", c), shown += buf;
    }
    fprintf(stderr, "green_env: %s='%s': %s\n", env_specs[var].name, shown.c_str(), what);
    remove_scratch();  // abort skips atexit
    abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    char dir[] = "/tmp/green_env.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("green_env: mkdtemp");
        abort();
    }
    scratch = dir;
    // A file, a read-only one, a directory with a file, a symbolic link to a file.
    std::string d = scratch + "/";
    close(open((d + "file").c_str(), O_WRONLY | O_CREAT, 0644));
    close(open((d + "ro").c_str(), O_WRONLY | O_CREAT, 0444));
    mkdir((d + "dir").c_str(), 0755);
    close(open((d + "dir/inner").c_str(), O_WRONLY | O_CREAT, 0644));
    if (symlink("file", (d + "link").c_str()) != 0)
        perror("green_env: symlink");
    atexit(remove_scratch);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 2 || size > 300)
        return 0;
    int var = (data[0] - 'a') & 31;
    if (var >= kEnvCount)
        return 0;
    std::string s(reinterpret_cast<const char*>(data + 1), size - 1);
    s = s.substr(0, s.find('\0'));  // what getenv would return
    if (s.empty())
        return 0;  // unset, for greenrun and the library alike
    if (var == kEnvLogFile || var == kEnvResolvConf || var == kEnvSchedule || var == kEnvTrace) {
        // Paths stay in the scratch directory: the reference opens them (and creates files).
        if (s.find("..") != std::string::npos)
            return 0;
        s = scratch + "/" + s;
    }
    EnvValue got;
    bool ok = env_parse(var, s.c_str(), &got);
    Verdict want = reference(var, s);
    if (ok != want.ok)
        differ(var, s, ok ? "the parser takes it, the reference refuses it"
                          : "the parser refuses it, the reference takes it");
    if (!ok)
        return 0;
    switch (var) {
    case kEnvChaos:
    case kEnvExpire:
        if (got.probability != want.probability)
            differ(var, s, "another probability");
        break;
    case kEnvInject:
        for (int f = 0; f < kFaultCount; f++)
            if (got.fault_prob[f] != want.probs[f] || got.fault_delay[f] != want.delays[f])
                differ(var, s, fault_names[f]);
        break;
    case kEnvLogFile:
    case kEnvResolvConf:
    case kEnvSchedule:
    case kEnvTrace:
        break;
    default:
        if (got.number != want.number)
            differ(var, s, "another value");
    }
    return 0;
}
