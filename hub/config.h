// Configuration: read once, at start-up, from GREEN_* environment variables only.
//
// A bad value is never fatal in the library: it warns once on stderr, naming the variable and
// the values it accepts, and uses the default.  (greenrun refuses bad values before the program
// starts; see scripts/greenrun.)  Every variable here is documented in man/libgreen.7.
#ifndef GREEN_CONFIG_H
#define GREEN_CONFIG_H

#include <cstddef>

namespace green {

struct Config {
    size_t stack_size;   // GREEN_STACK_SIZE: stack of a green thread whose attribute sets none
    size_t guard_size;   // the default guard below it (glibc's: one page)
    int log_level;       // GREEN_LOG_LEVEL: error, warn, info, debug
};

extern Config config;

// Reads the environment into config (idempotent).
void config_load();

// Parses a size as GREEN_STACK_SIZE takes it: digits, then optionally k, m or g (powers of
// 1024, either case).  Returns 0 when text is not a size.
size_t parse_size(const char* text);

constexpr size_t kStackSizeMin = 16 * 1024;
constexpr size_t kStackSizeMax = size_t(1) << 30;

}  // namespace green

#endif
