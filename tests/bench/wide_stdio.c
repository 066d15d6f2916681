/* What wide-character output costs per call: CALLS fputws of a 20-character line, CALLS fputwc
 * of one character and CALLS fwprintf of a short formatted line, to stdout (run it with stdout
 * a pipe, e.g. | cat >/dev/null: a green stream, fully buffered), best of LOOPS loops each.
 * Prints on stderr: fputws_ns N fputwc_ns N fwprintf_ns N (nanoseconds per call).
 *
 *   build/bench/wide_stdio [CALLS [LOOPS]] | cat >/dev/null */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <wchar.h>

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
    long calls = argc > 1 ? atol(argv[1]) : 200000;
    int loops = argc > 2 ? atoi(argv[2]) : 5;
    double best[3] = {1e30, 1e30, 1e30};
    if (fwide(stdout, 1) <= 0) {
        fprintf(stderr, "wide_stdio: stdout will not be wide\n");
        return 1;
    }
    for (int l = 0; l < loops; l++) {
        double t0 = now_ns();
        for (long i = 0; i < calls; i++)
            if (fputws(L"0123456789abcdefghi\n", stdout) == -1)
                return 1;
        double t1 = now_ns();
        for (long i = 0; i < calls; i++)
            if (fputwc(L'x', stdout) == WEOF)
                return 1;
        double t2 = now_ns();
        for (long i = 0; i < calls; i++)
            if (fwprintf(stdout, L"%ld %ls\n", i, L"abc") < 0)
                return 1;
        double t3 = now_ns();
        double d[3] = {t1 - t0, t2 - t1, t3 - t2};
        for (int k = 0; k < 3; k++)
            if (d[k] < best[k])
                best[k] = d[k];
    }
    if (fflush(stdout) != 0)
        return 1;
    fprintf(stderr, "fputws_ns %.0f fputwc_ns %.0f fwprintf_ns %.0f\n", best[0] / calls,
            best[1] / calls, best[2] / calls);
    return 0;
}
