#!/usr/bin/env bash
# redis-benchmark against redis-server, plain and under greenrun (part of make bench): a
# program that never blocks must not pay for libgreen (issue 17: at least 0.97 of plain).
#
# The machine is shared and its load moves a server's rate by a factor of two from one minute
# to the next, so the two servers run in pairs, one right after the other, the order swapped
# from one pair to the next; each pair gives a ratio, and the medians of those ratios are what
# to read.  The server runs on CPU 0 and the client on CPU 1 (taskset), so that they do not
# take turns on one core.  Beside requests per second, the server's own CPU time per request
# (user + system, from /proc/PID/stat), which the client's share of the machine does not move.
#
#   scripts/bench_redis.sh          BENCH_REDIS_PAIRS (15) pairs of BENCH_REDIS_REQUESTS
#                                   (100000) SET and as many GET, 50 connections
set -eu
cd "$(dirname "$0")/.."
PAIRS=${BENCH_REDIS_PAIRS:-15}
N=${BENCH_REDIS_REQUESTS:-100000}
GREENRUN=$PWD/scripts/greenrun
TICK=$(getconf CLK_TCK)
for c in redis-server redis-benchmark redis-cli taskset; do
    command -v "$c" >/dev/null || { echo "bench_redis: $c is missing (scripts/install-deps.sh --bench)"; exit 1; }
done
make -s --no-print-directory lib
WORK=$(mktemp -d)
SERVER=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The CPU time (user + system, clock ticks) process $1 has used.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# one MODE: starts a server (plain or green) on CPU 0, loads it from CPU 1, stops it; prints
# "requests/s CPU-us-per-request".
one() {
    local mode=$1 port run=() before after rps
    port=$(free_port)
    [ "$mode" = green ] && run=("$GREENRUN")
    mkdir -p "$WORK/$mode"
    taskset -c 0 "${run[@]}" redis-server --bind 127.0.0.1 --port "$port" --dir "$WORK/$mode" \
        --save '' --appendonly no --daemonize no --logfile "$WORK/$mode/log" >/dev/null 2>&1 &
    SERVER=$!
    for _ in $(seq 200); do
        redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break
        sleep 0.05
    done
    before=$(cpu_ticks "$SERVER")
    rps=$(taskset -c 1 timeout 300 redis-benchmark -h 127.0.0.1 -p "$port" -q -t set,get -n "$N" -c 50 |
        tr '\r' '\n' | awk '/requests per second/ {for (i = 1; i < NF; i++) if ($(i+1) == "requests") s += $i} END {printf "%d\n", s / 2}')
    after=$(cpu_ticks "$SERVER")
    timeout 10 redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
    wait "$SERVER" 2>/dev/null || true
    SERVER=
    awk -v r="$rps" -v t=$((after - before)) -v hz="$TICK" -v n=$((2 * N)) \
        'BEGIN {printf "%d %.3f\n", r, t / hz * 1e6 / n}'
}

echo "== redis-benchmark against redis-server, plain and under greenrun ($PAIRS pairs taking turns, the order swapped each pair; SET and GET, $N requests each, 50 connections; server on CPU 0, client on CPU 1)"
rates=() cpus=() prate=() grate=() pcpu=() gcpu=()
for pair in $(seq "$PAIRS"); do
    if [ $((pair % 2)) -eq 1 ]; then order="plain green"; else order="green plain"; fi
    for mode in $order; do
        read -r rps cpu < <(one "$mode")
        if [ "$mode" = plain ]; then p_rps=$rps p_cpu=$cpu; else g_rps=$rps g_cpu=$cpu; fi
    done
    prate+=("$p_rps") grate+=("$g_rps") pcpu+=("$p_cpu") gcpu+=("$g_cpu")
    rates+=("$(awk -v g="$g_rps" -v p="$p_rps" 'BEGIN {printf "%.3f", g / p}')")
    cpus+=("$(awk -v g="$g_cpu" -v p="$p_cpu" 'BEGIN {printf "%.3f", (p > 0 ? g / p : 0)}')")
    printf 'pair %2d (%s first): plain %7d req/s %6.2f us/req, green %7d req/s %6.2f us/req\n' \
        "$pair" "${order%% *}" "$p_rps" "$p_cpu" "$g_rps" "$g_cpu"
done
printf '%-52s %10s %10s\n' "medians" "plain" "green"
printf '%-52s %10.0f %10.0f\n' "requests/s" "$(printf '%s\n' "${prate[@]}" | median)" \
    "$(printf '%s\n' "${grate[@]}" | median)"
printf '%-52s %10.2f %10.2f\n' "server CPU time per request (us)" "$(printf '%s\n' "${pcpu[@]}" | median)" \
    "$(printf '%s\n' "${gcpu[@]}" | median)"
echo "ratio: green/plain requests/s, median of the pairs' ratios = $(printf '%s\n' "${rates[@]}" | median) (target: at least 0.97)"
echo "ratio: green/plain server CPU per request, median of the pairs' ratios = $(printf '%s\n' "${cpus[@]}" | median) (lower is better)"
echo "pairs' requests/s ratios: ${rates[*]}"
