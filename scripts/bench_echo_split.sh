#!/usr/bin/env bash
# Where an echo server's CPU goes per round trip: user and system time apart, for the servers of
# scripts/bench_echo.sh (server on CPU 0, tests/tools/echo_load on CPU 1), and optionally a
# cpu-clock profile of each server (perf record, kernel symbols included).
#
#   scripts/bench_echo_split.sh CONNS MSGSIZE ROUNDS [KIND...]
#
# KIND: green (echo_server under build/libgreen.so, one worker), before (under
# BENCH_ECHO_LIB_BEFORE), threads (echo_server, real threads), epoll (tests/bench/epoll_echo.c,
# one buffer for every connection), epollbuf (the same with a 16 KiB buffer per connection,
# EPOLL_ECHO_CONN_BUF=1: what a thread per connection costs by its design, a buffer of its own
# per connection, without any runtime).  Default: green epoll epollbuf.
#
# Each kind runs twice, ROUNDS round trips per connection and 1: the difference of the server's
# utime and stime (/proc/PID/stat, read while echo_load holds the connections open) over the
# difference of round trips leaves out accepting the connections and starting their threads.
# The kinds take turns, BENCH_SPLIT_RUNS times (default 3); medians are printed.
# BENCH_SPLIT_PERF=DIR also records a cpu-clock profile of the ROUNDS run of each kind's last
# run into DIR/KIND.data and prints its top symbols (perf report --sort dso,sym; needs
# linux-perf).
set -eu
cd "$(dirname "$0")/.."
. scripts/bench_echo_lib.sh
B=build
CONNS=$1 SIZE=$2 ROUNDS=$3
shift 3
KINDS=${*:-green epoll epollbuf}
RUNS=${BENCH_SPLIT_RUNS:-3}
PERF_DIR=${BENCH_SPLIT_PERF:-}
TICK=$(getconf CLK_TCK)
make -s --no-print-directory lib $B/plain/echo_server $B/tools/echo_load
mkdir -p $B/bench
gcc -O2 -g -Wall -Wextra -pthread -o $B/bench/epoll_echo tests/bench/epoll_echo.c
make_work
procs=1
[ "$CONNS" -ge 5000 ] && procs=2

start_kind() {
    case $1 in
        green) start_server taskset -c 0 env GREEN_WORKERS=1 LD_PRELOAD="$PWD/$B/libgreen.so" $B/plain/echo_server ;;
        before) start_server taskset -c 0 env GREEN_WORKERS=1 LD_PRELOAD="$BENCH_ECHO_LIB_BEFORE" $B/plain/echo_server ;;
        threads) start_server taskset -c 0 $B/plain/echo_server ;;
        epoll) start_server taskset -c 0 $B/bench/epoll_echo ;;
        epollbuf) start_server taskset -c 0 env EPOLL_ECHO_CONN_BUF=1 $B/bench/epoll_echo ;;
    esac
}

# ticks PID: "UTIME STIME" in clock ticks.
ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }

# once KIND ROUNDS [PERF_OUT]: prints "UTIME STIME ROUND_TRIPS" of one run (ticks), from the
# server's start to the moment the load holds every connection after its rounds.
once() {
    local kind=$1 rounds=$2 perf_out=${3:-} load t0 t1 perf_pid=
    start_kind "$kind"
    server_stat >/dev/null
    t0=$(ticks "$SERVER_PID")
    if [ -n "$perf_out" ]; then
        perf record -q -e cpu-clock -p "$SERVER_PID" -o "$perf_out" >/dev/null 2>&1 &
        perf_pid=$!
        sleep 0.5
    fi
    rm -f "$WORK/load.out"
    timeout -k 5 180 taskset -c 1 $B/tools/echo_load 127.0.0.1 "$PORT" "$CONNS" "$rounds" \
        "$SIZE" "$procs" 2 >"$WORK/load.out" 2>"$WORK/load.err" &
    load=$!
    until grep -q '^holding' "$WORK/load.out" 2>/dev/null; do
        alive "$load" || { echo "load failed: $(cat "$WORK/load.err")" >&2; exit 1; }
        sleep 0.05
    done
    t1=$(ticks "$SERVER_PID")
    if [ -n "$perf_pid" ]; then
        kill -INT "$perf_pid"
        wait "$perf_pid" || true
    fi
    wait "$load"
    stop_server
    echo "$t0 $t1 $(grep '^conns' "$WORK/load.out" | field round_trips)"
}

declare -A US SY
for run in $(seq "$RUNS"); do
    for kind in $KINDS; do
        perf_out=
        [ -n "$PERF_DIR" ] && [ "$run" = "$RUNS" ] && mkdir -p "$PERF_DIR" && perf_out=$PERF_DIR/$kind.data
        read -r u0 s0 u1 s1 n < <(once "$kind" "$ROUNDS" "$perf_out")
        read -r v0 r0 v1 r1 m < <(once "$kind" 1)
        res=$(awk -v a="$((u1 - u0 - (v1 - v0)))" -v b="$((s1 - s0 - (r1 - r0)))" -v n="$((n - m))" \
            -v hz="$TICK" 'BEGIN {printf "%.3f %.3f", a * 1e6 / hz / n, b * 1e6 / hz / n}')
        echo "  run $run $kind: user/sys µs per rt $res" >&2
        US[$kind]="${US[$kind]:-} ${res% *}"
        SY[$kind]="${SY[$kind]:-} ${res#* }"
    done
done

med() { tr ' ' '\n' | grep . | median; }
echo "== $CONNS connections x $SIZE B, $ROUNDS rounds (less a 1-round run); server CPU µs per round trip, median of $RUNS; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %8s %8s %8s\n' kind user system total
for kind in $KINDS; do
    u=$(echo "${US[$kind]}" | med)
    s=$(echo "${SY[$kind]}" | med)
    awk -v k="$kind" -v u="$u" -v s="$s" 'BEGIN {printf "%-10s %8.2f %8.2f %8.2f\n", k, u, s, u + s}'
done
if [ -n "$PERF_DIR" ]; then
    for kind in $KINDS; do
        echo "== perf: $kind (cpu-clock, the ROUNDS run of the last run)"
        perf report -i "$PERF_DIR/$kind.data" --sort dso,sym --stdio 2>/dev/null |
            grep -v '^#' | grep -v '^$' | head -n "${BENCH_SPLIT_TOP:-30}"
    done
fi
