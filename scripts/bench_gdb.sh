#!/usr/bin/env bash
# What libgreen's gdb extension costs a user: tests/bench/parked_many.c with N green threads
# parked on a condition variable, under greenrun; gdb attaches in batch mode and runs
#   attach                 nothing (the extension only sourced): gdb's own attach and detach
#   info green-threads     the listing, which unwinds every thread to its frame in the program
#   apply all bt           green-thread apply all bt
# Each is the median wall time of BENCH_GDB_RUNS runs (default 3), with the time per thread over
# the attach alone.  The process must finish its work after each detach.
set -eu
cd "$(dirname "$0")/.."
B=build
RUNS=${BENCH_GDB_RUNS:-3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# timed N GDB-ARGS...: one run's wall seconds.
timed() {
    local n=$1 pid start end
    shift
    rm -f "$dir/go" && mkfifo "$dir/go"
    scripts/greenrun "$B/bench/parked_many" "$n" <"$dir/go" >"$dir/out" 2>&1 &
    pid=$!
    exec 8>"$dir/go"
    for _ in $(seq 600); do grep -q '^ready' "$dir/out" && break; sleep 0.05; done
    start=$(date +%s.%N)
    gdb -q -batch -nx -p "$pid" -ex "source $B/libgreen.so-gdb.py" "$@" >"$dir/gdb" 2>&1
    end=$(date +%s.%N)
    (echo go >&8) 2>/dev/null  # a subshell takes the SIGPIPE, should the process have died
    exec 8>&-
    wait "$pid"
    grep -q "^done $n$" "$dir/out" || { echo "bench_gdb: the process did not finish" >&2; exit 1; }
    awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f\n", b - a}' 
}

printf '%-8s %-20s %10s %16s\n' threads command "median s" "ms per thread"
for n in 1000 10000; do
    base=
    for cmd in attach "info green-threads" "apply all bt"; do
        case $cmd in
            attach) args=() ;;
            info*) args=(-ex "info green-threads") ;;
            *) args=(-ex "green-thread apply all bt") ;;
        esac
        t=$(for _ in $(seq "$RUNS"); do timed "$n" "${args[@]}"; done | median)
        [ -z "$base" ] && base=$t
        per=$(awk -v t="$t" -v b="$base" -v n="$n" 'BEGIN {printf "%.2f", (t - b) * 1000 / n}')
        printf '%-8s %-20s %10.2f %16s\n' "$n" "$cmd" "$t" "$per"
    done
done
