#!/usr/bin/env bash
# DNS tests: libgreen's resolver against glibc's, on the test zone green.test served by
# build/tools/dns_server (tests/tools/dns_server.c) on a loopback address of this run's own,
# 127.53.X.Y port 53 (glibc's resolv.conf cannot name a port).
#
# build/tools/dns_query runs a corpus of resolver calls and prints their results; its output
# under glibc is the reference, and libgreen's must be the same byte for byte:
#   glibc-reference        glibc, with the test resolv.conf bind-mounted on /etc/resolv.conf in a
#                          private mount namespace (unshare -m); a second run must print the same
#   green-resolv-conf      libgreen reading GREEN_RESOLV_CONF
#   green-etc-resolv-conf  libgreen reading /etc/resolv.conf (the bind mount), no GREEN_RESOLV_CONF
# and then, under libgreen:
#   flood-10000            dns_flood 10000 succeeds on at most 2 OS threads
#   valgrind-leaks         dns_query --short leaks nothing definite and makes no memcheck error
#   server-load            the server itself answers 65536 pipelined queries correctly
# The runs with GREEN_RESOLV_CONF see on /etc/resolv.conf a nameserver where nothing listens:
# a call that libgreen leaves to glibc fails visibly there, and never reaches the machine's own
# nameserver.  Prints "ok - dns:NAME" or "FAIL - dns:NAME" (with at most 30 lines of detail) per
# test, then "N passed, M failed"; exit status 0 only if none failed.
set -u
cd "$(dirname "$0")/../.."

B=build
T=${TEST_TIMEOUT:-60}
GREEN=$PWD/$B/libgreen.so
QUERY=$B/tools/dns_query
passed=0
failed=0
TMP=$(mktemp -d)
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# result NAME STATUS [MESSAGE [DETAIL_FILE]]: MESSAGE and DETAIL_FILE are shown on failure.
result() {
    if [ "$2" -eq 0 ]; then
        echo "ok - dns:$1"
        passed=$((passed + 1))
    else
        echo "FAIL - dns:$1${3:+: $3}"
        [ -n "${4:-}" ] && [ -s "$4" ] && head -n 30 "$4" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

# in_ns CONF COMMAND...: COMMAND with CONF bind-mounted on /etc/resolv.conf, in a mount namespace
# of its own (the bind mount is seen by nothing else), bounded in time.
in_ns() {
    timeout -k 5 "$T" unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$@"
}

# The server, on a random address of 127.53.0.0/16; another address if that one is taken.
for _ in 1 2 3 4 5; do
    addr=127.53.$((RANDOM % 254 + 1)).$((RANDOM % 254 + 1))
    rm -f "$TMP/port"
    timeout -k 5 600 "$B/tools/dns_server" --addr "$addr" --port 53 --port-file "$TMP/port" \
        >"$TMP/server.log" 2>&1 &
    server=$!
    for _ in $(seq 100); do
        { [ -s "$TMP/port" ] || ! kill -0 "$server" 2>/dev/null; } && break
        sleep 0.05
    done
    [ -s "$TMP/port" ] && break
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
    server=
done
if [ -z "$server" ]; then
    result server 1 "build/tools/dns_server did not start" "$TMP/server.log"
    finish
fi
result server 0

# The test resolv.conf, and the one put on /etc/resolv.conf under the GREEN_RESOLV_CONF runs: a
# neighbour address where nothing listens (refused at once).
CONF=$TMP/resolv.conf
printf 'nameserver %s\nsearch green.test sub.green.test\noptions timeout:1 attempts:2 ndots:1\n' \
    "$addr" >"$CONF"
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "${addr%.*}.$(( (${addr##*.} % 254) + 1 ))" \
    >"$TMP/elsewhere.conf"

out=$(timeout -k 5 "$T" "$B/tools/dns_pipeline" "$addr" 53 65536 2>&1)
status=$?
echo "# server $addr port 53: $out"
result server-load $status "$out"

if ! timeout -k 5 "$T" unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf' "$CONF" >"$TMP/unshare.log" 2>&1; then
    result unshare 1 "'unshare -m' with a bind mount on /etc/resolv.conf is not permitted here (needs root or CAP_SYS_ADMIN); glibc's reference and libgreen's checks cannot run" "$TMP/unshare.log"
    finish
fi
if [ ! -x "$QUERY" ]; then
    result glibc-reference 1 "$QUERY is missing"
    finish
fi

# The reference, twice at once: a corpus or server that answers differently from one run to the
# next would make every comparison with libgreen meaningless.
in_ns "$CONF" "$QUERY" >"$TMP/glibc.out" 2>"$TMP/glibc.err" &
ref=$!
in_ns "$CONF" "$QUERY" >"$TMP/glibc2.out" 2>"$TMP/glibc2.err"
status2=$?
wait $ref
status=$?
# Answers that only the test server gives: www.sub (search list), big (TCP), slow (300 ms).
missing=
for a in 10.53.1.1 10.53.2.60 10.53.0.9; do
    grep -qF "$a" "$TMP/glibc.out" || missing="$missing $a"
done
if [ $status -ne 0 ]; then
    result glibc-reference 1 "dns_query exit $status under glibc" "$TMP/glibc.err"
    finish
elif [ -n "$missing" ]; then
    result glibc-reference 1 "the output lacks$missing: the test server was not reached" "$TMP/glibc.out"
    finish
fi
result glibc-reference 0
diff -u "$TMP/glibc.out" "$TMP/glibc2.out" >"$TMP/stable.diff"
[ $status2 -eq 0 ] && [ ! -s "$TMP/stable.diff" ]
result glibc-reference-stable $? "exit $status2, the two glibc runs differ" "$TMP/stable.diff"

# compare NAME STATUS OUTPUT ERRORS: one result, libgreen's output against the reference.
compare() {
    diff -u "$TMP/glibc.out" "$3" >"$TMP/$1.diff"
    if [ "$2" -ne 0 ]; then
        { cat "$4"; cat "$TMP/$1.diff"; } >"$TMP/$1.detail"
        result "$1" 1 "dns_query exit $2 under libgreen" "$TMP/$1.detail"
    else
        [ ! -s "$TMP/$1.diff" ]
        result "$1" $? "output differs from glibc's" "$TMP/$1.diff"
    fi
}

# (b) and (c) at once.
in_ns "$TMP/elsewhere.conf" env LD_PRELOAD="$GREEN" GREEN_RESOLV_CONF="$CONF" TEST_MAX_OS_THREADS=2 \
    "$QUERY" >"$TMP/green.out" 2>"$TMP/green.err" &
b=$!
in_ns "$CONF" env -u GREEN_RESOLV_CONF LD_PRELOAD="$GREEN" TEST_MAX_OS_THREADS=2 \
    "$QUERY" >"$TMP/green-etc.out" 2>"$TMP/green-etc.err"
status_c=$?
wait $b
compare green-resolv-conf $? "$TMP/green.out" "$TMP/green.err"
compare green-etc-resolv-conf $status_c "$TMP/green-etc.out" "$TMP/green-etc.err"

if [ -x "$B/tools/dns_flood" ]; then
    in_ns "$TMP/elsewhere.conf" env LD_PRELOAD="$GREEN" GREEN_RESOLV_CONF="$CONF" \
        "$B/tools/dns_flood" 10000 >"$TMP/flood.log" 2>&1
    status=$?
    threads=$(awk '{for (i = 1; i < NF; i++) if ($i == "os_threads") print $(i+1)}' "$TMP/flood.log" | tail -n 1)
    if [ $status -eq 0 ] && [ -n "$threads" ] && [ "$threads" -le 2 ]; then
        result flood-10000 0 "os_threads $threads"
    else
        result flood-10000 1 "exit $status, os_threads '${threads}'" "$TMP/flood.log"
    fi
else
    result flood-10000 1 "$B/tools/dns_flood is missing"
fi

# GREEN_INJECT's DNS faults: a look-up the server would answer fails with EAI_AGAIN (dns-fail)
# or EAI_NONAME (dns-nxdomain), or is answered after a delay (dns-delay); each injected fault is
# logged; without injection the same look-up succeeds.
probe='import socket
try:
    print(socket.getaddrinfo("a.green.test", 80, socket.AF_INET, socket.SOCK_STREAM)[0][4][0])
except socket.gaierror as e:
    print("gaierror", e.errno)'
plain_answer=$(in_ns "$TMP/elsewhere.conf" env LD_PRELOAD="$GREEN" GREEN_RESOLV_CONF="$CONF" \
    python3 -c "$probe" 2>&1)
for pair in dns-fail:1=gaierror_-3 dns-nxdomain:1=gaierror_-2 dns-delay:200ms=10.53.0.1; do
    spec=${pair%%=*} want=${pair#*=} kind=${spec%%:*}
    injected=$(in_ns "$TMP/elsewhere.conf" env LD_PRELOAD="$GREEN" GREEN_RESOLV_CONF="$CONF" \
        GREEN_SEED=1 GREEN_INJECT="$spec" GREEN_LOG_LEVEL=info python3 -c "$probe" 2>&1)
    printf 'without: %s\nwith %s: %s\n' "$plain_answer" "$spec" "$injected" >"$TMP/inject.log"
    [ "$plain_answer" = 10.53.0.1 ] && grep -qx "${want//_/ }" <<<"$injected" &&
        grep -q "inject $kind: thread [0-9]*, look-up of a.green.test" <<<"$injected"
    result "inject-$kind" $? "" "$TMP/inject.log"
done

# GREEN_STATS counts the look-ups that went to the name servers (one here).
stats=$(in_ns "$TMP/elsewhere.conf" env LD_PRELOAD="$GREEN" GREEN_RESOLV_CONF="$CONF" GREEN_STATS=1 \
    python3 -c "$probe" 2>&1)
printf '%s\n' "$stats" >"$TMP/stats.log"
grep -qx "10.53.0.1" <<<"$stats" && grep -q "^libgreen:   DNS look-ups: 1$" <<<"$stats"
result stats-dns-lookups $? "" "$TMP/stats.log"

# --run-libc-freeres=no: glibc 2.36's exit-time clean-up, which valgrind runs by default, makes
# errors of its own (an uninitialised jump in free_res, a resolv.conf buffer "definitely lost")
# for plain glibc too; without it plain glibc passes this check.
if command -v valgrind >/dev/null; then
    in_ns "$TMP/elsewhere.conf" env LD_PRELOAD="$GREEN" GREEN_RESOLV_CONF="$CONF" \
        valgrind -q --run-libc-freeres=no --leak-check=full --errors-for-leak-kinds=definite \
        --error-exitcode=99 \
        "$QUERY" --short >/dev/null 2>"$TMP/valgrind.log"
    status=$?
    result valgrind-leaks $status "exit $status" "$TMP/valgrind.log"
else
    result valgrind-leaks 1 "valgrind is not installed"
fi

finish
