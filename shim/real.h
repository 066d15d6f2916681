// The real functions behind every wrapper, resolved once, in one table.
//
// Each wrapper falls back to REAL(name) whenever going green makes no sense (an unmanaged OS
// thread, the hub's loop context, before start-up).  The table is filled at start-up by
// real_resolve(); a wrapper called even earlier (another library's constructor) resolves it
// on the spot.  Symbols that glibc versions are resolved here with dlvsym, to the version a
// modern program binds, so that a wrapper never forwards to a compatibility version by chance.
#ifndef GREEN_SHIM_REAL_H
#define GREEN_SHIM_REAL_H

#include <fcntl.h>
#include <locale.h>
#include <netdb.h>
#include <poll.h>
#include <resolv.h>
#include <stdio.h>
#include <pthread.h>
#include <sched.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <semaphore.h>
#include <spawn.h>
#include <signal.h>
#include <threads.h>
#include <time.h>
#include <wchar.h>

#include <cstdarg>

extern "C" {
char* __fgets_chk(char* s, size_t size, int n, FILE* fp);
size_t __fread_chk(void* ptr, size_t ptrlen, size_t size, size_t n, FILE* fp);
int __isoc99_vfscanf(FILE* fp, const char* format, va_list ap);
int __vfwprintf_chk(FILE* fp, int flag, const wchar_t* format, va_list ap);
int __vwprintf_chk(int flag, const wchar_t* format, va_list ap);
int __fwprintf_chk(FILE* fp, int flag, const wchar_t* format, ...);
int __wprintf_chk(int flag, const wchar_t* format, ...);
wchar_t* __fgetws_chk(wchar_t* s, size_t size, int n, FILE* fp);
int __isoc99_vfwscanf(FILE* fp, const wchar_t* format, va_list ap);
int __isoc99_vwscanf(const wchar_t* format, va_list ap);
int __isoc99_fwscanf(FILE* fp, const wchar_t* format, ...);
int __isoc99_wscanf(const wchar_t* format, ...);
ssize_t __getdelim(char** line, size_t* n, int delim, FILE* fp);
int _IO_getc(FILE* fp);
// The stat entry points of programs built before glibc 2.33.
int __xstat(int ver, const char* path, struct stat* buf);
int __lxstat(int ver, const char* path, struct stat* buf);
int __fxstatat(int ver, int dirfd, const char* path, struct stat* buf, int flags);
}

// X(return type, name, parameter list)
#define GREEN_REAL_FUNCTIONS(X)                                                              \
    X(struct hostent*, gethostbyname, (const char*))                                         \
    X(struct hostent*, gethostbyname2, (const char*, int))                                   \
    X(struct hostent*, gethostbyaddr, (const void*, socklen_t, int))                         \
    X(int, getnameinfo, (const struct sockaddr*, socklen_t, char*, socklen_t, char*,         \
                         socklen_t, int))                                                    \
    X(int, res_query, (const char*, int, int, unsigned char*, int))                          \
    X(int, res_search, (const char*, int, int, unsigned char*, int))                         \
    X(int, res_querydomain, (const char*, const char*, int, int, unsigned char*, int))       \
    X(int, res_send, (const unsigned char*, int, unsigned char*, int))                       \
    X(int, res_nquery, (res_state, const char*, int, int, unsigned char*, int))              \
    X(int, res_nsearch, (res_state, const char*, int, int, unsigned char*, int))             \
    X(int, res_nquerydomain, (res_state, const char*, const char*, int, int, unsigned char*, \
                              int))                                                          \
    X(int, res_nsend, (res_state, const unsigned char*, int, unsigned char*, int))           \
    X(int, __res_ninit, (res_state))                                                         \
    X(int, getaddrinfo_a, (int, struct gaicb**, int, struct sigevent*))                      \
    X(int, sigaction, (int, const struct sigaction*, struct sigaction*))                     \
    X(int, timer_create, (clockid_t, struct sigevent*, timer_t*))                            \
    X(int, timer_settime, (timer_t, int, const struct itimerspec*, struct itimerspec*))      \
    X(int, timer_gettime, (timer_t, struct itimerspec*))                                     \
    X(int, timer_getoverrun, (timer_t))                                                      \
    X(int, timer_delete, (timer_t))                                                          \
    X(int, pthread_sigmask, (int, const sigset_t*, sigset_t*))                               \
    X(int, sigprocmask, (int, const sigset_t*, sigset_t*))                                   \
    X(int, pause, (void))                                                                    \
    X(int, sigsuspend, (const sigset_t*))                                                    \
    X(int, sigtimedwait, (const sigset_t*, siginfo_t*, const struct timespec*))              \
    X(int, sigwaitinfo, (const sigset_t*, siginfo_t*))                                       \
    X(int, sigwait, (const sigset_t*, int*))                                                 \
    X(int, gai_suspend, (const struct gaicb* const*, int, const struct timespec*))           \
    X(int, gai_cancel, (struct gaicb*))                                                      \
    X(int, __res_init, (void))                                                               \
    X(int, pthread_create, (pthread_t*, const pthread_attr_t*, void* (*)(void*), void*))     \
    X(void, exit, (int))                                                                     \
    X(int, __libc_start_main, (int (*)(int, char**, char**), int, char**, void (*)(void),    \
                               void (*)(void), void (*)(void), void*))                       \
    X(locale_t, uselocale, (locale_t))                                                       \
    X(int, pthread_join, (pthread_t, void**))                                                \
    X(int, pthread_tryjoin_np, (pthread_t, void**))                                          \
    X(int, pthread_timedjoin_np, (pthread_t, void**, const struct timespec*))                \
    X(int, pthread_clockjoin_np, (pthread_t, void**, clockid_t, const struct timespec*))     \
    X(int, pthread_detach, (pthread_t))                                                      \
    X(void, pthread_exit, (void*))                                                           \
    X(pthread_t, pthread_self, (void))                                                       \
    X(int, pthread_cancel, (pthread_t))                                                      \
    X(int, pthread_setcancelstate, (int, int*))                                              \
    X(int, pthread_setcanceltype, (int, int*))                                               \
    X(void, pthread_testcancel, (void))                                                      \
    X(void, __pthread_register_cancel, (__pthread_unwind_buf_t*))                            \
    X(void, __pthread_unregister_cancel, (__pthread_unwind_buf_t*))                          \
    X(void, __pthread_register_cancel_defer, (__pthread_unwind_buf_t*))                      \
    X(void, __pthread_unregister_cancel_restore, (__pthread_unwind_buf_t*))                  \
    X(void, __pthread_unwind_next, (__pthread_unwind_buf_t*))                                \
    X(int, pthread_kill, (pthread_t, int))                                                   \
    X(int, pthread_sigqueue, (pthread_t, int, const union sigval))                           \
    X(int, pthread_setname_np, (pthread_t, const char*))                                     \
    X(int, pthread_getname_np, (pthread_t, char*, size_t))                                   \
    X(int, pthread_getattr_np, (pthread_t, pthread_attr_t*))                                 \
    X(int, pthread_setaffinity_np, (pthread_t, size_t, const cpu_set_t*))                    \
    X(int, pthread_getaffinity_np, (pthread_t, size_t, cpu_set_t*))                          \
    X(int, pthread_getschedparam, (pthread_t, int*, struct sched_param*))                    \
    X(int, pthread_setschedparam, (pthread_t, int, const struct sched_param*))               \
    X(int, pthread_setschedprio, (pthread_t, int))                                           \
    X(int, pthread_getcpuclockid, (pthread_t, clockid_t*))                                   \
    X(pid_t, gettid, (void))                                                                 \
    X(int, raise, (int))                                                                     \
    X(int, tgkill, (pid_t, pid_t, int))                                                      \
    X(int, sched_setaffinity, (pid_t, size_t, const cpu_set_t*))                             \
    X(int, sched_getaffinity, (pid_t, size_t, cpu_set_t*))                                   \
    X(int, sched_setparam, (pid_t, const struct sched_param*))                               \
    X(int, sched_getparam, (pid_t, struct sched_param*))                                     \
    X(int, sched_setscheduler, (pid_t, int, const struct sched_param*))                      \
    X(int, sched_getscheduler, (pid_t))                                                      \
    X(int, setpriority, (__priority_which_t, id_t, int))                                     \
    X(int, getpriority, (__priority_which_t, id_t))                                          \
    X(int, clock_getres, (clockid_t, struct timespec*))                                      \
    X(int, pthread_key_create, (pthread_key_t*, void (*)(void*)))                            \
    X(int, pthread_key_delete, (pthread_key_t))                                              \
    X(void*, pthread_getspecific, (pthread_key_t))                                           \
    X(int, pthread_setspecific, (pthread_key_t, const void*))                                \
    X(int, thrd_create, (thrd_t*, thrd_start_t, void*))                                      \
    X(int, thrd_join, (thrd_t, int*))                                                        \
    X(int, thrd_detach, (thrd_t))                                                            \
    X(thrd_t, thrd_current, (void))                                                          \
    X(void, thrd_exit, (int))                                                                \
    X(int, thrd_sleep, (const struct timespec*, struct timespec*))                           \
    X(void, thrd_yield, (void))                                                              \
    X(int, tss_create, (tss_t*, tss_dtor_t))                                                 \
    X(void, tss_delete, (tss_t))                                                             \
    X(void*, tss_get, (tss_t))                                                               \
    X(int, tss_set, (tss_t, void*))                                                          \
    X(unsigned, sleep, (unsigned))                                                           \
    X(int, usleep, (useconds_t))                                                             \
    X(int, nanosleep, (const struct timespec*, struct timespec*))                            \
    X(int, clock_nanosleep, (clockid_t, int, const struct timespec*, struct timespec*))      \
    X(int, sched_yield, (void))                                                              \
    X(int, mlockall, (int))                                                                  \
    X(int, munlockall, (void))                                                               \
    X(int, clock_gettime, (clockid_t, struct timespec*))                                     \
    X(int, gettimeofday, (struct timeval*, void*))                                           \
    X(time_t, time, (time_t*))                                                               \
    X(long, syscall, (long, ...))                                                            \
    X(int, pthread_mutex_init, (pthread_mutex_t*, const pthread_mutexattr_t*))               \
    X(int, pthread_mutex_destroy, (pthread_mutex_t*))                                        \
    X(int, pthread_mutex_lock, (pthread_mutex_t*))                                           \
    X(int, pthread_mutex_trylock, (pthread_mutex_t*))                                        \
    X(int, pthread_mutex_clocklock, (pthread_mutex_t*, clockid_t, const struct timespec*))   \
    X(int, pthread_mutex_unlock, (pthread_mutex_t*))                                         \
    X(int, pthread_mutex_consistent, (pthread_mutex_t*))                                     \
    X(int, pthread_cond_clockwait,                                                           \
      (pthread_cond_t*, pthread_mutex_t*, clockid_t, const struct timespec*))                \
    X(int, pthread_rwlock_init, (pthread_rwlock_t*, const pthread_rwlockattr_t*))            \
    X(int, pthread_rwlock_destroy, (pthread_rwlock_t*))                                      \
    X(int, pthread_rwlock_rdlock, (pthread_rwlock_t*))                                       \
    X(int, pthread_rwlock_wrlock, (pthread_rwlock_t*))                                       \
    X(int, pthread_rwlock_tryrdlock, (pthread_rwlock_t*))                                    \
    X(int, pthread_rwlock_trywrlock, (pthread_rwlock_t*))                                    \
    X(int, pthread_rwlock_timedrdlock, (pthread_rwlock_t*, const struct timespec*))          \
    X(int, pthread_rwlock_timedwrlock, (pthread_rwlock_t*, const struct timespec*))          \
    X(int, pthread_rwlock_clockrdlock, (pthread_rwlock_t*, clockid_t, const struct timespec*)) \
    X(int, pthread_rwlock_clockwrlock, (pthread_rwlock_t*, clockid_t, const struct timespec*)) \
    X(int, pthread_rwlock_unlock, (pthread_rwlock_t*))                                       \
    X(int, pthread_barrier_init, (pthread_barrier_t*, const pthread_barrierattr_t*, unsigned)) \
    X(int, pthread_barrier_destroy, (pthread_barrier_t*))                                    \
    X(int, pthread_barrier_wait, (pthread_barrier_t*))                                       \
    X(int, sem_init, (sem_t*, int, unsigned))                                                \
    X(int, sem_wait, (sem_t*))                                                               \
    X(int, sem_trywait, (sem_t*))                                                            \
    X(int, sem_timedwait, (sem_t*, const struct timespec*))                                  \
    X(int, sem_clockwait, (sem_t*, clockid_t, const struct timespec*))                       \
    X(int, sem_post, (sem_t*))                                                               \
    X(int, execve, (const char*, char* const*, char* const*))                                \
    X(int, execv, (const char*, char* const*))                                               \
    X(int, execvp, (const char*, char* const*))                                              \
    X(int, execvpe, (const char*, char* const*, char* const*))                               \
    X(int, fexecve, (int, char* const*, char* const*))                                       \
    X(int, posix_spawn, (pid_t*, const char*, const posix_spawn_file_actions_t*,             \
                         const posix_spawnattr_t*, char* const*, char* const*))              \
    X(int, posix_spawnp, (pid_t*, const char*, const posix_spawn_file_actions_t*,            \
                          const posix_spawnattr_t*, char* const*, char* const*))             \
    X(pid_t, fork, ())                                                                       \
    X(pid_t, waitpid, (pid_t, int*, int))                                                    \
    X(pid_t, wait, (int*))                                                                   \
    X(pid_t, wait3, (int*, int, struct rusage*))                                             \
    X(pid_t, wait4, (pid_t, int*, int, struct rusage*))                                      \
    X(int, waitid, (idtype_t, id_t, siginfo_t*, int))                                        \
    X(int, pclose, (FILE*))                                                                  \
    X(int, fclose, (FILE*))                                                                  \
    X(int, fflush, (FILE*))                                                                  \
    X(void, flockfile, (FILE*))                                                              \
    X(int, ftrylockfile, (FILE*))                                                            \
    X(void, funlockfile, (FILE*))                                                            \
    X(int, fflush_unlocked, (FILE*))                                                         \
    X(int, puts, (const char*))                                                              \
    X(char*, fgets, (char*, int, FILE*))                                                     \
    X(char*, fgets_unlocked, (char*, int, FILE*))                                            \
    X(char*, __fgets_chk, (char*, size_t, int, FILE*))                                       \
    X(ssize_t, getdelim, (char**, size_t*, int, FILE*))                                      \
    X(size_t, fread, (void*, size_t, size_t, FILE*))                                         \
    X(size_t, fread_unlocked, (void*, size_t, size_t, FILE*))                                \
    X(int, __overflow, (FILE*, int))                                                         \
    X(int, vfprintf, (FILE*, const char*, va_list))                                          \
    X(int, __vfprintf_chk, (FILE*, int, const char*, va_list))                               \
    X(int, vdprintf, (int, const char*, va_list))                                            \
    X(int, __vdprintf_chk, (int, int, const char*, va_list))                                 \
    X(ssize_t, read, (int, void*, size_t))                                                   \
    X(ssize_t, write, (int, const void*, size_t))                                            \
    X(ssize_t, readv, (int, const struct iovec*, int))                                       \
    X(ssize_t, writev, (int, const struct iovec*, int))                                      \
    X(ssize_t, recv, (int, void*, size_t, int))                                              \
    X(ssize_t, recvfrom, (int, void*, size_t, int, struct sockaddr*, socklen_t*))            \
    X(ssize_t, recvmsg, (int, struct msghdr*, int))                                          \
    X(ssize_t, send, (int, const void*, size_t, int))                                        \
    X(ssize_t, sendto, (int, const void*, size_t, int, const struct sockaddr*, socklen_t))   \
    X(ssize_t, sendmsg, (int, const struct msghdr*, int))                                    \
    X(int, recvmmsg, (int, struct mmsghdr*, unsigned, int, struct timespec*))                \
    X(int, sendmmsg, (int, struct mmsghdr*, unsigned, int))                                  \
    X(ssize_t, sendfile, (int, int, off_t*, size_t))                                         \
    X(ssize_t, splice, (int, loff_t*, int, loff_t*, size_t, unsigned))                       \
    X(ssize_t, tee, (int, int, size_t, unsigned))                                            \
    X(ssize_t, vmsplice, (int, const struct iovec*, unsigned long, unsigned))                \
    X(int, socket, (int, int, int))                                                          \
    X(int, socketpair, (int, int, int, int*))                                                \
    X(int, accept4, (int, struct sockaddr*, socklen_t*, int))                                \
    X(int, connect, (int, const struct sockaddr*, socklen_t))                                \
    X(int, setsockopt, (int, int, int, const void*, socklen_t))                              \
    X(int, close, (int))                                                                     \
    X(int, dup, (int))                                                                       \
    X(int, dup2, (int, int))                                                                 \
    X(int, dup3, (int, int, int))                                                            \
    X(int, fcntl, (int, int, ...))                                                           \
    X(int, ioctl, (int, unsigned long, ...))                                                 \
    X(int, pipe, (int*))                                                                     \
    X(int, pipe2, (int*, int))                                                               \
    X(int, open, (const char*, int, ...))                                                    \
    X(int, openat, (int, const char*, int, ...))                                             \
    X(int, eventfd, (unsigned, int))                                                         \
    X(int, timerfd_create, (int, int))                                                       \
    X(int, signalfd, (int, const sigset_t*, int))                                            \
    X(int, epoll_create, (int))                                                              \
    X(int, epoll_create1, (int))                                                             \
    X(int, poll, (struct pollfd*, nfds_t, int))                                              \
    X(int, ppoll, (struct pollfd*, nfds_t, const struct timespec*, const sigset_t*))         \
    X(int, select, (int, fd_set*, fd_set*, fd_set*, struct timeval*))                        \
    X(int, pselect, (int, fd_set*, fd_set*, fd_set*, const struct timespec*, const sigset_t*)) \
    X(int, epoll_wait, (int, struct epoll_event*, int, int))                                 \
    X(int, epoll_pwait, (int, struct epoll_event*, int, int, const sigset_t*))               \
    X(int, epoll_pwait2, (int, struct epoll_event*, int, const struct timespec*, const sigset_t*)) \
    X(int, fsync, (int))                                                                     \
    X(int, fdatasync, (int))                                                                 \
    X(int, syncfs, (int))                                                                    \
    X(void, sync, (void))                                                                    \
    X(int, sync_file_range, (int, off64_t, off64_t, unsigned int))                           \
    X(int, ftruncate, (int, off_t))                                                          \
    X(int, truncate, (const char*, off_t))                                                   \
    X(int, fallocate, (int, int, off_t, off_t))                                              \
    X(int, unlink, (const char*))                                                            \
    X(int, unlinkat, (int, const char*, int))                                                \
    X(int, rename, (const char*, const char*))                                               \
    X(int, renameat, (int, const char*, int, const char*))                                   \
    X(int, mkdir, (const char*, mode_t))                                                     \
    X(int, mkdirat, (int, const char*, mode_t))                                              \
    X(int, rmdir, (const char*))                                                             \
    X(ssize_t, pread, (int, void*, size_t, off_t))                                           \
    X(ssize_t, pwrite, (int, const void*, size_t, off_t))                                    \
    X(ssize_t, preadv, (int, const struct iovec*, int, off_t))                               \
    X(ssize_t, pwritev, (int, const struct iovec*, int, off_t))                              \
    X(ssize_t, copy_file_range, (int, off64_t*, int, off64_t*, size_t, unsigned int))     \
    X(int, flock, (int, int))                                                                \
    X(int, lockf, (int, int, off_t))                                                         \
    X(int, stat, (const char*, struct stat*))                                                \
    X(int, lstat, (const char*, struct stat*))                                               \
    X(int, fstatat, (int, const char*, struct stat*, int))                                   \
    X(int, __xstat, (int, const char*, struct stat*))                                        \
    X(int, __lxstat, (int, const char*, struct stat*))                                       \
    X(int, __fxstatat, (int, int, const char*, struct stat*, int))                           \
    X(int, statx, (int, const char*, int, unsigned int, struct statx*))                      \
    X(ssize_t, getdents64, (int, void*, size_t))                                             \
    X(int, access, (const char*, int))                                                       \
    X(int, faccessat, (int, const char*, int, int))                                          \
    X(ssize_t, readlink, (const char*, char*, size_t))                                       \
    X(ssize_t, readlinkat, (int, const char*, char*, size_t))                                \
    X(int, link, (const char*, const char*))                                                 \
    X(int, linkat, (int, const char*, int, const char*, int))                                \
    X(int, symlink, (const char*, const char*))                                              \
    X(int, symlinkat, (const char*, int, const char*))                                       \
    X(int, chmod, (const char*, mode_t))                                                     \
    X(int, fchmodat, (int, const char*, mode_t, int))                                        \
    X(int, chown, (const char*, uid_t, gid_t))                                               \
    X(int, lchown, (const char*, uid_t, gid_t))                                              \
    X(int, fchownat, (int, const char*, uid_t, gid_t, int))                                  \
    X(int, utimensat, (int, const char*, const struct timespec*, int))                       \
    X(int, statfs, (const char*, struct statfs*))                                            \
    X(int, fstatfs, (int, struct statfs*))                                                   \
    X(int, renameat2, (int, const char*, int, const char*, unsigned int))

// The condition-variable functions have two versions in glibc; a program built against glibc
// 2.3.2 or later binds GLIBC_2.3.2, and so do we for process-shared condvars.
#define GREEN_REAL_VERSIONED(X)                                                              \
    X(int, pthread_cond_init, (pthread_cond_t*, const pthread_condattr_t*), "GLIBC_2.3.2")   \
    X(int, pthread_cond_destroy, (pthread_cond_t*), "GLIBC_2.3.2")                           \
    X(int, pthread_cond_wait, (pthread_cond_t*, pthread_mutex_t*), "GLIBC_2.3.2")            \
    X(int, pthread_cond_timedwait,                                                           \
      (pthread_cond_t*, pthread_mutex_t*, const struct timespec*), "GLIBC_2.3.2")            \
    X(int, pthread_cond_signal, (pthread_cond_t*), "GLIBC_2.3.2")                            \
    X(int, pthread_cond_broadcast, (pthread_cond_t*), "GLIBC_2.3.2")

// stdio input functions that take at most one refill (shim/stdio.cpp): X(return type, name,
// parameters, arguments, FILE*).  fgets, getline, getdelim and fread are libgreen's own there.
#define GREEN_STDIO_INPUT(X)                                                                   \
    X(int, fgetc, (FILE* fp), (fp), fp)                                                        \
    X(int, getc, (FILE* fp), (fp), fp)                                                         \
    X(int, _IO_getc, (FILE* fp), (fp), fp)                                                     \
    X(int, fgetc_unlocked, (FILE* fp), (fp), fp)                                               \
    X(int, getc_unlocked, (FILE* fp), (fp), fp)                                                \
    X(int, getchar, (void), (), stdin)                                                         \
    X(int, getchar_unlocked, (void), (), stdin)                                                \
    X(int, __uflow, (FILE* fp), (fp), fp)                                                      \
    X(int, __isoc99_vfscanf, (FILE* fp, const char* f, va_list ap), (fp, f, ap), fp)

// Wide-character output functions: X(return type, name, parameters, arguments, FILE*, the wide
// characters they put, how many).  glibc converts and writes them inside its own call
// (shim/stdio.cpp decides whether that call needs a glibc scope).
#define GREEN_STDIO_WIDE_OUTPUT(X)                                                             \
    X(wint_t, fputwc, (wchar_t c, FILE* fp), (c, fp), fp, &c, 1)                               \
    X(wint_t, putwc, (wchar_t c, FILE* fp), (c, fp), fp, &c, 1)                                \
    X(wint_t, fputwc_unlocked, (wchar_t c, FILE* fp), (c, fp), fp, &c, 1)                      \
    X(wint_t, putwc_unlocked, (wchar_t c, FILE* fp), (c, fp), fp, &c, 1)                       \
    X(wint_t, putwchar, (wchar_t c), (c), stdout, &c, 1)                                       \
    X(wint_t, putwchar_unlocked, (wchar_t c), (c), stdout, &c, 1)                              \
    X(int, fputws, (const wchar_t* s, FILE* fp), (s, fp), fp, s, wcslen(s))                    \
    X(int, fputws_unlocked, (const wchar_t* s, FILE* fp), (s, fp), fp, s, wcslen(s))

// stdio functions whose reads happen inside the C library, made in a glibc scope
// (shim/stdio.cpp, shim/shim.h): the wide-character input functions (the variadic ones forward
// to these).  X(return type, name, parameters, arguments, FILE*, whether the call
// surely neither reads nor writes the descriptor: then no scope).
#define GREEN_STDIO_GLIBC(X)                                                                   \
    X(wint_t, fgetwc, (FILE* fp), (fp), fp, wide_get_buffered(fp))                            \
    X(wint_t, getwc, (FILE* fp), (fp), fp, wide_get_buffered(fp))                             \
    X(wint_t, fgetwc_unlocked, (FILE* fp), (fp), fp, wide_get_buffered(fp))                   \
    X(wint_t, getwc_unlocked, (FILE* fp), (fp), fp, wide_get_buffered(fp))                    \
    X(wint_t, getwchar, (void), (), stdin, wide_get_buffered(stdin))                          \
    X(wint_t, getwchar_unlocked, (void), (), stdin, wide_get_buffered(stdin))                 \
    X(wchar_t*, fgetws, (wchar_t* s, int n, FILE* fp), (s, n, fp), fp,                        \
      wide_line_buffered(fp, n))                                                              \
    X(wchar_t*, fgetws_unlocked, (wchar_t* s, int n, FILE* fp), (s, n, fp), fp,               \
      wide_line_buffered(fp, n))                                                              \
    X(wchar_t*, __fgetws_chk, (wchar_t* s, size_t size, int n, FILE* fp), (s, size, n, fp),   \
      fp, wide_line_buffered(fp, n))                                                          \
    X(int, __isoc99_vfwscanf, (FILE* fp, const wchar_t* f, va_list ap), (fp, f, ap), fp,      \
      false)                                                                                  \
    X(int, __isoc99_vwscanf, (const wchar_t* f, va_list ap), (f, ap), stdin, false)

// Functions whose writes happen inside the C library, with wrappers of libgreen's own
// (shim/stdio.cpp): the wide printf forms (they format into memory first, then go as the output
// functions above; vwprintf and the variadic forms forward to these) and perror.  X as
// GREEN_STDIO_GLIBC's.
#define GREEN_STDIO_OWN(X)                                                                     \
    X(void, perror, (const char* s), (s), stderr, false)                                      \
    X(int, vfwprintf, (FILE* fp, const wchar_t* f, va_list ap), (fp, f, ap), fp, false)       \
    X(int, __vfwprintf_chk, (FILE* fp, int flag, const wchar_t* f, va_list ap),               \
      (fp, flag, f, ap), fp, false)

// stdio output functions whose data is known (shim/stdio.cpp): X(return type, name,
// parameters, arguments, FILE*, data, length, what a success returns, what a failure returns
// once done bytes went)
#define GREEN_STDIO_OUTPUT(X)                                                                  \
    X(size_t, fwrite, (const void* p, size_t size, size_t n, FILE* fp), (p, size, n, fp), fp, \
      p, size * n, n, done / size)                                                            \
    X(size_t, fwrite_unlocked, (const void* p, size_t size, size_t n, FILE* fp),              \
      (p, size, n, fp), fp, p, size * n, n, done / size)                                      \
    X(int, fputs, (const char* s, FILE* fp), (s, fp), fp, s, strlen(s), 1, EOF)                \
    X(int, fputs_unlocked, (const char* s, FILE* fp), (s, fp), fp, s, strlen(s), 1, EOF)       \
    X(int, fputc, (int c, FILE* fp), (c, fp), fp, &(ch = char(c)), 1, (unsigned char)c, EOF)   \
    X(int, putc, (int c, FILE* fp), (c, fp), fp, &(ch = char(c)), 1, (unsigned char)c, EOF)    \
    X(int, _IO_putc, (int c, FILE* fp), (c, fp), fp, &(ch = char(c)), 1, (unsigned char)c, EOF) \
    X(int, fputc_unlocked, (int c, FILE* fp), (c, fp), fp, &(ch = char(c)), 1,                \
      (unsigned char)c, EOF)                                                                  \
    X(int, putc_unlocked, (int c, FILE* fp), (c, fp), fp, &(ch = char(c)), 1,                 \
      (unsigned char)c, EOF)                                                                  \
    X(int, putchar, (int c), (c), stdout, &(ch = char(c)), 1, (unsigned char)c, EOF)           \
    X(int, putchar_unlocked, (int c), (c), stdout, &(ch = char(c)), 1, (unsigned char)c, EOF)

namespace green {

struct RealFunctions {
#define GREEN_REAL_POINTER(ret, name, params) ret(*name) params;
#define GREEN_REAL_VPOINTER(ret, name, params, version) ret(*name) params;
#define GREEN_REAL_SPOINTER(ret, name, params, args, fp) ret(*name) params;
#define GREEN_REAL_GPOINTER(ret, name, params, args, fp, quick) ret(*name) params;
#define GREEN_REAL_WPOINTER(ret, name, params, args, fp, text, count) ret(*name) params;
#define GREEN_REAL_OPOINTER(ret, name, params, args, fp, data, len, ok, fail) ret(*name) params;
    GREEN_REAL_FUNCTIONS(GREEN_REAL_POINTER)
    GREEN_STDIO_INPUT(GREEN_REAL_SPOINTER)
    GREEN_STDIO_GLIBC(GREEN_REAL_GPOINTER)
    GREEN_STDIO_WIDE_OUTPUT(GREEN_REAL_WPOINTER)
    GREEN_STDIO_OWN(GREEN_REAL_GPOINTER)
    GREEN_STDIO_OUTPUT(GREEN_REAL_OPOINTER)
    GREEN_REAL_VERSIONED(GREEN_REAL_VPOINTER)
#undef GREEN_REAL_POINTER
#undef GREEN_REAL_VPOINTER
#undef GREEN_REAL_SPOINTER
#undef GREEN_REAL_GPOINTER
#undef GREEN_REAL_WPOINTER
#undef GREEN_REAL_OPOINTER
};

extern RealFunctions real_table;
extern bool real_resolved;

// Fills real_table (idempotent); aborts with a clear message if libc lacks a function.
void real_resolve();

}  // namespace green

// The real function, resolving the table first if a wrapper runs before start-up.
#define REAL(name) \
    (__builtin_expect(::green::real_resolved, 1) ? 0 : (::green::real_resolve(), 0), \
     ::green::real_table.name)

#endif
