#include "config.h"

#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "chaos.h"
#include "log.h"

namespace green {

Config config = {8u << 20, 4096, kLogWarn, false, 0, 0};

namespace {

// The value of variable v when it is set and not empty (empty counts as unset, as in greenrun).
const char* value_of(int v)
{
    const char* text = getenv(env_specs[v].name);
    return text && *text ? text : nullptr;
}

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
    const char* text = value_of(kEnvStackSize);
    if (!text)
        return;
    EnvValue value;
    if (!env_parse(kEnvStackSize, text, &value)) {
        char instead[64];
        snprintf(instead, sizeof instead, "using the default (%zuk)", config.stack_size >> 10);
        warn_invalid(kEnvStackSize, text, instead);
        return;
    }
    config.stack_size = size_t(value.number);
}

void load_log_level()
{
    const char* text = value_of(kEnvLogLevel);
    EnvValue value;
    if (!text)
        return;
    if (env_parse(kEnvLogLevel, text, &value))
        config.log_level = log_level = int(value.number);
    else
        warn_invalid(kEnvLogLevel, text, "using the default (warn)");
}

void load_stats()
{
    const char* text = value_of(kEnvStats);
    EnvValue value;
    if (!text)
        return;
    if (env_parse(kEnvStats, text, &value))
        config.stats = value.number != 0;
    else
        warn_invalid(kEnvStats, text, "using the default (0)");
}

void load_log_file()
{
    const char* text = value_of(kEnvLogFile);
    EnvValue value;
    if (!text)
        return;
    // The same check as greenrun's first, then the open itself, which can still fail.
    if (!env_parse(kEnvLogFile, text, &value)) {
        warn_invalid(kEnvLogFile, text, "using the default (standard error)");
        return;
    }
    if (int err = log_open_file(text); err != 0) {
        char instead[160];
        snprintf(instead, sizeof instead, "%s; using the default (standard error)",
                 strerror(err));
        warn_invalid(kEnvLogFile, text, instead);
    }
}

void load_watchdog()
{
    const char* text = value_of(kEnvWatchdog);
    EnvValue value;
    if (!text)
        return;
    if (env_parse(kEnvWatchdog, text, &value))
        config.watchdog_ns = (long long)value.number;
    else
        warn_invalid(kEnvWatchdog, text, "using the default (0, off)");
}

void load_resolv_conf()
{
    const char* text = value_of(kEnvResolvConf);
    EnvValue value;
    if (!text)
        return;
    if (env_parse(kEnvResolvConf, text, &value))
        config.resolv_conf = text;
    else
        warn_invalid(kEnvResolvConf, text, "using the default (/etc/resolv.conf)");
}

void load_families()
{
    const char* text = value_of(kEnvFamilies);
    EnvValue value;
    if (!text)
        return;
    if (env_parse(kEnvFamilies, text, &value))
        config.families = unsigned(value.number);
    else
        warn_invalid(kEnvFamilies, text, "using the default (all)");
}

void load_children()
{
    const char* text = value_of(kEnvChildren);
    EnvValue value;
    if (!text)
        return;
    if (env_parse(kEnvChildren, text, &value))
        config.children_plain = value.number != 0;
    else
        warn_invalid(kEnvChildren, text, "using the default (green)");
}

void load_dump_signal()
{
    const char* text = value_of(kEnvDumpSignal);
    EnvValue value;
    if (!text)
        return;
    if (env_parse(kEnvDumpSignal, text, &value))
        config.dump_signal = int(value.number);
    else
        warn_invalid(kEnvDumpSignal, text, "using the default (none)");
}

}  // namespace

void warn_invalid(int v, const char* text, const char* instead)
{
    char shown[200];
    size_t n = 0;
    for (; text[n] && n < sizeof shown - 1; n++)
        shown[n] = (unsigned char)text[n] < 0x20 || text[n] == 0x7f ? '?' : text[n];
    shown[n] = '\0';
    GREEN_WARN("%s='%s%s' is not valid: expected %s; %s", env_specs[v].name, shown,
               text[n] ? "..." : "", env_specs[v].rule, instead);
}

void load_workers()
{
    const char* text = value_of(kEnvWorkers);
    EnvValue value;
    if (!text)
        return;
    if (env_parse(kEnvWorkers, text, &value))
        config.workers = int(value.number);
    else
        warn_invalid(kEnvWorkers, text, "using the default (the CPUs)");
}

void load_handoff()
{
    const char* text = value_of(kEnvHandoff);
    EnvValue value;
    if (!text)
        return;
    if (env_parse(kEnvHandoff, text, &value))
        config.handoff = value.number != 0;
    else
        warn_invalid(kEnvHandoff, text, "using the default (1)");
}

static void load_timeslice()
{
    const char* text = value_of(kEnvTimeslice);
    EnvValue value;
    if (!text)
        return;
    if (env_parse(kEnvTimeslice, text, &value)) {
        config.timeslice_ns = (long long)value.number;
        config.timeslice_set = true;
    } else {
        warn_invalid(kEnvTimeslice, text, "using the default (10ms)");
    }
}

static void load_syscall_dispatch()
{
    const char* text = value_of(kEnvSyscallDispatch);
    EnvValue value;
    if (!text)
        return;
    if (env_parse(kEnvSyscallDispatch, text, &value))
        config.syscall_dispatch = int(value.number);
    else
        warn_invalid(kEnvSyscallDispatch, text, "using the default (auto)");
}

static void load_thread_ids()
{
    const char* text = value_of(kEnvThreadIds);
    EnvValue value;
    if (!text)
        return;
    if (env_parse(kEnvThreadIds, text, &value))
        config.os_thread_ids = value.number != 0;
    else
        warn_invalid(kEnvThreadIds, text, "using the default (green)");
}

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
    load_workers();
    load_handoff();
    load_timeslice();
    load_syscall_dispatch();
    load_thread_ids();
    chaos_config_load();  // GREEN_SEED, GREEN_CHAOS, GREEN_INJECT: hub/chaos.cpp
}

}  // namespace green
