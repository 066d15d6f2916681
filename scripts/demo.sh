#!/usr/bin/env bash
# make demo: unmodified plain programs (they know nothing of libgreen), run as they are and then
# under greenrun, side by side.
#   1. tests/plain/sleepers.cpp: 10,000 threads that each sleep one second (sleep, usleep,
#      nanosleep, clock_nanosleep(TIMER_ABSTIME), std::this_thread::sleep_for).
#   2. tests/plain/echo_server.c: a classic thread-per-connection echo server (blocking accept,
#      a pthread per client, blocking read/write), driven by tests/tools/echo_load.c with
#      5,000 concurrent connections, every byte checked.
set -eu
cd "$(dirname "$0")/.."
N=${DEMO_THREADS:-10000}
CONNS=${DEMO_CONNS:-5000}
ROUNDS=${DEMO_ROUNDS:-20}

sleepers_row() {  # sleepers_row LABEL COMMAND...
    local label=$1 out
    shift
    if ! out=$("$@" build/plain/sleepers "$N" 2>&1); then
        printf '%-22s failed: %s\n' "$label" "$out"
        return 1
    fi
    # "sleepers: N threads asked, F finished; P OS threads at the peak; wall W s; peak RSS R MiB"
    echo "$out" | sed -E 's/.*: ([0-9]+) threads asked, ([0-9]+) finished; ([0-9]+) OS threads at the peak; wall ([0-9.]+) s; peak RSS ([0-9.]+) MiB/\1 \2 \3 \4 \5/' |
        { read -r asked done peak wall rss
          printf '%-22s %8s %9s %12s %9s s %9s MiB\n' "$label" "$asked" "$done" "$peak" "$wall" "$rss"; }
}

echo_row() {  # echo_row LABEL COMMAND...: serve, load, print one row
    local label=$1 dir out pid port
    shift
    dir=$(mktemp -d)
    "$@" build/plain/echo_server serve 0 "$dir/port" &
    pid=$!
    for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.05; done
    port=$(cat "$dir/port" 2>/dev/null || echo 0)
    if ! out=$(build/tools/echo_load 127.0.0.1 "$port" "$CONNS" "$ROUNDS" 64 2 2>&1); then
        printf '%-22s failed: %s\n' "$label" "$(echo "$out" | tail -n 1)"
        kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"
        return 1
    fi
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
    # conns N ... rt_per_sec X errors E / server: conns_open N conns_total M os_threads T rss_kib R cpu_ms C
    local conns rt errors threads rss cpu
    conns=$(echo "$out" | awk '/^conns/ {print $2}')
    rt=$(echo "$out" | awk '/^conns/ {for (i = 1; i < NF; i++) if ($i == "rt_per_sec") print $(i+1)}')
    errors=$(echo "$out" | awk '/^conns/ {for (i = 1; i < NF; i++) if ($i == "errors") print $(i+1)}')
    threads=$(echo "$out" | awk '/^server:/ {for (i = 1; i < NF; i++) if ($i == "os_threads") print $(i+1)}')
    rss=$(echo "$out" | awk '/^server:/ {for (i = 1; i < NF; i++) if ($i == "rss_kib") printf "%.1f", $(i+1) / 1024}')
    cpu=$(echo "$out" | awk '/^server:/ {for (i = 1; i < NF; i++) if ($i == "cpu_ms") print $(i+1)}')
    printf '%-22s %8s %12s %14s %11s MiB %9s ms %7s\n' "$label" "$conns" "$threads" "$rt" "$rss" "$cpu" "$errors"
}

echo "libgreen demo: unmodified programs, plain and under greenrun"
echo
echo "1. $N threads, each sleeping 1 s (build/plain/sleepers)"
printf '%-22s %8s %9s %12s %11s %13s\n' "" "threads" "finished" "OS threads" "wall" "peak RSS"
sleepers_row "plain (real threads)"
sleepers_row "greenrun" scripts/greenrun
echo
echo "2. thread-per-connection echo server, $CONNS concurrent clients x $ROUNDS round trips of 64 B"
printf '%-22s %8s %12s %14s %15s %12s %7s\n' "" "conns" "OS threads" "round trips/s" "server RSS" "server CPU" "errors"
echo_row "plain (real threads)"
echo_row "greenrun" scripts/greenrun
echo
echo "Same programs, same results; under greenrun every thread is a green thread, run by one OS thread per core (GREEN_WORKERS)."
