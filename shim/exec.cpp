// The exec family and posix_spawn: the new program must find its descriptors exactly as the
// program left them, so libgreen's own O_NONBLOCK comes off every description it inherits
// first (and back on if exec fails, or in the parent once posix_spawn has started the child).
// glibc's execl*, execvp* and posix_spawn* reach execve internally, unseen, so each entry
// point is wrapped.  The new program's environment is the program's, LD_PRELOAD included, so
// that child programs are green too; with GREEN_CHILDREN=plain libgreen leaves LD_PRELOAD.
#include <dlfcn.h>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>

#include "../hub/config.h"
#include "../hub/fdtable.h"
#include "shim.h"

extern char** environ;

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

// Whether an LD_PRELOAD entry names this library (the same file, whatever the spelling).
bool is_libgreen(const char* entry, size_t len)
{
    static struct stat self;
    static bool known = [] {
        Dl_info info;
        return dladdr(reinterpret_cast<void*>(&is_libgreen), &info) && info.dli_fname &&
               stat(info.dli_fname, &self) == 0;
    }();
    char path[4096];
    struct stat st;
    if (!known || len >= sizeof path)
        return false;
    memcpy(path, entry, len);
    path[len] = '\0';
    return stat(path, &st) == 0 && st.st_dev == self.st_dev && st.st_ino == self.st_ino;
}

}  // namespace

green::ChildEnv::ChildEnv(char* const* envp) : env_(envp)
{
    if (!config.children_plain || !envp)
        return;
    size_t n = 0;
    while (envp[n])
        n++;
    copy_ = static_cast<char**>(malloc((n + 1) * sizeof(char*)));
    if (!copy_)
        return;  // the environment as it is: better than no exec
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(envp[i], "LD_PRELOAD=", 11) != 0) {
            copy_[k++] = envp[i];
            continue;
        }
        // The entries but libgreen's, separated as ld.so separates them (spaces or colons).
        const char* list = envp[i] + 11;
        preload_ = static_cast<char*>(malloc(strlen(envp[i]) + 1));
        if (!preload_) {
            copy_[k++] = envp[i];
            continue;
        }
        char* out = stpcpy(preload_, "LD_PRELOAD=");
        char* start = out;
        for (const char* p = list; *p;) {
            size_t len = strcspn(p, " :");
            if (len && !is_libgreen(p, len)) {
                if (out != start)
                    *out++ = ':';
                memcpy(out, p, len);
                out += len;
            }
            p += len;
            p += strspn(p, " :");
        }
        *out = '\0';
        if (out != start)
            copy_[k++] = preload_;
    }
    copy_[k] = nullptr;
    env_ = copy_;
}

green::ChildEnv::~ChildEnv()
{
    free(copy_);
    free(preload_);
}

GREEN_EXPORT int execve(const char* path, char* const argv[], char* const envp[])
{
    ChildEnv env(envp);
    return around_exec([&] { return REAL(execve)(path, argv, env.get()); });
}

GREEN_EXPORT int execv(const char* path, char* const argv[])
{
    ChildEnv env(environ);
    return around_exec([&] { return REAL(execve)(path, argv, env.get()); });
}

GREEN_EXPORT int execvp(const char* file, char* const argv[])
{
    ChildEnv env(environ);
    return around_exec([&] { return REAL(execvpe)(file, argv, env.get()); });
}

GREEN_EXPORT int execvpe(const char* file, char* const argv[], char* const envp[])
{
    ChildEnv env(envp);
    return around_exec([&] { return REAL(execvpe)(file, argv, env.get()); });
}

GREEN_EXPORT int fexecve(int fd, char* const argv[], char* const envp[])
{
    ChildEnv env(envp);
    return around_exec([&] { return REAL(fexecve)(fd, argv, env.get()); });
}

GREEN_EXPORT int execl(const char* path, const char* arg0, ...)
{
    GREEN_COLLECT_ARGS(arg0, argv, (void)0);
    return execv(path, const_cast<char* const*>(argv));
}

GREEN_EXPORT int execlp(const char* file, const char* arg0, ...)
{
    GREEN_COLLECT_ARGS(arg0, argv, (void)0);
    return execvp(file, const_cast<char* const*>(argv));
}

GREEN_EXPORT int execle(const char* path, const char* arg0, ...)
{
    char* const* envp;
    GREEN_COLLECT_ARGS(arg0, argv, envp = va_arg(ap, char* const*));
    return execve(path, const_cast<char* const*>(argv), envp);
}

GREEN_EXPORT int posix_spawn(pid_t* pid, const char* path, const posix_spawn_file_actions_t* fa,
                             const posix_spawnattr_t* attr, char* const argv[], char* const envp[])
{
    ChildEnv env(envp);
    return around_exec([&] { return REAL(posix_spawn)(pid, path, fa, attr, argv, env.get()); });
}

GREEN_EXPORT int posix_spawnp(pid_t* pid, const char* file, const posix_spawn_file_actions_t* fa,
                              const posix_spawnattr_t* attr, char* const argv[], char* const envp[])
{
    ChildEnv env(envp);
    return around_exec([&] { return REAL(posix_spawnp)(pid, file, fa, attr, argv, env.get()); });
}
