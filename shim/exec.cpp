// The exec family and posix_spawn: the new program must find its descriptors exactly as the
// program left them, so libgreen's own O_NONBLOCK comes off every description it inherits
// first (and back on if exec fails, or in the parent once posix_spawn has started the child).
// glibc's execl*, execvp* and posix_spawn* reach execve internally, unseen, so each entry
// point is wrapped.  (Whether the child keeps LD_PRELOAD is the environment's business: it is
// passed on as the program gives it.)
#include <spawn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>

#include "../hub/fdtable.h"
#include "shim.h"

using namespace green;

namespace {

// Runs an exec: on success it does not return.
template <class Exec>
int around_exec(Exec exec)
{
    fd_release_internal();
    int r = exec();
    int e = errno;
    fd_restore_internal();
    errno = e;
    return r;
}

// The execl forms take their arguments as a list: collect them into an argv on the stack.
#define GREEN_COLLECT_ARGS(arg0, argv, envp_out)                              \
    va_list ap;                                                                     \
    va_start(ap, arg0);                                                             \
    size_t argc_ = 1;                                                               \
    {                                                                               \
        va_list aq;                                                                 \
        va_copy(aq, ap);                                                            \
        while (va_arg(aq, const char*))                                             \
            argc_++;                                                                \
        va_end(aq);                                                                 \
    }                                                                               \
    const char* argv[argc_ + 1];                                                    \
    argv[0] = arg0;                                                                 \
    for (size_t i_ = 1; i_ <= argc_; i_++)                                          \
        argv[i_] = va_arg(ap, const char*);                                         \
    envp_out;                                                                       \
    va_end(ap)

}  // namespace

GREEN_EXPORT int execve(const char* path, char* const argv[], char* const envp[])
{
    return around_exec([&] { return REAL(execve)(path, argv, envp); });
}

GREEN_EXPORT int execv(const char* path, char* const argv[])
{
    return around_exec([&] { return REAL(execv)(path, argv); });
}

GREEN_EXPORT int execvp(const char* file, char* const argv[])
{
    return around_exec([&] { return REAL(execvp)(file, argv); });
}

GREEN_EXPORT int execvpe(const char* file, char* const argv[], char* const envp[])
{
    return around_exec([&] { return REAL(execvpe)(file, argv, envp); });
}

GREEN_EXPORT int fexecve(int fd, char* const argv[], char* const envp[])
{
    return around_exec([&] { return REAL(fexecve)(fd, argv, envp); });
}

GREEN_EXPORT int execl(const char* path, const char* arg0, ...)
{
    GREEN_COLLECT_ARGS(arg0, argv, (void)0);
    return around_exec([&] { return REAL(execv)(path, const_cast<char* const*>(argv)); });
}

GREEN_EXPORT int execlp(const char* file, const char* arg0, ...)
{
    GREEN_COLLECT_ARGS(arg0, argv, (void)0);
    return around_exec([&] { return REAL(execvp)(file, const_cast<char* const*>(argv)); });
}

GREEN_EXPORT int execle(const char* path, const char* arg0, ...)
{
    char* const* envp;
    GREEN_COLLECT_ARGS(arg0, argv, envp = va_arg(ap, char* const*));
    return around_exec([&] { return REAL(execve)(path, const_cast<char* const*>(argv), envp); });
}

GREEN_EXPORT int posix_spawn(pid_t* pid, const char* path, const posix_spawn_file_actions_t* fa,
                             const posix_spawnattr_t* attr, char* const argv[], char* const envp[])
{
    return around_exec([&] { return REAL(posix_spawn)(pid, path, fa, attr, argv, envp); });
}

GREEN_EXPORT int posix_spawnp(pid_t* pid, const char* file, const posix_spawn_file_actions_t* fa,
                              const posix_spawnattr_t* attr, char* const argv[], char* const envp[])
{
    return around_exec([&] { return REAL(posix_spawnp)(pid, file, fa, attr, argv, envp); });
}
