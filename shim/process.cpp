// Child processes: waitpid, wait, wait3, wait4, waitid; system; popen, pclose (and fclose of a
// popen'd stream).
//
// Waits.  A green thread waiting for a child parks instead of blocking its OS thread.  SIGCHLD
// stays the program's: libgreen installs no handler for it and opens no signalfd on it, so a
// program that catches, blocks or ignores SIGCHLD sees what it would see without libgreen.
// Each wait first makes the real call with WNOHANG added (a child already done costs that one
// call, and errors such as ECHILD and EINVAL come from the kernel as they would); when nothing
// is ready:
//   * for one child (pid > 0, P_PID, P_PIDFD) the green thread waits for a pidfd of the child
//     to become readable, which the kernel does when the child exits, then asks again.  Stops
//     and continuations (WUNTRACED, WCONTINUED) make no pidfd readable, so with those flags the
//     wait also wakes on a short timer.  The stops of a traced child are reported even without
//     those flags, so an exit-only wait also looks again once a second: a tracer that waits
//     for one child sees its stops late, never not at all.
//   * for any child (pid -1, 0 or < -1, P_ALL, P_PGID) there is no descriptor to wait on: the
//     only news of "some child changed state" is SIGCHLD, which belongs to the program.  So
//     the green thread asks again on a timer, after 1 ms, then twice as long each time up to
//     20 ms: a child is noticed at most that late, and a long wait costs 50 calls a second.
// Signals do not interrupt these waits with EINTR (libgreen(7)); __WALL, __WCLONE and WNOWAIT
// go to the real call unchanged.  A WNOHANG call, and every call off a green thread, is the
// real call.
//
// system and popen.  glibc's system() and pclose() wait with internal calls no wrapper sees,
// so both are libgreen's own, with glibc 2.36's behaviour, on every thread (green or not): the
// state they share — the count of system() calls ignoring SIGINT and SIGQUIT, the list of
// popen'd streams — must be one for the whole process.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "../hub/fdtable.h"
#include "../hub/spinlock.h"
#include "../hub/sys.h"
#include "../hub/signal.h"
#include "../hub/preempt.h"
#include "shim.h"

#ifndef P_PIDFD
#define P_PIDFD idtype_t(3)
#endif

extern char** environ;

using namespace green;

namespace {

constexpr int64_t kMs = 1000000;
constexpr int64_t kPollFirst = 1 * kMs;   // first re-check of an any-child wait
constexpr int64_t kPollMax = 20 * kMs;    // the longest interval between re-checks
constexpr int64_t kTraceCheck = 1000 * kMs;  // exit-only pidfd waits look again this often

// A pidfd that libgreen opened for one wait, closed when the wait ends (also when a
// cancellation unwinds the green thread out of it).
class PidFd {
public:
    PidFd() = default;
    ~PidFd() { drop(); }
    PidFd(const PidFd&) = delete;
    PidFd& operator=(const PidFd&) = delete;
    // Opens a pidfd of pid; none when it cannot (an old kernel, a thread id, a pid gone):
    // the wait then runs on the timer alone.
    void open(pid_t pid)
    {
        long fd = raw_syscall(SYS_pidfd_open, pid, 0);
        fd_ = fd >= 0 ? int(fd) : -1;
        owned_ = fd_ >= 0;
    }
    // The program's own pidfd (waitid P_PIDFD): waited on, never closed.
    void borrow(int fd)
    {
        fd_ = fd;
        owned_ = false;
    }
    int fd() const { return fd_; }
    // Stops using it (closing it if it is ours).
    void drop()
    {
        if (owned_) {
            fd_forget(fd_);  // nobody waits on it now; its number may be the program's next
            raw_syscall(SYS_close, fd_);
        }
        fd_ = -1;
        owned_ = false;
    }
    // The number went away under the wait (the program closed it): it is no longer ours to
    // close.
    void lost()
    {
        fd_ = -1;
        owned_ = false;
    }

private:
    int fd_ = -1;         // the descriptor waited on, or -1
    bool owned_ = false;  // libgreen opened it and closes it
};

// The green wait shared by every entry point.  attempt() is the real call with WNOHANG added:
// > 0 when it reported a child, 0 when nothing is ready yet, < 0 (errno set) on error.
// child is the one child waited for (a pidfd of it is opened once the first attempt found it
// still running, so that a child already done costs nothing more), or 0 for any child; pidfd
// may hold the program's own pidfd instead.  exit_only says the caller asked only for exits,
// which the pidfd announces.
template <class Attempt>
long green_wait(pid_t child, PidFd& pidfd, bool exit_only, bool cancellable, Attempt attempt)
{
    if (cancellable)
        testcancel();  // a cancellation point even when a child is ready
    long r = attempt();
    if (r != 0)
        return r;
    if (child > 0)
        pidfd.open(child);
    int64_t interval = kPollFirst;
    // The program's own waits fail with EINTR when a signal handler without SA_RESTART runs
    // (system and pclose, not cancellable, retry as glibc's do).
    Green* self = green_self();
    Interruptible scope(cancellable ? self : nullptr);
    auto interrupted = [&](int w) { return w == -EINTR && !self->interrupt_restart; };
    for (;;) {
        if (pidfd.fd() >= 0) {
            int64_t deadline = mono_now() + (exit_only ? kTraceCheck : interval);
            int w = wait_fd(pidfd.fd(), EV_READ, deadline, cancellable);
            if (w == -EBADF)
                pidfd.lost();
            if (interrupted(w)) {
                errno = EINTR;
                return -1;
            }
            r = attempt();
            if (r != 0)
                return r;
            // Readable and still nothing to report (a traced or reaped child, say): the pidfd
            // stays readable for good, so from now on only the timer can pace the wait.
            if (w > 0)
                pidfd.drop();
        } else {
            if (interrupted(sleep_until(mono_now() + interval, cancellable))) {
                errno = EINTR;
                return -1;
            }
            r = attempt();
            if (r != 0)
                return r;
        }
        interval = interval * 2 < kPollMax ? interval * 2 : kPollMax;
    }
}

// wait4 for a green thread, also the wait behind system and pclose.
pid_t green_wait4(pid_t pid, int* status, int options, struct rusage* ru, bool cancellable)
{
    PidFd pidfd;
    bool exit_only = !(options & (WUNTRACED | WCONTINUED));
    return pid_t(green_wait(pid > 0 ? pid : 0, pidfd, exit_only, cancellable,
                            [&] { return long(REAL(wait4)(pid, status, options | WNOHANG, ru)); }));
}

// Waits for one child as waitpid(pid, status, 0) does, green or not; for system and pclose,
// which retry on EINTR.  Not cancellable: pclose may not be interrupted, and system acts on a
// cancellation itself.
pid_t wait_child(pid_t pid, int* status)
{
    if (green_in(kProcess))
        return green_wait4(pid, status, 0, nullptr, false);
    int old;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    pid_t r;
    do
        r = REAL(wait4)(pid, status, 0, nullptr);
    while (r < 0 && errno == EINTR);
    pthread_setcancelstate(old, nullptr);
    return r;
}

// posix_spawn as the exec family runs it (shim/exec.cpp): the child inherits no O_NONBLOCK
// that libgreen set.
int spawn(pid_t* pid, const char* path, const posix_spawn_file_actions_t* fa,
          const posix_spawnattr_t* attr, char* const argv[])
{
    ChildEnv env(environ);
    fd_release_internal();
    int r = REAL(posix_spawn)(pid, path, fa, attr, argv, env.get());
    fd_restore_internal();
    return r;
}

}  // namespace

GREEN_EXPORT pid_t wait4(pid_t pid, int* status, int options, struct rusage* ru)
{
    if (!green_in(kProcess) || (options & WNOHANG))
        return REAL(wait4)(pid, status, options, ru);
    return green_wait4(pid, status, options, ru, true);
}

GREEN_EXPORT pid_t waitpid(pid_t pid, int* status, int options)
{
    if (!green_in(kProcess) || (options & WNOHANG))
        return REAL(waitpid)(pid, status, options);
    return green_wait4(pid, status, options, nullptr, true);
}

GREEN_EXPORT pid_t wait(int* status)
{
    if (!green_in(kProcess))
        return REAL(wait)(status);
    return green_wait4(-1, status, 0, nullptr, true);
}

GREEN_EXPORT pid_t wait3(int* status, int options, struct rusage* ru)
{
    if (!green_in(kProcess) || (options & WNOHANG))
        return REAL(wait3)(status, options, ru);
    return green_wait4(-1, status, options, ru, true);
}

GREEN_EXPORT int waitid(idtype_t type, id_t id, siginfo_t* info, int options)
{
    if (!green_in(kProcess) || (options & WNOHANG))
        return REAL(waitid)(type, id, info, options);
    PidFd pidfd;
    pid_t child = type == P_PID && pid_t(id) > 0 ? pid_t(id) : 0;
    if (type == P_PIDFD) {
        // A pidfd the program made non-blocking makes waitid fail with EAGAIN instead of
        // waiting: that is the real call's answer to give.
        long fl = raw_syscall(SYS_fcntl, long(id), F_GETFL);
        if (fl >= 0 && (fl & O_NONBLOCK))
            return REAL(waitid)(type, id, info, options);
        if (fl >= 0)
            pidfd.borrow(int(id));
    }
    // With WNOHANG, "nothing yet" is a zeroed si_pid, which a null info cannot show (Linux
    // accepts a null info): each attempt fills a siginfo of our own.
    bool exit_only = !(options & (WSTOPPED | WCONTINUED));
    siginfo_t si;
    long r = green_wait(child, pidfd, exit_only, true, [&]() -> long {
        memset(&si, 0, sizeof si);
        if (REAL(waitid)(type, id, &si, options | WNOHANG) != 0)
            return -1;
        return si.si_pid != 0 ? 1 : 0;
    });
    // The kernel writes these fields of info, also when it fails, and no others.
    if (info) {
        info->si_signo = si.si_signo;
        info->si_errno = si.si_errno;
        info->si_code = si.si_code;
        info->si_pid = si.si_pid;
        info->si_uid = si.si_uid;
        info->si_status = si.si_status;
    }
    return r < 0 ? -1 : 0;
}

// ---- what system and popen share ----
namespace {

SpinLock int_quit_lock;          // guards the three below
int int_quit_users;              // system() calls running, in the whole process
struct sigaction saved_int;      // SIGINT's disposition before the first of them
struct sigaction saved_quit;     // SIGQUIT's likewise

struct Popened;
SpinLock popen_lock;               // guards popen_list; never held across a switch
Popened* popen_list;               // streams popen returned and nobody closed yet

// In the child of fork another OS thread may have held a lock at the fork.  (The SIGINT and
// SIGQUIT count is inherited as it is, as in glibc; signal masks are per green thread, and the
// forking one is not inside system().)
void after_fork_child()
{
    new (&int_quit_lock) SpinLock;
    new (&popen_lock) SpinLock;
}

// Registers after_fork_child, the first time system or popen runs.
void on_fork_reset()
{
    static std::atomic<bool> registered{false};
    if (!registered.exchange(true, std::memory_order_relaxed))
        pthread_atfork(nullptr, nullptr, after_fork_child);
}

}  // namespace

// ---- system ----
//
// As glibc 2.36 (with its 2.36 branch fixes) does it: while commands run, SIGINT and SIGQUIT
// are ignored process-wide — the first of concurrent system() calls saves their dispositions,
// the last puts them back — and SIGCHLD is blocked in the calling thread; the shell starts with
// the caller's original mask and with SIGINT and SIGQUIT at their defaults unless the program
// ignored them.  A cancelled system() kills its child with SIGKILL and reaps it.
//
// The signal mask belongs to the OS thread, which all its green threads share: the block on
// SIGCHLD is therefore counted per OS thread, and lifted when the last system() call of that OS
// thread returns (glibc's per-call restore would leave it blocked when green threads' calls
// overlap and end in another order than they began).
namespace {



// Everything system() changes for the duration of one command, undone by the destructor, also
// when a cancellation unwinds the calling green thread.
class SystemSignals {
public:
    SystemSignals()
    {
        on_fork_reset();
        struct sigaction ign;
        memset(&ign, 0, sizeof ign);
        ign.sa_handler = SIG_IGN;
        sigemptyset(&ign.sa_mask);
        {
            SpinGuard g(int_quit_lock);
            if (int_quit_users++ == 0) {
                sigaction(SIGINT, &ign, &saved_int);
                sigaction(SIGQUIT, &ign, &saved_quit);
            }
            int_ignored_ = saved_int.sa_handler == SIG_IGN;
            quit_ignored_ = saved_quit.sa_handler == SIG_IGN;
        }
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        pthread_sigmask(SIG_BLOCK, &chld, &child_mask_);  // the calling thread's, green or not
    }
    ~SystemSignals()
    {
        {
            SpinGuard g(int_quit_lock);
            if (--int_quit_users == 0) {
                sigaction(SIGINT, &saved_int, nullptr);
                sigaction(SIGQUIT, &saved_quit, nullptr);
            }
        }
        pthread_sigmask(SIG_SETMASK, &child_mask_, nullptr);
    }
    SystemSignals(const SystemSignals&) = delete;
    SystemSignals& operator=(const SystemSignals&) = delete;

    // The shell's attributes: the caller's own mask, SIGINT and SIGQUIT reset unless ignored.
    void set_child_attr(posix_spawnattr_t* attr) const
    {
        sigset_t reset;
        sigemptyset(&reset);
        if (!int_ignored_)
            sigaddset(&reset, SIGINT);
        if (!quit_ignored_)
            sigaddset(&reset, SIGQUIT);
        posix_spawnattr_setsigmask(attr, &child_mask_);
        posix_spawnattr_setsigdefault(attr, &reset);
        posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    }

private:
    sigset_t child_mask_;   // the calling thread's mask as the program set it
    bool int_ignored_;      // SIGINT was SIG_IGN before system() calls began
    bool quit_ignored_;     // SIGQUIT likewise
};

// The child of a system() call still running when the caller is cancelled: killed and reaped,
// so that no zombie and no stray command outlive it.
class ChildGuard {
public:
    explicit ChildGuard(pid_t pid) : pid_(pid) {}
    ~ChildGuard()
    {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            wait_child(pid_, nullptr);
        }
    }
    void release() { pid_ = 0; }
    ChildGuard(const ChildGuard&) = delete;
    ChildGuard& operator=(const ChildGuard&) = delete;

private:
    pid_t pid_;  // the child to kill, or 0 once it was waited for
};

int run_shell(const char* line)
{
    SystemSignals signals;
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    signals.set_child_attr(&attr);
    char* const argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"),
                          const_cast<char*>(line), nullptr};
    pid_t pid;
    int ret = spawn(&pid, "/bin/sh", nullptr, &attr, argv);
    posix_spawnattr_destroy(&attr);
    int status;
    if (ret == 0) {
        ChildGuard guard(pid);
        pid_t r;
        if (green_in(kProcess)) {
            r = green_wait4(pid, &status, 0, nullptr, true);
        } else {
            do
                r = REAL(waitpid)(pid, &status, 0);  // a cancellation point, as in glibc
            while (r < 0 && errno == EINTR);
        }
        guard.release();
        if (r != pid)
            status = -1;
    } else {
        // glibc 2.36 reports any failure to start the shell as a shell that exited with 127,
        // with errno saying why.
        status = W_EXITCODE(127, 0);
    }
    if (ret != 0)
        errno = ret;
    return status;
}

}  // namespace

GREEN_EXPORT int system(const char* line)
{
    if (!line)  // is there a shell?
        return run_shell("exit 0") == 0;
    return run_shell(line);
}

// ---- popen, pclose ----
//
// As glibc 2.36 does it: a pipe made close-on-exec at once (a fork elsewhere must not inherit
// it), the child's end moved onto its standard input or output by posix_spawn of /bin/sh -c,
// the streams of earlier popen calls closed in the child (POSIX), the parent's end keeping
// close-on-exec only with the "e" mode.  The stream is an ordinary fdopen'd one, and reads on
// it are green through shim/stdio.cpp; what makes it a popen'd stream is its entry in the list
// popen_list, which pclose (and fclose, which waits for the command in glibc too) look up.
namespace {

struct Popened {
    FILE* fp;        // the stream popen returned
    pid_t pid;       // its shell
    Popened* next;   // next in the list
};

std::atomic<int> popen_count{0};   // entries in popen_list: fclose looks no further at 0

// Removes fp from the list; its shell's pid, or 0 when fp is not a popen'd stream.
pid_t popen_take(FILE* fp)
{
    if (popen_count.load(std::memory_order_acquire) == 0)
        return 0;
    Popened* found = nullptr;
    {
        SpinGuard g(popen_lock);
        for (Popened** p = &popen_list; *p; p = &(*p)->next) {
            if ((*p)->fp == fp) {
                found = *p;
                *p = found->next;
                popen_count.fetch_sub(1, std::memory_order_relaxed);
                break;
            }
        }
    }
    if (!found)
        return 0;
    pid_t pid = found->pid;
    free(found);
    return pid;
}

// Closes a popen'd stream and waits for its shell, as glibc's fclose of such a stream does:
// the shell's status, or -1 when the wait failed, or when flushing or closing failed and the
// shell exited with 0.  (glibc does not wait when close() itself fails, which can happen only
// if the program closed the descriptor behind the stream's back; this waits all the same.)
int popen_close(FILE* fp, pid_t pid)
{
    int fd = fileno(fp);
    stdio_closing(fp);  // pending output waits green for room
    if (fd >= 0)
        fd_forget(fd);  // waiters get EBADF, as for close()
    int closed = REAL(fclose)(fp);
    int close_errno = errno;
    int status;
    if (wait_child(pid, &status) != pid)
        return -1;
    if (status == 0 && closed != 0) {
        errno = close_errno;
        return -1;
    }
    return status;
}

FILE* do_popen(const char* command, const char* mode)
{
    on_fork_reset();
    bool rd = false, wr = false, cloexec = false;
    for (const char* m = mode; *m; m++) {
        switch (*m) {
        case 'r': rd = true; break;
        case 'w': wr = true; break;
        case 'e': cloexec = true; break;
        default: errno = EINVAL; return nullptr;
        }
    }
    if (rd == wr) {
        errno = EINVAL;
        return nullptr;
    }
    Popened* entry = static_cast<Popened*>(malloc(sizeof(Popened)));
    if (!entry)
        return nullptr;
    int fds[2];
    if (REAL(pipe2)(fds, O_CLOEXEC) != 0) {
        free(entry);
        return nullptr;
    }
    fd_created(fds[0], FdKind::Pipe, false);
    fd_created(fds[1], FdKind::Pipe, false);
    int parent = rd ? fds[0] : fds[1];
    int child = rd ? fds[1] : fds[0];
    int child_target = rd ? STDOUT_FILENO : STDIN_FILENO;
    auto fail = [&](int e) {
        for (int fd : {parent, child}) {
            if (fd >= 0) {
                fd_forget(fd);
                REAL(close)(fd);
            }
        }
        free(entry);
        errno = e;
        return nullptr;
    };
    // Already the child's number: dup2 onto itself would leave it close-on-exec, so move it.
    if (child == child_target) {
        int moved = REAL(fcntl)(child, F_DUPFD_CLOEXEC, 0);
        if (moved < 0)
            return fail(ENOMEM);
        fd_copied(child, moved);
        fd_forget(child);
        REAL(close)(child);
        child = moved;
    }
    FILE* fp = fdopen(parent, rd ? "r" : "w");
    if (!fp)
        return fail(errno);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    bool ok = posix_spawn_file_actions_adddup2(&fa, child, child_target) == 0;
    char* const argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"),
                          const_cast<char*>(command), nullptr};
    {
        // Locked from the list's walk until the new stream is in it, so that a concurrent popen
        // closes this one's descriptor in its child too.  posix_spawn does not switch.
        SpinGuard g(popen_lock);
        for (Popened* p = popen_list; ok && p; p = p->next) {
            int fd = fileno(p->fp);
            if (fd != child_target && fd >= 0)
                ok = posix_spawn_file_actions_addclose(&fa, fd) == 0;
        }
        if (ok)
            ok = spawn(&entry->pid, "/bin/sh", &fa, nullptr, argv) == 0;
        if (ok) {
            entry->fp = fp;
            entry->next = popen_list;
            popen_list = entry;
            popen_count.fetch_add(1, std::memory_order_release);
        }
    }
    posix_spawn_file_actions_destroy(&fa);
    if (!ok) {
        fd_forget(parent);
        REAL(fclose)(fp);
        parent = -1;
        return fail(ENOMEM);  // glibc says ENOMEM for any failure to start the shell
    }
    fd_forget(child);
    REAL(close)(child);
    if (!cloexec)
        REAL(fcntl)(parent, F_SETFD, 0);
    return fp;
}

}  // namespace

GREEN_EXPORT FILE* popen(const char* command, const char* mode)
{
    return do_popen(command, mode);
}

GREEN_EXPORT int pclose(FILE* fp)
{
    if (pid_t pid = popen_take(fp))
        return popen_close(fp, pid);
    return REAL(pclose)(fp);
}

GREEN_EXPORT int fclose(FILE* fp)
{
    if (pid_t pid = popen_take(fp))
        return popen_close(fp, pid);
    stdio_closing(fp);
    return REAL(fclose)(fp);
}

// The C library runs the program's pthread_atfork handlers holding a lock of its own (not a
// recursive one): no time slice may end inside them, or another green thread of this OS thread
// that forks would wait for that lock for good (hub/preempt.h).
GREEN_EXPORT pid_t fork()
{
    NoPreempt scope(__builtin_frame_address(0));
    return REAL(fork)();
}

// vfork's child borrows the parent's memory, green threads and libgreen's state included, until
// it execs or exits; a child that called a wrapper meanwhile would change them under the parent.
// A fork is the safe reading POSIX allows.
GREEN_EXPORT pid_t vfork() { return fork(); }
