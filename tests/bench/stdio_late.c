/* How late a 5 ms ticker thread gets while the C library writes toward a slow reader of a pipe
 * (a process that takes 16 KiB every 200 ms): the worst lateness of its ticks, in one case.
 *
 *   build/bench/stdio_late CASE      prints: worst_late_ms N
 *
 * CASE: flush_all (fflush(NULL) of 80 KiB pending in a stream with a 256 KiB buffer), exit
 * (a child process exits with those 80 KiB pending: exit's flush; the parent watches the
 * child's ticker through shared memory), fwprintf (80,000 characters of wide output by
 * fwprintf, fputws and fputwc in the C locale) and fwprintf_utf8 (the same in UTF-8, with
 * characters of two and three bytes).  Every byte is checked; exit status 1 if one is wrong.
 * Without libgreen the ticker is a thread of its own, never held up by the writes: the
 * baseline. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/mman.h>

#include "../plain/slow_pipe.h"

enum { CHUNK = 16384, BIG = 80 * 1024, BUFFER = 256 * 1024 };

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "flush_all";
    int utf8 = strcmp(what, "fwprintf_utf8") == 0;
    signal(SIGPIPE, SIG_IGN);
    struct ticker *t = mmap(NULL, sizeof *t, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                            -1, 0);
    CHECK(t != MAP_FAILED);
    memset(t, 0, sizeof *t);
    size_t len;
    const char *want = slow_pipe_bytes(BIG, utf8, "", &len);
    int p[2];
    CHECK_EQ(pipe(p), 0);
    int bad;
    if (strcmp(what, "exit") == 0) {
        pid_t writer = fork();
        CHECK(writer >= 0);
        if (writer == 0) {
            close(p[0]);
            start_ticker(t);
            big_stream(p[1], BIG, BUFFER);
            exit(0);  /* with BIG bytes pending, more than the pipe holds */
        }
        close(p[1]);
        bad = slow_read(p[0], CHUNK, want, len, t, writer);
        atomic_store(&t->stop, 1);
        int status;
        CHECK_EQ(waitpid(writer, &status, 0), writer);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    } else {
        pid_t reader = start_slow_reader(p, CHUNK, want, len);
        pthread_t th = start_ticker(t);
        if (strcmp(what, "flush_all") == 0) {
            FILE *f = big_stream(p[1], BIG, BUFFER);
            CHECK_EQ(fflush(NULL), 0);
            CHECK_EQ(fclose(f), 0);
        } else if (strcmp(what, "fwprintf") == 0 || utf8) {
            write_wide(p[1], BIG, utf8);
        } else {
            fprintf(stderr, "stdio_late: unknown case %s\n", what);
            return 2;
        }
        stop_ticker(t, th);
        int status;
        CHECK_EQ(waitpid(reader, &status, 0), reader);
        bad = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    printf("case %s worst_late_ms %.1f\n", what, atomic_load(&t->worst) * 1000);
    return bad;
}
