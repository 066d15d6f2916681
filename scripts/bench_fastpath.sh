#!/usr/bin/env bash
# Instructions per round of tests/bench/fast_read.c (a 1-byte write and a 1-byte read on a Unix
# stream socket, each finding what it needs at once), counted by callgrind in rounds() only:
# with the bare system call instructions, through the C library, and through libgreen's
# wrappers (GREEN_WORKERS=1).  Counts are of user-space instructions: the kernel's work is the
# same in the three.  Deterministic; takes a few seconds.
set -eu
cd "$(dirname "$0")/.."
B=build
CALLS=${BENCH_FASTPATH_CALLS:-20000}
make -s --no-print-directory lib $B/bench/fast_read
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count() {  # count NAME [ENV...] -- ARGS...: instructions of rounds() per round
    local name=$1
    shift
    env "$@" valgrind -q --tool=callgrind --callgrind-out-file="$out/$name" \
        --toggle-collect=rounds "$B/bench/fast_read" "$CALLS" ${RAW:-} >/dev/null
    callgrind_annotate "$out/$name" 2>/dev/null |
        awk -v n="$CALLS" '/PROGRAM TOTALS/ {gsub(",", "", $1); printf "%.1f\n", $1 / n; exit}'
}
bare=$(RAW=raw count bare GREEN_NONE=1)
libc=$(count libc GREEN_NONE=1)
green=$(count green GREEN_WORKERS=1 LD_PRELOAD="$PWD/$B/libgreen.so")
echo "instructions per round (write + read of 1 byte), $CALLS rounds:"
echo "  bare system calls: $bare"
echo "  C library:         $libc"
echo "  libgreen:          $green"
awk -v b="$bare" -v l="$libc" -v g="$green" 'BEGIN {
    printf "  per call over the bare call: C library %.1f, libgreen %.1f\n", (l - b) / 2, (g - b) / 2 }'
