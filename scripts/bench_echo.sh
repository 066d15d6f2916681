#!/usr/bin/env bash
# Echo servers side by side: the thread-per-connection echo server (tests/plain/echo_server.c)
# under libgreen and with real threads, against a hand-written single-threaded epoll server
# (tests/bench/epoll_echo.c, the upper limit of one core), a goroutine-per-connection Go server
# (tests/bench/echo.go, GOMAXPROCS=1) and a gevent StreamServer (tests/bench/gevent_echo.py).
# The load is tests/tools/echo_load.c, which verifies every byte.
#
# Each server runs pinned to CPU 0, the load client pinned to CPU 1.  Every point (server kind x
# connections x message size) starts a fresh server; the kinds take turns point by point, and the
# whole sweep is repeated BENCH_ECHO_RUNS times (default 3).  We print medians and their ratio to
# the epoll server.  The machine is shared and noisy: trust medians and ratios only.
#
#   round trips/s   echo_load's figure: verified round trips over the wall time of the round-trip
#                   phase (connection setup excluded).  One message in flight per connection and
#                   one load process on one core: for the cheapest servers this measures the
#                   client and the wake-up latency between the two cores as much as the server.
#   CPU µs per rt   the server's CPU time (user + system, from its STAT line) over the load,
#                   divided by the round trips.  The server is asked for STAT once right after it
#                   is ready (echo_load with 1 connection and 0 rounds) and once by the load client
#                   after the last round trip, while every connection is still open; the
#                   difference counts accepting the connections (and, under libgreen and with
#                   real threads, creating their threads) and the round trips, not the process's
#                   start-up (nor the closing of the connections).  With 10,000 connections and
#                   few rounds the set-up is a visible part of the figure.
#   memory          N idle connections after one 64 B round trip each: the server's RSS growth
#                   over the RSS reported right after start, per connection; and the system's
#                   MemAvailable drop from before connecting to while all connections are open,
#                   per connection.  The latter counts kernel memory (socket buffers of both ends,
#                   kernel stacks of real threads, page tables) and the load client's own
#                   memory, which is the same for every server kind; it is the noisiest figure.
#                   Before the baseline, the script waits until MemAvailable stops rising (see
#                   memavail_settle), up to 30 s; that wait is most of the memory section's time.
#                   Measured once per kind by default (BENCH_ECHO_MEM_RUNS): RSS hardly varies,
#                   MemAvailable varies by about 2 KiB per connection from run to run.
#
# BENCH_ECHO_RUNS=N      repetitions of the throughput sweep (default 3)
# BENCH_ECHO_MEM_RUNS=N  repetitions of the memory measurement (default 1)
# BENCH_ECHO_QUICK=1     a smoke version under a minute: 100 and 1000 connections, 64 B, 1 run,
#                        half the rounds, memory with 1000 connections and at most 5 s of waiting
#                        for MemAvailable (rough)
# BENCH_ECHO_VERBOSE=1   every single measurement on stderr as it is taken
# BENCH_ECHO_KINDS="..."  the servers to run, of: green threads epoll go gevent before (the
#                        tables divide by epoll, or by go with BENCH_ECHO_ALL_CORES, which must
#                        be among them)
# BENCH_ECHO_LIB_BEFORE=PATH  another build of libgreen.so (say, of the main branch): the kind
#                        "before" runs echo_server under it, beside the current build
# BENCH_ECHO_ALL_CORES=1 every kind on every core, none pinned, server and load sharing them:
#                        libgreen with its default workers (one per CPU), real threads, the epoll
#                        server with a thread per CPU (SO_REUSEPORT, EPOLL_ECHO_THREADS), Go with
#                        GOMAXPROCS = the CPUs; no gevent (one core only) and no memory section;
#                        ratios to Go instead of epoll (the target Go's figures set for M:N)
#
# Takes about 5 minutes on 2 cores.
#
# Needs golang-go and python3-gevent (scripts/install-deps.sh --bench).  Exits non-zero when any
# load client failed (its cell shows FAILED).
set -eu
cd "$(dirname "$0")/.."
. scripts/bench_echo_lib.sh
B=build
LIB=$PWD/$B/libgreen.so
PY=/usr/bin/python3
QUICK=${BENCH_ECHO_QUICK:-0}
VERBOSE=${BENCH_ECHO_VERBOSE:-0}
if [ "$QUICK" = 1 ]; then
    RUNS=${BENCH_ECHO_RUNS:-1}
    CONNS_LIST="100 1000"
    SIZES="64"
    MEM_CONNS=1000
    MEM_RUNS=${BENCH_ECHO_MEM_RUNS:-1}
    MEM_SETTLE_MAX=5
    SCALE=2 # rounds divided by this
else
    RUNS=${BENCH_ECHO_RUNS:-3}
    CONNS_LIST="100 1000 10000"
    SIZES="64 16384"
    MEM_CONNS=10000
    MEM_RUNS=${BENCH_ECHO_MEM_RUNS:-1}
    MEM_SETTLE_MAX=30
    SCALE=1
fi
MEM_HOLD=2
KINDS="green threads epoll go gevent"
ALL=${BENCH_ECHO_ALL_CORES:-0}
NCPU=$(nproc)
BASE=epoll  # the kind the tables divide by
if [ "$ALL" = 1 ]; then
    KINDS="green threads epoll go"
    MEM_RUNS=0
    BASE=go
fi
KINDS=${BENCH_ECHO_KINDS:-$KINDS}
LIB_BEFORE=${BENCH_ECHO_LIB_BEFORE:-}
has_kind() { [[ " $KINDS " == *" $1 "* ]]; }
LOAD_TIMEOUT=120

label() {
    case $ALL:$1 in
        *:green) echo "echo_server + libgreen" ;;
        *:before) echo "echo_server + lib before" ;;
        *:threads) echo "echo_server, real threads" ;;
        0:epoll) echo "epoll_echo (1 thread)" ;;
        1:epoll) echo "epoll_echo ($NCPU threads)" ;;
        0:go) echo "Go, GOMAXPROCS=1" ;;
        1:go) echo "Go, GOMAXPROCS=$NCPU" ;;
        *:gevent) echo "gevent StreamServer" ;;
    esac
}

# Where the server and the load run: CPU 0 and CPU 1, or (BENCH_ECHO_ALL_CORES) anywhere.
if [ "$ALL" = 1 ]; then
    ON_SERVER=() ON_LOAD=()
else
    ON_SERVER=(taskset -c 0) ON_LOAD=(taskset -c 1)
fi

# rounds_for CONNS MSGSIZE: about 1-3 s per point (the slowest kinds take the longest).
rounds_for() {
    local r
    case "$1:$2" in
        100:64) r=1500 ;;
        1000:64) r=150 ;;
        10000:64) r=15 ;;
        100:16384) r=400 ;;
        1000:16384) r=40 ;;
        10000:16384) r=4 ;;
        *) r=10 ;;
    esac
    r=$((r / SCALE))
    echo $((r > 0 ? r : 1))
}

# Each echo_load process must stay under the descriptor limit (ulimit -n).
procs_for() { if [ "$1" -ge 5000 ]; then echo 2; else echo 1; fi; }

memavail_kib() { awk '/^MemAvailable:/ {print $2}' /proc/meminfo; }

# memavail_settle: waits until MemAvailable has risen by less than 1 MiB over the last 3 s (at
# most MEM_SETTLE_MAX seconds).  Freed pages first go to the kernel's per-CPU free lists, which
# MemFree and MemAvailable do not count, and which it trims only bit by bit, once a second, for
# 10-20 s after thousands of sockets (or threads) went away.  Pages the next server allocates come
# from those lists first; a baseline taken before they are trimmed understates the drop.
memavail_settle() {
    local samples=() cur i
    for ((i = 0; i < MEM_SETTLE_MAX * 2; i++)); do
        cur=$(memavail_kib)
        samples+=("$cur")
        if [ "${#samples[@]}" -gt 6 ] && [ $((cur - samples[${#samples[@]} - 7])) -lt 1024 ]; then
            SETTLED_AFTER=$(awk -v n="$i" 'BEGIN {print n / 2}')
            return 0
        fi
        sleep 0.5
    done
    SETTLED_AFTER="(not settled after) $MEM_SETTLE_MAX"
}

# memavail_sample: the median of three readings 0.2 s apart.
memavail_sample() {
    { memavail_kib; sleep 0.2; memavail_kib; sleep 0.2; memavail_kib; } | median
}

# ---- Build --------------------------------------------------------------------------------------

missing=""
command -v go >/dev/null 2>&1 || missing="$missing golang-go"
! has_kind gevent || "$PY" -c 'import gevent' >/dev/null 2>&1 || missing="$missing python3-gevent"
if has_kind before && [ ! -f "$LIB_BEFORE" ]; then
    echo "bench_echo: the kind before needs BENCH_ECHO_LIB_BEFORE, a libgreen.so" >&2
    exit 1
fi
command -v taskset >/dev/null 2>&1 || missing="$missing util-linux"
if [ -n "$missing" ]; then
    echo "bench_echo: missing:$missing (run scripts/install-deps.sh --bench as root)" >&2
    exit 1
fi
make -s --no-print-directory lib $B/plain/echo_server $B/tools/echo_load
mkdir -p $B/bench
gcc -O2 -g -Wall -Wextra -pthread -o $B/bench/epoll_echo tests/bench/epoll_echo.c
# No modules, and the build cache under build/: nothing is written outside the build directory.
env GO111MODULE=off GOFLAGS= GOCACHE="$PWD/$B/go/cache" GOPATH="$PWD/$B/go/path" \
    go build -o $B/bench/echo_go tests/bench/echo.go

make_work

# ---- Servers ------------------------------------------------------------------------------------

# start_kind KIND: starts that server on CPU 0 (start_server in scripts/bench_echo_lib.sh).
start_kind() {
    local cores=1
    [ "$ALL" = 1 ] && cores=$NCPU
    case $1 in
        green) start_server "${ON_SERVER[@]}" env LD_PRELOAD="$LIB" "$B/plain/echo_server" ;;
        before) start_server "${ON_SERVER[@]}" env LD_PRELOAD="$LIB_BEFORE" "$B/plain/echo_server" ;;
        threads) start_server "${ON_SERVER[@]}" "$B/plain/echo_server" ;;
        epoll) start_server "${ON_SERVER[@]}" env EPOLL_ECHO_THREADS=$cores "$B/bench/epoll_echo" ;;
        go) start_server "${ON_SERVER[@]}" env GOMAXPROCS=$cores "$B/bench/echo_go" ;;
        gevent) start_server "${ON_SERVER[@]}" "$PY" tests/bench/gevent_echo.py ;;
    esac
}

# ---- One throughput point -----------------------------------------------------------------------

# point KIND CONNS MSGSIZE: prints "RT_PER_SEC CPU_US_PER_RT", or "FAILED" (reason on stderr).
point() {
    local kind=$1 conns=$2 size=$3 rounds procs stat0 cpu0 out rc rt cpu1 n
    rounds=$(rounds_for "$conns" "$size")
    procs=$(procs_for "$conns")
    if ! start_kind "$kind"; then
        stop_server
        echo FAILED
        return
    fi
    stat0=$(server_stat)
    cpu0=$(echo "$stat0" | field cpu_ms)
    rc=0
    out=$(timeout -k 5 $LOAD_TIMEOUT "${ON_LOAD[@]}" $B/tools/echo_load 127.0.0.1 "$PORT" \
        "$conns" "$rounds" "$size" "$procs" 2>"$WORK/load.err") || rc=$?
    stop_server
    rt=$(echo "$out" | grep '^conns' | field rt_per_sec)
    n=$(echo "$out" | grep '^conns' | field round_trips)
    cpu1=$(echo "$out" | grep '^server:' | field cpu_ms)
    if [ "$rc" -ne 0 ] || [ -z "$cpu0" ] || [ -z "$rt" ] || [ -z "$cpu1" ] ||
        [ "${n:-0}" -eq 0 ]; then
        echo "bench_echo: $kind, $conns connections, $size B: load exit $rc:" \
            "$(tail -n 3 "$WORK/load.err" | tr '\n' ' ')" >&2
        echo FAILED
        return
    fi
    awk -v rt="$rt" -v c0="$cpu0" -v c1="$cpu1" -v n="$n" \
        'BEGIN {printf "%s %.3f\n", rt, (c1 - c0) * 1000 / n}'
}

# ---- One memory measurement ---------------------------------------------------------------------

# memory KIND CONNS: prints "RSS_KIB_PER_CONN MEMAVAIL_KIB_PER_CONN OS_THREADS", or "FAILED".
memory() {
    local kind=$1 conns=$2 procs stat0 rss0 mem0 mem1 rc out rss1 threads
    procs=$(procs_for "$conns")
    if ! start_kind "$kind"; then
        stop_server
        echo FAILED
        return
    fi
    stat0=$(server_stat)
    rss0=$(echo "$stat0" | field rss_kib)
    memavail_settle
    [ "$VERBOSE" = 1 ] && echo "  memory $kind: MemAvailable settled after $SETTLED_AFTER s" >&2
    mem0=$(memavail_sample)
    rm -f "$WORK/mem.out"
    timeout -k 5 $LOAD_TIMEOUT taskset -c 1 $B/tools/echo_load 127.0.0.1 "$PORT" \
        "$conns" 1 64 "$procs" "$MEM_HOLD" >"$WORK/mem.out" 2>"$WORK/load.err" &
    local load=$!
    mem1=
    for _ in $(seq 600); do
        if grep -q '^holding' "$WORK/mem.out" 2>/dev/null; then
            sleep 0.3
            mem1=$(memavail_sample)
            break
        fi
        kill -0 "$load" 2>/dev/null || break
        sleep 0.1
    done
    rc=0
    wait "$load" || rc=$?
    stop_server
    out=$(cat "$WORK/mem.out")
    rss1=$(echo "$out" | grep '^server:' | field rss_kib)
    threads=$(echo "$out" | grep '^server:' | field os_threads)
    if [ "$rc" -ne 0 ] || [ -z "$mem1" ] || [ -z "$rss0" ] || [ -z "$rss1" ]; then
        echo "bench_echo: memory, $kind, $conns connections: load exit $rc:" \
            "$(tail -n 3 "$WORK/load.err" | tr '\n' ' ')" >&2
        echo FAILED
        return
    fi
    awk -v r0="$rss0" -v r1="$rss1" -v m0="$mem0" -v m1="$mem1" -v n="$conns" -v t="$threads" \
        'BEGIN {printf "%.3f %.3f %s\n", (r1 - r0) / n, (m0 - m1) / n, t}'
}

# ---- Environment --------------------------------------------------------------------------------

echo "== environment"
echo "cpus: $(nproc) ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo))"
echo "kernel: $(uname -sr); glibc $(getconf GNU_LIBC_VERSION | awk '{print $2}')"
echo "descriptor limit (ulimit -n): $(ulimit -n)"
echo "Go: $(taskset -c 0 env GOMAXPROCS=1 $B/bench/echo_go info) (servers run with GOMAXPROCS=$([ "$ALL" = 1 ] && echo "$NCPU" || echo 1))"
! has_kind gevent || echo "gevent: $("$PY" -c 'import sys, gevent
loop = type(gevent.get_hub().loop).__module__
print(gevent.__version__, "(loop", loop + ") on Python", sys.version.split()[0])')"
if [ "$ALL" = 1 ]; then
    echo "BENCH_ECHO_ALL_CORES=1: servers and echo_load on all $NCPU CPUs, none pinned (2 load" \
        "processes from 5000 connections on); runs: $RUNS; ratios to Go"
else
    echo "servers on CPU 0, echo_load on CPU 1 (2 processes from 5000 connections on); runs: $RUNS"
fi
[ "$QUICK" = 1 ] && echo "BENCH_ECHO_QUICK=1: smoke version, shorter points"

# ---- Throughput sweep ---------------------------------------------------------------------------

declare -A RT CPU FAIL MRSS MAVAIL MTHREADS MFAIL
start=$(date +%s)
for run in $(seq "$RUNS"); do
    echo "run $run of $RUNS ..." >&2
    for size in $SIZES; do
        for conns in $CONNS_LIST; do
            for kind in $KINDS; do
                res=$(point "$kind" "$conns" "$size")
                [ "$VERBOSE" = 1 ] && echo "  $kind $conns conns $size B: $res (rt/s cpu_us/rt)" >&2
                key="$kind:$conns:$size"
                if [ "$res" = FAILED ]; then
                    FAIL[$key]=1
                else
                    RT[$key]="${RT[$key]:-} ${res% *}"
                    CPU[$key]="${CPU[$key]:-} ${res#* }"
                fi
            done
        done
    done
done

# ---- Memory -------------------------------------------------------------------------------------

for run in $(seq "$MEM_RUNS"); do
    echo "memory run $run of $MEM_RUNS ..." >&2
    # Real threads last: the 10,000 threads leave the most memory to trim on the per-CPU lists.
    for kind in epoll go gevent before green threads; do
        has_kind "$kind" || continue
        res=$(memory "$kind" "$MEM_CONNS")
        [ "$VERBOSE" = 1 ] && echo "  memory $kind: $res (rss_kib/conn memavail_kib/conn threads)" >&2
        if [ "$res" = FAILED ]; then
            MFAIL[$kind]=1
        else
            read -r r m t <<<"$res"
            MRSS[$kind]="${MRSS[$kind]:-} $r"
            MAVAIL[$kind]="${MAVAIL[$kind]:-} $m"
            MTHREADS[$kind]=$t
        fi
    done
done

med() { tr ' ' '\n' | grep . | median; }

# ---- Tables -------------------------------------------------------------------------------------

failed=0
for size in $SIZES; do
    echo
    echo "== $size B messages: round trips/s (ratio to $BASE) / server CPU µs per round trip" \
        "(ratio to $BASE); median of $RUNS"
    printf '%-26s' ""
    for conns in $CONNS_LIST; do
        printf '  %-31s' "$conns connections ($(rounds_for "$conns" "$size") rounds)"
    done
    echo
    for kind in $KINDS; do
        printf '%-26s' "$(label "$kind")"
        for conns in $CONNS_LIST; do
            key="$kind:$conns:$size"
            if [ -n "${FAIL[$key]:-}" ]; then
                printf '  %-31s' FAILED
                failed=1
                continue
            fi
            rt=$(echo "${RT[$key]}" | med)
            cpu=$(echo "${CPU[$key]}" | med)
            ekey="$BASE:$conns:$size"
            if [ -n "${FAIL[$ekey]:-}" ]; then
                ert=nan ecpu=nan
            else
                ert=$(echo "${RT[$ekey]}" | med)
                ecpu=$(echo "${CPU[$ekey]}" | med)
            fi
            printf '  %-31s' "$(awk -v rt="$rt" -v cpu="$cpu" -v ert="$ert" -v ecpu="$ecpu" 'BEGIN {
                r1 = (ert + 0 > 0) ? sprintf("%.2fx", rt / ert) : "-"
                r2 = (ecpu + 0 > 0) ? sprintf("%.2fx", cpu / ecpu) : "-"
                printf "%7.0f (%s) / %5.2f (%s)", rt, r1, cpu, r2}')"
        done
        echo
    done
done

if [ "$MEM_RUNS" -eq 0 ]; then
    echo
    echo "took $(($(date +%s) - start)) s"
    exit "$failed"
fi
echo
echo "== memory: $MEM_CONNS idle connections after one 64 B round trip each; per connection," \
    "median of $MEM_RUNS"
printf '%-26s  %22s  %28s  %10s\n' "" "server RSS (ratio)" "MemAvailable drop (ratio)" "OS threads"
if [ -n "${MFAIL[epoll]:-}" ]; then
    erss=nan eavail=nan
else
    erss=$(echo "${MRSS[epoll]}" | med)
    eavail=$(echo "${MAVAIL[epoll]}" | med)
fi
for kind in $KINDS; do
    printf '%-26s' "$(label "$kind")"
    if [ -n "${MFAIL[$kind]:-}" ]; then
        printf '  %22s\n' FAILED
        failed=1
        continue
    fi
    rss=$(echo "${MRSS[$kind]}" | med)
    avail=$(echo "${MAVAIL[$kind]}" | med)
    awk -v a="$rss" -v b="$avail" -v ea="${erss:-nan}" -v eb="${eavail:-nan}" \
        -v t="${MTHREADS[$kind]}" 'BEGIN {
        r1 = (ea + 0 > 0) ? sprintf("%.1fx", a / ea) : "-"
        r2 = (eb + 0 > 0) ? sprintf("%.1fx", b / eb) : "-"
        printf "  %12.2f KiB (%5s)  %18.2f KiB (%5s)  %10s\n", a, r1, b, r2, t}'
done
echo
echo "took $(($(date +%s) - start)) s"
exit "$failed"
