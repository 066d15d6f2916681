#!/usr/bin/env bash
# stdio under libgreen beside plain runs (part of make bench; BENCH_RUNS runs each, taking
# turns): what wide-character output costs per call, and how late a ticker thread gets while
# the C library writes toward a slow reader.  Medians; the machine is noisy.
set -eu
cd "$(dirname "$0")/.."
B=build
LIB=${BENCH_LIB:-$PWD/$B/libgreen.so}  # BENCH_LIB: another build, e.g. an older one to compare
RUNS=${BENCH_RUNS:-7}
ONE="GREEN_WORKERS=1"
make -s --no-print-directory lib $B/bench/wide_stdio $B/bench/stdio_late

median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i+1)}'; }

echo "== wide-character output to a pipe (tests/bench/wide_stdio.c; ns per call, best of 5 loops of 200,000, median of $RUNS runs taking turns)"
# Calls that stay in the stream's buffers go straight to the C library; a flush of ASCII text
# that fits a page waits for room; other flushes run in a glibc scope (shim/stdio.cpp).
declare -A wide
for _ in $(seq "$RUNS"); do
    for mode in plain green one; do
        case $mode in
            plain) out=$({ $B/bench/wide_stdio | cat >/dev/null; } 2>&1) ;;
            green) out=$({ env LD_PRELOAD="$LIB" $B/bench/wide_stdio | cat >/dev/null; } 2>&1) ;;
            one) out=$({ env LD_PRELOAD="$LIB" $ONE $B/bench/wide_stdio | cat >/dev/null; } 2>&1) ;;
        esac
        for call in fputws fputwc fwprintf; do
            wide[$mode.$call]+="$(field ${call}_ns <<<"$out") "
        done
    done
done
for call in fputws fputwc fwprintf; do
    for mode in plain green one; do
        wide[$mode.$call.m]=$(tr ' ' '\n' <<<"${wide[$mode.$call]}" | grep . | median)
    done
    printf '%-44s %10.0f %10.0f %10.0f ns\n' "$call: no libgreen, default workers, one" \
        "${wide[plain.$call.m]}" "${wide[green.$call.m]}" "${wide[one.$call.m]}"
    awk -v p="${wide[plain.$call.m]}" -v g="${wide[green.$call.m]}" -v c="$call" \
        'BEGIN {printf "ratio: %s under libgreen/plain = %.2f\n", c, g / p}'
done

echo
echo "== a 5 ms ticker beside the C library's own writes toward a slow reader of a pipe"
echo "   (tests/bench/stdio_late.c; worst lateness of its ticks, ms; median of $RUNS runs taking turns)"
for what in flush_all exit fwprintf fwprintf_utf8; do
    p=() w=() one=()
    for _ in $(seq "$RUNS"); do
        p+=("$($B/bench/stdio_late $what | field worst_late_ms)")
        w+=("$(env LD_PRELOAD="$LIB" $B/bench/stdio_late $what | field worst_late_ms)")
        one+=("$(env LD_PRELOAD="$LIB" $ONE $B/bench/stdio_late $what | field worst_late_ms)")
    done
    printf '%-58s %8.1f %8.1f %8.1f ms\n' "$what: no libgreen, default workers, one" \
        "$(printf '%s\n' "${p[@]}" | median)" "$(printf '%s\n' "${w[@]}" | median)" \
        "$(printf '%s\n' "${one[@]}" | median)"
done
echo "(target: at most 20 ms; without libgreen the ticker is a thread of its own: never held up)"
