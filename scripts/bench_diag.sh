#!/usr/bin/env bash
# The cost of GREEN_STATS and GREEN_WATCHDOG on the echo benchmark: tests/plain/echo_server.c
# under libgreen with both off (GREEN_STATS=0 GREEN_WATCHDOG=0, the defaults) and both on
# (GREEN_STATS=1 GREEN_WATCHDOG=100ms: a check every 25 ms), under the same fixed load from
# tests/tools/echo_load.c: CONNS connections each doing ROUNDS verified round trips of 64 B.
# The two take turns (off first in odd runs, on first in even ones).
#
#   instructions per rt  user-space instructions of the whole server process (every OS thread,
#                        the watchdog's included) counted by valgrind --tool=cachegrind, for a
#                        run with the load minus a run without it (start, one STAT request,
#                        exit), over the round trips.  Exact and nearly the same from run to run,
#                        but blind to the kernel, where most of a round trip's time goes: it
#                        shows what libgreen and the C library do more, not what that costs in
#                        time.  (perf stat would count the kernel too, but this machine's virtual
#                        CPUs have no hardware counters.)
#   CPU µs per rt        the server's user + system CPU time (getrusage, all its OS threads) over
#                        the load, from its STAT lines before and after, natively; the figure
#                        that says what the features cost, and the noisier one.
#   round trips/s        echo_load's wall-clock figure; the noisiest (the client and the wake-ups
#                        between the two cores count as much as the server).
#
# Each row gives off, on, the ratios of the runs taken in pairs, and the ratio of the best runs.
# Last, tests/bench/fd_table.c shows the kernel's part that the watchdog's thread could cost
# (every system call on a descriptor, while it shares the descriptor table) and that it avoids.
#
# Every server is stopped with a "QUIT\n" request (exit(3): GREEN_STATS prints its report, the
# cost of which is in the instruction count) and must exit with status 0; with the features on
# its report must be there.  Server on CPU 0, client on CPU 1.  Takes about a minute.
#
# BENCH_DIAG_RUNS=N      native runs of each (default 11)
# BENCH_DIAG_VG_RUNS=N   runs of each under cachegrind (default 3: the count
#                        hardly varies)
# BENCH_DIAG_CONNS=N     connections (default 100)
# BENCH_DIAG_ROUNDS=N    round trips per connection, native runs (default 2000)
# BENCH_DIAG_VG_ROUNDS=N round trips per connection under valgrind (default 300)
# BENCH_DIAG_OFF=..., BENCH_DIAG_ON=...  other settings to compare (word lists of VAR=value);
#                        the same on both sides shows how far the machine's noise goes
# BENCH_DIAG_VERBOSE=1   every sample on stderr
set -eu
cd "$(dirname "$0")/.."
. scripts/bench_echo_lib.sh
B=build
LIB=$PWD/$B/libgreen.so
RUNS=${BENCH_DIAG_RUNS:-11}
VG_RUNS=${BENCH_DIAG_VG_RUNS:-3}
CONNS=${BENCH_DIAG_CONNS:-100}
ROUNDS=${BENCH_DIAG_ROUNDS:-2000}
VG_ROUNDS=${BENCH_DIAG_VG_ROUNDS:-300}
VERBOSE=${BENCH_DIAG_VERBOSE:-0}
LOAD_TIMEOUT=120
OFF=${BENCH_DIAG_OFF:-GREEN_STATS=0 GREEN_WATCHDOG=0}
ON=${BENCH_DIAG_ON:-GREEN_STATS=1 GREEN_WATCHDOG=100ms}

for tool in valgrind taskset; do
    if ! command -v $tool >/dev/null 2>&1; then
        echo "bench_diag: $tool missing (run scripts/install-deps.sh --bench as root)" >&2
        exit 1
    fi
done
make -s --no-print-directory lib $B/plain/echo_server $B/tools/echo_load $B/bench/fd_table

make_work

# serve SETTINGS [valgrind]: starts the server on CPU 0 under libgreen with SETTINGS (a word
# list of VAR=value), under cachegrind when asked.
serve() {
    local vg=()
    # Instructions only: --cache-sim=no is cachegrind's cheapest mode.
    [ "${2:-}" = valgrind ] && vg=(valgrind --tool=cachegrind --cache-sim=no
        --cachegrind-out-file="$WORK/cachegrind.out")
    # shellcheck disable=SC2086  # SETTINGS is a word list
    start_server env $1 LD_PRELOAD="$LIB" taskset -c 0 "${vg[@]}" "$B/plain/echo_server"
}

# finish SETTINGS: quits the server and checks that it exited well (and reported, when
# GREEN_STATS is on); returns 1 with the reason on stderr otherwise.
finish() {
    local status=0
    quit_server || status=$?
    if [ "$status" -ne 0 ]; then
        echo "bench_diag: the server ($1) exited with status $status:" \
            "$(tail -n 3 "$WORK/server.log" | tr '\n' ' ')" >&2
        return 1
    fi
    if [[ "$1" == *GREEN_STATS=1* ]] &&
        ! grep -q '^libgreen: statistics of process' "$WORK/server.log"; then
        echo "bench_diag: the server ($1) printed no statistics at exit" >&2
        return 1
    fi
}

# load ROUNDS: the fixed load on CPU 1; its output in $WORK/load.out.
load() {
    timeout -k 5 $LOAD_TIMEOUT taskset -c 1 "$B/tools/echo_load" 127.0.0.1 "$PORT" "$CONNS" \
        "$1" 64 >"$WORK/load.out" 2>"$WORK/load.err" || {
        echo "bench_diag: load failed: $(tail -n 3 "$WORK/load.err" | tr '\n' ' ')" >&2
        return 1
    }
}

# native SETTINGS: prints "CPU_US_PER_RT RT_PER_SEC".
native() {
    local cpu0 cpu1 n rt
    serve "$1" || return 1
    cpu0=$(server_stat | field cpu_ms)
    load "$ROUNDS" || { stop_server; return 1; }
    finish "$1" || return 1
    n=$(grep '^conns' "$WORK/load.out" | field round_trips)
    rt=$(grep '^conns' "$WORK/load.out" | field rt_per_sec)
    cpu1=$(grep '^server:' "$WORK/load.out" | field cpu_ms)
    awk -v c0="$cpu0" -v c1="$cpu1" -v n="$n" -v rt="$rt" \
        'BEGIN {printf "%.4f %s\n", (c1 - c0) * 1000 / n, rt}'
}

# instructions SETTINGS ROUNDS: the server's total instruction count under cachegrind with
# ROUNDS round trips per connection (0: only the STAT request).
instructions() {
    serve "$1" valgrind || return 1
    server_stat >/dev/null
    if [ "$2" -gt 0 ]; then
        load "$2" || { stop_server; return 1; }
    fi
    finish "$1" || return 1
    # "==PID== I   refs:      34,333,165"
    sed -n 's/^==[0-9]*== I *refs: *//p' "$WORK/server.log" | tr -d ,
}

# per_rt_instructions SETTINGS: prints the instructions per round trip.
per_rt_instructions() {
    local base full
    base=$(instructions "$1" 0) || return 1
    full=$(instructions "$1" "$VG_ROUNDS") || return 1
    awk -v b="$base" -v f="$full" -v n="$((CONNS * VG_ROUNDS))" \
        'BEGIN {printf "%.1f\n", (f - b) / n}'
}

echo "== cost of GREEN_STATS and GREEN_WATCHDOG: echo_server under libgreen, $CONNS connections," \
    "64 B; off = $OFF, on = $ON"
echo "   native: $ROUNDS round trips per connection, $RUNS runs; under cachegrind: $VG_ROUNDS," \
    "$VG_RUNS runs"
declare -A INS CPU RT
start=$(date +%s)

# settings_of MODE: the settings of off or on.
settings_of() { if [ "$1" = on ]; then echo "$ON"; else echo "$OFF"; fi; }

# order RUN: which goes first alternates too (a run may find the machine warmer than the one
# before), so that pairs are (off, on), (on, off), ...
order() { if [ $(($1 % 2)) = 1 ]; then echo "off on"; else echo "on off"; fi; }

# The native runs first, then those under cachegrind: a valgrind run's aftermath (its memory,
# the other core's wake-ups) must not fall on one side more than on the other.
for run in $(seq "$RUNS"); do
    echo "native run $run of $RUNS ..." >&2
    for mode in $(order "$run"); do
        read -r cpu rt <<<"$(native "$(settings_of "$mode")")"
        [ -n "$cpu" ] || exit 1
        [ "$VERBOSE" = 1 ] && echo "  $mode: $cpu CPU µs/rt, $rt rt/s" >&2
        CPU[$mode]="${CPU[$mode]:-} $cpu"
        RT[$mode]="${RT[$mode]:-} $rt"
    done
done
for run in $(seq "$VG_RUNS"); do
    echo "cachegrind run $run of $VG_RUNS ..." >&2
    for mode in $(order "$run"); do
        ins=$(per_rt_instructions "$(settings_of "$mode")")
        [ "$VERBOSE" = 1 ] && echo "  $mode: $ins instructions/rt" >&2
        INS[$mode]="${INS[$mode]:-} $ins"
    done
done

# summary FORMAT SAMPLES: "median (smallest-largest)" of a space-separated list.
summary() {
    local s
    s=$(echo "$2" | tr ' ' '\n' | grep . | sort -g)
    # shellcheck disable=SC2059  # the format is the caller's
    printf "$1 ($1-$1)" "$(echo "$s" | median)" "$(echo "$s" | head -n 1)" \
        "$(echo "$s" | tail -n 1)"
}

# row LABEL FORMAT OFF_SAMPLES ON_SAMPLES BEST: each side's summary; that of the ratios on/off
# of the pairs of runs taken in turn (which cancels the machine's slow drift); and the ratio of
# the best figures (BEST: min or max), since what other programs on the machine do can only
# make a run slower, never faster.
row() {
    local ratios best
    ratios=$(awk -v a="$3" -v b="$4" 'BEGIN {
        n = split(a, x, " "); split(b, y, " ")
        for (i = 1; i <= n; i++) printf "%f ", y[i] / x[i]}')
    best=$(awk -v a="$3" -v b="$4" -v w="$5" 'BEGIN {
        n = split(a, x, " "); split(b, y, " ")
        bx = x[1]; by = y[1]
        for (i = 2; i <= n; i++) {
            if (w == "min" ? x[i] < bx : x[i] > bx) bx = x[i]
            if (w == "min" ? y[i] < by : y[i] > by) by = y[i]
        }
        printf "%.3f", by / bx}')
    printf '%-20s  %24s  %24s  %22s  %8s\n' "$1" "$(summary "$2" "$3")" "$(summary "$2" "$4")" \
        "$(summary %.3f "$ratios")" "$best"
}

echo
printf '%-20s  %24s  %24s  %22s  %8s\n' "median (min-max)" "off" "on" "on/off, pair by pair" \
    "on/off, best"
[ "$VG_RUNS" -gt 0 ] && row "instructions per rt" "%.1f" "${INS[off]}" "${INS[on]}" min
row "CPU µs per rt" "%.3f" "${CPU[off]}" "${CPU[on]}" min
row "round trips/s" "%.0f" "${RT[off]}" "${RT[on]}" max
# The kernel's part, which cachegrind does not see and the CPU figures are too noisy to show:
# a descriptor table shared by two threads makes every system call on a descriptor dearer.
echo
echo "one recv(MSG_DONTWAIT) system call (EAGAIN), ns, best of 7 rounds (tests/bench/fd_table.c):"
taskset -c 0 "$B/bench/fd_table" |
    awk '{printf "  alone %.1f; with a second thread sharing the descriptor table %.1f (%+.1f);" \
        " with a second thread on a table of its own %.1f\n", $2, $4, $4 - $2, $6}'
echo
echo "took $(($(date +%s) - start)) s"
