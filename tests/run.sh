#!/usr/bin/env bash
# The one test runner (make test).  Runs, each in its own process and bounded in time:
#   unit/     CMocka unit tests of the hub
#   plain/    every plain program without libgreen            ("plain:NAME")
#   green/    the same under libgreen, with at most 2 OS threads ("green:NAME"): the default
#             workers, as many as the CPUs (2 on the development machines; see the check below)
#   green1/   the same with GREEN_WORKERS=1: every green thread on the main thread's OS thread
#   san/      the same under the ASan+UBSan build of libgreen  ("san:NAME")
#   valgrind  one plain program under libgreen with memcheck
#   slice     time slices: the stress program with a 1 ms slice (one and two workers, ASan,
#             valgrind), preempted at random in seeded mode (--chaos-preempt), and nothing
#             preempted when they are off
#   fuzz      every fuzz harness replays its committed corpus (tests/fuzz)
#   greenrun  tests/greenrun/test-greenrun.sh against the real library
#   dns       tests/dns/compare.sh: libgreen's resolver against glibc's, on the test DNS server
#   seed      GREEN_SEED / GREEN_CHAOS / GREEN_INJECT: replayed races, same-seed interleavings,
#             each injected fault; seeded deadlocks, the points seeded mode adds, PCT
#   bugs      the deliberately buggy programs of tests/bugs: found by greenrun --explore within
#             PCT's bound, replayed 10/10, shrunk by --shrink
#   compat    tests/compat/run.sh --ci: real programs under greenrun
# A program listed in tests/known-failures is expected to fail in the mode named there; if it
# passes, that is a failure too, so the list can only shrink.
# Ends with one line: "N passed, M failed".
set -u
cd "$(dirname "$0")/.."

B=build
TIMEOUT=${TEST_TIMEOUT:-60}
passed=0
failed=0
failures=()
LOG=$(mktemp -d)
trap 'rm -rf "$LOG"' EXIT

known_failure() {  # known_failure MODE NAME -> 0 if listed
    grep -Eq "^$1:$2([[:space:]]|$)" tests/known-failures 2>/dev/null
}

# record NAME STATUS LOGFILE: count one result, honouring the known-failures list.
record() {
    local name=$1 status=$2 log=$3 mode=${1%%:*} prog=${1#*:}
    if known_failure "$mode" "$prog"; then
        if [ "$status" -ne 0 ]; then
            echo "ok - $name (known failure, see tests/known-failures)"
            passed=$((passed + 1))
        else
            echo "FAIL - $name: passes but is listed in tests/known-failures; remove it there"
            failed=$((failed + 1))
            failures+=("$name")
        fi
        return
    fi
    if [ "$status" -eq 0 ]; then
        echo "ok - $name"
        passed=$((passed + 1))
    else
        echo "FAIL - $name (exit $status):"
        tail -n 15 "$log" | sed 's/^/    /'
        failed=$((failed + 1))
        failures+=("$name")
    fi
}

# run NAME ENV... -- COMMAND...: run with a time limit, output to a log.
run() {
    local name=$1
    shift
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    local log="$LOG/${name//[:\/]/_}.log"
    env "${envs[@]}" timeout -k 5 "$TIMEOUT" "$@" >"$log" 2>&1
    record "$name" $? "$log"
}

echo "== unit tests"
for t in "$B"/unit/*; do
    [ -x "$t" ] || continue
    log="$LOG/unit_$(basename "$t").log"
    timeout -k 5 "$TIMEOUT" "$t" >"$log" 2>&1
    status=$?
    # One result per CMocka test case: a case that started and never said OK failed (a crash
    # counts once, for the case it happened in).
    runs=$(grep -c '^\[ RUN      \]' "$log")
    oks=$(grep -c '^\[       OK \]' "$log")
    grep '^\[       OK \]' "$log" | sed 's/^\[       OK \] /ok - unit:/'
    passed=$((passed + oks))
    if [ "$status" -ne 0 ] || [ "$runs" -ne "$oks" ] || [ "$runs" -eq 0 ]; then
        n=$((runs - oks > 0 ? runs - oks : 1))
        echo "FAIL - unit:$(basename "$t") (exit $status, $n failed):"
        tail -n 20 "$log" | sed 's/^/    /'
        failed=$((failed + n))
        failures+=("unit:$(basename "$t")")
    fi
done

ASAN_RT=$(g++ -print-file-name=libasan.so)
GREEN="LD_PRELOAD=$PWD/$B/libgreen.so"
# libgreen goes before the ASan runtime: ASan intercepts pthread_create too, and would make every
# green thread an ASan thread of an OS thread that already is one.  ASan then sees one thread
# switching stacks, which libgreen announces to it (__sanitizer_start_switch_fiber).
SAN="LD_PRELOAD=$PWD/$B/san/libgreen.so $ASAN_RT"

# The green checks allow as many OS threads as workers run by default (the CPUs, as
# hub/workers.cpp counts them; at least 2), plus what hand-off adds once a program makes a call
# that blocks an OS thread (hub/handoff.h): its monitor and a spare for each such call stuck at
# once, 2 allowed here (file_calls makes up to 4 at once: 4 more).
CPUS=$(nproc)
HANDOFF_T=3
MAXT=$(( (CPUS > 2 ? CPUS : 2) + HANDOFF_T ))
MAXT1=$((1 + HANDOFF_T))
for mode in plain green green1 san; do
    echo "== $mode"
    for t in "$B"/plain/*; do
        [ -f "$t" ] && [ -x "$t" ] || continue
        name=$(basename "$t")
        more=0
        [ "$name" = file_calls ] && more=4
        case $mode in
        plain) run "plain:$name" -- "$t" ;;
        green) run "green:$name" "$GREEN" TEST_MAX_OS_THREADS=$((MAXT + more)) -- "$t" ;;
        green1) run "green1:$name" "$GREEN" GREEN_WORKERS=1 TEST_MAX_OS_THREADS=$((MAXT1 + more)) -- "$t" ;;
        san) run "san:$name" "$SAN" TEST_MAX_OS_THREADS=$((MAXT + more)) \
            ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:handle_segv=0 UBSAN_OPTIONS=halt_on_error=1 -- "$t" ;;
        esac
    done
done

echo "== valgrind"
if command -v valgrind >/dev/null; then
    run "valgrind:sleepers" "$GREEN" TEST_MAX_OS_THREADS=2 -- \
        valgrind -q --error-exitcode=99 --leak-check=no "$B/plain/sleepers" 300
    # Thread-local storage in both forms (hub/tls.h), without leaks: TLS areas of their own
    # (thread_local has thread-local data; valgrind hides wrfsbase, so each switch takes the
    # arch_prctl path) and the shared block (thread_state has none).
    for t in thread_local thread_state; do
        run "valgrind:$t" "$GREEN" GREEN_WORKERS=1 TEST_MAX_OS_THREADS=2 -- \
            valgrind -q --error-exitcode=99 --leak-check=full "$B/plain/$t"
    done
    # Two workers: wakes, joins, detaches and closes across OS threads, without a memcheck
    # error.  (No leak check: a worker's OS thread lives until exit, and its DTV looks lost.)
    run "valgrind:mn_stress" "$GREEN" GREEN_WORKERS=2 TEST_MAX_OS_THREADS=2 -- \
        valgrind -q --error-exitcode=99 --leak-check=no "$B/plain/mn_stress" 1
    # Hand-off (hub/handoff.h): hubs taken by spares that adopt their TLS blocks, with one
    # worker.  ("flock": valgrind holds its own lock through an F_OFD_SETLKW wait.)
    run "valgrind:file_calls" "$GREEN" GREEN_WORKERS=1 TEST_MAX_OS_THREADS=$((MAXT1 + 4)) -- \
        valgrind -q --error-exitcode=99 --leak-check=no "$B/plain/file_calls" 2 flock
else
    record "valgrind:sleepers" 1 /dev/null
fi

# The stress program under the ThreadSanitizer build of libgreen (make tsan: hub/ and shim/
# instrumented, every context a TSan fiber), built with TSan itself so that its runtime loads
# after the preloaded library.  No report may come (exit 66 otherwise); tests/tsan.supp names
# the only readers allowed to race, and why.  TSan adds an OS thread of its own.
echo "== tsan"
for w in 2 4; do
    # The preload set after timeout(1), which is no TSan program.
    run "tsan:mn_stress-$w-workers" -- env "LD_PRELOAD=$PWD/$B/tsan/libgreen.so" \
        "TSAN_OPTIONS=suppressions=$PWD/tests/tsan.supp:halt_on_error=1" GREEN_WORKERS=$w \
        TEST_MAX_OS_THREADS=$((w + 1)) "$B/tsan/mn_stress" 1
done

echo "== time slices"
# The stress program with a 1 ms slice: computing threads preempted at any instruction while
# the others hand off locks, wait on condition variables and do socket I/O (the 60 s version
# is a benchmark: scripts/bench_slice.sh).  One and two workers, the ASan/UBSan build, valgrind.
run "slice:stress-green1" "$GREEN" GREEN_TIMESLICE=1ms GREEN_WORKERS=1 TEST_MAX_OS_THREADS=$MAXT1 -- \
    "$B/plain/slice_stress" 3
run "slice:stress-green" "$GREEN" GREEN_TIMESLICE=1ms TEST_MAX_OS_THREADS=$MAXT -- \
    "$B/plain/slice_stress" 3
run "slice:stress-san" "$SAN" GREEN_TIMESLICE=1ms GREEN_WORKERS=1 TEST_MAX_OS_THREADS=$MAXT1 \
    ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:handle_segv=0 UBSAN_OPTIONS=halt_on_error=1 -- \
    "$B/plain/slice_stress" 3
# Preemption at random in seeded mode (--chaos-preempt), 20,000 times a second: the same
# program, every result still exact, with thousands of preemptions (GREEN_STATS counts them),
# also under the ASan/UBSan build.
chaos_preempt_stress() {
    local name=$1 lib=$2 log=$LOG/slice_$1.log
    shift 2
    env "$lib" GREEN_SEED=3 GREEN_CHAOS_PREEMPT=20000 GREEN_STATS=1 TEST_MAX_OS_THREADS=$MAXT1 "$@" \
        timeout -k 5 "$TIMEOUT" "$B/plain/slice_stress" 0.02 >"$log" 2>&1 &&
        grep -qE 'preemptions at random: [1-9][0-9]{2,} threads preempted' "$log"
    record "slice:$name" $? "$log"
}
chaos_preempt_stress stress-chaos-preempt "$GREEN"
chaos_preempt_stress stress-chaos-preempt-san "$SAN" \
    ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:handle_segv=0 UBSAN_OPTIONS=halt_on_error=1
# valgrind runs one OS thread at a time; its default lock is unfair: with a computing green
# thread on each worker, one OS thread could keep it for many seconds while the other (whose
# CPU clock, which drives its time slices, then stands still) holds the main thread's wake.
# --fair-sched=yes takes turns, as the kernel would.
if command -v valgrind >/dev/null; then
    for w in 1 2; do
        run "slice:stress-valgrind-$w" "$GREEN" GREEN_TIMESLICE=1ms GREEN_WORKERS=$w TEST_MAX_OS_THREADS=$((w + HANDOFF_T)) -- \
            valgrind -q --fair-sched=yes --error-exitcode=99 --leak-check=no "$B/plain/slice_stress" 1
    done
fi
# Without time slices (GREEN_TIMESLICE=0, or seeded mode that does not ask for them) a thread
# that computes keeps its OS thread: timeslice's sleeper never wakes, and timeout ends it.
slice_off() {
    local name=$1 log=$LOG/slice_$1.log
    shift
    env "$GREEN" GREEN_WORKERS=1 "$@" timeout 3 "$B/plain/timeslice" >"$log" 2>&1
    [ $? -eq 124 ]
    record "slice:$name" $? "$log"
}
slice_off off GREEN_TIMESLICE=0
slice_off seeded GREEN_SEED=1

echo "== fuzz corpora"
# Every fuzz harness (tests/fuzz/NAME.cpp, linked with tests/fuzz/replay.cpp under ASan+UBSan)
# on its committed corpus: the seeds and the input of every bug found (make fuzz finds more).
for t in "$B"/fuzz/replay/*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    run "fuzz-replay:$name" ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 -- \
        "$t" "tests/fuzz/corpus/$name"
done

echo "== configuration"
# check NAME STATUS PATTERN COMMAND...: the command must exit with STATUS and its
# stdout+stderr match PATTERN.
check() {
    local name=$1 want=$2 expected=$3 out
    shift 3
    out=$("$@" 2>&1)
    local status=$?
    if [ $status -eq "$want" ] && [[ "$out" =~ $expected ]]; then
        record "config:$name" 0 /dev/null
    else
        printf '%s\n' "expected /$expected/, exit $want; got exit $status:" "$out" >"$LOG/config.log"
        record "config:$name" 1 "$LOG/config.log"
    fi
}
STACK="$B/tools/thread_stack_size"
check stack-size-honoured 0 '^65536$' env "$GREEN" GREEN_STACK_SIZE=64k "$STACK"
check stack-size-default 0 "^$($STACK)\$" env "$GREEN" "$STACK"
# A bad value: one warning line naming the variable and the accepted values, then the default.
check bad-stack-size 0 "^libgreen: GREEN_STACK_SIZE='12q' is not valid: .*16k to 1g.*
$($STACK)\$" env "$GREEN" GREEN_STACK_SIZE=12q "$STACK"
check bad-log-level 0 "^libgreen: GREEN_LOG_LEVEL='loud' is not valid: .*error, warn, info or debug.*
$($STACK)\$" env "$GREEN" GREEN_LOG_LEVEL=loud "$STACK"

# A deadlock among green threads is reported once, and the program keeps waiting.
check deadlock-report 124 "all 2 green threads of this (OS thread|process) wait for one another.*
.*thread 1 \\(main\\): in pthread_mutex_lock.*
.*thread 2: in pthread_mutex_lock" env "$GREEN" timeout 3 "$B/tools/deadlock"
# ... but not while a thread libgreen does not manage holds the lock (redis's jemalloc thread):
# that thread lets go, and the program ends, with nothing said.
for w in 1 2; do
    check "no-deadlock-report-unmanaged-holder-$w" 0 '^unmanaged_holder: done$' \
        env "$GREEN" GREEN_WORKERS=$w timeout 10 "$B/tools/unmanaged_holder"
done

# ---- diagnostics: GREEN_STATS, GREEN_LOG_FILE, GREEN_WATCHDOG, GREEN_DUMP_SIGNAL
DIAG=$(mktemp -d)

# stat_value TEXT LABEL: the first number after "LABEL: " in a statistics block.
stat_value() {
    printf '%s\n' "$1" | sed -n "s/^libgreen:   .*$2: \([0-9][0-9]*\).*/\1/p" | head -n 1
}

# The statistics of a plain program: one block at exit, with numbers that fit what it did
# (join creates and joins over a hundred threads, so every counter must have moved).
stats_plain_join() {
    local out log=$LOG/stats.log created peak switches joins polls
    out=$(env "$GREEN" GREEN_STATS=1 GREEN_WORKERS=1 TEST_MAX_OS_THREADS=2 timeout 20 "$B/plain/join" 2>&1)
    local status=$?
    printf '%s\n' "$out" >"$log"
    created=$(stat_value "$out" "green threads created")
    peak=$(printf '%s\n' "$out" | sed -n 's/.*peak alive: \([0-9]*\)$/\1/p')
    switches=$(stat_value "$out" "context switches")
    joins=$(printf '%s\n' "$out" | sed -n 's/.*parks: .* join \([0-9]*\),.*/\1/p')
    polls=$(stat_value "$out" "hub loop iterations")
    if [ $status -eq 0 ] && [ "$(grep -c '^libgreen: statistics of process' "$log")" -eq 1 ] &&
        [ "${created:-0}" -ge 100 ] && [ "${peak:-0}" -ge 2 ] && [ "${peak:-0}" -le $((created + 1)) ] &&
        [ "${switches:-0}" -ge "$created" ] && [ "${joins:-0}" -ge 1 ] && [ "${polls:-0}" -ge 1 ] &&
        grep -q '^libgreen:   longest hub stall: [0-9.]* \(us\|ms\|s\)$' "$log" &&
        grep -q '^libgreen:   OS threads managed: 1$' "$log"; then
        record "config:stats-plain-join" 0 "$log"
    else
        echo "status $status; created '$created' peak '$peak' switches '$switches' joins '$joins' polls '$polls'" >>"$log"
        record "config:stats-plain-join" 1 "$log"
    fi
}
stats_plain_join

# With two workers: two OS threads managed, and each worker created and switched green threads
# (join's threads are placed on the workers in turn).
stats_workers() {
    local log=$LOG/stats_workers.log w0 w1
    env "$GREEN" GREEN_STATS=1 GREEN_WORKERS=2 TEST_MAX_OS_THREADS=2 timeout 20 "$B/plain/join" >"$log" 2>&1
    local status=$?
    w0=$(sed -n 's/^libgreen:   worker 0: green threads created \([0-9]*\), context switches \([0-9]*\),.*/\1 \2/p' "$log")
    w1=$(sed -n 's/^libgreen:   worker 1: green threads created \([0-9]*\), context switches \([0-9]*\),.*/\1 \2/p' "$log")
    if [ $status -eq 0 ] && grep -q '^libgreen:   OS threads managed: 2$' "$log" &&
        [ "${w0%% *}" -ge 40 ] 2>/dev/null && [ "${w1%% *}" -ge 40 ] 2>/dev/null &&
        [ "${w1##* }" -ge 40 ] 2>/dev/null; then
        record "config:stats-two-workers" 0 "$log"
    else
        echo "status $status; worker 0 '$w0', worker 1 '$w1'" >>"$log"
        record "config:stats-two-workers" 1 "$log"
    fi
}
stats_workers
# A bad GREEN_WORKERS warns once and runs the default.
check bad-timeslice 0 "^libgreen: GREEN_TIMESLICE='5' is not valid: .*whole number of ms, from 1ms to 1000ms.*
$($STACK)\$" env "$GREEN" GREEN_TIMESLICE=5 "$STACK"
check bad-workers 0 "^libgreen: GREEN_WORKERS='0' is not valid: .*1 to 256.*
$($STACK)\$" env "$GREEN" GREEN_WORKERS=0 "$STACK"
check stats-off-by-default 0 '^$' env "$GREEN" "$B/plain/join"

# Work sharing (hub/sched.cpp): migrate's threads of unequal length yield in loops, so the
# worker whose threads end first idles while the other still has some queued: it takes some,
# and every thread's state survives the move (the program checks it).
check steal-taken 0 "threads moved between workers: [1-9]" \
    env "$GREEN" GREEN_STATS=1 GREEN_WORKERS=2 TEST_MAX_OS_THREADS=$((2 + HANDOFF_T)) \
    timeout 60 "$B/plain/migrate" 20000

# A thread that moved leaves its descriptor registered in its old worker's poll set
# (hub/fdtable.h): the first event that comes there for nobody drops it, so each of
# fd_moved_waiter's 6 sockets is dropped at most once per move, not at each of its 200 round
# trips (which came there, and were counted, while the registrations stayed).
fd_moved() {
    local log=$LOG/fd_moved.log dropped
    env "$GREEN" GREEN_STATS=1 GREEN_WORKERS=2 GREEN_THREAD_IDS=os \
        TEST_MAX_OS_THREADS=$((2 + HANDOFF_T)) timeout 60 "$B/plain/fd_moved_waiter" >"$log" 2>&1
    local status=$?
    dropped=$(stat_value "$(cat "$log")" "descriptor registrations dropped after their threads moved")
    if [ $status -eq 0 ] && grep -q "threads moved between workers: [1-9]" "$log" &&
        [ -n "$dropped" ] && [ "$dropped" -le 12 ]; then
        record "config:fd-registration-moved" 0 "$log"
    else
        echo "status $status; dropped '$dropped'" >>"$log"
        record "config:fd-registration-moved" 1 "$log"
    fi
}
fd_moved

# Hand-off (hub/handoff.h): file_calls' writers fsync megabytes while a ticker sleeps, so their
# workers are taken at least once, with one worker and with two; with GREEN_HANDOFF=0 nothing is
# (blocked_call: file_calls' threads wait for a lock another holds, and that holder needs
# hand-off to run with one worker).  A bad value warns and keeps it on.
for w in 1 2; do
    check "handoff-taken-$w" 0 "hand-offs: [1-9][0-9]* \\(spare OS threads started: [1-9]" \
        env "$GREEN" GREEN_STATS=1 GREEN_WORKERS=$w TEST_MAX_OS_THREADS=$((w + HANDOFF_T + 4)) \
        timeout 60 "$B/plain/file_calls"
done
check handoff-off 0 "hand-offs: 0 \\(spare OS threads started: 0" \
    env "$GREEN" GREEN_STATS=1 GREEN_WORKERS=1 GREEN_HANDOFF=0 timeout 60 "$B/bench/blocked_call" fsync 8
check bad-handoff 0 "^libgreen: GREEN_HANDOFF='yes' is not valid: .*or 0; using the default \\(1\\)
$($STACK)\$" env "$GREEN" GREEN_HANDOFF=yes "$STACK"

# Syscall user dispatch only where it is needed (shim/rawsys.cpp): off in a program with no
# system call instruction outside the C library; on at start-up when the program's own code
# (raw_instructions) or a library it links (uring_echo: liburing) has one; on at the dlopen of
# a library that has one, for every worker (raw_dlopen, two workers, fails if one is left out);
# on whatever the scan says with GREEN_SYSCALL_DISPATCH=on (raw_syscalls: the C library's own
# calls under dispatch), never with =off; a bad value warns and keeps auto.
check dispatch-off-none 0 "syscall user dispatch off: no system call instruction" \
    env "$GREEN" GREEN_LOG_LEVEL=debug "$STACK"
check dispatch-on-program 0 "syscall user dispatch on \\(start-up\\): the program .*raw_instructions: ok" \
    env "$GREEN" GREEN_LOG_LEVEL=debug GREEN_WORKERS=1 timeout 60 "$B/plain/raw_instructions"
check dispatch-on-library 0 "syscall user dispatch on \\(start-up\\): [^ ]*liburing\\.so.*uring_echo: ok" \
    env "$GREEN" GREEN_LOG_LEVEL=debug timeout 60 "$B/plain/uring_echo"
check dispatch-on-dlopen 0 "syscall user dispatch off.*on \\(dlopen\\): [^ ]*librawstub\\.so.*raw_dlopen: ok" \
    env "$GREEN" GREEN_LOG_LEVEL=debug GREEN_WORKERS=2 timeout 60 "$B/plain/raw_dlopen"
# Sites rewritten at their first trap (shim/rawsite.cpp): the program sees no difference.
check raw-sites-rewritten 0 "system call site 0x[0-9a-f]* rewritten: a jump at .*raw_sites: ok" \
    env "$GREEN" GREEN_LOG_LEVEL=debug timeout 60 "$B/plain/raw_sites"
check dispatch-forced-on 0 "syscall user dispatch on: GREEN_SYSCALL_DISPATCH=on.*raw_syscalls: ok" \
    env "$GREEN" GREEN_LOG_LEVEL=debug GREEN_SYSCALL_DISPATCH=on timeout 60 "$B/plain/raw_syscalls"
check dispatch-forced-off 0 "block their OS thread: GREEN_SYSCALL_DISPATCH=off" \
    env "$GREEN" GREEN_LOG_LEVEL=info GREEN_SYSCALL_DISPATCH=off "$STACK"
check bad-syscall-dispatch 0 "^libgreen: GREEN_SYSCALL_DISPATCH='yes' is not valid: .*auto .*on or off; using the default \\(auto\\)
$($STACK)\$" env "$GREEN" GREEN_SYSCALL_DISPATCH=yes "$STACK"

# A child of fork that ends with exit() prints its own block: 1 thread created there, 3 in
# its parent.
stats_fork_child() {
    local log=$LOG/stats_fork.log parent child
    env "$GREEN" GREEN_STATS=1 timeout 20 "$B/tools/fork_stats" >"$log" 2>&1
    local status=$?
    parent=$(sed -n 's/^fork_stats: parent \([0-9]*\), child \([0-9]*\)$/\1/p' "$log")
    child=$(sed -n 's/^fork_stats: parent \([0-9]*\), child \([0-9]*\)$/\2/p' "$log")
    # created_by PID: the "green threads created" count of that process's block.
    created_by() {
        awk -v pid="$1" '$0 == "libgreen: statistics of process " pid ":" {on = 1; next}
            on && /green threads created:/ {sub(/,.*/, ""); print $NF; exit}' "$log"
    }
    [ $status -eq 0 ] && [ -n "$parent" ] && [ "$(created_by "$parent")" = 3 ] &&
        [ "$(created_by "$child")" = 1 ] &&
        [ "$(grep -c '^libgreen: statistics of process' "$log")" -eq 2 ]
    record "config:stats-fork-child" $? "$log"
}
stats_fork_child

# A server with both diagnostics on (as scripts/bench_diag.sh measures it) that ends through
# exit() on echo_server's "QUIT\n" request: status 0, and one block counting the threads it
# created (one per echo connection, plus the statistics and the quit connections) and the
# watchdog's OS thread.
stats_echo_server_quit() {
    local log=$LOG/stats_echo.log dir pid port status=1
    dir=$(mktemp -d)
    env "$GREEN" GREEN_WORKERS=1 GREEN_STATS=1 GREEN_WATCHDOG=100ms "$B/plain/echo_server" serve 0 "$dir/port" \
        >"$dir/server" 2>&1 &
    pid=$!
    for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.05; done
    port=$(cat "$dir/port" 2>/dev/null || echo 0)
    if timeout -k 5 30 "$B/tools/echo_load" 127.0.0.1 "$port" 20 50 64 >"$log" 2>&1; then
        printf 'QUIT\n' 2>/dev/null >"/dev/tcp/127.0.0.1/$port"
        for _ in $(seq 100); do
            # Gone (the shell reaps its children as they end) or a zombie: it has exited.
            [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo Z)" = Z ] && break
            sleep 0.05
        done
    fi
    kill "$pid" 2>/dev/null  # only when it did not quit: the status then says so
    wait "$pid"
    status=$?
    cat "$dir/server" >>"$log"
    rm -rf "$dir"
    [ $status -eq 0 ] && [ "$(grep -c '^libgreen: statistics of process' "$log")" -eq 1 ] &&
        grep -q '^libgreen:   green threads created: 22, ' "$log" &&
        grep -q '^libgreen:   OS threads managed: 1 (and the watchdog.s)$' "$log"
    record "config:stats-echo-server-quit" $? "$log"
}
stats_echo_server_quit

# GREEN_LOG_FILE: the warning of a bad value goes there, not to stderr, and so does the
# statistics block; the program's output stays where it was.
log_file_check() {
    local log=$LOG/logfile.log file=$DIAG/green.log out
    rm -f "$file"
    out=$(env "$GREEN" GREEN_LOG_FILE="$file" GREEN_STACK_SIZE=12q GREEN_STATS=1 "$STACK" 2>&1)
    local status=$?
    { echo "output: $out"; echo "log file:"; cat "$file" 2>&1; } >"$log"
    if [ $status -eq 0 ] && [ "$out" = "$($STACK)" ] &&
        grep -q "^libgreen: GREEN_STACK_SIZE='12q' is not valid: .*16k to 1g" "$file" &&
        grep -q '^libgreen: statistics of process' "$file"; then
        record "config:log-file" 0 "$log"
    else
        record "config:log-file" 1 "$log"
    fi
}
log_file_check
# The log's descriptor is close-on-exec and high, out of the program's way: ls under libgreen
# lists its own /proc/self/fd, where the log file must appear once, above 1000.
check log-file-descriptor-high 0 "(^|
)[l-][^ ]* .* 1[0-9][0-9][0-9][0-9]* -> $DIAG/green.log
" env "$GREEN" GREEN_LOG_FILE="$DIAG/green.log" ls -l /proc/self/fd
check log-file-unusable 0 "^libgreen: GREEN_LOG_FILE='$DIAG/no-such-dir/log' is not valid: .*created or appended to.*standard error.*
$($STACK)\$" env "$GREEN" GREEN_LOG_FILE="$DIAG/no-such-dir/log" "$STACK"
check bad-stats 0 "^libgreen: GREEN_STATS='yes' is not valid: expected 1 .* or 0.*
$($STACK)\$" env "$GREEN" GREEN_STATS=yes "$STACK"
check bad-watchdog 0 "^libgreen: GREEN_WATCHDOG='5' is not valid: .*ms or s, from 10ms to 3600s.*
$($STACK)\$" env "$GREEN" GREEN_WATCHDOG=5 "$STACK"
check bad-dump-signal 0 "^libgreen: GREEN_DUMP_SIGNAL='KILL' is not valid: .*USR2.*
$($STACK)\$" env "$GREEN" GREEN_DUMP_SIGNAL=KILL "$STACK"
# GREEN_CHILDREN: a program run by the command keeps libgreen in LD_PRELOAD, or (plain) not;
# other entries stay.
check children-green 0 "^$PWD/$B/libgreen.so\$" env "$GREEN" sh -c 'exec printenv LD_PRELOAD'
check children-plain 0 '^\[/lib/x86_64-linux-gnu/libc.so.6\]$' \
    env "$GREEN /lib/x86_64-linux-gnu/libc.so.6" GREEN_CHILDREN=plain sh -c 'exec sh -c "echo [\$LD_PRELOAD]"'
check children-plain-unset 0 '^\[unset\]$' \
    env "$GREEN" GREEN_CHILDREN=plain sh -c 'exec sh -c "echo [\${LD_PRELOAD-unset}]"'
check bad-children 0 "^libgreen: GREEN_CHILDREN='none' is not valid: .*green.*plain.*
$($STACK)\$" env "$GREEN" GREEN_CHILDREN=none "$STACK"
# GREEN_THREAD_IDS=os: green threads have their OS thread's id (on one worker, main's: the
# process id, which thread_ids checks that no other thread has).
check thread-ids-os 1 'ids\[i\] != getpid\(\)' env "$GREEN" GREEN_THREAD_IDS=os GREEN_WORKERS=1 "$B/plain/thread_ids"
check bad-thread-ids 0 "^libgreen: GREEN_THREAD_IDS='OS' is not valid: .*green or os.*
$($STACK)\$" env "$GREEN" GREEN_THREAD_IDS=OS "$STACK"
# GREEN_FAMILIES: without threads, pthread_create makes OS threads (join's check of at most 2
# then fails); with threads, sync and sleep (join waits with short sleeps) it stays on one.
check families-threads 0 "" env "$GREEN" GREEN_FAMILIES=threads,sync,sleep TEST_MAX_OS_THREADS=2 "$B/plain/join"
check families-no-threads 1 'OS threads at peak' env "$GREEN" GREEN_FAMILIES=sockets,sleep TEST_MAX_OS_THREADS=2 "$B/plain/join"
check bad-families 0 "^libgreen: GREEN_FAMILIES='tcp' is not valid: .*threads, sockets.*
$($STACK)\$" env "$GREEN" GREEN_FAMILIES=tcp "$STACK"
check bad-resolv-conf 0 "^libgreen: GREEN_RESOLV_CONF='/nonexistent' is not valid: .*readable file.*
$($STACK)\$" env "$GREEN" GREEN_RESOLV_CONF=/nonexistent "$STACK"

# The watchdog: a green thread blocks its OS thread for 1.5 s in a call libgreen does not see;
# the report (once) names it and shows where its OS thread is, and the program still ends well.
check watchdog-stall 0 "^libgreen: watchdog: OS thread [0-9]+ has not come back to its hub for [0-9.]+ ms \\(GREEN_WATCHDOG is 300.0 ms\\); running: green thread 2 \"staller\"
libgreen: watchdog: backtrace of OS thread [0-9]+:
(.*
)*.*stall.*
(.*
)*libgreen: watchdog: end of backtrace
stall: done\$" env "$GREEN" GREEN_WATCHDOG=300ms "$B/tools/stall"
check watchdog-off-by-default 0 '^stall: done$' env "$GREEN" "$B/tools/stall"
# The watchdog keeps a descriptor table of its own (hub/diag.cpp), yet reports to the program's
# standard error as it is when the stall happens: here a file the program put there with dup2.
watchdog_follows_stderr() {
    local log=$LOG/watchdog_stderr.log err=$DIAG/stall.err
    env "$GREEN" GREEN_WATCHDOG=300ms timeout 20 "$B/tools/stall" "$err" >"$log" 2>&1
    local status=$?
    cat "$err" >>"$log" 2>/dev/null
    [ $status -eq 0 ] && grep -q '^libgreen: watchdog: OS thread [0-9]* has not come back' "$err" &&
        grep -q '^libgreen: watchdog: end of backtrace$' "$err"
    record "config:watchdog-follows-stderr" $? "$log"
}
watchdog_follows_stderr
# ... and holds none of the program's descriptors open: a program that lets go of its standard
# output (for /dev/null) and lives on gives its reader the end of the pipe at once, not at its
# exit.
watchdog_holds_no_descriptor() {
    local log=$LOG/watchdog_fds.log
    # (No timeout(1) around it: it would hold the pipe itself; the program ends in 3 s.)
    env "$GREEN" GREEN_WATCHDOG=100ms python3 -c 'import os, time
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
time.sleep(3)' 2>"$log" | { timeout 2 cat >/dev/null; echo "reader: $?" >>"$log"; }
    grep -q '^reader: 0$' "$log"
    record "config:watchdog-holds-no-descriptor" $? "$log"
}
watchdog_holds_no_descriptor
# The watchdog thread is libgreen's second OS thread, the most a plain program may see.
run "config:watchdog-os-threads" "$GREEN" GREEN_WORKERS=1 GREEN_WATCHDOG=1s TEST_MAX_OS_THREADS=2 -- "$B/plain/join"

# The dump signal on a running thread-per-connection server: every green thread is listed with
# what it waits on (the listener in accept, each handler in a read), and the server goes on
# serving afterwards.  With two workers (dump_signal_check 2), one block per worker, together
# listing every thread.
dump_signal_check() {
    local workers=$1 log=$LOG/dump$1.log dir=$DIAG/dump$1 pid port load_pid status=1 listed=0
    mkdir -p "$dir"
    env "$GREEN" GREEN_WORKERS="$workers" GREEN_DUMP_SIGNAL=SIGUSR2 GREEN_LOG_FILE="$dir/log" \
        "$B/plain/echo_server" serve 0 "$dir/port" >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.05; done
    port=$(cat "$dir/port" 2>/dev/null || echo 0)
    # 20 connections, held open for 3 s after their round trips.
    timeout -k 5 30 "$B/tools/echo_load" 127.0.0.1 "$port" 20 3 64 1 3 >"$dir/load" 2>&1 &
    load_pid=$!
    for _ in $(seq 100); do grep -q '^holding' "$dir/load" && break; sleep 0.05; done
    kill -USR2 "$pid"
    for _ in $(seq 100); do
        listed=$(grep -c '^libgreen:   thread .*: parked for .* on fd [0-9]* read' "$dir/log" 2>/dev/null)
        [ "${listed:-0}" -ge 21 ] && break
        sleep 0.05
    done
    wait "$load_pid"
    local load_status=$?
    timeout -k 5 30 "$B/tools/echo_load" 127.0.0.1 "$port" 10 3 64 >>"$dir/load" 2>&1
    local again=$?
    local header='^libgreen: dump: process [0-9]*, OS thread [0-9]*: 2[1-9] green threads$'
    [ "$workers" -gt 1 ] && header='^libgreen: dump: process [0-9]*, worker 1, OS thread [0-9]*: [0-9]* green threads$'
    kill -0 "$pid" 2>/dev/null && [ $load_status -eq 0 ] && [ $again -eq 0 ] &&
        grep -q "$header" "$dir/log" &&
        grep -q '^libgreen:   thread 1 (main): parked for .* on fd [0-9]* read$' "$dir/log" &&
        [ "${listed:-0}" -ge 21 ] && status=0
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    { cat "$dir/load"; cat "$dir/log"; echo "load $load_status, again $again, listed $listed"; } >>"$log"
    record "config:dump-signal-echo-server$([ "$workers" -gt 1 ] && echo -$workers-workers)" $status "$log"
}
dump_signal_check 1
dump_signal_check 2
# A program that installs its own handler for the dump signal gets the signal: no dump.
check dump-signal-program-handler-wins 0 '^program handler$' env "$GREEN" GREEN_DUMP_SIGNAL=USR2 \
    python3 -c 'import os, signal, time
signal.signal(signal.SIGUSR2, lambda *args: print("program handler", flush=True))
os.kill(os.getpid(), signal.SIGUSR2)
time.sleep(0.2)'
# greenrun and the library judge every value alike: greenrun refuses (exit 2) exactly the
# values the library warns about.
agreement_check() {
    local log=$LOG/agreement.log pair var value lib_says gr_says status=0
    : >"$log"
    for pair in GREEN_WATCHDOG={0,10ms,9ms,500ms,2s,3600s,3601s,3600000ms,3600001ms,1.5s,5,0ms,0s,010s,500MS,2m} \
        GREEN_DUMP_SIGNAL={USR2,SIGUSR2,12,HUP,POLL,IO,RTMIN,SIGRTMIN+0,RTMIN+003,RTMIN+30,RTMIN+31,RTMAX,RTMAX-30,RTMAX-31,KILL,9,SEGV,32,33,34,64,65,0,usr2,SIG} \
        GREEN_STATS={0,1,2,yes} GREEN_STACK_SIZE={16k,15k,1g,2g,64kb} GREEN_LOG_LEVEL={warn,loud} \
        "GREEN_LOG_FILE=$DIAG/agree.log" "GREEN_LOG_FILE=$DIAG/no-such-dir/log" "GREEN_LOG_FILE=$DIAG" \
        GREEN_RESOLV_CONF={/etc/hosts,/nonexistent/resolv.conf,/etc} GREEN_CHILDREN={green,plain,none} \
        GREEN_SEED={0,42,18446744073709551615,18446744073709551616,1x} GREEN_CHAOS={0,0.1,1,1.5,x} \
        GREEN_INJECT={eintr:0.1,connect-delay:50ms,bogus:1,eintr,eintr:2} \
        GREEN_FAMILIES={all,threads,sleep\,sync,sockets\,,tcp} \
        GREEN_WATCHDOG=00 GREEN_INJECT=eintr:0.1, GREEN_CHAOS={0x.8,1e-1,.5,00.5,0.} \
        GREEN_DUMP_SIGNAL={0010,010} GREEN_SEED=007 $'GREEN_FAMILIES=threads\nsockets' \
        $'GREEN_INJECT=eintr:0.1\nreset:0.1' $'GREEN_STACK_SIZE=64k\n' ; do
        var=${pair%%=*} value=${pair#*=}
        lib_says=accepts
        env "$GREEN" "$pair" "$STACK" 2>&1 | grep -q "^libgreen: $var=.* is not valid" && lib_says=refuses
        gr_says=accepts
        env "$pair" scripts/greenrun true >/dev/null 2>&1 || gr_says=refuses
        echo "$var='${value//$'\n'/\\n}': library $lib_says, greenrun $gr_says" >>"$log"
        [ "$lib_says" = "$gr_says" ] || status=1
    done
    grep -q refuses "$log" && grep -q 'library accepts, greenrun accepts' "$log" || status=1
    record "config:greenrun-agrees-with-library" $status "$log"
}
agreement_check
# The spellings the library used to take and greenrun refused, or the other way round (issue
# 21, item 7): the library warns, one line, and uses the default.
check bad-watchdog-00 0 "^libgreen: GREEN_WATCHDOG='00' is not valid: .*10ms to 3600s.*
$($STACK)\$" env "$GREEN" GREEN_WATCHDOG=00 "$STACK"
check bad-dump-signal-0010 0 "^libgreen: GREEN_DUMP_SIGNAL='0010' is not valid: .*USR2.*
$($STACK)\$" env "$GREEN" GREEN_DUMP_SIGNAL=0010 "$STACK"
check bad-inject-trailing-comma 0 "^libgreen: GREEN_INJECT='eintr:0.1,' is not valid: .*short-read.*injecting nothing
$($STACK)\$" env "$GREEN" GREEN_INJECT=eintr:0.1, "$STACK"
for chaos in 0x.8 1e-1; do
    check "bad-chaos-$chaos" 0 "^libgreen: GREEN_CHAOS='$chaos' is not valid: .*0 to 1.*
$($STACK)\$" env "$GREEN" GREEN_CHAOS=$chaos "$STACK"
done
check bad-families-two-lines 0 "^libgreen: GREEN_FAMILIES='threads\\?sockets' is not valid: .*threads, sockets.*
$($STACK)\$" env "$GREEN" GREEN_FAMILIES=$'threads\nsockets' "$STACK"
rm -rf "$DIAG"

# The manual pages and the code name the same GREEN_* variables and greenrun options, both
# ways, and the pages format without groff warnings (tests/greenrun/test-docs.sh).
docs_check() {
    local log=$LOG/docs.log line name
    timeout -k 5 "$TIMEOUT" tests/greenrun/test-docs.sh >"$log" 2>&1
    local status=$?
    while IFS= read -r line; do
        case $line in
        "ok - "*) record "docs:${line#ok - }" 0 /dev/null ;;
        "not ok - "*)
            name=${line#not ok - }
            printf '%s\n' "$line" >"$LOG/docs_case.log"
            record "docs:${name%%: *}" 1 "$LOG/docs_case.log"
            ;;
        esac
    done <"$log"
    # A script that stopped early, or failed without saying which case: one failure more.
    if ! grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$log" ||
        { [ $status -ne 0 ] && ! grep -q '^not ok' "$log"; }; then
        record "docs" 1 "$log"
    fi
}
docs_check

echo "== seeded schedules"
# GREEN_SEED, GREEN_CHAOS and GREEN_INJECT (hub/chaos.h); every run bounded by a timeout.
SEEDED=(env "$GREEN" TEST_MAX_OS_THREADS=2)

# A racy server (tests/tools/racy_server.c) under chaos without a seed: libgreen picks one and a
# run that loses an update prints it; within 50 runs one does, and rerunning with that seed
# loses the same updates 10 times out of 10.
seed_racy() {
    local log=$LOG/racy.log out status seed= first= i
    for i in $(seq 50); do
        out=$("${SEEDED[@]}" GREEN_CHAOS=0.1 timeout 20 "$B/tools/racy_server" 2>&1)
        status=$?
        echo "run $i: exit $status: $out" >>"$log"
        if [ $status -eq 1 ]; then
            seed=$(sed -n 's/.*exit status 1; seed \([0-9]*\): rerun with GREEN_SEED=.*/\1/p' <<<"$out")
            first=$(grep '^served' <<<"$out")
            break
        fi
        [ $status -eq 0 ] || break
    done
    if [ -z "$seed" ] || [ -z "$first" ]; then
        echo "no run exposed the lost update, or its seed was not printed" >>"$log"
        record "seed:racy-server-found-by-chaos" 1 "$log"
        return
    fi
    record "seed:racy-server-found-by-chaos" 0 "$log"
    local same=0
    for i in $(seq 10); do
        out=$("${SEEDED[@]}" GREEN_SEED="$seed" GREEN_CHAOS=0.1 timeout 20 "$B/tools/racy_server" 2>/dev/null)
        status=$?
        echo "replay $i: exit $status: $out" >>"$log"
        [ $status -eq 1 ] && [ "$out" = "$first" ] && same=$((same + 1))
    done
    echo "seed $seed: $same of 10 replays lost the same updates ($first)" >>"$log"
    [ $same -eq 10 ]
    record "seed:racy-server-replayed-10-of-10" $? "$log"
}
seed_racy

# The order of events of tests/plain/event_order.c: identical for one seed in 10 of 10 runs;
# different for at least two of five seeds.
seed_event_order() {
    local log=$LOG/event_order.log ref out ok=1 i distinct
    ref=$("${SEEDED[@]}" GREEN_SEED=12345 timeout 20 "$B/plain/event_order" 2>>"$log") || ok=0
    for i in $(seq 10); do
        out=$("${SEEDED[@]}" GREEN_SEED=12345 timeout 20 "$B/plain/event_order" 2>>"$log") || ok=0
        [ "$out" = "$ref" ] || { ok=0; printf 'run %d differs:\n%s\n%s\n' "$i" "$ref" "$out" >>"$log"; }
    done
    [ -n "$ref" ] || ok=0
    record "seed:same-seed-same-interleaving" $((1 - ok)) "$log"
    distinct=$(for i in 1 2 3 4 5; do
        "${SEEDED[@]}" GREEN_SEED=$i timeout 20 "$B/plain/event_order" 2>>"$log" | md5sum
    done | sort -u | wc -l)
    echo "$distinct distinct logs for seeds 1 to 5" >>"$log"
    [ "$distinct" -ge 2 ]
    record "seed:different-seeds-different-interleavings" $? "$log"
    # Seeded mode runs one worker whatever GREEN_WORKERS says: the same seed, the same order.
    out=$("${SEEDED[@]}" GREEN_SEED=12345 GREEN_WORKERS=4 timeout 20 "$B/plain/event_order" 2>>"$log")
    [ -n "$ref" ] && [ "$out" = "$ref" ]
    record "seed:same-seed-same-interleaving-with-workers" $? "$log"
}
seed_event_order

# Each fault kind, alone and certain, reaches tests/tools/inject_check.c as the real call gives
# it; each injected fault is logged (info) with the thread and the call, and counted at exit.
seed_inject() {
    local spec kind log out status
    for spec in short-read:1 short-write:1 eintr:1 eagain:1 reset:1 connect-fail:1 \
        connect-delay:300ms read-latency:300ms; do
        kind=${spec%%:*}
        log=$LOG/inject_$kind.log
        out=$("${SEEDED[@]}" GREEN_SEED=1 GREEN_INJECT=$spec GREEN_LOG_LEVEL=info \
            timeout 20 "$B/tools/inject_check" "$kind" 2>&1)
        status=$?
        printf '%s\nexit status %s\n' "$out" "$status" >"$log"
        if [ $status -eq 0 ] && grep -qx "ok $kind" <<<"$out" &&
            grep -Eq "^libgreen: inject $kind: thread [0-9]+, [a-z0-9]+\(fd [0-9]+\): " <<<"$out" &&
            grep -Eq "^libgreen: injected faults: $kind [1-9]" <<<"$out"; then
            record "seed:inject-$kind" 0 "$log"
        else
            record "seed:inject-$kind" 1 "$log"
        fi
    done
}
seed_inject

# The seed is printed when a seeded process dies of a failure signal, which still kills it.
check seed-on-failure-signal 139 "libgreen: failure signal; seed 77: rerun with GREEN_SEED=77" \
    env "$GREEN" GREEN_SEED=77 sh -c 'kill -SEGV $$'
check seed-on-exit-status 3 "libgreen: exit status 3; seed 78: rerun with GREEN_SEED=78 GREEN_CHAOS=0.5" \
    env "$GREEN" GREEN_SEED=78 GREEN_CHAOS=0.5 python3 -c 'raise SystemExit(3)'
check bad-seed 0 "^libgreen: GREEN_SEED='1x' is not valid: .*running without a seed" \
    env "$GREEN" GREEN_SEED=1x true

# A deadlock in seeded mode ends the run at once (the same program without a seed waits until
# killed: config:deadlock-report): the report, the seed, the command that reruns this schedule,
# and a status of its own, 86.
check seed-deadlock-ends-run 86 "thread 2: in pthread_mutex_lock.*
libgreen: deadlock in seeded mode; seed 5: exit status 86; rerun with GREEN_SEED=5 greenrun -- $B/tools/deadlock\$" \
    env "$GREEN" GREEN_SEED=5 timeout 5 "$B/tools/deadlock"
# ... and within 1 s of its detection: the whole run, start-up included, takes less than 1 s
# (the best of 3, so that a machine busy with others does not decide it).
seed_deadlock_fast() {
    local log=$LOG/seed_deadlock_fast.log best=999999 t0 ms i
    for i in 1 2 3; do
        t0=$(date +%s%N)
        env "$GREEN" GREEN_SEED=5 timeout 5 "$B/tools/deadlock" >>"$log" 2>&1
        echo "status $?" >>"$log"
        ms=$((($(date +%s%N) - t0) / 1000000))
        echo "run $i: $ms ms" >>"$log"
        ((ms < best)) && best=$ms
    done
    ((best < 1000)) && ! grep -qv '^status 86$' <(grep '^status' "$log")
    record "seed:deadlock-ends-within-1s" $? "$log"
}
seed_deadlock_fast

# Threads that a main which returns without joining started run in seeded mode, as real ones
# would: they may run at their creation and before main returns (seeded scheduling points), in
# an order that depends on the seed.  Before those points they never ran (0 context switches).
seed_no_join() {
    local log=$LOG/no_join.log out ran=0 early=0 orders=() i
    for i in $(seq 10); do
        out=$("${SEEDED[@]}" GREEN_SEED=$i timeout 20 "$B/tools/no_join" 2>>"$log")
        printf 'seed %d:\n%s\n' "$i" "$out" >>"$log"
        grep -q '^thread' <<<"$out" && ran=$((ran + 1))
        [ "$(head -n 1 <<<"$out")" != "main returns" ] && early=$((early + 1))
        orders+=("$(md5sum <<<"$out")")
    done
    local distinct
    distinct=$(printf '%s\n' "${orders[@]}" | sort -u | wc -l)
    echo "threads ran in $ran of 10 seeds, before main's line in $early; $distinct orders" >>"$log"
    [ $ran -ge 8 ] && [ $early -ge 3 ] && [ "$distinct" -ge 3 ]
    record "seed:threads-of-a-main-without-join-run" $? "$log"
}
seed_no_join

# Under PCT the highest-priority thread always runs: one that spins on sched_yield, waiting for
# another, drops below every other thread at each yield, or it would spin for ever
# (tests/plain/yield.c: threads that wait for one another by yielding).
seed_pct_yield() {
    local log=$LOG/pct_yield.log i ok=0
    for i in 1 2 3 4 5; do
        "${SEEDED[@]}" GREEN_SEED=$i GREEN_PCT=3 timeout 20 "$B/plain/yield" >>"$log" 2>&1 &&
            ok=$((ok + 1))
    done
    echo "$ok of 5 seeds finished" >>"$log"
    [ $ok -eq 5 ]
    record "seed:pct-yielders-finish" $? "$log"
}
seed_pct_yield

echo "== bug corpus"
# The deliberately buggy programs of tests/bugs (listed in tests/bugs/corpus): greenrun --explore
# finds each within its budget (the one PCT's bound promises for its depth, or the corpus's),
# and its failing seed replays 10 times out of 10: the same exit status, the same output
# (addresses aside).  A bug found with --chaos-preempt is rerun instead (not exactly
# reproducible: the report says how often it failed again), and 100 seeds of --pct and of
# --chaos without it never find it.
status_of() {  # status_of FAILURE: the exit status a run that fails so has
    case $1 in
        deadlock) echo 86 ;;
        exit-*) echo "${1#exit-}" ;;
        signal-*) echo $((128 + $(kill -l "${1#signal-SIG}"))) ;;
    esac
}
bug_hunt() {
    local name=$1 depth=$3 threads=$4 opts=$5 failure=$6 stated=$7
    local log=$LOG/bug_$name.log out seed kind replay steps budget want i same=0 first= now
    local -a options
    IFS=, read -r -a options <<<"$opts"
    # Bounded in time rather than in runs: the budget depends on the steps the command takes.
    out=$(timeout -k 5 120 scripts/greenrun "${options[@]}" --explore 1000000 --timeout 20s \
        -- "$PWD/$B/bugs/$name" 2>&1)
    echo "$out" >"$log"
    seed=$(sed -n 's/^first failure: seed \([0-9]*\) (\(.*\))$/\1/p' <<<"$out")
    kind=$(sed -n 's/^first failure: seed [0-9]* (\(.*\))$/\1/p' <<<"$out")
    replay=$(sed -n 's/^replay: greenrun //p' <<<"$out")
    steps=$(grep -oE -- '--pct-steps [0-9]+' <<<"$replay" | awk '{print $2}')
    steps=${steps:-1000}
    budget=$stated
    [ "$stated" = pct ] &&
        budget=$(awk -v n="$threads" -v k="$steps" -v d="$depth" -v o="$opts" -f tests/bugs/pct_bound.awk)
    want=$(sed 's/-/ /; s/^signal SIG/signal SIG/' <<<"$failure")
    echo "found at seed ${seed:-none} (${kind:-no failure}), want $want within $budget runs" >>"$log"
    [ -n "$seed" ] && [ "$seed" -le "$budget" ] && [ "$kind" = "$want" ]
    local label=pct-bound
    [ "$stated" = pct ] || label=$stated-runs
    record "bugs:$name-found-within-$label" $? "$log"
    [ -n "$seed" ] || return
    if [[ $opts == *--chaos-preempt* ]]; then
        bug_unseeded "$name" "$depth" "$out"
        return
    fi
    for i in $(seq 10); do
        now=$(bash -c "$PWD/scripts/greenrun $replay" 2>&1 | sed -E 's/0x[0-9a-f]+/ADDR/g'
            echo "status ${PIPESTATUS[0]}")
        [ -z "$first" ] && first=$now
        printf 'replay %d:\n%s\n' "$i" "$now" >>"$log"
        [ "$now" = "$first" ] && [ "${now##*status }" = "$(status_of "$failure")" ] &&
            same=$((same + 1))
    done
    echo "$same of 10 replays alike, with status $(status_of "$failure")" >>"$log"
    [ $same -eq 10 ]
    record "bugs:$name-replayed-10-of-10" $? "$log"
    [ "$depth" -eq 2 ] && bug_shrink "$name" "$failure" "$replay"
}

# bug_shrink NAME FAILURE REPLAY: --shrink brings the failing seed of a depth-2 bug down to at
# most 2 forced switches; the schedule file it writes fails the same way 10 times out of 10
# with --replay-file; for deadlock.c its trace names the two racing calls, the lock of a mover
# and the lock of the auditor.
bug_shrink() {
    local name=$1 failure=$2 replay=$3 log=$LOG/bug_${1}_shrink.log dir out left i same=0 ok=1
    dir=$(mktemp -d)
    out=$(cd "$dir" && timeout -k 5 120 "$OLDPWD/scripts/greenrun" \
        ${replay/--replay /--shrink } 2>&1)
    echo "$out" >"$log"
    left=$(sed -n 's/^shrink: .* forced decisions \([0-9]*\) remain .*/\1/p' <<<"$out")
    [ -n "$left" ] && [ "$left" -ge 1 ] && [ "$left" -le 2 ] && [ -f "$dir"/shrink-*.schedule ] || ok=0
    if [ "$name" = deadlock ]; then
        grep -q 'pthread_mutex_lock in mover (.*tests/bugs/deadlock.c:' <<<"$out" &&
            grep -q 'pthread_mutex_lock in auditor (.*tests/bugs/deadlock.c:' <<<"$out" || ok=0
    fi
    record "bugs:$name-shrunk-to-2-switches" $((1 - ok)) "$log"
    [ $ok -eq 1 ] || { rm -rf "$dir"; return; }
    for i in $(seq 10); do
        # In a pipeline, so that the shell does not announce a death by a signal.
        (cd "$dir" && timeout -k 5 20 "$OLDPWD/scripts/greenrun" --replay-file shrink-*.schedule \
            -- "$OLDPWD/$B/bugs/$name") 2>&1 | cat >/dev/null
        [ "${PIPESTATUS[0]}" -eq "$(status_of "$failure")" ] && same=$((same + 1))
    done
    echo "the shrunk schedule failed $same times of 10" >>"$log"
    rm -rf "$dir"
    [ $same -eq 10 ]
    record "bugs:$name-shrunk-schedule-replayed-10-of-10" $? "$log"
}
# bug_unseeded NAME DEPTH OUTPUT: a bug found with --chaos-preempt: --explore's OUTPUT says how
# often its seed failed again when rerun (at least once: the window is wide); --pct DEPTH and
# --chaos 0.1 without preemption find it in none of 100 seeds (no scheduling point inside).
bug_unseeded() {
    local name=$1 depth=$2 out=$3 log=$LOG/bug_${1}_unseeded.log again policy
    again=$(sed -n 's/^reruns: seed [0-9]* failed again in \([0-9]*\) of 10 reruns .*/\1/p' <<<"$out")
    echo "failed again in ${again:-?} of 10 reruns" >"$log"
    [ -n "$again" ] && [ "$again" -ge 1 ]
    record "bugs:$name-rerun-fails-again" $? "$log"
    for policy in "pct $depth" "chaos 0.1"; do
        # shellcheck disable=SC2086  # the policy is two words
        out=$(timeout -k 5 120 scripts/greenrun --$policy --explore 100 -- "$B/bugs/$name" 2>&1)
        echo "--$policy: $out" >>"$log"
        grep -qx 'explore: 100 runs, 0 failed, rate 0.0%' <<<"$out"
        record "bugs:$name-not-found-by-${policy// /-}-without-preemption" $? "$log"
    done
}
while read -r name kind depth threads opts failure budget; do
    case $name in '#'* | '') continue ;; esac
    bug_hunt "$name" "$kind" "$depth" "$threads" "$opts" "$failure" "$budget"
done <tests/bugs/corpus
# The early timeout needs GREEN_EXPIRE: under virtual time alone a deadline expires only when
# nothing else can run, and 100 seeds never show it.
out=$(timeout -k 5 120 scripts/greenrun --pct 1 --explore 100 -- "$B/bugs/timed_wait" 2>&1)
echo "$out" >"$LOG/bug_timed_wait_no_expire.log"
grep -qx 'explore: 100 runs, 0 failed, rate 0.0%' <<<"$out"
record "bugs:timed_wait-not-found-without-expire" $? "$LOG/bug_timed_wait_no_expire.log"

echo "== scale"
# A thread-per-connection echo server under libgreen holds 10,000 concurrent connections on at
# most 2 OS threads, every byte checked by the load client (which runs plain, in 2 processes:
# ulimit -n is 20000 per process).
scale_echo() {
    local dir log=$LOG/scale.log pid port
    dir=$(mktemp -d)
    env "$GREEN" "$B/plain/echo_server" serve 0 "$dir/port" >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.05; done
    port=$(cat "$dir/port" 2>/dev/null || echo 0)
    timeout -k 5 "$TIMEOUT" "$B/tools/echo_load" 127.0.0.1 "$port" 10000 3 64 2 >>"$log" 2>&1
    local status=$?
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -rf "$dir"
    local threads
    threads=$(awk '/^server:/ {for (i = 1; i < NF; i++) if ($i == "os_threads") print $(i+1)}' "$log")
    if [ $status -eq 0 ] && [ -n "$threads" ] && [ "$threads" -le 2 ]; then
        record "scale:echo-10000-connections" 0 "$log"
    else
        echo "load status $status, server OS threads '${threads}'" >>"$log"
        record "scale:echo-10000-connections" 1 "$log"
    fi
}
scale_echo

# 40,000 parked green threads in one process: more than vm.max_map_count (65530 by default)
# allowed when every stack took two mappings.  With guard regions (Linux 6.13) 64 stacks share
# one; an older kernel still takes two a stack, and is asked for 30,000 only.
scale_parked() {
    local log=$LOG/scale-parked.log n=40000 kernel threads
    kernel=$(uname -r | awk -F. '{print $1 * 1000 + $2}')
    [ "$kernel" -ge 6013 ] || n=30000
    env "$GREEN" timeout -k 5 "$TIMEOUT" "$B/bench/memory" "$n" >"$log" 2>&1
    local status=$?
    threads=$(awk '{for (i = 1; i < NF; i++) if ($i == "os_threads") print $(i+1)}' "$log")
    if [ $status -ne 0 ] || [ -z "$threads" ] || [ "$threads" -gt 2 ]; then
        echo "status $status, OS threads '${threads}'" >>"$log"
        status=1
    fi
    record "scale:parked-$n" $status "$log"
}
scale_parked

echo "== compatibility"
# tests/compat/run.sh --ci: unmodified Debian programs under greenrun (python3 http.server, socat,
# redis-server and redis-benchmark, memcached, curl, getent, openssl); its test lines, and its
# counts added to the totals.  make compat runs those and CPython's own test suites.
log="$LOG/compat.log"
timeout -k 5 400 tests/compat/run.sh --ci >"$log" 2>&1
status=$?
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
grep -vE '^[0-9]+ passed, [0-9]+ failed$|^failed: ' "$log"
if [ -n "$summary" ]; then
    set -- $summary
    passed=$((passed + $1))
    failed=$((failed + $3))
    [ "$3" -gt 0 ] && failures+=("compat")
fi
if [ -z "$summary" ] || { [ "$status" -ne 0 ] && [ "${3:-0}" -eq 0 ]; }; then
    record "compat" 1 "$log"
fi

echo "== debugger"
# Programs under libgreen run under gdb, started by it and attached to: gdb reads the names of
# loaded libraries in its own process (libgreen's in-memory NSS module once made it wait for
# ever on a pipe of its own), and attaching must neither hang nor disturb the program.
gdb_run() {
    local log=$LOG/gdb-run.log
    timeout -k 5 60 gdb -q -batch -nx -ex "set env $GREEN" -ex run -ex "info sharedlibrary" \
        --args "$B/plain/join" >"$log" 2>&1
    local status=$?
    grep -q "exited normally" "$log" || status=1
    record "debug:gdb-run" $status "$log"
}
gdb_attach() {
    local dir log=$LOG/gdb-attach.log pid port status
    dir=$(mktemp -d)
    env "$GREEN" "$B/plain/echo_server" serve 0 "$dir/port" >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.05; done
    port=$(cat "$dir/port" 2>/dev/null || echo 0)
    # Connections first, so that descriptor numbers libgreen used at start-up are reused.
    timeout -k 5 30 "$B/tools/echo_load" 127.0.0.1 "$port" 20 3 64 >>"$log" 2>&1
    timeout -k 5 60 gdb -q -batch -nx -p "$pid" -ex "info sharedlibrary" -ex "info threads" \
        -ex detach >>"$log" 2>&1
    status=$?
    timeout -k 5 30 "$B/tools/echo_load" 127.0.0.1 "$port" 20 3 64 >>"$log" 2>&1 || status=1
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -rf "$dir"
    record "debug:gdb-attach" $status "$log"
}
# libgreen's gdb extension (scripts/libgreen-gdb.py) on tests/tools/parked.c: 20 green threads
# parked in sleep, read, mutex, condition variable, semaphore and join calls.  Under gdb from the
# start (the extension auto-loaded from the build directory, main stopped at a breakpoint),
# attached to under greenrun (then the process must finish its work after the detach), and in a
# core file saved by the extension's green-gcore; tests/tools/gdb_green_check.py reads the
# listing and the backtraces.
GDB_GREEN=(-ex "info green-threads" -ex "green-thread apply all bt")
echo go >"$LOG/go"  # what parked reads on stdin when gdb runs it
gdb_green_run() {
    local log=$LOG/gdb-green-run.log status
    timeout -k 5 120 gdb -q -batch -nx -iex "add-auto-load-safe-path $PWD/$B" \
        -ex "set env $GREEN" -ex "handle SIGUSR1 nostop noprint" -ex "break wait_for_go" \
        -ex "run < $LOG/go" "${GDB_GREEN[@]}" \
        -ex continue --args "$B/tools/parked" >"$log" 2>&1
    status=$?
    grep -q "exited normally" "$log" && grep -q "^done: 20 threads finished" "$log" || status=1
    python3 tests/tools/gdb_green_check.py "$log" running >>"$log" 2>&1 || status=1
    record "debug:gdb-green-run" $status "$log"
}
gdb_green_attach() {
    local dir log=$LOG/gdb-green-attach.log pid status
    dir=$(mktemp -d)
    mkfifo "$dir/go"
    scripts/greenrun --dump-signal USR2 "$B/tools/parked" <"$dir/go" >"$dir/out" 2>&1 &
    pid=$!
    exec 8>"$dir/go"
    for _ in $(seq 200); do grep -q '^ready' "$dir/out" && break; sleep 0.05; done
    kill -USR2 "$pid"  # the dump names each joiner's target, on its worker or another
    for _ in $(seq 100); do [ "$(grep -c 'dump: ' "$dir/out")" -ge 2 ] && break; sleep 0.05; done
    timeout -k 5 120 gdb -q -batch -nx -p "$pid" -ex "source $B/libgreen.so-gdb.py" \
        "${GDB_GREEN[@]}" -ex "green-gcore $dir/core" -ex detach >"$log" 2>&1
    status=$?
    python3 tests/tools/gdb_green_check.py "$log" >>"$log" 2>&1 || status=1
    (echo go >&8) 2>/dev/null  # in a subshell: should it have died, SIGPIPE ends only that
    exec 8>&-
    timeout -k 5 30 tail --pid="$pid" -f /dev/null
    wait "$pid" || status=1
    cat "$dir/out" >>"$log"
    grep -q "^done: 20 threads finished" "$dir/out" || status=1
    record "debug:gdb-green-attach" $status "$log"
    [ "$(grep -Ec 'parked for .* on pthread_join of thread [1-9]' "$dir/out")" -eq 3 ]
    record "debug:dump-join-target" $? "$dir/out"
    log=$LOG/gdb-green-core.log
    timeout -k 5 120 gdb -q -batch -nx "$B/tools/parked" "$dir/core" \
        -ex "source $B/libgreen.so-gdb.py" "${GDB_GREEN[@]}" >"$log" 2>&1
    status=$?
    python3 tests/tools/gdb_green_check.py "$log" >>"$log" 2>&1 || status=1
    record "debug:gdb-green-core" $status "$log"
    rm -rf "$dir"
}
# A process without libgreen, and a libgreen whose table has another layout: one line each.
gdb_green_refuses() {
    local log=$LOG/gdb-green-refuses.log status=0
    timeout -k 5 60 gdb -q -batch -nx -ex "source $B/libgreen.so-gdb.py" -ex "break wait_for_go" \
        -ex "run < $LOG/go" -ex "info green-threads" --args "$B/tools/parked" >"$log" 2>&1
    grep -q "^libgreen: this process has no libgreen (no libgreen_debug_info symbol)$" "$log" ||
        status=1
    timeout -k 5 60 gdb -q -batch -nx -ex "source $B/libgreen.so-gdb.py" -ex "set env $GREEN" \
        -ex "break wait_for_go" -ex "run < $LOG/go" \
        -ex "set var *((unsigned long*)&libgreen_debug_info + 1) = 99" \
        -ex "info green-threads" --args "$B/tools/parked" >>"$log" 2>&1
    grep -q "^libgreen: this libgreen has table layout 99, this extension reads layout 1" "$log" ||
        status=1
    record "debug:gdb-green-refuses" $status "$log"
}
gdb_run
gdb_attach
gdb_green_run
gdb_green_attach
gdb_green_refuses

echo "== install"
# make install into a scratch prefix: the installed greenrun finds the installed library and
# runs a plain program green, and judges values with the installed greenrun-env; make uninstall
# removes every file again.
install_check() {
    local prefix log=$LOG/install.log
    prefix=$(mktemp -d)
    {
        make --no-print-directory -s install PREFIX="$prefix" \
            GDB_AUTOLOAD="$prefix/share/gdb/auto-load" &&
            [ -f "$prefix/share/gdb/auto-load$prefix/lib/libgreen.so-gdb.py" ] &&
            "$prefix/bin/greenrun" env TEST_MAX_OS_THREADS=2 "$B/plain/join" &&
            "$prefix/bin/greenrun" sh -c 'case "$LD_PRELOAD" in "'"$prefix"'/lib/libgreen.so"*) ;; *) exit 1;; esac' &&
            "$prefix/bin/greenrun" --watchdog 10ms true &&
            { "$prefix/bin/greenrun" --watchdog 00 true; [ $? -eq 2 ]; } &&
            make --no-print-directory -s uninstall PREFIX="$prefix" \
                GDB_AUTOLOAD="$prefix/share/gdb/auto-load" &&
            [ -z "$(find "$prefix" -type f)" ]
    } >"$log" 2>&1
    record "install:prefix" $? "$log"
    rm -rf "$prefix"
    # Staged with DESTDIR for PREFIX=/usr: the staged greenrun finds the staged library.
    local stage
    stage=$(mktemp -d)
    {
        make --no-print-directory -s install DESTDIR="$stage" PREFIX=/usr &&
            "$stage/usr/bin/greenrun" env TEST_MAX_OS_THREADS=2 "$B/plain/join" &&
            "$stage/usr/bin/greenrun" sh -c 'case "$LD_PRELOAD" in "'"$stage"'/usr/lib/libgreen.so"*) ;; *) exit 1;; esac' &&
            { "$stage/usr/bin/greenrun" --watchdog 00 true; [ $? -eq 2 ]; } &&
            [ -f "$stage/usr/share/man/man1/greenrun.1" ] && [ -f "$stage/usr/share/man/man7/libgreen.7" ] &&
            [ -f "$stage/usr/share/gdb/auto-load/usr/lib/libgreen.so-gdb.py" ]
    } >"$log" 2>&1
    record "install:destdir" $? "$log"
    rm -rf "$stage"
}
install_check

echo "== package"
# make deb, then the package as a user gets it: apt-get installs it, the installed greenrun
# passes --check and runs the demo's sleepers, gdb loads the installed extension by itself, and
# dpkg -r leaves none of its files.  One run at a time on a machine (a lock), and never over a
# libgreen package installed before (it would be removed).
package_steps() {
    local deb pid dir
    make --no-print-directory -s deb || return 1
    deb=$(ls "$B"/libgreen_*_"$(dpkg --print-architecture)".deb) || return 1
    apt-get install -y -qq -o DPkg::Lock::Timeout=300 "./$deb" || return 1
    dpkg -L libgreen | while read -r f; do [ -d "$f" ] || echo "$f"; done >"$LOG/package.files"
    grep -qx /usr/lib/"$(dpkg-architecture -qDEB_HOST_MULTIARCH)"/libgreen.so "$LOG/package.files" &&
        grep -qx /usr/bin/greenrun "$LOG/package.files" || return 1
    /usr/bin/greenrun --check || return 1
    /usr/bin/greenrun "$B/plain/sleepers" 10000 | tee /dev/stderr |
        grep -q "^sleepers: 10000 threads asked, 10000 finished;" || return 1
    dir=$(mktemp -d)
    mkfifo "$dir/go"
    /usr/bin/greenrun "$B/tools/parked" <"$dir/go" >"$dir/out" 2>&1 &
    pid=$!
    exec 8>"$dir/go"
    for _ in $(seq 200); do grep -q '^ready' "$dir/out" && break; sleep 0.05; done
    timeout -k 5 60 gdb -q -batch -nx -p "$pid" -ex "info green-threads" -ex detach >"$dir/gdb" 2>&1
    cat "$dir/gdb"
    (echo go >&8) 2>/dev/null
    exec 8>&-
    wait "$pid"
    local status=$?
    grep -q "^21 green threads$" "$dir/gdb" && grep -q "^done: 20 threads finished" "$dir/out"
    status=$((status | $?))
    rm -rf "$dir"
    return $status
}
package_check() {
    local log=$LOG/package.log status
    if dpkg-query -W -f='${Status}' libgreen 2>/dev/null | grep -q "install ok installed"; then
        echo "a libgreen package is installed here: the package test would remove it" >"$log"
        record "package:deb" 1 "$log"
        return
    fi
    : >"$LOG/package.files"
    (
        flock 9
        package_steps
        status=$?
        if dpkg-query -W -f='${Status}' libgreen 2>/dev/null | grep -q "install ok installed"; then
            dpkg -r libgreen || status=1
        fi
        while read -r f; do
            [ -e "$f" ] && { echo "left after dpkg -r: $f"; status=1; }
        done <"$LOG/package.files"
        exit $status
    ) 9>/run/lock/libgreen-package-test >"$log" 2>&1
    record "package:deb" $? "$log"
}
package_check

echo "== greenrun"
log="$LOG/greenrun.log"
GREENRUN=$PWD/scripts/greenrun timeout -k 5 "$TIMEOUT" tests/greenrun/test-greenrun.sh >"$log" 2>&1
status=$?
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
grep -E '^(not ok|FAIL)' "$log" | sed 's/^/    /'
if [ -n "$summary" ]; then
    set -- $summary
    echo "greenrun: $summary"
    passed=$((passed + $1))
    failed=$((failed + $3))
    [ "$3" -gt 0 ] && failures+=("greenrun")
fi
if [ -z "$summary" ] || { [ "$status" -ne 0 ] && [ "${3:-0}" -eq 0 ]; }; then
    record "greenrun" 1 "$log"
fi

echo "== dns"
# libgreen's resolver against glibc's on the test zone (tests/dns/compare.sh): its own test lines,
# and its counts added to the totals.  Each of its steps has its own time limit.
log="$LOG/dns.log"
timeout -k 5 400 tests/dns/compare.sh >"$log" 2>&1
status=$?
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
grep -vE '^[0-9]+ passed, [0-9]+ failed' "$log"
if [ -n "$summary" ]; then
    set -- $summary
    passed=$((passed + $1))
    failed=$((failed + $3))
    [ "$3" -gt 0 ] && failures+=("dns")
fi
if [ -z "$summary" ] || { [ "$status" -ne 0 ] && [ "${3:-0}" -eq 0 ]; }; then
    record "dns" 1 "$log"
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
    echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
