#!/usr/bin/env bash
# The table of BENCHMARKS.md, "Finding the bugs of tests/bugs": for each program of the corpus
# (tests/bugs/corpus), how many of RUNS seeds make it fail under its own options (PCT, or
# --chaos-preempt), under PCT of its depth without preemption, under --chaos 0.1, under the
# seeded schedule alone (all keep the corpus's --expire, if any), and how many of RUNS plain
# runs (real threads, no libgreen) do; with the first failing run of each, and its budget (the
# number of runs PCT's bound promises, or the corpus's own).
#
#   scripts/bugs_table.sh [RUNS]     (default 100; after make tests)
#
# Prints the table on stdout and puts it in BENCHMARKS.md between its two markers.
set -u
cd "$(dirname "$0")/.."
RUNS=${1:-100}
B=build
HELPER=$B/libgreen/greenrun-explore
[ -x "$HELPER" ] && [ -d "$B/bugs" ] || { echo "bugs_table: run make tests first" >&2; exit 2; }

# cell OUTPUT: "failed/RUNS (first at N)" from an explore summary.
cell() {
    local failed first
    failed=$(sed -n 's/^explore: [0-9]* runs, \([0-9]*\) failed.*/\1/p' <<<"$1")
    first=$(sed -n 's/^first failure: seed \([0-9]*\) .*/\1/p' <<<"$1")
    printf '%s/%s%s' "${failed:-?}" "$RUNS" "${first:+ (first: $first)}"
}

# explore OPTIONS... -- COMMAND: the summary of RUNS runs, all of them.
explore() {
    timeout -k 5 3600 scripts/greenrun "$@" 2>/dev/null
}

table=$(
    echo "| program | kind | d | n | k | budget (runs) | its options | with them | --pct d | --chaos 0.1 | seeded | plain |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    while read -r name kind depth threads opts failure stated; do
        case $name in '#'* | '') continue ;; esac
        IFS=, read -r -a own <<<"$opts"
        expire=()
        [[ $opts =~ --expire,([0-9.]+) ]] && expire=(--expire "${BASH_REMATCH[1]}")
        common=(--explore "$RUNS" --keep-going --jobs 2 --timeout 3s)
        o=$(explore "${own[@]}" "${common[@]}" -- "$B/bugs/$name")
        # PCT of its depth without preemption: the same runs when those are its options.
        if [[ $opts == --pct,* ]]; then
            p=$o pcell="as its options"
        else
            p=$(explore --pct "$depth" "${expire[@]}" "${common[@]}" -- "$B/bugs/$name")
            pcell=$(cell "$p")
        fi
        k=$(sed -n 's/^pct steps: \([0-9]*\),.*/\1/p' <<<"$p")
        c=$(explore --chaos 0.1 "${expire[@]}" "${common[@]}" -- "$B/bugs/$name")
        s=$(explore "${expire[@]}" "${common[@]}" -- "$B/bugs/$name")
        plain=$(timeout -k 5 3600 "$HELPER" --runs "$RUNS" --keep-going --jobs 2 --timeout-ms 3000 \
            --plain -- "$B/bugs/$name" "$B/bugs/$name" 2>/dev/null)
        bound=$stated
        [ "$stated" = pct ] && bound=$(awk -v n="$threads" -v k="${k:-1000}" -v d="$depth" \
            -v o="$opts" -f tests/bugs/pct_bound.awk)
        echo "| $name | $kind | $depth | $threads | ${k:-?} | $bound | \`${opts//,/ }\` | $(cell "$o") | $pcell | $(cell "$c") | $(cell "$s") | $(cell "$plain") |"
    done <tests/bugs/corpus
)
printf '%s\n' "$table"

# Into BENCHMARKS.md, between the markers.
begin='<!-- bugs_table.sh: begin -->'
end='<!-- bugs_table.sh: end -->'
if grep -qF "$begin" BENCHMARKS.md && grep -qF "$end" BENCHMARKS.md; then
    { sed "/$begin/q" BENCHMARKS.md
      printf '%s\n' "$table"
      sed -n "/$end/,\$p" BENCHMARKS.md; } >BENCHMARKS.md.new && mv BENCHMARKS.md.new BENCHMARKS.md
fi
