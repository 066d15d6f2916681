#!/usr/bin/env bash
# make fuzz: runs each libFuzzer harness built from tests/fuzz (build/fuzz/bin/NAME) for
# FUZZ_SECONDS (default 600) under ASan/UBSan, starting from its committed corpus.  New inputs go
# to build/fuzz/corpus/NAME (not committed: copy an interesting one into tests/fuzz/corpus/NAME
# so that make test replays it); a crash, a sanitizer report, a timeout (FUZZ_TIMEOUT seconds for
# one input, default 10) or a difference from the reference the harness compares with stops that
# harness and leaves its input in build/fuzz/artifacts/NAME/.
#
#   FUZZ_SECONDS=60 FUZZ_TARGETS="resolv_conf green_env" make fuzz
#
# Harnesses that are scripts (tests/fuzz/NAME.sh) get the same budget as their one argument.
# Ends with "N passed, M failed", one result per harness.
set -u
cd "$(dirname "$0")/.."

B=build
SECONDS_EACH=${FUZZ_SECONDS:-600}
TIMEOUT_EACH=${FUZZ_TIMEOUT:-10}
passed=0
failed=0

targets=${FUZZ_TARGETS:-}
if [ -z "$targets" ]; then
    for f in "$B"/fuzz/bin/* tests/fuzz/*.sh; do
        [ -e "$f" ] || continue
        n=$(basename "$f")
        targets="$targets ${n%.sh}"
    done
fi

for name in $targets; do
    corpus=$B/fuzz/corpus/$name
    artifacts=$B/fuzz/artifacts/$name
    mkdir -p "$corpus" "$artifacts"
    [ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null
    log=$B/fuzz/$name.log
    echo "== fuzz $name: ${SECONDS_EACH}s (log $log)"
    if [ -x "tests/fuzz/$name.sh" ]; then
        tests/fuzz/"$name".sh "$SECONDS_EACH" "$corpus" "$artifacts" >"$log" 2>&1
    else
        ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=print_stacktrace=1 \
            "$B/fuzz/bin/$name" -max_total_time="$SECONDS_EACH" -timeout="$TIMEOUT_EACH" \
            -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$artifacts/" \
            "$corpus" >"$log" 2>&1
    fi
    status=$?
    tail -n 12 "$log" | sed 's/^/    /'
    if [ $status -eq 0 ]; then
        echo "ok - fuzz:$name"
        passed=$((passed + 1))
    else
        echo "FAIL - fuzz:$name (exit $status; inputs in $artifacts)"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
