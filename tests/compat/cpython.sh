#!/usr/bin/env bash
# CPython's own test suites (Debian's /usr/bin/python3 and libpython3.11-testsuite) under
# libgreen, and beside it, plain and under gevent's monkey patching (the anchor).
#
#   tests/compat/cpython.sh [--modes plain,gevent,green] [--timeout SECONDS]
#                           [--gevent-timeout SECONDS] [--table] [MODULE...]
#
# CPYTHON_LOG_DIR keeps the logs (and results) there; --table only prints the table and the
# verdicts from the results already in CPYTHON_LOG_DIR (runs of several invocations, one mode
# each, are put together that way).
#
# Each module runs in its own process group, killed at the time limit (290 s by default).  Not
# with regrtest's own --timeout: its faulthandler watchdog thread blocks every signal in itself,
# which hung SIGALRM-driven tests while libgreen's signal mask was the OS thread's.  Masks are
# per green thread now; --timeout has not been tried again since.
#
# No test resource is enabled that reaches beyond this machine: regrtest runs without
# "-u network", except for two modules that require it as a whole: test_socketserver, whose
# servers are all on localhost, and test_timeout, of which only the loopback classes run (its
# TCP class resolves and connects to www.python.org in setUp).
#
# For the green run, every test that fails (FAIL or ERROR), and every module that crashes or
# times out, must be listed in tests/compat/cpython-expected.txt; every listed one must still
# fail.  One result line per module and mode ("ok - cpython:green:MODULE ..."), a table on
# stdout (module, then per mode: result and seconds; for green also the peak OS threads of the
# test process), and "N passed, M failed" last.  The plain and gevent runs are measured, not
# judged.
set -u
cd "$(dirname "$0")/../.."

PY=/usr/bin/python3
MODES=plain,gevent,green
LIMIT=290
GEVENT_LIMIT=
TABLE_ONLY=0
MODULES=()
while [ $# -gt 0 ]; do
    case $1 in
    --modes) MODES=$2; shift ;;
    --timeout) LIMIT=$2; shift ;;
    --gevent-timeout) GEVENT_LIMIT=$2; shift ;;
    --table) TABLE_ONLY=1 ;;
    *) MODULES+=("$1") ;;
    esac
    shift
done
if [ ${#MODULES[@]} -eq 0 ]; then
    MODULES=(test_socket test_socketserver test_httplib test_httpservers test_urllib2_localnet
        test_threading test_thread test_queue test_select test_selectors test_subprocess
        test_signal test_timeout test_ssl test_ftplib test_smtplib test_poplib test_wsgiref
        test_xmlrpc test_asyncore test_context test_smtpd)
fi
EXPECTED=${CPYTHON_EXPECTED:-tests/compat/cpython-expected.txt}
OUT=${CPYTHON_LOG_DIR:-$(mktemp -d)}
mkdir -p "$OUT"
passed=0
failed=0

if [ ! -d /usr/lib/python3.11/test/support ]; then
    echo "FAIL - cpython: /usr/lib/python3.11/test is missing (apt-get install libpython3.11-testsuite)"
    echo "0 passed, 1 failed"
    exit 1
fi

# args MODULE [MODE]: regrtest's arguments for one module.
args() {
    local a=(-m test -v --ignore '*VSOCK*') t
    # Under libgreen, the tests listed as hanging are left out of the module's run (each is
    # checked on its own, see hang_check), so that the rest of the module is judged.
    if [ "${2:-}" = green ]; then
        for t in $(hanging "$1"); do a+=(--ignore "test.$1.$t"); done
    fi
    case $1 in
    test_timeout) a+=(-u network -m CreationTestCase -m UDPTimeoutTestCase) ;;
    # Its module requires "network" as a whole; every server it starts is on localhost.
    test_socketserver) a+=(-u network) ;;
    esac
    printf '%s\n' "${a[@]}" "$1"
}

# run_one MODE MODULE: run it, bounded; sets RESULT (pass, fail, timeout, crash), SECONDS_TAKEN,
# PEAK (the most OS threads its process had, sampled every 50 ms).
run_one() {
    local mode=$1 module=$2 log="$OUT/$1.$2.log" pid start now n limit=$LIMIT
    [ "$mode" = gevent ] && limit=${GEVENT_LIMIT:-$LIMIT}
    local -a cmd
    mapfile -t cmd < <(args "$module" "$mode")
    case $mode in
    plain) cmd=("$PY" "${cmd[@]}") ;;
    # gevent.monkey --module runs "test" as __main__ after patch_all().
    gevent) cmd=("$PY" -m gevent.monkey --module test "${cmd[@]:2}") ;;
    green) cmd=(scripts/greenrun "$PY" "${cmd[@]}") ;;
    esac
    start=$(date +%s%N)
    # setsid: the whole process group can be killed at the outer limit (children included).
    # A background job of a script starts with SIGINT ignored, and Python then leaves it so
    # (test_threading's interrupt_main tests need its KeyboardInterrupt): back to the default.
    setsid env --default-signal=INT "${cmd[@]}" >"$log" 2>&1 </dev/null &
    pid=$!
    PEAK=0
    local deadline=$limit killed=0
    while kill -0 "$pid" 2>/dev/null; do
        n=$(ls "/proc/$pid/task" 2>/dev/null | wc -l)
        [ "$n" -gt "$PEAK" ] && PEAK=$n
        now=$(date +%s%N)
        if [ $(((now - start) / 1000000000)) -gt "$deadline" ]; then
            kill -KILL -- "-$pid" 2>/dev/null
            killed=1
            break
        fi
        sleep 0.05
    done
    wait "$pid"
    local status=$?
    SECONDS_TAKEN=$((($(date +%s%N) - start + 500000000) / 1000000000))
    if [ $killed = 1 ] || grep -q 'Timeout ([0-9:]*)!' "$log"; then
        RESULT=timeout
    elif [ $status -eq 0 ] && grep -q '^Tests result: SUCCESS' "$log"; then
        RESULT=pass
    elif grep -q '^Tests result: FAILURE' "$log"; then
        RESULT=fail
    else
        RESULT=crash
    fi
    echo "$RESULT $SECONDS_TAKEN $PEAK" >"$OUT/$mode.$module.result"
}

# failures_of LOG: the tests that failed or erred, one "Class.method" per line, sorted.
failures_of() {
    sed -n 's/^\(FAIL\|ERROR\): \([^ ]*\) (\([^)]*\)).*/\3/p' "$1" | sed 's/^test\.[^.]*\.//' |
        sort -u
}

# expected MODULE: the listed failing tests of MODULE ("*" for the whole module).
# The file's lines: "MODULE TEST KIND reason", KIND being fail (FAIL or ERROR) or hang; TEST is
# Class.method, or "*" for the whole module (crash or timeout).
expected() {
    awk -v m="$1" '$1 == m && $3 == "fail" {print $2}' "$EXPECTED" 2>/dev/null | sort -u
}

hanging() {
    awk -v m="$1" '$1 == m && $3 == "hang" {print $2}' "$EXPECTED" 2>/dev/null | sort -u
}

# hang_check MODULE TEST: run that one test alone under libgreen for HANG_LIMIT seconds; it
# must still not finish (else it is listed wrongly).  Returns 0 when it still hangs.
hang_check() {
    local log="$OUT/green.$1.$2.hang.log" pid start
    start=$(date +%s)
    setsid env --default-signal=INT scripts/greenrun "$PY" -m test -v -m "test.$1.$2" "$1" >"$log" 2>&1 </dev/null &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        if [ $(($(date +%s) - start)) -ge "${HANG_LIMIT:-30}" ]; then
            kill -KILL -- "-$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            return 0
        fi
        sleep 0.2
    done
    wait "$pid"
    return 1
}

IFS=, read -r -a modes <<<"$MODES"
table=$(printf '%-24s' module; for m in "${modes[@]}"; do printf ' | %-22s' "$m"; done)
for module in "${MODULES[@]}"; do
    row=$(printf '%-24s' "$module")
    for mode in "${modes[@]}"; do
        log="$OUT/$mode.$module.log"
        if [ "$TABLE_ONLY" = 1 ]; then
            [ -f "$OUT/$mode.$module.result" ] || { row+=$(printf ' | %-22s' '-'); continue; }
            read -r RESULT SECONDS_TAKEN PEAK <"$OUT/$mode.$module.result"
        else
            run_one "$mode" "$module"
        fi
        nfail=$(failures_of "$log" | wc -l)
        summary=$RESULT
        [ "$RESULT" = fail ] && summary="fail ($nfail)"
        [ "$mode" = green ] && summary="$summary, ${PEAK} thr"
        row+=$(printf ' | %-22s' "$summary ${SECONDS_TAKEN}s")
        [ "$mode" = green ] || continue
        # Judge the green run against the expectations.
        exp=$(expected "$module")
        got=$(failures_of "$log")
        verdict=ok why=""
        if [ "$RESULT" = timeout ] || [ "$RESULT" = crash ]; then
            if ! grep -qx '\*' <<<"$exp"; then verdict=FAIL why="$RESULT, not expected"; fi
        else
            grep -qx '\*' <<<"$exp" && { verdict=FAIL why="listed as '*' ($RESULT) but completed"; }
            new=$(comm -23 <(printf '%s\n' "$got" | sed '/^$/d') <(printf '%s\n' "$exp" | grep -vx '\*' | sed '/^$/d'))
            gone=$(comm -13 <(printf '%s\n' "$got" | sed '/^$/d') <(printf '%s\n' "$exp" | grep -vx '\*' | sed '/^$/d'))
            [ -n "$new" ] && { verdict=FAIL why="new failures: $(echo $new)"; }
            [ -n "$gone" ] && { verdict=FAIL why="${why:+$why; }listed but passed: $(echo $gone)"; }
            if [ "$RESULT" = fail ] && [ -z "$got" ]; then verdict=FAIL why="failed without a FAIL/ERROR line"; fi
        fi
        if [ "$TABLE_ONLY" = 0 ]; then
            for t in $(hanging "$module"); do
                hang_check "$module" "$t" ||
                    { verdict=FAIL why="${why:+$why; }listed as hanging but finished: $t"; }
            done
        fi
        if [ $verdict = ok ]; then
            echo "ok - cpython:green:$module ($RESULT, ${SECONDS_TAKEN}s, peak $PEAK OS threads)"
            passed=$((passed + 1))
        else
            echo "FAIL - cpython:green:$module: $why (log: $log)"
            tail -n 8 "$log" | sed 's/^/    /'
            failed=$((failed + 1))
        fi
    done
    table+=$'\n'$row
done
echo
echo "$table"
echo
# Logs of a run that passed are kept only when CPYTHON_LOG_DIR asked for them.
if [ "$failed" -eq 0 ] && [ -z "${CPYTHON_LOG_DIR:-}" ]; then
    rm -rf "$OUT"
else
    echo "logs: $OUT"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
