#!/usr/bin/env bash
# The manual pages and the code name the same things, in both directions:
#   - every GREEN_* variable the library reads (hub/, shim/, resolver/) is in libgreen(7), and
#     every GREEN_* variable the manual pages name is read by the library or set by greenrun;
#   - every option greenrun parses is in greenrun(1)'s OPTIONS (and its help), and every option
#     that section describes is one greenrun parses;
#   - both pages format without a single groff warning.
# Output: "ok - NAME" or "not ok - NAME: why" per case, then "N passed, M failed".
set -u
cd "$(dirname "$0")/../.."

passed=0
failed=0
result() {  # result NAME WHY: WHY empty means it passed
    if [ -z "$2" ]; then
        echo "ok - $1"
        passed=$((passed + 1))
    else
        echo "not ok - $1: $2"
        failed=$((failed + 1))
    fi
}

# render PAGE: the page as plain text (no bold, underline or hyphenation at line ends).
render() {
    groff -man -Tutf8 -P-cbou -rHY=0 "$1" 2>/dev/null
}

# missing LIST TEXT: the words of LIST that TEXT does not contain (as whole words).
missing() {
    local word out=''
    for word in $1; do
        printf '%s\n' "$2" | grep -qE -- "(^|[^A-Za-z0-9_-])$word([^A-Za-z0-9_-]|$)" ||
            out+="${out:+ }$word"
    done
    printf '%s\n' "$out"
}

dirs=$(for d in hub shim resolver; do [ -d "$d" ] && echo "$d"; done)

# Variables the library reads: string literals that start with GREEN_ (getenv("GREEN_X") and
# the warnings that quote them).
code_vars=$(grep -rhoE '"GREEN_[A-Z0-9_]+' $dirs --include='*.cpp' --include='*.h' |
    tr -d '"' | sort -u)
# ... and those greenrun sets (which must be the same ones).
greenrun_vars=$(sed -n '/^readonly VARIABLES=(/,/)/p' scripts/greenrun | grep -oE 'GREEN_[A-Z0-9_]+' | sort -u)

libgreen7=$(render man/libgreen.7)
greenrun1=$(render man/greenrun.1)

[ -n "$code_vars" ] && [ -n "$libgreen7" ] && [ -n "$greenrun1" ] ||
    { result "setup" "no variables found in the code, or groff cannot render the pages"; }

# env_tags TEXT: the variables an ENVIRONMENT section describes (its tags, alone on a line).
env_tags() {
    printf '%s\n' "$1" | sed -n '/^ENVIRONMENT/,/^[A-Z]/p' | grep -oE '^       [A-Z][A-Z0-9_]+$' |
        tr -d ' '
}

result "every GREEN_* variable the library reads is described in libgreen(7)'s ENVIRONMENT" \
    "$(w=$(missing "$code_vars" "$(env_tags "$libgreen7")"); [ -n "$w" ] && echo "missing: $w")"
result "every GREEN_* variable greenrun sets is read by the library" \
    "$(w=$(missing "$greenrun_vars" "$code_vars"); [ -n "$w" ] && echo "not read: $w")"
result "every GREEN_* variable greenrun sets is described in greenrun(1)'s ENVIRONMENT" \
    "$(w=$(missing "$greenrun_vars" "$(env_tags "$greenrun1")"); [ -n "$w" ] && echo "missing: $w")"
man_vars=$(printf '%s\n%s\n' "$libgreen7" "$greenrun1" | grep -oE 'GREEN_[A-Z0-9_]+' | sort -u)
result "every GREEN_* variable the manual pages name exists in the code" \
    "$(w=$(missing "$man_vars" "$code_vars $greenrun_vars"); [ -n "$w" ] && echo "unknown: $w")"

# Options greenrun parses: the patterns of the case statements of its main function.
code_opts=$(sed -n '/^main() {/,/^}/p' scripts/greenrun | grep -E '^ +-[^)]*\)$' |
    grep -oE -- '--?[a-z][a-z-]*' | sort -u)
# Options greenrun(1) describes: the tags of its OPTIONS section.
man_opts=$(printf '%s\n' "$greenrun1" | sed -n '/^OPTIONS/,/^[A-Z]/p' | grep -E '^       -' |
    grep -oE -- '(^|[ ,])--?[a-z][a-z-]*' | tr -d ' ,' | sort -u)
help_text=$(scripts/greenrun --help 2>/dev/null)

result "greenrun parses options (found some)" "$([ -z "$code_opts" ] && echo "none found")"
result "every greenrun option is in greenrun(1)'s OPTIONS" \
    "$(w=$(missing "$code_opts" "$man_opts"); [ -n "$w" ] && echo "missing: $w")"
result "every option in greenrun(1)'s OPTIONS is one greenrun parses" \
    "$(w=$(missing "$man_opts" "$code_opts"); [ -n "$w" ] && echo "unknown: $w")"
result "every greenrun option is in greenrun --help" \
    "$(w=$(missing "$code_opts" "$help_text"); [ -n "$w" ] && echo "missing: $w")"
result "greenrun(1) describes '. greenrun on' and '. greenrun off'" \
    "$(for w in '. greenrun on' '. greenrun off'; do
        printf '%s\n' "$greenrun1" | grep -qF "$w" || echo "missing: $w"; done)"

for page in man/greenrun.1 man/libgreen.7; do
    warnings=$(groff -ww -man -Tutf8 "$page" 2>&1 >/dev/null)
    result "$page formats without groff warnings" "${warnings:+$(printf '%s' "$warnings" | head -n 3 | tr '\n' ' ')}"
    # groff passes control characters through silently (a lost backslash: \f became a form
    # feed), so look for them.
    result "$page has no control characters" \
        "$(LC_ALL=C grep -nP '[\x00-\x08\x0b-\x1f\x7f]' "$page" | head -n 3 | cat -v | tr '\n' ' ')"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
