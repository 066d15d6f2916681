#!/usr/bin/env bash
# Time slices (GREEN_TIMESLICE, libgreen(7)): what they give and what they cost.
#
#   sleeper   tests/bench/slice.c: one thread computes for 3 s (no call in its loop) while the
#             main thread sleeps 1 ms at a time, on one OS thread (GREEN_WORKERS=1); how late
#             the sleeps end: median, p99 and worst of each run, then the medians over the runs.
#             Plain (the kernel's slices, and two cores) is the baseline.
#   libc      the same sleeper beside 3 s of 16 MiB memsets (time spent inside the C library).
#   spinners  two threads compute for 2 s on one OS thread: each one's share of the work.
#   switch    tests/bench/switch.c yield on one core, GREEN_TIMESLICE=0 against the default,
#             taking turns: the switch path must not change.
#   echo      scripts/bench_diag.sh with GREEN_TIMESLICE=0 against the default (10ms): the
#             echo server's CPU per round trip and its instructions (BENCH_SLICE_ECHO=0 skips).
#   stress    tests/plain/slice_stress.c with a 1 ms slice for BENCH_SLICE_STRESS seconds
#             (default 60; 0 skips): one worker, two, the ASan/UBSan build, valgrind (a fifth
#             of the time there: it runs some 30 times slower); exact results or a failure.
#
# BENCH_SLICE_RUNS=N  runs of each timed figure (default 5)
set -eu
cd "$(dirname "$0")/.."
B=build
LIB=$PWD/$B/libgreen.so
RUNS=${BENCH_SLICE_RUNS:-5}
STRESS=${BENCH_SLICE_STRESS:-60}
make -s --no-print-directory lib san $B/bench/slice $B/bench/switch $B/plain/slice_stress

median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i+1)}'; }

for what in sleeper libc; do
    echo "== sleeper beside a 3 s $([ $what = libc ] && echo 'loop of memsets' || echo computation), one OS thread (ms late; medians of $RUNS runs)"
    for mode in plain green; do
        out=$(for _ in $(seq "$RUNS"); do
            if [ $mode = plain ]; then $B/bench/slice $what 3; else
                env LD_PRELOAD="$LIB" GREEN_WORKERS=1 $B/bench/slice $what 3; fi
        done)
        printf '%-34s median %6.2f  p99 %6.2f  worst %6.2f  (worst run: p99 %.2f, worst %.2f)\n' \
            "$mode$([ $mode = green ] && echo ', GREEN_WORKERS=1')" \
            "$(field late_median_ms <<<"$out" | median)" "$(field late_p99_ms <<<"$out" | median)" \
            "$(field late_worst_ms <<<"$out" | median)" "$(field late_p99_ms <<<"$out" | sort -g | tail -1)" \
            "$(field late_worst_ms <<<"$out" | sort -g | tail -1)"
    done
    echo "target: p99 at most 15 ms, worst at most 30 ms (GREEN_TIMESLICE=0: the whole 3 s)"
done

echo
echo "== two spinners, 2 s on one OS thread (% of the work of the first; $RUNS runs)"
shares=$(for _ in $(seq "$RUNS"); do env LD_PRELOAD="$LIB" GREEN_WORKERS=1 $B/bench/slice spinners 2 | field share_a; done)
printf 'first spinner: median %.1f%%, lowest %.1f%%, highest %.1f%% (target: 50 +- 10)\n' \
    "$(median <<<"$shares")" "$(sort -g <<<"$shares" | head -1)" "$(sort -g <<<"$shares" | tail -1)"

echo
echo "== context switch, time slices off and on (ns per switch, one core, median of $RUNS)"
off=() on=()
for i in $(seq "$RUNS"); do
    for side in off on; do
        v=$(env LD_PRELOAD="$LIB" GREEN_WORKERS=1 GREEN_TIMESLICE=$([ $side = off ] && echo 0 || echo 10ms) \
            taskset -c 0 $B/bench/switch yield 2000000 | field ns_per_switch)
        if [ $side = off ]; then off+=("$v"); else on+=("$v"); fi
    done
done
o=$(printf '%s\n' "${off[@]}" | median)
n=$(printf '%s\n' "${on[@]}" | median)
printf '%-34s %8.1f ns\n%-34s %8.1f ns\n' "GREEN_TIMESLICE=0" "$o" "GREEN_TIMESLICE=10ms" "$n"
awk -v o="$o" -v n="$n" 'BEGIN {printf "ratio: on/off = %.3f\n", n / o}'

if [ "${BENCH_SLICE_ECHO:-1}" != 0 ]; then
    echo
    echo "== echo server, time slices off and on (scripts/bench_diag.sh)"
    BENCH_DIAG_OFF="GREEN_TIMESLICE=0" BENCH_DIAG_ON="GREEN_TIMESLICE=10ms" scripts/bench_diag.sh
fi

if [ "$STRESS" != 0 ]; then
    echo
    echo "== stress: 8 spinners and 100 threads handing off locks, waiting, doing I/O; 1 ms slice"
    ASAN_RT=$(g++ -print-file-name=libasan.so)
    vg=$(awk -v s="$STRESS" 'BEGIN {print s / 5}')
    stress() {  # stress NAME COMMAND...
        local name=$1 out status
        shift
        out=$("$@" 2>&1) && status=0 || status=$?
        printf '%-28s exit %d: %s\n' "$name" "$status" "$(tail -1 <<<"$out")"
    }
    stress "one worker, ${STRESS} s" env LD_PRELOAD="$LIB" GREEN_TIMESLICE=1ms GREEN_WORKERS=1 $B/plain/slice_stress "$STRESS"
    stress "two workers, ${STRESS} s" env LD_PRELOAD="$LIB" GREEN_TIMESLICE=1ms GREEN_WORKERS=2 $B/plain/slice_stress "$STRESS"
    stress "ASan/UBSan, ${STRESS} s" env LD_PRELOAD="$PWD/$B/san/libgreen.so $ASAN_RT" GREEN_TIMESLICE=1ms GREEN_WORKERS=1 \
        ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:handle_segv=0 UBSAN_OPTIONS=halt_on_error=1 \
        $B/plain/slice_stress "$STRESS"
    if command -v valgrind >/dev/null; then
        stress "valgrind, ${vg} s" env LD_PRELOAD="$LIB" GREEN_TIMESLICE=1ms GREEN_WORKERS=1 \
            valgrind -q --error-exitcode=99 --leak-check=no $B/plain/slice_stress "$vg"
    fi
fi
