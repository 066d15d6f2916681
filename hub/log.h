// Diagnostics on stderr: one line each, prefixed "libgreen: ".  Safe before start-up and on any
// context; they write with the real write(2) path of stdio-free formatting.
#ifndef GREEN_LOG_H
#define GREEN_LOG_H

namespace green {

enum LogLevel { kLogError = 0, kLogWarn = 1, kLogInfo = 2, kLogDebug = 3 };

extern int log_level;  // messages above this level are dropped (GREEN_LOG_LEVEL)

void log_msg(int level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
[[noreturn]] void fatal(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace green

#define GREEN_WARN(...) ::green::log_msg(::green::kLogWarn, __VA_ARGS__)
#define GREEN_DEBUG(...)                                  \
    do {                                                  \
        if (::green::log_level >= ::green::kLogDebug)     \
            ::green::log_msg(::green::kLogDebug, __VA_ARGS__); \
    } while (0)

#endif
