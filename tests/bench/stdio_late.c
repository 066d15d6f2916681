/* How late a 5 ms ticker thread gets while the C library writes toward a slow reader of a pipe
 * (a process that takes 16 KiB every 200 ms): the worst lateness of its ticks, in one case.
 *
 *   build/bench/stdio_late CASE      prints: worst_late_ms N
 *
 * CASE: flush_all (fflush(NULL) of 80 KiB pending in a stream with a 256 KiB buffer), exit
 * (a child process exits with those 80 KiB pending: exit's flush; the parent watches the
 * child's ticker through shared memory), fwprintf (80,000 characters of wide output by
 * fwprintf, fputws and fputwc in the C locale) and fwprintf_utf8 (the same in UTF-8, with
 * characters of two and three bytes).  Every byte is checked: the program fails if one is
 * wrong.
 * Without libgreen the ticker is a thread of its own, never held up by the writes: the
 * baseline. */
#define _GNU_SOURCE
#include <signal.h>

#include "../plain/slow_pipe.h"

enum { CHUNK = 16384, BIG = 80 * 1024, BUFFER = 256 * 1024 };

/* The exit case's writer: BIG bytes pending at exit, more than the pipe holds. */
static void big_then_exit(int fd)
{
    big_stream(fd, BIG, BUFFER);
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "flush_all";
    int utf8 = strcmp(what, "fwprintf_utf8") == 0;
    signal(SIGPIPE, SIG_IGN);
    size_t len;
    const char *want = slow_pipe_bytes(BIG, utf8, "", &len);
    double worst;
    if (strcmp(what, "exit") == 0) {
        worst = exit_flush_lateness(CHUNK, big_then_exit, want, len);
    } else {
        int p[2];
        CHECK_EQ(pipe(p), 0);
        pid_t reader = start_slow_reader(p, CHUNK, want, len);
        struct ticker t = {0};
        pthread_t th = start_ticker(&t);
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
        stop_ticker(&t, th);
        reader_got_all(reader, what);
        worst = atomic_load(&t.worst);
    }
    printf("case %s worst_late_ms %.1f\n", what, worst * 1000);
    return 0;
}
