// Diagnostics on stderr (or GREEN_LOG_FILE): one line each, prefixed "libgreen: ".  Safe before
// start-up and on any context; they write with the raw write(2) system call and stdio-free
// formatting.
#ifndef GREEN_LOG_H
#define GREEN_LOG_H

#include <cstddef>

namespace green {

enum LogLevel { kLogError = 0, kLogWarn = 1, kLogInfo = 2, kLogDebug = 3 };

extern int log_level;  // messages above this level are dropped (GREEN_LOG_LEVEL)
extern int log_fd;     // where messages go: 2, or GREEN_LOG_FILE's descriptor

// Opens path for appending as the log (GREEN_LOG_FILE), on a high descriptor number that the
// program is unlikely to use or see.  Returns 0, or an errno value (the log stays on stderr).
int log_open_file(const char* path);

// Writes all of buf to the log, with raw system calls: safe in a signal handler and at exit.
// fd: the log's descriptor as the calling OS thread sees it (the watchdog has its own
// descriptor table: hub/diag.cpp).
void log_write(const char* buf, size_t n, int fd = log_fd);

// One line at any level (what the user asked for: statistics, dumps, watchdog reports).
void log_print(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

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
