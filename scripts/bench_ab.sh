#!/usr/bin/env bash
# Two builds of the library side by side, on the paths every program takes when no testing
# option is asked for: the green switch, the mutex, the mutex + condvar hand-off and the echo
# server.  The two libraries take turns run by run, in the order A B B A A B ..., so that the
# machine's drift, and whatever one run leaves to the next, reach both alike; we print the
# median of each and the ratio B/A.
#
#   scripts/bench_ab.sh OLD.so NEW.so      (after make tests; the programs are this tree's)
#
# BENCH_AB_RUNS=N        alternations of each micro-benchmark (default 15)
# BENCH_AB_ECHO_RUNS=N   alternations of each echo point (default 7)
# BENCH_AB_ONLY=REGEX    only the rows whose label REGEX matches (e.g. '^echo')
# BENCH_AB_VERBOSE=1     every sample on stderr
#
# The micro-benchmarks run one worker pinned to CPU 0; the echo server runs pinned to CPU 0
# with its load client (tests/tools/echo_load.c, which checks every byte) on CPU 1.  The
# machine is shared and noisy: trust medians and ratios only, and compare series.
set -u
cd "$(dirname "$0")/.."
[ $# -eq 2 ] && [ -f "$1" ] && [ -f "$2" ] || { echo "usage: $0 OLD.so NEW.so" >&2; exit 2; }
A=$(realpath "$1")
NEW=$(realpath "$2")
B=build
RUNS=${BENCH_AB_RUNS:-15}
ECHO_RUNS=${BENCH_AB_ECHO_RUNS:-7}
# shellcheck source=scripts/bench_echo_lib.sh
. scripts/bench_echo_lib.sh
make_work

# one LIB FIELD COMMAND...: FIELD of one run of COMMAND with LIB preloaded.
one() {
    local lib=$1 f=$2
    shift 2
    env LD_PRELOAD="$lib" "$@" | field "$f"
}

# echo_point LIB CONNS ROUNDS: round trips per second of one fresh server under LIB.
echo_point() {
    start_server env LD_PRELOAD="$1" taskset -c 0 "$B/plain/echo_server" || return 1
    taskset -c 1 "$B/tools/echo_load" 127.0.0.1 "$PORT" "$2" "$3" 64 1 2>/dev/null |
        grep '^conns' | field rt_per_sec
    stop_server
}

# row LABEL UNIT RUNS SAMPLER ARGS...: alternates SAMPLER A ARGS and SAMPLER NEW ARGS.
row() {
    local label=$1 unit=$2 n=$3 sampler=$4 a=() b=() am bm i
    shift 4
    [[ $label =~ ${BENCH_AB_ONLY:-.} ]] || return 0
    for i in $(seq "$n"); do
        if ((i % 2)); then
            a+=("$("$sampler" "$A" "$@")")
            b+=("$("$sampler" "$NEW" "$@")")
        else
            b+=("$("$sampler" "$NEW" "$@")")
            a+=("$("$sampler" "$A" "$@")")
        fi
    done
    [ -n "${BENCH_AB_VERBOSE:-}" ] && printf '%s: A %s; B %s\n' "$label" "${a[*]}" "${b[*]}" >&2
    # A run that failed (an echo server that did not start) leaves an empty sample: left out.
    am=$(printf '%s\n' "${a[@]}" | grep . | median)
    bm=$(printf '%s\n' "${b[@]}" | grep . | median)
    awk -v l="$label" -v u="$unit" -v a="$am" -v b="$bm" \
        'BEGIN {printf "%-52s A %10.2f  B %10.2f %-6s B/A %.3f\n", l, a, b, u, b / a}'
}

echo "A: $A"
echo "B: $NEW"
echo "medians of $RUNS alternations ($ECHO_RUNS for echo)"
row "switch yield 2000000, one worker, CPU 0" ns "$RUNS" one ns_per_switch \
    env GREEN_WORKERS=1 taskset -c 0 "$B/bench/switch" yield 2000000
row "switch condvar 1000000, one worker, CPU 0" ns "$RUNS" one ns_per_switch \
    env GREEN_WORKERS=1 taskset -c 0 "$B/bench/switch" condvar 1000000
row "mutex 20000000, lock + unlock, CPU 0" ns "$RUNS" one ns_per_pair \
    env GREEN_WORKERS=1 taskset -c 0 "$B/bench/mutex" 20000000
row "echo, 100 connections x 2000 round trips of 64 B" rt/s "$ECHO_RUNS" echo_point 100 2000
row "echo, 1000 connections x 200 round trips of 64 B" rt/s "$ECHO_RUNS" echo_point 1000 200
