#!/usr/bin/env bash
# make demo: one plain program (tests/plain/sleepers.cpp: it knows nothing of libgreen) starts
# 10,000 threads that each sleep one second, through sleep, usleep, nanosleep,
# clock_nanosleep(TIMER_ABSTIME) and std::this_thread::sleep_for.  We run it as it is, then under
# greenrun, and print what each run reported.
set -eu
cd "$(dirname "$0")/.."
N=${DEMO_THREADS:-10000}
prog=build/plain/sleepers

row() {  # row LABEL COMMAND...: run it, print its report as one table row
    local label=$1 out
    shift
    if ! out=$("$@" "$N" 2>&1); then
        printf '%-22s failed: %s\n' "$label" "$out"
        return 1
    fi
    # "sleepers: N threads asked, F finished; P OS threads at the peak; wall W s; peak RSS R MiB"
    echo "$out" | sed -E 's/.*: ([0-9]+) threads asked, ([0-9]+) finished; ([0-9]+) OS threads at the peak; wall ([0-9.]+) s; peak RSS ([0-9.]+) MiB/\1 \2 \3 \4 \5/' |
        { read -r asked done peak wall rss
          printf '%-22s %8s %9s %12s %9s s %9s MiB\n' "$label" "$asked" "$done" "$peak" "$wall" "$rss"; }
}

echo "libgreen demo: $N threads, each sleeping 1 s (program: $prog, unmodified)"
echo
printf '%-22s %8s %9s %12s %11s %13s\n' "" "threads" "finished" "OS threads" "wall" "peak RSS"
row "plain (real threads)" "$prog"
row "greenrun" scripts/greenrun "$prog"
echo
echo "Same program, same results; under greenrun all its threads are green threads on one OS thread."
