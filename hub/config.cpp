#include "config.h"

#include <pthread.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "chaos.h"
#include "log.h"

namespace green {

Config config = {8u << 20, 4096, kLogWarn};

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

}  // namespace

void config_load()
{
    static bool loaded = false;
    if (loaded)
        return;
    loaded = true;
    load_log_level();  // first, so that it governs the warnings of the others
    load_stack_size();
    chaos_config_load();  // GREEN_SEED, GREEN_CHAOS, GREEN_INJECT: hub/chaos.cpp
}

}  // namespace green
