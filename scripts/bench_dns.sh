#!/usr/bin/env bash
# DNS look-ups, thread per look-up: libgreen beside glibc with real threads, and beside what the
# test server can answer at all.  In one run, BENCH_DNS_RUNS rounds (default 5), the three take
# turns; we print medians and their ratios.  The machine is shared and noisy: trust medians and
# ratios only.
#
#   capacity   build/tools/dns_pipeline: COUNT pipelined queries straight to the server, every
#              answer checked (what the server and the loopback can do; a floor for the others)
#   glibc      build/tools/dns_flood COUNT with real threads (64 KiB stacks), glibc's resolver
#   libgreen   the same program under libgreen (LD_PRELOAD), GREEN_RESOLV_CONF naming the test
#              resolv.conf
#
# The server (build/tools/dns_server, the green.test zone) listens on a loopback address of this
# run's own, 127.53.X.Y port 53: glibc's resolv.conf cannot name a port.  glibc reads
# /etc/resolv.conf only, so both flood runs see the test resolv.conf bind-mounted there in a
# mount namespace of their own (unshare -m, needs root); the machine's nameserver is never asked,
# even by a libgreen that still leaves look-ups to glibc (which then block its hub).
#
# BENCH_DNS_RUNS=N    rounds (default 5)
# BENCH_DNS_COUNT=N   look-ups per run (default 10000; at most 65536)
#
# Exits non-zero when any run failed (a wrong or missing answer: its median shows FAILED).
set -eu
cd "$(dirname "$0")/.."
B=build
LIB=$PWD/$B/libgreen.so
RUNS=${BENCH_DNS_RUNS:-5}
N=${BENCH_DNS_COUNT:-10000}
LIMIT=300 # seconds for one run

for tool in dns_server dns_pipeline dns_flood; do
    [ -x "$B/tools/$tool" ] || { echo "bench_dns: $B/tools/$tool is missing (make bench builds it)" >&2; exit 1; }
done
[ -f "$LIB" ] || { echo "bench_dns: $LIB is missing" >&2; exit 1; }

median() { sort -g | awk '{v[NR]=$1} END {if (NR == 0) print "FAILED"; else print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i+1)}'; }

TMP=$(mktemp -d)
server=
cleanup() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The server on a random address of 127.53.0.0/16; another one if that address is taken.
addr=
for _ in 1 2 3 4 5; do
    try=127.53.$((RANDOM % 254 + 1)).$((RANDOM % 254 + 1))
    rm -f "$TMP/port"
    "$B/tools/dns_server" --addr "$try" --port 53 --port-file "$TMP/port" >"$TMP/server.log" 2>&1 &
    server=$!
    for _ in $(seq 100); do
        { [ -s "$TMP/port" ] || ! kill -0 "$server" 2>/dev/null; } && break
        sleep 0.05
    done
    if [ -s "$TMP/port" ]; then
        addr=$try
        break
    fi
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=
done
if [ -z "$addr" ]; then
    echo "bench_dns: the test DNS server did not start:" >&2
    cat "$TMP/server.log" >&2
    exit 1
fi

CONF=$TMP/resolv.conf
printf 'nameserver %s\nsearch green.test sub.green.test\noptions timeout:1 attempts:2 ndots:1\n' \
    "$addr" >"$CONF"

# in_ns COMMAND...: COMMAND with the test resolv.conf on /etc/resolv.conf, seen by it alone.
in_ns() {
    timeout -k 5 "$LIMIT" unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$CONF" "$@"
}

: >"$TMP/capacity"
: >"$TMP/glibc"
: >"$TMP/green"
status=0
# run KIND COMMAND...: one measurement; its output line goes to $TMP/KIND, a failure to stderr.
run() {
    local kind=$1 out
    shift
    if out=$("$@" 2>"$TMP/err"); then
        echo "$out" >>"$TMP/$kind"
    else
        echo "bench_dns: $kind run failed: $out" >&2
        head -n 5 "$TMP/err" >&2
        status=1
    fi
}

echo "== DNS: $N look-ups, a thread each (median of $RUNS; server on $addr:53)"
for _ in $(seq "$RUNS"); do
    run capacity timeout -k 5 "$LIMIT" "$B/tools/dns_pipeline" "$addr" 53 "$N"
    run glibc in_ns "$B/tools/dns_flood" "$N"
    run green in_ns env LD_PRELOAD="$LIB" GREEN_RESOLV_CONF="$CONF" "$B/tools/dns_flood" "$N"
done

cap_s=$(field seconds <"$TMP/capacity" | median)
cap_q=$(field qps <"$TMP/capacity" | median)
glibc_s=$(field seconds <"$TMP/glibc" | median)
glibc_t=$(field os_threads <"$TMP/glibc" | median)
green_s=$(field seconds <"$TMP/green" | median)
green_t=$(field os_threads <"$TMP/green" | median)
# fast_done_before_slow of each run: does a look-up wait for another one's answer?
fast() { field fast_done_before_slow <"$TMP/$1" | sort | uniq -c | awk '{printf "%s%s x%d", (NR > 1 ? ", " : ""), $2, $1}'; }
glibc_fast=$(fast glibc)
green_fast=$(fast green)

printf '%-44s %10s s  %s queries/s\n' "capacity (dns_pipeline, no threads)" "$cap_s" "$cap_q"
printf '%-44s %10s s  %s OS threads  fast look-ups before the slow one: %s\n' \
    "glibc, real threads" "$glibc_s" "$glibc_t" "${glibc_fast:-?}"
printf '%-44s %10s s  %s OS threads  fast look-ups before the slow one: %s\n' \
    "libgreen (LD_PRELOAD, GREEN_RESOLV_CONF)" "$green_s" "$green_t" "${green_fast:-?}"
awk -v g="$glibc_s" -v l="$green_s" -v c="$cap_s" 'BEGIN {
    if (g + 0 > 0 && l + 0 > 0 && c + 0 > 0)
        printf "ratio: glibc/libgreen time = %.2f; libgreen/capacity time = %.2f\n", g / l, l / c
    else
        print "ratio: not available (a run failed)"
}'
exit "$status"
