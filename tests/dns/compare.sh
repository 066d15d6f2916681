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
#   resolv-conf-*          resolv.conf files glibc reads in its own way (see below)
# and, with a test hosts file bind-mounted on /etc/hosts as well (libgreen answers the files
# source from its own copy of the file, shim/hostsfile.cpp):
#   hosts-file-*           dns_query --section hosts-file, glibc's output against libgreen's,
#                          with /etc/host.conf's "multi" on and off (RESOLV_MULTI)
#   hosts-nss-check-*      build/tools/hosts_nss_check: libgreen's NSS functions against
#                          glibc's _nss_files ones, call by call, every buffer size
#   hosts-edit             build/tools/hosts_edit: edits of the file between look-ups in one
#                          process, seen at once; the same output with and without libgreen
#   valgrind-hosts         hosts_edit under libgreen and memcheck: no leak, no error
#   san-hosts              hosts_nss_check --quick under the ASan+UBSan build
# and the fuzz harness tests/fuzz/dns_answers.sh on its committed corpus (its own server, in a
# network namespace of its own: each input's bytes answer every query):
#   fuzz-replay-seeds      the test zone's real answers: glibc, libgreen and its ASan+UBSan build
#                          give the same results
#   fuzz-replay-bugs       one input of each difference class found, the same or of a class
#                          tests/fuzz/dns_answers.known lists (being fixed)
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

# in_ns_hosts HOSTS COMMAND...: in_ns with the test resolv.conf, and HOSTS on /etc/hosts.
in_ns_hosts() {
    timeout -k 5 "$T" unshare -m sh -c \
        'mount --bind "$0" /etc/resolv.conf && mount --bind "$1" /etc/hosts && shift && exec "$@"' \
        "$CONF" "$@"
}

# The test hosts file: aliases, a name on several lines (IPv4 and IPv6), case differences, a
# name found only on a later line, lines glibc skips (bad addresses, comments, blank lines),
# a comment after the names, white space before the address and after the names, CR LF, an
# IPv4-mapped address, a line of 150 aliases and a comment line, each over 1024 bytes (glibc's
# buffer grows for them), a NUL byte in a line, and a last line with no newline (glibc reads
# its leading white space oddly: the answers must be its answers all the same).
write_test_hosts() {
    {
        printf '# the test hosts file of tests/dns/compare.sh\n'
        printf '127.0.0.1\tlocalhost\n'
        printf '::1\t\tlocalhost ip6-localhost ip6-loopback\n'
        printf '10.77.0.1\talpha alpha.test Alpha-Alias\t# a comment after the names\n'
        printf '10.77.0.2\tbeta\n'
        printf '10.77.0.3\talpha second-alpha\n'
        printf '2001:db8::77:1\talpha six-alpha\n'
        printf 'fd00::77:2\tgamma\n'
        printf '  10.77.0.4   indented\n'
        printf '10.77.0.5 trailing-ws \t \n'
        printf '\t# an indented comment\n\n'
        printf '10.77.0.256\tbadaddr\n'
        printf '1.2.3\tshort-form\n'
        printf '0x0a.1.2.3\thexaddr\n'
        printf '::ffff:10.77.0.6\tmapped mapped-alias\n'
        printf '10.77.0.7\tUPPER Mixed.Case\n'
        printf '10.77.0.8\tdup\n'
        printf '10.77.0.8\tdup dup2\n'
        printf '10.77.0.9#nospace-comment\n'
        printf '10.77.0.10\n'
        printf '10.77.0.11\tcrlf crlf-alias\r\n'
        printf 'fe80::1%%lo\tscoped\n'
        printf '10.77.0.12\tmany'
        for i in $(seq 1 150); do printf ' many-alias-%d' "$i"; done
        printf '\n#'
        for i in $(seq 1 120); do printf ' long comment'; done
        printf '\n10.77.0.13\tafter-long\n'
        printf '10.77.0.14\ttab\tseparated\taliases\n'
        printf '10.77.0.15\tALPHA\n'
        printf '10.77.0.17\tnul\0hidden\n'
        printf '::ffff:1.2.3.4 v4mapped-six\n'
        printf '::2 not-loopback\n'
        printf '   10.77.0.16 last-no-newline'
    } >"$1"
}
# Written now: by the time it is used it is old enough for libgreen to keep its copy without
# reading it again (a file changed less than a second before it was read is read every time).
write_test_hosts "$TMP/hosts"

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

# ---- resolv.conf as glibc reads it (issue 21) ----
# build/tools/lookup_thread looks names up from a thread of its own, under glibc and under
# libgreen (no GREEN_RESOLV_CONF), both reading the same file on /etc/resolv.conf:
#   resolv-conf-search-9       nine search domains, the name only under the ninth (glibc uses
#                              every one, also in res_nsearch on a state of res_ninit's, which
#                              holds six; libgreen used eight, and six there)
#   resolv-conf-nameserver-cr  the server's line ends in CR LF, which glibc ignores: it asks the
#                              next one, where nothing listens
#   resolv-conf-attempts-0     options attempts:0: glibc sends nothing and fails at once
# and, under libgreen only (glibc 2.36 fails its own assertion and aborts on a domain word of
# 256 bytes or more, so it has no answer to compare with):
#   resolv-conf-long-domain    GREEN_RESOLV_CONF with a 14,000-byte domain word, looked up on a
#                              green thread's 16 KiB stack (GREEN_STACK_SIZE=16k): answered
nowhere=${addr%.*}.$(( (${addr##*.} % 254) + 1 ))
{
    printf 'nameserver %s\nsearch' "$addr"
    for i in 1 2 3 4 5 6 7 8; do printf ' x%d.green.test' "$i"; done
    printf ' green.test\noptions timeout:1 attempts:2\n'
} >"$TMP/rc-search-9.conf"
printf 'nameserver %s\r\nnameserver %s\noptions timeout:1 attempts:1\n' "$addr" "$nowhere" \
    >"$TMP/rc-nameserver-cr.conf"
printf 'nameserver %s\noptions attempts:0\n' "$addr" >"$TMP/rc-attempts-0.conf"
for case in "search-9 a=a: getaddrinfo 10.53.0.1; gethostbyname_r 0 10.53.0.1; res_nsearch 4" \
    "nameserver-cr a.green.test=a.green.test: getaddrinfo error -3;" \
    "attempts-0 a.green.test=a.green.test: getaddrinfo error -3;"; do
    name=${case%% *} rest=${case#* }
    host=${rest%%=*} want=${rest#*=}
    conf=$TMP/rc-$name.conf
    in_ns "$conf" "$B/tools/lookup_thread" "$host" >"$TMP/rc-$name.ref" 2>&1
    echo "exit $?" >>"$TMP/rc-$name.ref"
    in_ns "$conf" env -u GREEN_RESOLV_CONF LD_PRELOAD="$GREEN" TEST_MAX_OS_THREADS=2 \
        "$B/tools/lookup_thread" "$host" >"$TMP/rc-$name.green" 2>&1
    echo "exit $?" >>"$TMP/rc-$name.green"
    diff -u "$TMP/rc-$name.ref" "$TMP/rc-$name.green" >"$TMP/rc-$name.diff"
    grep -qF "$want" "$TMP/rc-$name.ref" || echo "glibc's output lacks '$want'" >>"$TMP/rc-$name.diff"
    [ ! -s "$TMP/rc-$name.diff" ]
    result "resolv-conf-$name" $? "output differs from glibc's" "$TMP/rc-$name.diff"
done
{
    printf 'nameserver %s\ndomain ' "$addr"
    head -c 14000 /dev/zero | tr '\0' a
    printf '\noptions timeout:1 attempts:2\n'
} >"$TMP/rc-long-domain.conf"
in_ns "$TMP/elsewhere.conf" env LD_PRELOAD="$GREEN" GREEN_RESOLV_CONF="$TMP/rc-long-domain.conf" \
    GREEN_STACK_SIZE=16k "$B/tools/lookup_thread" a.green.test >"$TMP/rc-long-domain.out" 2>&1
status=$?
grep -q '^a.green.test: getaddrinfo 10.53.0.1; gethostbyname_r 0 10.53.0.1; res_nsearch [1-9]' \
    "$TMP/rc-long-domain.out"
result resolv-conf-long-domain $(($? | status)) "exit $status" "$TMP/rc-long-domain.out"

# ---- /etc/hosts ----
# The public entry points over the test hosts file, glibc against libgreen, with "multi" on
# (every line of a name) and off (the first line only).
for multi in on off; do
    in_ns_hosts "$TMP/hosts" env RESOLV_MULTI=$multi "$QUERY" --section hosts-file \
        >"$TMP/hosts-$multi.ref" 2>"$TMP/hosts-$multi.ref.err"
    echo "exit $?" >>"$TMP/hosts-$multi.ref"
done
# The reference itself: the long line's last alias, the second line of a name only with multi
# on, the mapped answers of RES_USE_INET6, a name found by reverse look-up.
missing=
for w in 'alias "many-alias-150"' 'addr 10.77.0.3' 'addr ::ffff:10.77.0.4' \
    'gethostbyaddr 10.77.0.15 len=4 INET -> ok'; do
    grep -qF "$w" "$TMP/hosts-on.ref" || missing="$missing [$w]"
done
cmp -s "$TMP/hosts-on.ref" "$TMP/hosts-off.ref" && missing="$missing [a difference between multi on and off]"
grep -qx 'exit 0' "$TMP/hosts-on.ref" && grep -qx 'exit 0' "$TMP/hosts-off.ref" ||
    missing="$missing [dns_query failed]"
[ -z "$missing" ]
result hosts-file-reference $? "glibc's output lacks$missing" "$TMP/hosts-on.ref.err"
for multi in on off; do
    in_ns_hosts "$TMP/hosts" env RESOLV_MULTI=$multi LD_PRELOAD="$GREEN" TEST_MAX_OS_THREADS=2 \
        "$QUERY" --section hosts-file >"$TMP/hosts-$multi.green" 2>"$TMP/hosts-$multi.green.err"
    echo "exit $?" >>"$TMP/hosts-$multi.green"
    diff -u "$TMP/hosts-$multi.ref" "$TMP/hosts-$multi.green" >"$TMP/hosts-$multi.diff"
    [ ! -s "$TMP/hosts-$multi.diff" ]
    result "hosts-file-multi-$multi" $? "output differs from glibc's" "$TMP/hosts-$multi.diff"
done

# The NSS functions themselves, both at once.
in_ns_hosts "$TMP/hosts" env RESOLV_MULTI=on LD_PRELOAD="$GREEN" \
    "$B/tools/hosts_nss_check" >"$TMP/nss-on.log" 2>&1 &
nss_on=$!
in_ns_hosts "$TMP/hosts" env RESOLV_MULTI=off LD_PRELOAD="$GREEN" \
    "$B/tools/hosts_nss_check" >"$TMP/nss-off.log" 2>&1
status_off=$?
wait $nss_on
status_on=$?
result hosts-nss-check-multi-on $status_on "exit $status_on" "$TMP/nss-on.log"
result hosts-nss-check-multi-off $status_off "exit $status_off" "$TMP/nss-off.log"

# Edits between look-ups: each run edits its own copy of the file.
: >"$TMP/edit-glibc.hosts"
: >"$TMP/edit-green.hosts"
in_ns_hosts "$TMP/edit-glibc.hosts" "$B/tools/hosts_edit" >"$TMP/edit-glibc.out" 2>&1 &
edit_ref=$!
in_ns_hosts "$TMP/edit-green.hosts" env LD_PRELOAD="$GREEN" TEST_MAX_OS_THREADS=2 \
    "$B/tools/hosts_edit" >"$TMP/edit-green.out" 2>&1
status=$?
wait $edit_ref
status_ref=$?
diff -u "$TMP/edit-glibc.out" "$TMP/edit-green.out" >"$TMP/edit.diff"
{ cat "$TMP/edit-green.out" "$TMP/edit.diff"; } >"$TMP/edit.detail"
[ $status_ref -eq 0 ] && [ $status -eq 0 ] && [ ! -s "$TMP/edit.diff" ]
result hosts-edit $? "exit $status_ref under glibc, $status under libgreen" "$TMP/edit.detail"

if command -v valgrind >/dev/null; then
    : >"$TMP/edit-vg.hosts"
    in_ns_hosts "$TMP/edit-vg.hosts" env LD_PRELOAD="$GREEN" \
        valgrind -q --run-libc-freeres=no --leak-check=full --errors-for-leak-kinds=definite \
        --error-exitcode=99 "$B/tools/hosts_edit" >/dev/null 2>"$TMP/valgrind-hosts.log"
    status=$?
    result valgrind-hosts $status "exit $status" "$TMP/valgrind-hosts.log"
else
    result valgrind-hosts 1 "valgrind is not installed"
fi

# The copy of the file under the ASan+UBSan build (its buffers are the caller's: an overrun
# there would corrupt the caller silently).
if [ -f "$B/san/libgreen.so" ]; then
    asan_rt=$(g++ -print-file-name=libasan.so)
    in_ns_hosts "$TMP/hosts" env RESOLV_MULTI=on LD_PRELOAD="$PWD/$B/san/libgreen.so $asan_rt" \
        ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:handle_segv=0 \
        UBSAN_OPTIONS=halt_on_error=1 "$B/tools/hosts_nss_check" --quick >"$TMP/san-hosts.log" 2>&1
    status=$?
    result san-hosts $status "exit $status" "$TMP/san-hosts.log"
else
    result san-hosts 1 "$B/san/libgreen.so is missing (make san)"
fi

for set in seeds bugs; do
    tests/fuzz/dns_answers.sh --replay tests/fuzz/corpus/dns_answers/"${set%s}"-* \
        >"$TMP/fuzz-$set.log" 2>&1
    status=$?
    result "fuzz-replay-$set" $status "exit $status" "$TMP/fuzz-$set.log"
done

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
