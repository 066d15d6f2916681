#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <sys/stat.h>

#include "chaos.h"
#include "log.h"

namespace green {

Config config = {8u << 20, 4096, kLogWarn, false, 0, 0};

size_t parse_size(const char* text)
{
    if (!text || *text < '0' || *text > '9')
        return 0;
    char* end;
    unsigned long long n = strtoull(text, &end, 10);
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
    if (!text || *text < '0' || *text > '9')
        return -1;
    char* end;
    unsigned long long n = strtoull(text, &end, 10);
    if (n == 0 && *end == '\0')
        return 0;
    long long unit;
    if (strcmp(end, "ms") == 0)
        unit = 1000000;
    else if (strcmp(end, "s") == 0)
        unit = 1000000000;
    else
        return -1;
    if (n > 3600ull * 1000)  // also keeps n * unit from overflowing
        return -1;
    long long ns = (long long)n * unit;
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
    char* end;
    if (*text >= '0' && *text <= '9') {
        unsigned long n = strtoul(text, &end, 10);
        if (*end != '\0' || n > 64)
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
        unsigned long n = 0;
        if (*name != '\0') {
            if (*name != (dir > 0 ? '+' : '-') || name[1] < '0' || name[1] > '9')
                return 0;
            n = strtoul(name + 1, &end, 10);
            if (*end != '\0' || n > 64)
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

namespace {

void load_stack_size()
{
    // The default is glibc's own default thread stack size (from RLIMIT_STACK, normally
    // 8 MiB), so that a program cannot tell: only the pages a green thread touches cost memory.
    pthread_attr_t attr;
    if (pthread_getattr_default_np(&attr) == 0) {
        size_t size = 0, guard = 0;
        if (pthread_attr_getstacksize(&attr, &size) == 0 && size >= kStackSizeMin)
            config.stack_size = size;
        if (pthread_attr_getguardsize(&attr, &guard) == 0)
            config.guard_size = guard;
        pthread_attr_destroy(&attr);
    }
    const char* text = getenv("GREEN_STACK_SIZE");
    if (!text || !*text)  // empty counts as unset, as in greenrun
        return;
    size_t size = parse_size(text);
    if (size < kStackSizeMin || size > kStackSizeMax) {
        GREEN_WARN("GREEN_STACK_SIZE='%s' is not valid: expected a size in bytes with optional "
                   "k, m or g suffix, from 16k to 1g; using the default (%zuk)",
                   text, config.stack_size >> 10);
        return;
    }
    config.stack_size = size;
}

void load_log_level()
{
    static const char* const names[] = {"error", "warn", "info", "debug"};
    const char* text = getenv("GREEN_LOG_LEVEL");
    if (!text || !*text)
        return;
    for (int i = 0; i < 4; i++) {
        if (strcmp(text, names[i]) == 0) {
            config.log_level = log_level = i;
            return;
        }
    }
    GREEN_WARN("GREEN_LOG_LEVEL='%s' is not valid: expected error, warn, info or debug; "
               "using the default (warn)", text);
}

// Accepts 0 and 1 only, so that a typo is not taken for either.
void load_stats()
{
    const char* text = getenv("GREEN_STATS");
    if (!text || !*text)
        return;
    if (strcmp(text, "0") == 0 || strcmp(text, "1") == 0) {
        config.stats = text[0] == '1';
        return;
    }
    GREEN_WARN("GREEN_STATS='%s' is not valid: expected 1 (print statistics at exit) or 0; "
               "using the default (0)", text);
}

void load_log_file()
{
    const char* text = getenv("GREEN_LOG_FILE");
    if (!text || !*text)
        return;
    int err = log_open_file(text);
    if (err != 0)
        GREEN_WARN("GREEN_LOG_FILE='%s' is not valid: expected a file that can be opened for "
                   "appending (%s); using the default (standard error)", text, strerror(err));
}

void load_watchdog()
{
    const char* text = getenv("GREEN_WATCHDOG");
    if (!text || !*text)
        return;
    long long ns = parse_duration(text);
    if (ns < 0) {
        GREEN_WARN("GREEN_WATCHDOG='%s' is not valid: expected 0 (off) or a whole number of ms "
                   "or s, from 10ms to 3600s; using the default (0, off)", text);
        return;
    }
    config.watchdog_ns = ns;
}

void load_resolv_conf()
{
    const char* text = getenv("GREEN_RESOLV_CONF");
    if (!text || !*text)
        return;
    struct stat st;
    if (stat(text, &st) != 0 || !S_ISREG(st.st_mode) || access(text, R_OK) != 0) {
        GREEN_WARN("GREEN_RESOLV_CONF='%s' is not valid: expected a readable file; using the "
                   "default (/etc/resolv.conf)", text);
        return;
    }
    config.resolv_conf = text;
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

void load_families()
{
    const char* text = getenv("GREEN_FAMILIES");
    if (!text || !*text)
        return;
    if (!parse_families(text, &config.families))
        GREEN_WARN("GREEN_FAMILIES='%s' is not valid: expected all, or names separated by "
                   "commas among threads, sockets, dns, sleep, sync, process, signals, stdio; "
                   "using the default (all)", text);
}

void load_children()
{
    const char* text = getenv("GREEN_CHILDREN");
    if (!text || !*text || strcmp(text, "green") == 0)
        return;
    if (strcmp(text, "plain") == 0) {
        config.children_plain = true;
        return;
    }
    GREEN_WARN("GREEN_CHILDREN='%s' is not valid: expected green (programs this one runs are "
               "green too) or plain; using the default (green)", text);
}

void load_dump_signal()
{
    const char* text = getenv("GREEN_DUMP_SIGNAL");
    if (!text || !*text)
        return;
    int sig = parse_signal(text);
    if (sig == 0) {
        GREEN_WARN("GREEN_DUMP_SIGNAL='%s' is not valid: expected a signal name (USR2, SIGUSR2, "
                   "RTMIN+N, RTMAX-N) or number, not KILL, STOP, ILL, TRAP, ABRT, BUS, FPE, SEGV, "
                   "32 or 33; using the default (none)", text);
        return;
    }
    config.dump_signal = sig;
}

}  // namespace

void config_load()
{
    static bool loaded = false;
    if (loaded)
        return;
    loaded = true;
    load_log_file();   // first, so that the warnings of the others go there
    load_log_level();  // next, so that it governs the warnings of the others
    load_stack_size();
    load_stats();
    load_watchdog();
    load_dump_signal();
    load_resolv_conf();
    load_children();
    load_families();
    chaos_config_load();  // GREEN_SEED, GREEN_CHAOS, GREEN_INJECT: hub/chaos.cpp
}

}  // namespace green
