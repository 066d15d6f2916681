#!/usr/bin/env bash
# memcached -t 4 on every core (issue: all cores): operations/s of memcached's own worker
# threads, plain against libgreen with its default workers (one per CPU) and GREEN_WORKERS=1,
# taking turns, under tests/tools/mc_load (set and get of a key per connection, every reply
# checked).  The load generator shares the machine's cores with the server: read the ratios.
#
# BENCH_MC_RUNS=N (default 5), BENCH_MC_CONNS (50), BENCH_MC_SECONDS (3), BENCH_MC_PROCS (2)
set -eu
cd "$(dirname "$0")/.."
B=build
LIB=$PWD/$B/libgreen.so
RUNS=${BENCH_MC_RUNS:-5}
CONNS=${BENCH_MC_CONNS:-50}
SECONDS_=${BENCH_MC_SECONDS:-3}
PROCS=${BENCH_MC_PROCS:-2}
command -v memcached >/dev/null || { echo "memcached: not installed, skipped"; exit 0; }
make -s --no-print-directory lib $B/tools/mc_load

BUSY=$(mktemp)
trap 'rm -f "$BUSY"' EXIT

median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

# one ENV...: ops/s of one run against a memcached started with ENV (and a busy-CPU sample:
# how many of its OS threads used more than 10% of a CPU).
one() {
    local port=$((20000 + RANDOM % 20000)) pid out
    env "$@" memcached -t 4 -l 127.0.0.1 -p "$port" -U 0 -u root -m 64 &
    pid=$!
    for _ in $(seq 50); do
        (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
        sleep 0.1
    done
    out=$("$B/tools/mc_load" "$port" "$CONNS" "$SECONDS_" "$PROCS")
    ps -L -o pcpu= -p "$pid" | awk '$1 > 10 {n++} END {print n + 0}' >"$BUSY"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    echo "$out" | awk '{for (i = 1; i < NF; i++) if ($i == "ops_per_sec") print $(i+1)}'
}

echo "== memcached -t 4, $CONNS connections, $SECONDS_ s a run, $RUNS runs taking turns"
plain=() green=() one_w=() busy_g=()
for _ in $(seq "$RUNS"); do
    plain+=("$(one X=1)")
    green+=("$(one LD_PRELOAD="$LIB")")
    busy_g+=("$(cat "$BUSY")")
    one_w+=("$(one LD_PRELOAD="$LIB" GREEN_WORKERS=1)")
done
p=$(printf '%s\n' "${plain[@]}" | median)
g=$(printf '%s\n' "${green[@]}" | median)
o=$(printf '%s\n' "${one_w[@]}" | median)
echo "plain ops/s:            ${plain[*]} (median $p)"
echo "libgreen, default workers: ${green[*]} (median $g; OS threads busy: ${busy_g[*]})"
echo "libgreen, GREEN_WORKERS=1: ${one_w[*]} (median $o)"
awk -v p="$p" -v g="$g" -v o="$o" 'BEGIN {printf "ratio to plain: default workers %.2f, one worker %.2f\n", g / p, o / p}'
