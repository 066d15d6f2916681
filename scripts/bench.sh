#!/usr/bin/env bash
# make bench: each benchmark runs beside its baseline in the same run, several times; we print
# medians and their ratio.  The machine is shared and noisy: trust medians and ratios only.
set -eu
cd "$(dirname "$0")/.."
B=build
LIB=$PWD/$B/libgreen.so
RUNS=${BENCH_RUNS:-7}
# The single-worker figures are the floor M:N must keep: those benchmarks run one worker.
ONE="GREEN_WORKERS=1"

median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

# field NAME: the value after NAME in a line of benchmark output.
field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i+1)}'; }

samples() {  # samples RUNS FIELD COMMAND...: the FIELD of each run, one a line
    local n=$1 f=$2
    shift 2
    for _ in $(seq "$n"); do "$@" | field "$f"; done
}

echo "== threads of pure computation on every core (wall ms, median of $RUNS runs taking turns)"
CPU_ITERS=${BENCH_CPU_ITERS:-100000000}
for n in 2 3 4 8; do
    p=() w=() one=()
    for _ in $(seq "$RUNS"); do
        p+=("$($B/bench/cpu_parallel "$n" $((CPU_ITERS * 4 / n)) | field wall_ms)")
        w+=("$(env LD_PRELOAD="$LIB" $B/bench/cpu_parallel "$n" $((CPU_ITERS * 4 / n)) | field wall_ms)")
        one+=("$(env LD_PRELOAD="$LIB" $ONE $B/bench/cpu_parallel "$n" $((CPU_ITERS * 4 / n)) | field wall_ms)")
    done
    pm=$(printf '%s\n' "${p[@]}" | median)
    wm=$(printf '%s\n' "${w[@]}" | median)
    om=$(printf '%s\n' "${one[@]}" | median)
    printf '%-44s %10.1f ms\n' "$n threads, pthreads (no libgreen)" "$pm"
    printf '%-44s %10.1f ms\n' "$n threads, libgreen, default workers" "$wm"
    printf '%-44s %10.1f ms\n' "$n threads, libgreen, GREEN_WORKERS=1" "$om"
    awk -v w="$wm" -v p="$pm" -v o="$om" -v n="$n" \
        'BEGIN {printf "ratio: %s threads, default workers/plain = %.2f (target: at most 1.1); one worker/plain = %.2f\n", n, w / p, o / p}'
done

echo
echo "== hand-off: a thread sleeping 5 ms at a time beside one stuck in a blocking call"
echo "   (worst lateness of the sleeps due inside the call, ms; median of $RUNS runs taking turns)"
HANDOFF_RUNS=${BENCH_HANDOFF_RUNS:-$RUNS}
for call in "fsync 128" "raw 1000"; do
    p=() w=() one=() off=()
    for _ in $(seq "$HANDOFF_RUNS"); do
        p+=("$($B/bench/blocked_call $call | field worst_late_ms)")
        w+=("$(env LD_PRELOAD="$LIB" $B/bench/blocked_call $call | field worst_late_ms)")
        one+=("$(env LD_PRELOAD="$LIB" $ONE $B/bench/blocked_call $call | field worst_late_ms)")
        off+=("$(env LD_PRELOAD="$LIB" $ONE GREEN_HANDOFF=0 $B/bench/blocked_call $call | field worst_late_ms)")
    done
    label=${call%% *}
    [ "$label" = fsync ] && label="fsync of 128 MiB just written" || label="nanosleep 1 s, raw syscall"
    printf '%-58s %8.1f ms\n' "$label: pthreads (no libgreen)" "$(printf '%s\n' "${p[@]}" | median)"
    printf '%-58s %8.1f ms\n' "$label: libgreen, default workers" "$(printf '%s\n' "${w[@]}" | median)"
    printf '%-58s %8.1f ms\n' "$label: libgreen, GREEN_WORKERS=1" "$(printf '%s\n' "${one[@]}" | median)"
    printf '%-58s %8.1f ms\n' "$label: GREEN_WORKERS=1 GREEN_HANDOFF=0" "$(printf '%s\n' "${off[@]}" | median)"
done
echo "(target: at most 20 ms with the default workers and with one; a raw syscall instruction"
echo " goes green by syscall user dispatch where the kernel allows it, else it stalls its worker)"

echo
echo "== context switch (two threads, one core; ns per switch, median of $RUNS)"
green=$(samples "$RUNS" ns_per_switch env LD_PRELOAD="$LIB" $ONE taskset -c 0 $B/bench/switch yield 2000000 | median)
condvar=$(samples "$RUNS" ns_per_switch taskset -c 0 $B/bench/switch condvar 100000 | median)
pyield=$(samples "$RUNS" ns_per_switch taskset -c 0 $B/bench/switch yield 200000 | median)
printf '%-44s %10.1f ns\n' "green yield (libgreen, sched_yield)" "$green"
printf '%-44s %10.1f ns\n' "pthread condvar ping-pong (no libgreen)" "$condvar"
printf '%-44s %10.1f ns\n' "pthread sched_yield (no libgreen)" "$pyield"
awk -v g="$green" -v c="$condvar" -v y="$pyield" \
    'BEGIN {printf "ratio: green switch is %.0fx cheaper than the condvar pair, %.0fx than sched_yield\n", c / g, y / g}'

echo
echo "== mutex (ns per lock+unlock pair, uncontended; median of $RUNS)"
g_mutex=$(samples "$RUNS" ns_per_pair env LD_PRELOAD="$LIB" $ONE $B/bench/mutex 20000000 | median)
r_mutex=$(samples "$RUNS" ns_per_pair $B/bench/mutex 20000000 | median)
printf '%-44s %10.2f ns\n' "green thread (libgreen)" "$g_mutex"
printf '%-44s %10.2f ns\n' "pthread (no libgreen)" "$r_mutex"
awk -v g="$g_mutex" -v r="$r_mutex" 'BEGIN {printf "ratio: green/real = %.2f (target: at most 1.5)\n", g / r}'

echo
echo "== contended hand-off (mutex + condvar ping-pong, one core; ns per switch, median of $RUNS)"
g_hand=$(samples "$RUNS" ns_per_switch env LD_PRELOAD="$LIB" $ONE taskset -c 0 $B/bench/switch condvar 1000000 | median)
printf '%-44s %10.1f ns\n' "green threads (libgreen)" "$g_hand"
printf '%-44s %10.1f ns\n' "pthreads (no libgreen, measured above)" "$condvar"
awk -v g="$g_hand" -v r="$condvar" 'BEGIN {printf "ratio: the green hand-off is %.0fx cheaper (target: at least 20x)\n", r / g}'

echo
echo "== thread start and exit (create, run, join; each thread touches 16 KiB of stack; ns per thread, median of $RUNS)"
for batch in 1 100; do
    g_spawn=$(samples "$RUNS" ns_per_thread env LD_PRELOAD="$LIB" $ONE $B/bench/spawn 100000 "$batch" | median)
    r_spawn=$(samples "$RUNS" ns_per_thread $B/bench/spawn 20000 "$batch" | median)
    printf '%-44s %10.0f ns\n' "green threads, $batch at a time (libgreen)" "$g_spawn"
    printf '%-44s %10.0f ns\n' "pthreads, $batch at a time (no libgreen)" "$r_spawn"
    awk -v g="$g_spawn" -v r="$r_spawn" -v b="$batch" \
        'BEGIN {printf "ratio: %s at a time, a green thread starts and ends %.0fx faster\n", b, r / g}'
done

N=${BENCH_THREADS:-10000}
MRUNS=${BENCH_MEM_RUNS:-3}
echo
echo "== memory of $N parked threads (default stack size; per thread, median of $MRUNS)"
g_rss=$(samples "$MRUNS" rss_kib_per_thread env LD_PRELOAD="$LIB" $ONE $B/bench/memory "$N" | median)
g_avail=$(samples "$MRUNS" memavail_kib_per_thread env LD_PRELOAD="$LIB" $ONE $B/bench/memory "$N" | median)
r_rss=$(samples "$MRUNS" rss_kib_per_thread $B/bench/memory "$N" | median)
r_avail=$(samples "$MRUNS" memavail_kib_per_thread $B/bench/memory "$N" | median)
printf '%-44s %8.2f KiB RSS %10.2f KiB MemAvailable\n' "green threads (libgreen)" "$g_rss" "$g_avail"
printf '%-44s %8.2f KiB RSS %10.2f KiB MemAvailable\n' "pthreads (no libgreen)" "$r_rss" "$r_avail"
awk -v a="$g_avail" -v b="$r_avail" -v c="$g_rss" -v d="$r_rss" \
    'BEGIN {printf "ratio: green threads use %.1fx less RSS and %.1fx less system memory\n", d / c, b / a}'

echo
echo "== system call instructions outside the C library (getpid; ns per call, median of $RUNS)"
# Each site rewritten under libgreen at its first execution into a jump to a stub of its own
# (shim/rawsite.cpp).  site: a stub's own `mov $39, %eax; syscall`; computed: a function that
# takes the number; 512 sites: one after another, the best of 50 runs through them, per site;
# first: their first execution (the trap and the rewrite), per site; libc: syscall(SYS_getpid)
# (the C library's instruction).  Both processes run the same program.
RAW="$B/bench/raw_syscall 1000000"
declare -A raw
for _ in $(seq "$RUNS"); do  # taking turns
    for mode in p g; do
        if [ $mode = p ]; then out=$($RAW); else out=$(env LD_PRELOAD="$LIB" $ONE $RAW); fi
        for key in site computed again libc first; do
            raw[$mode.$key]+="$(field ${key}_ns <<<"$out") "
        done
    done
done
for k in "${!raw[@]}"; do
    raw[$k]=$(tr ' ' '\n' <<<"${raw[$k]}" | grep . | median)
done
for key in site computed again libc; do
    case $key in
        site) label="constant-number site" ;; computed) label="computed-number site" ;;
        again) label="512 sites of one number, per site" ;; libc) label="C library's syscall()" ;;
    esac
    printf '%-44s %10.1f %10.1f ns\n' "$label: bare, libgreen" "${raw[p.$key]}" "${raw[g.$key]}"
done
printf '%-44s %10.0f ns\n' "first execution of a site (libgreen)" "${raw[g.first]}"
awk -v s="${raw[g.site]}" -v ps="${raw[p.site]}" -v c="${raw[g.computed]}" -v pc="${raw[p.computed]}" \
    -v a="${raw[g.again]}" -v pa="${raw[p.again]}" -v l="${raw[g.libc]}" -v pl="${raw[p.libc]}" \
    'BEGIN {printf "ratio: rewritten sites cost %+.1f ns (constant), %+.1f ns (computed), %+.1f ns (512 sites) beside the bare instruction (target: at most 30); the C library'"'"'s call %+.1f ns (dispatch)\n", s - ps, c - pc, a - pa, l - pl}'

echo
echo "== the C library's own system calls (the PLT path) with syscall user dispatch off and on (ns per call, median of $RUNS runs taking turns)"
# plt_syscall has no system call instruction of its own: libgreen leaves dispatch off unless
# GREEN_SYSCALL_DISPATCH=on.  getpid: a system call each time; recv: MSG_DONTWAIT, empty socket.
declare -A plt
for _ in $(seq "$RUNS"); do
    for mode in plain off on; do
        case $mode in
            plain) out=$($B/bench/plt_syscall 1000000) ;;
            off) out=$(env LD_PRELOAD="$LIB" $ONE $B/bench/plt_syscall 1000000) ;;
            on) out=$(env LD_PRELOAD="$LIB" $ONE GREEN_SYSCALL_DISPATCH=on $B/bench/plt_syscall 1000000) ;;
        esac
        plt[$mode.getpid]+="$(field getpid_ns <<<"$out") "
        plt[$mode.recv]+="$(field recv_ns <<<"$out") "
    done
done
for call in getpid recv; do
    for mode in plain off on; do
        plt[$mode.$call.m]=$(tr ' ' '\n' <<<"${plt[$mode.$call]}" | grep . | median)
    done
    printf '%-44s %10.1f %10.1f %10.1f ns\n' "$call: no libgreen, dispatch off, dispatch on" \
        "${plt[plain.$call.m]}" "${plt[off.$call.m]}" "${plt[on.$call.m]}"
    awk -v p="${plt[plain.$call.m]}" -v f="${plt[off.$call.m]}" -v o="${plt[on.$call.m]}" -v c="$call" \
        'BEGIN {printf "ratio: %s costs %+.1f ns beside no libgreen with dispatch off, %+.1f ns with it on\n", c, f - p, o - p}'
done
