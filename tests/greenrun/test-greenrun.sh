#!/usr/bin/env bash
# Tests of greenrun, driven the way a user drives it: run it, look at the exit
# status, stdout, stderr and the environment the command sees.
#
# By default the tests run a copy of scripts/greenrun placed in a temporary
# tree next to a fake build/libgreen.so (an empty shared object) and the real
# judge of GREEN_* values, build/libgreen/greenrun-env, compiled here from the
# library's grammar (hub/env.cpp), so they need only bash, coreutils, gcc and
# g++. Set GREENRUN to the path of a greenrun to test that one instead, with
# whatever library it finds (the real one).
#
# Output: one line per case, "ok - NAME" or "not ok - NAME: why" ("SKIP - NAME:
# why" for a case this machine cannot run), and last "N passed, M failed".
# The exit status is 0 only if no case failed.
#
# shellcheck disable=SC2016,SC2317
# (single quotes keep $ for the shell under test; case functions run via t)
set -u

here=$(cd "$(dirname "$0")" && pwd)
source_greenrun=$here/../../scripts/greenrun

passed=0
failed=0

ok() {
    echo "ok - $1"
    ((passed += 1))
}

not_ok() {
    echo "not ok - $1: $2"
    ((failed += 1))
}

skip() {
    echo "SKIP - $1: $2"
}

finish() {
    echo "$passed passed, $failed failed"
    ((failed == 0))
    exit
}

# The variables greenrun reads or sets must not leak in from the caller.
unset GREEN_STACK_SIZE GREEN_LOG_LEVEL GREEN_STATS GREEN_LOG_FILE GREEN_WATCHDOG \
    GREEN_DUMP_SIGNAL GREEN_RESOLV_CONF GREEN_CHILDREN GREEN_FAMILIES GREEN_SEED GREEN_CHAOS GREEN_INJECT LD_PRELOAD \
    GREEN_PCT GREEN_PCT_STEPS GREEN_EXPIRE GREEN_SCHEDULE GREEN_TRACE GREEN_CHAOS_PREEMPT

work=$(mktemp -d "${TMPDIR:-/tmp}/test-greenrun.XXXXXX") || {
    not_ok setup "cannot create a temporary directory"
    finish
}
trap 'rm -rf "$work"' EXIT

# ---------------------------------------------------------------------------
# Fixtures

# build_so PATH: an empty shared object, which the loader preloads silently.
build_so() {
    gcc -shared -fPIC -o "$1" -x c /dev/null 2>/dev/null
}

if ! build_so "$work/other.so" || ! build_so "$work/other2.so"; then
    not_ok setup "gcc cannot build a shared object"
    finish
fi

mkdir -p "$work/build" "$work/scripts" "$work/bin" "$work/nolib/scripts"
if [[ -n ${GREENRUN-} ]]; then
    GR=$GREENRUN
    [[ $GR == */* ]] || GR=$(type -P -- "$GR") || GR=$GREENRUN
else
    build_so "$work/build/libgreen.so"
    mkdir -p "$work/build/libgreen"
    if ! g++ -std=c++17 -O1 -o "$work/build/libgreen/greenrun-env" \
        "$here/../../scripts/greenrun-env.cpp" "$here/../../hub/env.cpp"; then
        not_ok setup "g++ cannot build greenrun-env"
        finish
    fi
    if ! g++ -std=c++17 -O1 -o "$work/build/libgreen/greenrun-explore" \
        "$here/../../scripts/greenrun-explore.cpp"; then
        not_ok setup "g++ cannot build greenrun-explore"
        finish
    fi
    cp "$source_greenrun" "$work/scripts/greenrun"
    chmod +x "$work/scripts/greenrun"
    GR=$work/scripts/greenrun
fi
if [[ ! -x $GR ]]; then
    not_ok setup "greenrun not found or not executable: $GR"
    finish
fi

# A statically linked program, if this machine has a static libc.
printf 'int main(void) { return 0; }\n' >"$work/static.c"
have_static=0
if gcc -static -o "$work/static" "$work/static.c" 2>/dev/null; then
    have_static=1
    cp "$work/static" "$work/bin/static-interp"
fi

# patch_byte FILE OFFSET OCTAL: overwrite one byte of FILE.
patch_byte() {
    printf '%b' "\\$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

cp "$(type -P true)" "$work/setuid-true" && chmod u+s "$work/setuid-true"
cp "$(type -P true)" "$work/setgid-true" && chmod g+s "$work/setgid-true"
# EM_AARCH64 (183) in e_machine, and ELFCLASS32 in e_ident[EI_CLASS].
cp "$(type -P true)" "$work/arm-true" && patch_byte "$work/arm-true" 18 267
cp "$(type -P true)" "$work/class32-true" && patch_byte "$work/class32-true" 4 001

# make_script NAME CONTENT: an executable file in the work dir.
make_script() {
    printf '%s' "$2" >"$work/$1"
    chmod +x "$work/$1"
}

make_script sh-script '#!/bin/sh
echo "sh script: $1"
'
make_script env-bash-script '#!/usr/bin/env bash
echo "bash script: $1"
'
make_script preload-script '#!/bin/sh
echo "$LD_PRELOAD"
'
make_script no-shebang-script 'echo "no shebang"
'
make_script setuid-script '#!/bin/sh
echo "setuid script"
'
chmod u+s "$work/setuid-script"
make_script static-interp-script "#!$work/static
"
make_script env-static-interp-script '#!/usr/bin/env static-interp
'
printf 'echo hi\n' >"$work/not-executable"
chmod 644 "$work/not-executable"

# ---------------------------------------------------------------------------
# Running and judging

# run COMMAND...: run it with a time limit; sets status, out, err, err_lines.
run() {
    timeout 10 "$@" >"$work/out" 2>"$work/err" </dev/null
    status=$?
    out=$(<"$work/out")
    err=$(<"$work/err")
    err_lines=$(grep -c '' "$work/err")
    return 0
}

# The checks below print why they failed and return 1.

want_status() {
    if ((status == 124)); then
        echo "timed out"
        return 1
    fi
    if ((status != $1)); then
        echo "exit status $status, expected $1${err:+; stderr: ${err%%$'\n'*}}"
        return 1
    fi
}

want_out() {
    [[ $out == "$1" ]] && return 0
    echo "stdout was '$out', expected '$1'"
    return 1
}

want_out_line() {
    grep -qxF -- "$1" "$work/out" && return 0
    echo "no line '$1' on stdout (stdout: '$out')"
    return 1
}

want_quiet() {
    [[ -z $err ]] && return 0
    echo "unexpected stderr: ${err%%$'\n'*}"
    return 1
}

# want_error_line PATTERN...: exactly one line on stderr, from greenrun and
# naming every PATTERN; nothing on stdout.
want_error_line() {
    if ((err_lines != 1)); then
        echo "$err_lines lines on stderr, expected 1${err:+: ${err%%$'\n'*}}"
        return 1
    fi
    if [[ $err != 'greenrun: '* ]]; then
        echo "stderr does not start with 'greenrun: ': $err"
        return 1
    fi
    local pattern
    for pattern in "$@"; do
        if [[ $err != *"$pattern"* ]]; then
            echo "stderr does not mention '$pattern': $err"
            return 1
        fi
    done
    if [[ -n $out ]]; then
        echo "unexpected stdout: ${out%%$'\n'*}"
        return 1
    fi
}

# refused STATUS PATTERN... -- COMMAND...: COMMAND fails with STATUS and one
# error line naming every PATTERN.
refused() {
    local want=$1
    local -a patterns=()
    shift
    while (($# > 0)) && [[ $1 != -- ]]; do
        patterns+=("$1")
        shift
    done
    shift
    run "$@"
    want_status "$want" && want_error_line "${patterns[@]}"
}

# succeeds STDOUT COMMAND...: COMMAND exits 0, prints exactly STDOUT and
# nothing on stderr.
succeeds() {
    local want_stdout=$1
    shift
    run "$@"
    want_status 0 && want_quiet && want_out "$want_stdout"
}

# t NAME CHECK...: one case; CHECK runs in a subshell so a case cannot
# disturb the next.
t() {
    local name=$1 why
    shift
    if why=$("$@"); then
        ok "$name"
    else
        why=${why//$'\n'/ }
        not_ok "$name" "${why:-failed}"
    fi
}

# ---------------------------------------------------------------------------
# Cases

case_help() {
    run "$GR" --help
    want_status 0 && want_quiet || return 1
    local word
    for word in --stack-size --log-level --stats --log-file --watchdog --dump-signal --resolv-conf --children --families --workers --timeslice \
        --check --show -h --help --version -- '. greenrun on' '. greenrun off' \
        GREEN_STACK_SIZE GREEN_LOG_LEVEL GREEN_STATS GREEN_LOG_FILE GREEN_WATCHDOG \
        GREEN_DUMP_SIGNAL GREEN_RESOLV_CONF GREEN_CHILDREN GREEN_FAMILIES GREEN_WORKERS GREEN_TIMESLICE LD_PRELOAD error warn info debug 126 127 \
        --seed --replay --chaos --inject GREEN_SEED GREEN_CHAOS GREEN_INJECT \
        --pct --pct-steps --expire GREEN_PCT GREEN_PCT_STEPS GREEN_EXPIRE \
        --explore --jobs --timeout --expect-exit --expect-output --keep-going \
        --shrink --replay-file --trace GREEN_SCHEDULE GREEN_TRACE \
        --chaos-preempt GREEN_CHAOS_PREEMPT --thread-ids GREEN_THREAD_IDS; do
        if [[ $out != *"$word"* ]]; then
            echo "help does not mention $word"
            return 1
        fi
    done
}
t "--help exits 0 and lists every option, variable and exit status" case_help

case_short_help() {
    local long
    long=$(timeout 10 "$GR" --help)
    succeeds "$long" "$GR" -h
}
t "-h prints the same help" case_short_help

t "--version" succeeds "greenrun (libgreen) 0.1.0" "$GR" --version

# --- running the command

t "greenrun true exits 0" succeeds "" "$GR" true

case_exit_status() {
    run "$GR" sh -c 'exit 7'
    want_status 7 && want_quiet
}
t "the command's exit status passes through" case_exit_status

case_signal() {
    run "$GR" sh -c 'kill -TERM $$'
    want_status 143
}
t "death by a signal passes through (143 for SIGTERM)" case_signal

t "arguments pass through unchanged, options after the command are its own" \
    succeeds "[a b][--stack-size][][-h]" "$GR" printf '[%s]' 'a b' --stack-size '' -h

t "argv[0] stays as typed" \
    succeeds "sh" "$GR" sh -c 'tr "\0" "\n" </proc/$$/cmdline | head -n 1'

# If greenrun replaced itself with the command, the command's parent is the
# shell that started greenrun.
t "greenrun execs the command instead of waiting for it" \
    succeeds "same parent" sh -c '
        "$0" sh -c "echo \$PPID" >"$1"
        parent=$(cat "$1")
        if [ "$parent" = "$$" ]; then echo "same parent"; else echo "parent $parent, not $$"; fi
        ' "$GR" "$work/parent"

t "-- ends the options" \
    succeeds "GREEN_LOG_LEVEL=info" "$GR" --log-level info -- sh -c 'env | grep "^GREEN_"'

case_dashdash_command() {
    refused 127 "--version: command not found" -- "$GR" -- --version
}
t "after --, a word starting with - is the command" case_dashdash_command

case_symlink() {
    ln -s "$GR" "$work/bin/greenrun-link" || return 1
    run "$work/bin/greenrun-link" printenv LD_PRELOAD
    want_status 0 && want_quiet || return 1
    if [[ $out != */libgreen.so ]]; then
        echo "via a symlink, LD_PRELOAD is '$out'"
        return 1
    fi
}
t "works when started through a symlink" case_symlink

# --- LD_PRELOAD

case_preload_alone() {
    run "$GR" printenv LD_PRELOAD
    want_status 0 && want_quiet || return 1
    if [[ $out != /*/libgreen.so || ! -f $out ]]; then
        echo "LD_PRELOAD is '$out', expected the absolute path of an existing libgreen.so"
        return 1
    fi
    if [[ -z ${GREENRUN-} && $out != "$work/build/libgreen.so" ]]; then
        echo "LD_PRELOAD is '$out', expected $work/build/libgreen.so"
        return 1
    fi
}
t "LD_PRELOAD is set to the library" case_preload_alone

# The library path greenrun uses, for the cases below.
lib=$(env -u LD_PRELOAD timeout 10 "$GR" printenv LD_PRELOAD)

t "an existing LD_PRELOAD is kept, after the library" \
    succeeds "$lib $work/other.so" env LD_PRELOAD="$work/other.so" "$GR" printenv LD_PRELOAD

t "an existing colon-separated LD_PRELOAD is kept" \
    succeeds "$lib $work/other.so:$work/other2.so" \
    env LD_PRELOAD="$work/other.so:$work/other2.so" "$GR" printenv LD_PRELOAD

t "the library is not preloaded twice" \
    succeeds "$work/other.so $lib" env LD_PRELOAD="$work/other.so $lib" "$GR" printenv LD_PRELOAD

# --- options and their variables

t "--stack-size VALUE sets GREEN_STACK_SIZE" \
    succeeds "GREEN_STACK_SIZE=64k" "$GR" --stack-size 64k sh -c 'env | grep "^GREEN_"'

t "--stack-size=VALUE sets GREEN_STACK_SIZE" \
    succeeds "GREEN_STACK_SIZE=1M" "$GR" --stack-size=1M sh -c 'env | grep "^GREEN_"'

# A verbose level may make the real library talk on stderr, so only the
# variable is checked here.
case_level() {
    local expected=$1
    shift
    run "$GR" "$@" printenv GREEN_LOG_LEVEL
    want_status 0 && want_out "$expected"
}
t "--log-level VALUE sets GREEN_LOG_LEVEL" case_level debug --log-level debug
t "--log-level=VALUE sets GREEN_LOG_LEVEL" case_level error --log-level=error
for level in warn info; do
    t "--log-level $level is accepted" case_level "$level" --log-level "$level"
done

t "the last of a repeated option wins" \
    succeeds "GREEN_STACK_SIZE=2m" "$GR" --stack-size 1m --stack-size=2m sh -c 'env | grep "^GREEN_"'

for size in 16k 16K 16384 65536 8m 1024M 1g 1G 1073741824; do
    t "--stack-size $size is accepted" succeeds "$size" "$GR" --stack-size "$size" printenv GREEN_STACK_SIZE
done

for size in 12q 15k 16383 1025m 2g 1073741825 0 -5 '' 64kb ' 64k' 0x10000 1.5m 99999999999999999999k; do
    t "--stack-size '$size' is refused" \
        refused 2 "GREEN_STACK_SIZE" "16k" "1g" -- "$GR" --stack-size="$size" true
done

for level in loud DEBUG '' 'warn '; do
    t "--log-level '$level' is refused" \
        refused 2 "GREEN_LOG_LEVEL" "error" "warn" "info" "debug" -- "$GR" --log-level "$level" true
done

t "--stack-size without a value is refused" refused 2 "--stack-size" -- "$GR" --stack-size
t "--log-level without a value is refused" refused 2 "--log-level" -- "$GR" --log-level
t "an unknown long option is refused" refused 2 "--bogus" -- "$GR" --bogus true
t "an unknown short option is refused" refused 2 "-x" -- "$GR" -x true
t "no command is refused" refused 2 -- "$GR"
t "no command after -- is refused" refused 2 -- "$GR" --
t "no command after options is refused" refused 2 -- "$GR" --stack-size 64k

# --- diagnostics options

t "--stats sets GREEN_STATS=1" \
    succeeds "GREEN_STATS=1" "$GR" --stats sh -c 'env | grep "^GREEN_"'
t "--stats takes no value" refused 2 "--stats=1" -- "$GR" --stats=1 true

t "--log-file VALUE sets GREEN_LOG_FILE" \
    succeeds "GREEN_LOG_FILE=$work/green.log" "$GR" --log-file "$work/green.log" sh -c 'env | grep "^GREEN_"'
t "--log-file=VALUE sets GREEN_LOG_FILE" \
    succeeds "$work/green.log" "$GR" --log-file="$work/green.log" printenv GREEN_LOG_FILE
t "--log-file may name a file that exists" \
    succeeds "$work/out" "$GR" --log-file "$work/out" printenv GREEN_LOG_FILE
for path in "$work/no-such-dir/log" "$work" ''; do
    t "--log-file '$path' is refused" \
        refused 2 "--log-file" "GREEN_LOG_FILE" "created or appended to" -- "$GR" --log-file="$path" true
done

for duration in 0 10ms 500ms 2s 3600s 3600000ms; do
    t "--watchdog $duration is accepted" \
        succeeds "$duration" "$GR" --watchdog "$duration" printenv GREEN_WATCHDOG
done
t "--watchdog=VALUE sets GREEN_WATCHDOG" \
    succeeds "GREEN_WATCHDOG=2s" "$GR" --watchdog=2s sh -c 'env | grep "^GREEN_"'
for duration in 5 9ms 0ms 0s 3601s 1.5s -1s '' 2m 1h 500MS ' 2s' 99999999999999s 00 010s; do
    t "--watchdog '$duration' is refused" \
        refused 2 "--watchdog" "GREEN_WATCHDOG" "ms or s" "10ms to 3600s" -- "$GR" --watchdog="$duration" true
done

for sig in USR2 SIGUSR2 12 HUP SIGRTMIN RTMIN+3 RTMAX RTMAX-1 34 64 31; do
    t "--dump-signal $sig is accepted" \
        succeeds "$sig" "$GR" --dump-signal "$sig" printenv GREEN_DUMP_SIGNAL
done
t "--dump-signal=VALUE sets GREEN_DUMP_SIGNAL" \
    succeeds "GREEN_DUMP_SIGNAL=USR1" "$GR" --dump-signal=USR1 sh -c 'env | grep "^GREEN_"'
for sig in KILL SIGKILL 9 STOP 19 SEGV 11 ABRT 32 33 0 65 usr2 RTMIN+31 RTMAX-31 RTMIN-1 BOGUS '' SIG; do
    t "--dump-signal '$sig' is refused" \
        refused 2 "--dump-signal" "GREEN_DUMP_SIGNAL" "USR2" "KILL" -- "$GR" --dump-signal="$sig" true
done

t "--resolv-conf VALUE sets GREEN_RESOLV_CONF" \
    succeeds "GREEN_RESOLV_CONF=/etc/hosts" "$GR" --resolv-conf /etc/hosts sh -c 'env | grep "^GREEN_RESOLV"'
t "--resolv-conf=VALUE sets GREEN_RESOLV_CONF" \
    succeeds "/etc/hosts" "$GR" --resolv-conf=/etc/hosts printenv GREEN_RESOLV_CONF
for path in "$work/no-such-file" "$work"; do
    t "--resolv-conf '$path' is refused" \
        refused 2 "--resolv-conf" "GREEN_RESOLV_CONF" "readable file" -- "$GR" --resolv-conf="$path" true
done

t "--children plain sets GREEN_CHILDREN" \
    succeeds "GREEN_CHILDREN=plain" "$GR" --children plain sh -c 'env | grep "^GREEN_CHILDREN"'
t "--children=green sets GREEN_CHILDREN" \
    succeeds "green" "$GR" --children=green printenv GREEN_CHILDREN
t "--children 'some' is refused" \
    refused 2 "--children" "GREEN_CHILDREN" "green or plain" -- "$GR" --children=some true
t "--thread-ids os sets GREEN_THREAD_IDS" \
    succeeds "os" "$GR" --thread-ids os printenv GREEN_THREAD_IDS
t "--thread-ids 'plain' is refused" \
    refused 2 "--thread-ids" "GREEN_THREAD_IDS" "green or os" -- "$GR" --thread-ids=plain true

t "--families threads,sync sets GREEN_FAMILIES" \
    succeeds "GREEN_FAMILIES=threads,sync" "$GR" --families threads,sync sh -c 'env | grep "^GREEN_FAMILIES"'
t "--families 'threads,tcp' is refused" \
    refused 2 "--families" "GREEN_FAMILIES" "threads, sockets" -- "$GR" --families=threads,tcp true
t "--workers 2 sets GREEN_WORKERS" \
    succeeds "GREEN_WORKERS=2" "$GR" --workers 2 sh -c 'env | grep "^GREEN_WORKERS"'
for bad in 0 02 257 two; do
    t "--workers $bad is refused" \
        refused 2 "--workers" "GREEN_WORKERS" "1 to 256" -- "$GR" --workers "$bad" true
done
t "GREEN_WORKERS=0 in the environment is refused" \
    refused 2 "GREEN_WORKERS" "1 to 256" -- env GREEN_WORKERS=0 "$GR" true
t "--timeslice 1ms sets GREEN_TIMESLICE" \
    succeeds "GREEN_TIMESLICE=1ms" "$GR" --timeslice 1ms sh -c 'env | grep "^GREEN_TIMESLICE"'
for bad in 5 1001ms 01ms 1s; do
    t "--timeslice $bad is refused" \
        refused 2 "--timeslice" "GREEN_TIMESLICE" "1ms to 1000ms" -- "$GR" --timeslice "$bad" true
done

for opt in --log-file --watchdog --dump-signal --resolv-conf --children --families --thread-ids; do
    t "$opt without a value is refused" refused 2 "$opt" "requires a value" -- "$GR" "$opt"
done

# --- --check

case_check_fields() {
    run "$GR" --check
    want_status 0 && want_quiet || return 1
    local line maps kernel maps_line
    maps=$(cat /proc/sys/vm/max_map_count)
    kernel=$(uname -r | awk -F. '{print $1 * 1000 + $2}')
    if [ "$kernel" -ge 6013 ]; then
        maps_line="vm.max_map_count: $maps (fewer than $((maps * 64)) green threads alive at once: 64 stacks per mapping)"
    else
        maps_line="vm.max_map_count: $maps (fewer than $((maps / 2)) green threads alive at once: 2 mappings per stack)"
    fi
    for line in "open files (ulimit -n): soft $(ulimit -Sn), hard $(ulimit -Hn)" \
        "$maps_line" \
        "kernel.pid_max: $(cat /proc/sys/kernel/pid_max)" \
        "kernel.threads-max: $(cat /proc/sys/kernel/threads-max)"; do
        want_out_line "$line" || return 1
    done
    local field
    for field in 'vm.overcommit_memory: ' 'stack size: ' 'library: '; do
        if ! grep -q "^$field" "$work/out"; then
            echo "no '$field' line: $out"
            return 1
        fi
    done
    if grep -q '^command:' "$work/out"; then
        echo "a command line without a command: $out"
        return 1
    fi
}
t "--check prints every limit and exits 0" case_check_fields

case_check_stack() {
    run "$GR" --stack-size 64k --check
    want_status 0 && want_out_line "stack size: 64k (GREEN_STACK_SIZE)"
}
t "--check reports the stack size an option sets" case_check_stack

case_check_command() {
    local want=$1
    shift
    run "$GR" --check "$@"
    want_status 0 || return 1
    if ! grep -qF -- "$want" "$work/out"; then
        echo "no '$want' in: $(grep '^command:' "$work/out")"
        return 1
    fi
}
t "--check on a dynamic program says LD_PRELOAD will work" \
    case_check_command "command: $(type -P true): dynamically linked; LD_PRELOAD will work" true
t "--check on a setuid program says LD_PRELOAD will not work" \
    case_check_command "command: $work/setuid-true: setuid; LD_PRELOAD will not work" "$work/setuid-true"
t "--check on a script names its interpreter" \
    case_check_command "command: $work/sh-script: a script run by /bin/sh; LD_PRELOAD will work" "$work/sh-script"
t "--check on a missing command says so and exits 0" \
    case_check_command "command: no-such-command-here: command not found" no-such-command-here
if ((have_static)); then
    t "--check on a static program says LD_PRELOAD will not work" \
        case_check_command "command: $work/static: statically linked; LD_PRELOAD will not work" "$work/static"
else
    skip "--check on a static program says LD_PRELOAD will not work" "gcc -static does not work here"
fi

# --- on, off, --show

make_script bin/on '#!/bin/sh
echo "the command named on"
'
t "greenrun -- on runs a command named on" \
    succeeds "the command named on" env PATH="$work/bin:$PATH" "$GR" -- on

case_on_executed() {
    run "$GR" on
    want_status 2 && want_out "export LD_PRELOAD='$lib'" || return 1
    if ((err_lines != 1)) || [[ $err != 'greenrun: '*'. greenrun on'* ]]; then
        echo "stderr: $err"
        return 1
    fi
}
t "greenrun on, executed, prints the line to eval and exits 2" case_on_executed

case_off_executed() {
    run env LD_PRELOAD="$work/other.so $lib" "$GR" off
    want_status 2 && want_out "export LD_PRELOAD='$work/other.so'" || return 1
    [[ $err == 'greenrun: '*'. greenrun off'* ]] || { echo "stderr: $err"; return 1; }
    run env LD_PRELOAD="$lib" "$GR" off
    want_status 2 && want_out "unset LD_PRELOAD"
}
t "greenrun off, executed, prints the line to eval and exits 2" case_off_executed

t "eval of what greenrun on prints turns libgreen on" \
    succeeds "$lib $work/other.so" env LD_PRELOAD="$work/other.so" bash -c 'eval "$("$0" on 2>/dev/null)"; printenv LD_PRELOAD' "$GR"

# Sourced: bash -c '. "$0" ...' "$GR" reads greenrun into that bash, as a user's shell would.
t "sourced in bash, on puts the library first and keeps the rest" \
    succeeds "$lib $work/other.so|$work/other.so" env LD_PRELOAD="$work/other.so" bash -c '
        . "$0" on 2>/dev/null; a=$LD_PRELOAD; . "$0" off 2>/dev/null; echo "$a|$LD_PRELOAD"' "$GR"
t "sourced twice, on preloads the library once" \
    succeeds "$lib" bash -c '. "$0" on 2>/dev/null; . "$0" on 2>/dev/null; printenv LD_PRELOAD' "$GR"
t "sourced off unsets an LD_PRELOAD that held only the library" \
    succeeds "unset" bash -c '. "$0" on 2>/dev/null; . "$0" off 2>/dev/null; echo "${LD_PRELOAD-unset}"' "$GR"
t "sourced, greenrun leaves no variable and no shell option behind" \
    succeeds "" bash -c 'before=$(set -o); . "$0" on 2>/dev/null; compgen -v | grep __greenrun;
        [ "$(set -o)" = "$before" ] || echo "shell options changed"' "$GR"
t "sourced into a shell with set -eu -o pipefail, on and off work and the shell lives on" \
    succeeds "$lib|unset|alive" bash -c 'set -eu -o pipefail; . "$0" on 2>/dev/null; a=$LD_PRELOAD
        . "$0" off 2>/dev/null; echo "$a|${LD_PRELOAD-unset}|alive"' "$GR"
t "sourced without on or off, greenrun returns 2 and changes nothing" \
    succeeds "2 unset" bash -c '. "$0" 2>/dev/null; echo "$? ${LD_PRELOAD-unset}"' "$GR"
t "sourced on says so on stderr" \
    refused 0 "libgreen is on" -- bash -c '. "$0" on' "$GR"
mkdir -p "$work/grbin" && ln -sf "$GR" "$work/grbin/greenrun"
if command -v dash >/dev/null; then
    t "sourced by dash from PATH (set -- on; . greenrun)" \
        succeeds "$lib" env PATH="$work/grbin:$PATH" dash -c 'set -- on; . greenrun 2>/dev/null; printenv LD_PRELOAD'
else
    skip "sourced by dash from PATH (set -- on; . greenrun)" "no dash here"
fi

t "--show with the library preloaded" \
    succeeds "libgreen is on: LD_PRELOAD=$lib" env LD_PRELOAD="$lib" "$GR" --show
t "--show without it" \
    succeeds "libgreen is off: LD_PRELOAD=$work/other.so" env LD_PRELOAD="$work/other.so" "$GR" --show

# --- variables already in the environment

t "an invalid GREEN_STACK_SIZE in the environment is refused" \
    refused 2 "GREEN_STACK_SIZE" "12q" -- env GREEN_STACK_SIZE=12q "$GR" true
t "an invalid GREEN_LOG_LEVEL in the environment is refused" \
    refused 2 "GREEN_LOG_LEVEL" "loud" -- env GREEN_LOG_LEVEL=loud "$GR" true
for pair in GREEN_STATS=yes GREEN_STATS=2 GREEN_WATCHDOG=5 GREEN_WATCHDOG=1.5s \
    GREEN_DUMP_SIGNAL=KILL GREEN_DUMP_SIGNAL=99 "GREEN_LOG_FILE=$work/no-such-dir/log"; do
    t "an invalid ${pair%%=*} in the environment is refused (${pair#*=})" \
        refused 2 "${pair%%=*}" "in the environment" -- env "$pair" "$GR" true
done
for pair in GREEN_STATS=0 GREEN_WATCHDOG=2s GREEN_DUMP_SIGNAL=SIGUSR2 "GREEN_LOG_FILE=$work/green.log"; do
    t "a valid ${pair%%=*} in the environment is kept (${pair#*=})" \
        succeeds "${pair#*=}" env "$pair" "$GR" printenv "${pair%%=*}"
done
t "a valid GREEN_STACK_SIZE in the environment is kept" \
    succeeds "256k" env GREEN_STACK_SIZE=256k "$GR" printenv GREEN_STACK_SIZE
t "an empty GREEN_STACK_SIZE in the environment counts as unset" \
    succeeds "" env GREEN_STACK_SIZE= "$GR" true
t "an option replaces an invalid value in the environment" \
    succeeds "64k" env GREEN_STACK_SIZE=12q "$GR" --stack-size 64k printenv GREEN_STACK_SIZE

# One grammar, the library's (hub/env.cpp), judges every value: a value on a
# second line is not valid (greenrun used to read only the first line), nor is
# a number with leading zeros (octal?), an empty last item, an exponent or a
# hexadecimal fraction.  The line shows control characters as '?'.
for pair in $'GREEN_FAMILIES=threads\nsockets' $'GREEN_FAMILIES=sleep\nbogus' \
    $'GREEN_INJECT=eintr:0.1\nbogus:1' $'GREEN_INJECT=eintr:0.1\n' \
    $'GREEN_STACK_SIZE=64k\n' $'GREEN_LOG_LEVEL=warn\nx' $'GREEN_CHILDREN=plain\n' \
    GREEN_WATCHDOG=00 GREEN_WATCHDOG=010s 'GREEN_INJECT=eintr:0.1,' GREEN_CHAOS=0x.8 \
    GREEN_CHAOS=1e-1 GREEN_CHAOS=00.5 GREEN_CHAOS=0. GREEN_DUMP_SIGNAL=0010 \
    GREEN_DUMP_SIGNAL=010 GREEN_DUMP_SIGNAL=RTMIN+03 GREEN_SEED=007 GREEN_STACK_SIZE=064k \
    GREEN_INJECT=connect-delay:050ms; do
    shown_pair=${pair//$'\n'/?}
    t "$shown_pair in the environment is refused" \
        refused 2 "${shown_pair%%=*}='${shown_pair#*=}' in the environment" -- env "$pair" "$GR" true
done
t "--families with a second line is refused" \
    refused 2 "--families 'threads?sockets' is not valid (GREEN_FAMILIES)" -- \
    "$GR" --families $'threads\nsockets' true
t "--inject with a second line is refused" \
    refused 2 "--inject 'eintr:0.1?bogus:1' is not valid (GREEN_INJECT)" -- \
    "$GR" --inject $'eintr:0.1\nbogus:1' true
for p in 0 1 0.5 .5 1.0 1.000 0.000001; do
    t "--chaos $p is accepted" succeeds "$p" "$GR" --chaos "$p" --seed 1 printenv GREEN_CHAOS
done

# Without greenrun-env, a value cannot be judged: greenrun says so and stops;
# without any value to judge it is not needed.
case_missing_helper() {
    mkdir -p "$work/nohelper/scripts" "$work/nohelper/build" || return 1
    cp "$GR" "$work/nohelper/scripts/greenrun" && build_so "$work/nohelper/build/libgreen.so" || return 1
    refused 2 "cannot find $work/nohelper/build/libgreen/greenrun-env" "run make first" -- \
        "$work/nohelper/scripts/greenrun" --stats true || return
    succeeds "" "$work/nohelper/scripts/greenrun" true
}
if grep -qF "'@LIB""DIR@'" "$GR"; then
    t "a missing greenrun-env is reported when there is a value to check" case_missing_helper
else
    skip "a missing greenrun-env is reported" "this greenrun has an installed library directory"
fi

# --- finding the command

t "a command not on PATH exits 127" refused 127 "no-such-command-here: command not found" -- \
    "$GR" no-such-command-here
t "a missing path exits 127" refused 127 "command not found" -- "$GR" "$work/no-such-file"
t "a file that is not executable exits 126" refused 126 "$work/not-executable" -- \
    "$GR" "$work/not-executable"
t "a directory exits 126" refused 126 "$work" -- "$GR" "$work"
t "a command is found on PATH" succeeds "sh script: x" env PATH="$work:$PATH" "$GR" sh-script x

# --- targets that cannot run green

t "a setuid program is refused" \
    refused 2 "$work/setuid-true" "setuid" "LD_PRELOAD" -- "$GR" "$work/setuid-true"
t "a setgid program is refused" \
    refused 2 "$work/setgid-true" "setgid" "LD_PRELOAD" -- "$GR" "$work/setgid-true"
t "a non-x86_64 ELF program is refused" \
    refused 2 "$work/arm-true" "x86_64" -- "$GR" "$work/arm-true"
t "a 32-bit ELF program is refused" \
    refused 2 "$work/class32-true" "x86_64" -- "$GR" "$work/class32-true"

if ((have_static)); then
    t "a statically linked program is refused" \
        refused 2 "$work/static" "statically linked" -- "$GR" "$work/static"
    t "a script whose interpreter is statically linked is refused" \
        refused 2 "$work/static" "statically linked" -- "$GR" "$work/static-interp-script"
    t "a script run by env with a statically linked interpreter is refused" \
        refused 2 "static-interp" "statically linked" -- \
        env PATH="$work/bin:$PATH" "$GR" "$work/env-static-interp-script"
else
    for name in "a statically linked program is refused" \
        "a script whose interpreter is statically linked is refused" \
        "a script run by env with a statically linked interpreter is refused"; do
        skip "$name" "gcc -static does not work here"
    done
fi

# --- scripts

t "a #!/bin/sh script runs" succeeds "sh script: x" "$GR" "$work/sh-script" x
t "a #!/usr/bin/env bash script runs" succeeds "bash script: y" "$GR" "$work/env-bash-script" y
t "a script sees LD_PRELOAD" succeeds "$lib" "$GR" "$work/preload-script"
t "a setuid script runs (the kernel ignores setuid on scripts)" \
    succeeds "setuid script" "$GR" "$work/setuid-script"
t "a file without #! runs as a shell would run it" \
    succeeds "no shebang" "$GR" "$work/no-shebang-script"

# --- the library

# Only a greenrun that still looks for the library next to itself can be
# moved away from it.
case_missing_library() {
    cp "$GR" "$work/nolib/scripts/greenrun" || return 1
    refused 2 "cannot find libgreen.so" "$work/nolib/build" "run make first" -- \
        "$work/nolib/scripts/greenrun" true
}
if grep -qF "'@LIB""DIR@'" "$GR"; then
    t "a missing library is reported" case_missing_library
else
    skip "a missing library is reported" "this greenrun has an installed library directory"
fi

# --- seeded schedules, chaos and fault injection

# With the real library, --chaos or --inject without a seed makes it print the
# seed it picked on stderr: only stdout and the status are checked here.
# case_env EXPECTED_STDOUT OPTION...: greenrun OPTION... sets these variables.
case_env() {
    local expected=$1
    shift
    run "$GR" "$@" sh -c 'env | grep "^GREEN_" | sort'
    want_status 0 && want_out "$expected"
}
t "--seed N sets GREEN_SEED" case_env "GREEN_SEED=42" --seed 42
t "--seed=N sets GREEN_SEED" case_env "GREEN_SEED=0" --seed=0
t "--replay N is --seed N" case_env "GREEN_SEED=987654321" --replay 987654321
t "the largest seed is accepted" case_env "GREEN_SEED=18446744073709551615" --seed 18446744073709551615
t "--chaos P sets GREEN_CHAOS" case_env $'GREEN_CHAOS=0.25\nGREEN_SEED=7' --seed 7 --chaos 0.25
t "--chaos=1 is accepted" case_env $'GREEN_CHAOS=1\nGREEN_SEED=7' --chaos=1 --seed=7
t "--inject SPEC sets GREEN_INJECT" \
    case_env $'GREEN_INJECT=short-read:0.1,eintr:0.05,connect-delay:50ms\nGREEN_SEED=3' \
    --seed 3 --inject short-read:0.1,eintr:0.05,connect-delay:50ms
t "every fault kind is accepted" \
    case_env $'GREEN_INJECT=short-read:1,short-write:.5,eintr:0,eagain:0.1,reset:0.02,connect-fail:1.0,dns-fail:0.1,connect-delay:2s,read-latency:10us\nGREEN_SEED=1' \
    --seed 1 --inject=short-read:1,short-write:.5,eintr:0,eagain:0.1,reset:0.02,connect-fail:1.0,dns-fail:0.1,connect-delay:2s,read-latency:10us

for seed in -1 x 1.5 '' ' 1' 0x10 18446744073709551616 99999999999999999999999; do
    t "--seed '$seed' is refused" refused 2 "GREEN_SEED" "18446744073709551615" -- "$GR" --seed "$seed" true
done
t "--replay 'x' is refused" refused 2 "--replay" "GREEN_SEED" -- "$GR" --replay x true
for p in 1.5 -0.1 . '' abc 0.1x 2 '1e-1'; do
    t "--chaos '$p' is refused" refused 2 "GREEN_CHAOS" "0 to 1" -- "$GR" --chaos "$p" true
done
for spec in short-read bogus:0.1 eintr:2 connect-delay:5 connect-delay:0.5ms read-latency:2h \
    'eintr:0.1,' ',eintr:0.1' 'eintr:0.1,,reset:0.1' '' connect-delay:3601s; do
    t "--inject '$spec' is refused" refused 2 "GREEN_INJECT" "short-read" "connect-delay" -- "$GR" --inject "$spec" true
done
for opt in --seed --replay --chaos --inject; do
    t "$opt without a value is refused" refused 2 "$opt" -- "$GR" "$opt"
done
t "an invalid GREEN_SEED in the environment is refused" \
    refused 2 "GREEN_SEED" "x1" -- env GREEN_SEED=x1 "$GR" true
t "an invalid GREEN_CHAOS in the environment is refused" \
    refused 2 "GREEN_CHAOS" "7" -- env GREEN_CHAOS=7 "$GR" true
t "an invalid GREEN_INJECT in the environment is refused" \
    refused 2 "GREEN_INJECT" "nope" -- env GREEN_INJECT=nope:1 "$GR" true
case_seed_replaces() {
    run env GREEN_SEED=bad "$GR" --seed 5 printenv GREEN_SEED
    want_status 0 && want_out "5"
}
t "--seed replaces an invalid GREEN_SEED in the environment" case_seed_replaces

# --- PCT, expiring deadlines

t "--pct D and --pct-steps K set GREEN_PCT and GREEN_PCT_STEPS" \
    case_env $'GREEN_PCT=3\nGREEN_PCT_STEPS=250\nGREEN_SEED=1' --seed 1 --pct 3 --pct-steps 250
t "--expire P sets GREEN_EXPIRE" case_env $'GREEN_EXPIRE=.05\nGREEN_SEED=1' --seed 1 --expire .05
for d in 0 33 02 x 1.5 ''; do
    t "--pct '$d' is refused" refused 2 "GREEN_PCT" "1 to 32" -- "$GR" --pct "$d" true
done
for k in 0 1000000001 010 -1; do
    t "--pct-steps '$k' is refused" refused 2 "GREEN_PCT_STEPS" "1000000000" -- "$GR" --pct-steps "$k" true
done
t "--expire '2' is refused" refused 2 "GREEN_EXPIRE" "0 to 1" -- "$GR" --expire 2 true
t "--pct with --chaos is refused" refused 2 "--pct and --chaos" -- "$GR" --pct 2 --chaos 0.1 true

# --- preemption at random

t "--chaos-preempt RATE sets GREEN_CHAOS_PREEMPT" \
    case_env $'GREEN_CHAOS_PREEMPT=1000\nGREEN_PCT=2\nGREEN_SEED=1' --seed 1 --pct 2 --chaos-preempt 1000
t "--chaos-preempt=100000 is accepted" case_env 'GREEN_CHAOS_PREEMPT=100000' --chaos-preempt=100000
for r in 0 100001 01 1k 1.5 ''; do
    t "--chaos-preempt '$r' is refused" \
        refused 2 "GREEN_CHAOS_PREEMPT" "1 to 100000" -- "$GR" --chaos-preempt "$r" true
done
t "--chaos-preempt with --shrink is refused" \
    refused 2 "--chaos-preempt and --shrink" "not exactly reproducible" -- \
    "$GR" --chaos-preempt 1000 --shrink 1 true
case_explore_reruns() {
    # A seed found failing with --chaos-preempt is rerun 10 times: here seed 2 fails on every
    # other run of it (a count in a file), so 5 of the 10 reruns fail again.
    local count=$work/reruns
    rm -f "$count"
    run "$GR" --chaos-preempt 1000 --explore 5 --jobs 1 -- sh -c \
        '[ "$GREEN_SEED" != 2 ] && exit 0; n=$(cat "$0" 2>/dev/null || echo 0); echo $((n + 1)) >"$0"; [ $((n % 2)) = 1 ]' "$count"
    want_status 1 && want_out_line "first failure: seed 2 (exit 1)" &&
        want_out_line "reruns: seed 2 failed again in 5 of 10 reruns (with --chaos-preempt, where the preemptions fall is not seeded)" ||
        return 1
    [[ $out == *$'\nreplay: greenrun --chaos-preempt 1000 --replay 2 -- sh -c '* ]] ||
        { echo "no replay line with --chaos-preempt: $out"; return 1; }
}
t "--explore --chaos-preempt reruns the failing seed and says how often it failed again" \
    case_explore_reruns
case_explore_no_reruns() {
    run "$GR" --explore 3 --jobs 1 -- sh -c '[ "$GREEN_SEED" != 2 ]'
    want_status 1 && [[ $out != *reruns:* ]] || { echo "reruns without --chaos-preempt: $out"; return 1; }
}
t "--explore without --chaos-preempt reruns nothing (its seeds replay exactly)" case_explore_no_reruns

# --- --explore (with the fake library, the command runs plain: only the loop is tested)

# explore_out EXPECTED_STATUS EXPECTED_STDOUT OPTION... -- COMMAND...
explore_out() {
    local want=$1 expected=$2
    shift 2
    run "$GR" "$@"
    want_status "$want" && want_out "$expected"
}
fails_at_3='[ "$GREEN_SEED" != 3 ]'
t "--explore stops at the first failing seed and prints how to replay it" \
    explore_out 1 $'explore: 3 runs, 1 failed (exit 1: 1), rate 33.3%\nfirst failure: seed 3 (exit 1)\nreplay: greenrun --replay 3 -- sh -c \'[ "$GREEN_SEED" != 3 ]\'' \
    --explore 10 --jobs 1 -- sh -c "$fails_at_3"
t "--explore with no failing run exits 0" \
    explore_out 0 'explore: 5 runs, 0 failed, rate 0.0%' --explore 5 --jobs 2 true
t "--keep-going runs every seed and counts the failures by kind" \
    explore_out 1 $'explore: 4 runs, 2 failed (exit 1: 1, exit 3: 1), rate 50.0%\nfirst failure: seed 1 (exit 1)\nreplay: greenrun --replay 1 -- sh -c \'exit $((GREEN_SEED % 2 ? GREEN_SEED : 0))\'' \
    --explore 4 --keep-going -- sh -c 'exit $((GREEN_SEED % 2 ? GREEN_SEED : 0))'
case_explore_kinds() {
    local cmd
    # A signal, a hang (a real one: a seeded sleep takes no time), a deadlock report, an
    # unexpected status.
    cmd='case $GREEN_SEED in 1) kill -SEGV $$ ;; 2) env -u LD_PRELOAD sleep 5 ;; 3) echo "libgreen: deadlock in seeded mode; ..." >&2; exit 86 ;; 4) exit 0 ;; 5) echo fine; exit 3 ;; esac; echo fine'
    run "$GR" --explore 6 --keep-going --timeout 300ms --expect-exit 3 --expect-output '^fine$' -- sh -c "$cmd"
    want_status 1 &&
        want_out_line 'explore: 6 runs, 5 failed (deadlock: 1, exit 0: 2, hang: 1, signal SIGSEGV: 1), rate 83.3%'
}
t "--explore tells a signal, a hang, a deadlock, a status and the output apart" case_explore_kinds
t "--expect-output fails a run whose stdout has no matching line" \
    explore_out 1 $'explore: 2 runs, 1 failed (output: 1), rate 50.0%\nfirst failure: seed 2 (output)\n  its stdout, last lines:\n    seed 2\nreplay: greenrun --replay 2 -- sh -c \'echo seed $GREEN_SEED\'' \
    --explore 4 --jobs 1 --expect-output '^seed 1$' -- sh -c 'echo seed $GREEN_SEED'
case_explore_pct_replay() {
    # Under --pct the first run measures the steps (GREEN_STATS) and the later ones use them:
    # the fake library prints none, so the default 1000 is what seed 2 ran with.
    run "$GR" --explore 3 --jobs 1 --pct 2 -- sh -c '[ "$GREEN_SEED$GREEN_STATS" = 11 ] || [ "$GREEN_SEED$GREEN_PCT_STEPS" = 21000 ] && [ "$GREEN_PCT" = 2 ] && [ "$GREEN_SEED" != 2 ]'
    want_status 1 && want_out_line "first failure: seed 2 (exit 1)" || return 1
    [[ $out == *$'\nreplay: greenrun --pct 2 --replay 2 --pct-steps 1000 -- sh -c '* ]] ||
        { echo "no replay line with the steps: $out"; return 1; }
}
t "--explore --pct measures the steps first and replays with them" case_explore_pct_replay
for n in 0 x 01 ''; do
    t "--explore '$n' is refused" refused 2 "--explore" "number of runs" -- "$GR" --explore "$n" true
done
t "--jobs without --explore is refused" refused 2 "--jobs" "only with --explore" -- "$GR" --jobs 2 true
t "--seed with --explore is refused" refused 2 "--seed" "sets the seeds" -- "$GR" --seed 1 --explore 2 true
t "--timeout '0' is refused" refused 2 "--timeout" "seconds" -- "$GR" --explore 2 --timeout 0 true
t "--expect-exit '256' is refused" refused 2 "--expect-exit" "0 to 255" -- "$GR" --explore 2 --expect-exit 256 true

# --- --shrink, --replay-file, --trace

printf 'seed 1\n' >"$work/one.schedule"
t "--replay-file F and --trace F set GREEN_SCHEDULE and GREEN_TRACE" \
    case_env $'GREEN_SCHEDULE='"$work/one.schedule"$'\nGREEN_TRACE='"$work/trace" \
    --replay-file "$work/one.schedule" --trace "$work/trace"
t "--replay-file of a missing file is refused" \
    refused 2 "--replay-file" "GREEN_SCHEDULE" "readable file" -- "$GR" --replay-file "$work/none" true
t "--trace in a missing directory is refused" \
    refused 2 "--trace" "GREEN_TRACE" -- "$GR" --trace "$work/none/trace" true
for n in x -1 18446744073709551616 ''; do
    t "--shrink '$n' is refused" refused 2 "--shrink" "a seed" -- "$GR" --shrink "$n" true
done
t "--shrink with --explore is refused" refused 2 "--explore and --shrink" -- "$GR" --shrink 1 --explore 2 true
t "--jobs with --shrink is refused" refused 2 "--jobs" "only with --explore" -- "$GR" --shrink 1 --jobs 2 true
t "--replay-file with --shrink is refused" \
    refused 2 "--replay-file and --shrink" -- "$GR" --shrink 1 --replay-file "$work/one.schedule" true
case_shrink_not_failing() {
    run "$GR" --shrink 4 -- true
    want_status 2 && [[ $err == *"seed 4 does not fail"* ]] || { echo "stderr: $err"; return 1; }
}
t "--shrink of a seed that does not fail says so and exits 2" case_shrink_not_failing
case_shrink_loop() {
    # With the fake library there is no schedule to shrink: the run fails with its seed, and
    # again from the (empty) schedule file, which is then written, with the replay line.
    (cd "$work" && run "$GR" --shrink 3 -- sh -c '[ "$GREEN_SEED" != 3 ] && [ -z "$GREEN_SCHEDULE" ]'
     want_status 1 && want_out_line "shrink: seed 3 fails (exit 1); of its 0 forced decisions 0 remain (3 runs)" &&
        want_out_line "schedule: shrink-3.schedule" && [[ -f shrink-3.schedule ]] &&
        grep -qx 'seed 3' shrink-3.schedule &&
        want_out_line "replay: greenrun --replay-file shrink-3.schedule -- sh -c '[ \"\$GREEN_SEED\" != 3 ] && [ -z \"\$GREEN_SCHEDULE\" ]'")
}
t "--shrink reruns the seed, replays its schedule, writes it and prints the replay line" case_shrink_loop

finish
