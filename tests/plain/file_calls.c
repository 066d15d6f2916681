/* Calls on regular files and directories from many threads at once, while other threads pass
 * messages through pipes and one ticks every 5 ms: every result and errno as POSIX says, every
 * byte where it was written.  Under libgreen these are the calls that block an OS thread in the
 * kernel (libgreen hands a worker stuck in one to another OS thread): fsync, fdatasync,
 * sync_file_range, pread, pwrite, preadv, pwritev, read, write, open, ftruncate, fallocate,
 * truncate, rename, unlink, mkdir, rmdir, copy_file_range, the stat family, links, modes, and
 * flock and OFD locks that another thread holds (with one OS thread, only hand-off lets the
 * holder run and let go).  Meanwhile queued signals come to
 * the process, each to be handled once, with its value.
 *
 * Usage: file_calls [MiB per writer [flock]]  (default 8; each of the 4 writers fsyncs that much,
 *        twice; "flock": no OFD lock, for valgrind, which holds its own lock through an
 *        F_OFD_SETLKW it does not know may block)
 * It prints the ticker's worst lateness (not checked: speed lives in the benchmarks).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>

#include "plain.h"

#define WRITERS 4
#define PAIRS 4
#define MESSAGES 2000

static char dir[256];
static long mib = 8;
static atomic_int writers_done;
static atomic_int peak_threads;

static void fill(char *buf, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)(seed * 131 + i * 7 + (i >> 12));
}

/* One writer: a file of mib MiB in 1 MiB pwrites, fsync, read back with pread and preadv, then
 * rewritten with write and pwritev, fdatasync, truncated, renamed, removed. */
static void *writer(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    size_t chunk = 1 << 20;
    char *buf = malloc(chunk), *back = malloc(chunk);
    CHECK(buf && back);
    char path[300], moved[300];
    snprintf(path, sizeof path, "%s/w%u", dir, id);
    snprintf(moved, sizeof moved, "%s/moved%u", dir, id);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0);
    CHECK_EQ(fallocate(fd, 0, 0, (off_t)(mib * chunk)), 0);
    for (long i = 0; i < mib; i++) {
        fill(buf, chunk, id * 1000 + (unsigned)i);
        CHECK_EQ(pwrite(fd, buf, chunk, (off_t)(i * chunk)), chunk);
    }
    CHECK_EQ(fsync(fd), 0);
    for (long i = 0; i < mib; i++) {
        fill(buf, chunk, id * 1000 + (unsigned)i);
        if (i % 2) {
            CHECK_EQ(pread(fd, back, chunk, (off_t)(i * chunk)), chunk);
        } else {
            struct iovec v[2] = {{back, chunk / 2}, {back + chunk / 2, chunk / 2}};
            CHECK_EQ(preadv(fd, v, 2, (off_t)(i * chunk)), chunk);
        }
        CHECK(memcmp(buf, back, chunk) == 0);
    }
    /* Rewrite from the start with write and pwritev, then sync a range and the data. */
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
    for (long i = 0; i < mib; i++) {
        fill(buf, chunk, id * 7000 + (unsigned)i);
        if (i % 2) {
            CHECK_EQ(write(fd, buf, chunk), chunk);
        } else {
            struct iovec v[2] = {{buf, 4096}, {buf + 4096, chunk - 4096}};
            CHECK_EQ(pwritev(fd, v, 2, (off_t)(i * chunk)), chunk);
            CHECK_EQ(lseek(fd, (off_t)((i + 1) * chunk), SEEK_SET), (i + 1) * (long)chunk);
        }
    }
    CHECK_EQ(sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE), 0);
    CHECK_EQ(fdatasync(fd), 0);
    CHECK_EQ(ftruncate(fd, (off_t)chunk), 0);
    struct stat st;
    CHECK_EQ(fstat(fd, &st), 0);
    CHECK_EQ(st.st_size, chunk);
    /* What read sees is what was written last. */
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
    fill(buf, chunk, id * 7000);
    size_t got = 0;
    while (got < chunk) {
        ssize_t n = read(fd, back + got, chunk - got);
        CHECK(n > 0);
        got += (size_t)n;
    }
    CHECK(memcmp(buf, back, chunk) == 0);
    CHECK_EQ(read(fd, back, 1), 0);
    CHECK_EQ(close(fd), 0);
    CHECK_EQ(truncate(path, 4096), 0);
    CHECK_EQ(rename(path, moved), 0);
    CHECK_EQ(unlink(path), -1);
    CHECK_EQ(errno, ENOENT);
    CHECK_EQ(unlink(moved), 0);
    free(buf);
    free(back);
    atomic_fetch_add(&writers_done, 1);
    return NULL;
}

/* Messages through a pair of pipes, each one answered: exact counts. */
static void *echoer(void *arg)
{
    int *p = arg; /* p[0]: read end of the requests, p[1]: write end of the answers */
    for (int i = 0; i < MESSAGES; i++) {
        int v;
        CHECK_EQ(read(p[0], &v, sizeof v), sizeof v);
        CHECK_EQ(v, i);
        v = -v;
        CHECK_EQ(write(p[1], &v, sizeof v), sizeof v);
    }
    return NULL;
}

static void *asker(void *arg)
{
    int *p = arg; /* p[0]: write end of the requests, p[1]: read end of the answers */
    for (int i = 0; i < MESSAGES; i++) {
        int v = i;
        CHECK_EQ(write(p[0], &v, sizeof v), sizeof v);
        CHECK_EQ(read(p[1], &v, sizeof v), sizeof v);
        CHECK_EQ(v, -i);
        if (i == MESSAGES / 2) {
            int n = check_os_threads();
            if (n > atomic_load(&peak_threads))
                atomic_store(&peak_threads, n);
        }
    }
    return NULL;
}

static double worst_late;

/* Queued signals to the process while the writers are in their calls: each one handled once,
 * with its value, wherever the kernel delivers it. */
#define SIGNALS 200
static atomic_int sig_count;
static atomic_long sig_sum;

static void on_signal(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    int saved = errno;
    atomic_fetch_add(&sig_count, 1);
    atomic_fetch_add(&sig_sum, si->si_value.sival_int);
    errno = saved;
}

static void *signaller(void *arg)
{
    (void)arg;
    for (int i = 1; i <= SIGNALS; i++) {
        union sigval v = {.sival_int = i};
        CHECK_EQ(sigqueue(getpid(), SIGRTMIN, v), 0);
        sleep_ms(1);
    }
    return NULL;
}

static void *ticker(void *arg)
{
    (void)arg;
    while (atomic_load(&writers_done) < WRITERS) {
        double before = now_seconds(CLOCK_MONOTONIC);
        sleep_ms(5);
        double late = now_seconds(CLOCK_MONOTONIC) - before - 0.005;
        if (late > worst_late)
            worst_late = late;
    }
    return NULL;
}

/* A lock another open file holds: flock and an open-file-description lock wait in the kernel
 * until the holder, another thread of this process, lets go. */
static atomic_int lock_stage;
static char lock_path[300];
static int lock_kinds = 2; /* flock, then an OFD lock; 1: flock only */

static void *lock_holder(void *arg)
{
    int ofd = arg != NULL;
    int fd = open(lock_path, O_RDWR);
    CHECK(fd >= 0);
    if (ofd) {
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        CHECK_EQ(fcntl(fd, F_OFD_SETLKW, &fl), 0);
    } else {
        CHECK_EQ(flock(fd, LOCK_EX), 0);
    }
    atomic_store(&lock_stage, 1);
    sleep_ms(50);
    atomic_store(&lock_stage, 2);
    CHECK_EQ(close(fd), 0); /* lets go of both kinds */
    return NULL;
}

static void contended_locks(void)
{
    snprintf(lock_path, sizeof lock_path, "%s/lock", dir);
    int fd = open(lock_path, O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0);
    for (int ofd = 0; ofd < lock_kinds; ofd++) {
        atomic_store(&lock_stage, 0);
        pthread_t t;
        CHECK_EQ(pthread_create(&t, NULL, lock_holder, ofd ? (void *)1 : NULL), 0);
        wait_flag(&lock_stage);
        if (ofd) {
            struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
            CHECK_EQ(fcntl(fd, F_OFD_SETLK, &fl), -1);
            CHECK(errno == EAGAIN || errno == EACCES);
            CHECK_EQ(fcntl(fd, F_OFD_SETLKW, &fl), 0);
            fl.l_type = F_UNLCK;
            CHECK_EQ(fcntl(fd, F_OFD_SETLK, &fl), 0);
        } else {
            CHECK_EQ(flock(fd, LOCK_EX | LOCK_NB), -1);
            CHECK_EQ(errno, EWOULDBLOCK);
            CHECK_EQ(flock(fd, LOCK_EX), 0);
            CHECK_EQ(flock(fd, LOCK_UN), 0);
        }
        CHECK_EQ(atomic_load(&lock_stage), 2); /* only once the holder let go */
        CHECK_EQ(pthread_join(t, NULL), 0);
    }
    CHECK_EQ(close(fd), 0);
    CHECK_EQ(unlink(lock_path), 0);
}

/* Looking at paths: the stat family, links, modes, times, the file system. */
static void paths(void)
{
    char file[300], sym[300], hard[300];
    snprintf(file, sizeof file, "%s/f", dir);
    snprintf(sym, sizeof sym, "%s/s", dir);
    snprintf(hard, sizeof hard, "%s/h", dir);
    int fd = creat(file, 0640);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "abc", 3), 3);
    CHECK_EQ(close(fd), 0);
    CHECK_EQ(symlink("f", sym), 0);
    CHECK_EQ(link(file, hard), 0);
    struct stat st, lst, at;
    CHECK_EQ(stat(sym, &st), 0);
    CHECK_EQ(st.st_size, 3);
    CHECK_EQ(st.st_nlink, 2);
    CHECK(S_ISREG(st.st_mode));
    CHECK_EQ(lstat(sym, &lst), 0);
    CHECK(S_ISLNK(lst.st_mode));
    CHECK_EQ(fstatat(AT_FDCWD, hard, &at, 0), 0);
    CHECK_EQ(at.st_ino, st.st_ino);
    struct statx sx;
    CHECK_EQ(statx(AT_FDCWD, file, 0, STATX_SIZE, &sx), 0);
    CHECK_EQ(sx.stx_size, 3);
    char target[16] = {0};
    CHECK_EQ(readlink(sym, target, sizeof target), 1);
    CHECK_EQ(target[0], 'f');
    CHECK_EQ(access(file, R_OK | W_OK), 0);
    CHECK_EQ(chmod(file, 0400), 0);
    CHECK_EQ(stat(file, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0400);
    CHECK_EQ(chown(file, getuid(), getgid()), 0);
    struct timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
    CHECK_EQ(utimensat(AT_FDCWD, file, times, 0), 0);
    CHECK_EQ(stat(file, &st), 0);
    CHECK_EQ(st.st_mtim.tv_sec, 1000000000);
    struct statfs sf;
    CHECK_EQ(statfs(dir, &sf), 0);
    CHECK(sf.f_bsize > 0);
    CHECK_EQ(stat("no-such-file.file_calls", &st), -1);
    CHECK_EQ(errno, ENOENT);
    CHECK_EQ(access("no-such-file.file_calls", F_OK), -1);
    CHECK_EQ(errno, ENOENT);
    CHECK_EQ(readlink(file, target, sizeof target), -1);
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(unlink(sym), 0);
    CHECK_EQ(unlink(hard), 0);
    CHECK_EQ(unlink(file), 0);
}

/* The errors the calls report, as POSIX says. */
static void errors(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/sub", dir);
    CHECK_EQ(mkdir(path, 0700), 0);
    CHECK_EQ(mkdir(path, 0700), -1);
    CHECK_EQ(errno, EEXIST);
    CHECK_EQ(mkdirat(AT_FDCWD, path, 0700), -1);
    CHECK_EQ(errno, EEXIST);
    int dfd = open(path, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK_EQ(mkdirat(dfd, "inner", 0700), 0);
    CHECK_EQ(rmdir(path), -1);
    CHECK_EQ(errno, ENOTEMPTY);
    CHECK_EQ(unlinkat(dfd, "inner", AT_REMOVEDIR), 0);
    char buf[16] = {0};
    CHECK_EQ(read(dfd, buf, sizeof buf), -1);
    CHECK_EQ(errno, EISDIR);
    CHECK_EQ(fsync(dfd), 0);
    CHECK_EQ(close(dfd), 0);
    CHECK_EQ(rmdir(path), 0);
    CHECK_EQ(rmdir(path), -1);
    CHECK_EQ(errno, ENOENT);
    CHECK_EQ(fsync(-1), -1);
    CHECK_EQ(errno, EBADF);
    CHECK_EQ(fdatasync(12345), -1);
    CHECK_EQ(errno, EBADF);
    CHECK_EQ(ftruncate(-1, 0), -1);
    CHECK_EQ(errno, EBADF);
    CHECK_EQ(truncate(path, 0), -1);
    CHECK_EQ(errno, ENOENT);
    CHECK_EQ(rename(path, path), -1);
    CHECK_EQ(errno, ENOENT);
    int p[2];
    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(pread(p[0], buf, 1, 0), -1);
    CHECK_EQ(errno, ESPIPE);
    CHECK_EQ(pwrite(p[1], buf, 1, 0), -1);
    CHECK_EQ(errno, ESPIPE);
    close(p[0]);
    close(p[1]);
    /* copy_file_range between two regular files: every byte. */
    char a[300], b[300];
    snprintf(a, sizeof a, "%s/copy-a", dir);
    snprintf(b, sizeof b, "%s/copy-b", dir);
    int fa = open(a, O_RDWR | O_CREAT | O_TRUNC, 0600), fb = open(b, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fa >= 0 && fb >= 0);
    static char data[200000], again[200000];
    fill(data, sizeof data, 99);
    CHECK_EQ(write(fa, data, sizeof data), sizeof data);
    off64_t in = 0, out = 0;
    size_t copied = 0;
    while (copied < sizeof data) {
        ssize_t n = copy_file_range(fa, &in, fb, &out, sizeof data - copied, 0);
        CHECK(n > 0);
        copied += (size_t)n;
    }
    CHECK_EQ(pread(fb, again, sizeof again, 0), sizeof again);
    CHECK(memcmp(data, again, sizeof data) == 0);
    close(fa);
    close(fb);
    CHECK_EQ(unlink(a), 0);
    CHECK_EQ(unlinkat(AT_FDCWD, b, 0), 0);
    sync(); /* returns nothing, fails never: only that it returns */
}

int main(int argc, char **argv)
{
    if (argc > 1)
        mib = atol(argv[1]);
    if (argc > 2 && strcmp(argv[2], "flock") == 0)
        lock_kinds = 1;
    CHECK(mib > 0);
    /* In /var/tmp, which is on a disk (not a tmpfs, where fsync costs nothing), unless
     * TMPDIR says otherwise. */
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/file_calls.%d", tmp && *tmp ? tmp : "/var/tmp", (int)getpid());
    CHECK_EQ(mkdir(dir, 0700), 0);
    errors();
    paths();
    contended_locks();

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    CHECK_EQ(sigaction(SIGRTMIN, &sa, NULL), 0);
    pthread_t w[WRITERS], e[PAIRS], q[PAIRS], tick, sigs;
    int pipes[PAIRS][4], ends[PAIRS][2][2];
    CHECK_EQ(pthread_create(&tick, NULL, ticker, NULL), 0);
    for (int i = 0; i < PAIRS; i++) {
        CHECK_EQ(pipe(pipes[i]), 0);     /* requests */
        CHECK_EQ(pipe(pipes[i] + 2), 0); /* answers */
        ends[i][0][0] = pipes[i][0];
        ends[i][0][1] = pipes[i][3];
        ends[i][1][0] = pipes[i][1];
        ends[i][1][1] = pipes[i][2];
        CHECK_EQ(pthread_create(&e[i], NULL, echoer, ends[i][0]), 0);
        CHECK_EQ(pthread_create(&q[i], NULL, asker, ends[i][1]), 0);
    }
    for (int i = 0; i < WRITERS; i++)
        CHECK_EQ(pthread_create(&w[i], NULL, writer, (void *)(uintptr_t)i), 0);
    CHECK_EQ(pthread_create(&sigs, NULL, signaller, NULL), 0);
    for (int i = 0; i < WRITERS; i++)
        CHECK_EQ(pthread_join(w[i], NULL), 0);
    for (int i = 0; i < PAIRS; i++) {
        CHECK_EQ(pthread_join(e[i], NULL), 0);
        CHECK_EQ(pthread_join(q[i], NULL), 0);
        for (int k = 0; k < 4; k++)
            close(pipes[i][k]);
    }
    CHECK_EQ(pthread_join(tick, NULL), 0);
    CHECK_EQ(pthread_join(sigs, NULL), 0);
    for (int i = 0; atomic_load(&sig_count) < SIGNALS; i++) {
        CHECK(i < 10000);
        sleep_ms(1);
    }
    sleep_ms(20);
    CHECK_EQ(atomic_load(&sig_count), SIGNALS);
    CHECK_EQ(atomic_load(&sig_sum), (long)SIGNALS * (SIGNALS + 1) / 2);
    CHECK_EQ(rmdir(dir), 0);
    printf("file_calls: %d writers x %ld MiB, %d pipe pairs x %d messages; ticker's worst "
           "lateness %.1f ms; %d OS threads at peak\n",
           WRITERS, mib, PAIRS, MESSAGES, worst_late * 1e3, atomic_load(&peak_threads));
    return 0;
}
