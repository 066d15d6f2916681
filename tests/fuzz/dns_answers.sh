#!/usr/bin/env bash
# Fuzz harness (a script: scripts/fuzz.sh runs it): a hostile name server on loopback answers
# every query of the whole look-up path with the bytes of a fuzz input, and glibc's results are
# compared with libgreen's, byte for byte (tests/fuzz/dns_answers.py says how).
#
#   dns_answers.sh SECONDS CORPUS_DIR ARTIFACT_DIR   fuzz for SECONDS (make fuzz)
#   dns_answers.sh --replay PATH...                  each input once (make test: the committed
#                                                    corpus, tests/fuzz/corpus/dns_answers)
#   dns_answers.sh --run INPUT COMMAND...            COMMAND while the server answers with
#                                                    INPUT, e.g. build/tools/dns_query --section
#                                                    fuzz --rounds <<<"NAME ADDRESS" under libgreen
#   dns_answers.sh --seeds OUT_DIR                   seed inputs from build/tools/dns_server
#
# Runs in a network namespace of its own (nothing else sees its server on 127.0.0.1:53, and no
# query can leave the machine) and a mount namespace where a resolv.conf naming that server is
# bind-mounted on /etc/resolv.conf: the one glibc and libgreen both read.  Needs root (or
# CAP_SYS_ADMIN) and build/tools/dns_query, build/libgreen.so, build/san/libgreen.so.
set -u
cd "$(dirname "$0")/../.."

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# timeout:1 attempts:1: an answer that is never accepted costs one second, not ten; the search
# list makes a failed name be asked again under another name (answered NXDOMAIN).
printf 'nameserver 127.0.0.1\nsearch green.test\noptions timeout:1 attempts:1\n' >"$TMP/resolv.conf"

# in_ns SECONDS COMMAND...: loopback up, the test resolv.conf on /etc/resolv.conf, bounded in
# time.
in_ns() {
    local t=$1
    shift
    timeout -k 5 "$t" unshare -n -m sh -c 'ip link set lo up && mount --bind "$0" /etc/resolv.conf && exec "$@"' \
        "$TMP/resolv.conf" "$@"
}

case "${1:-}" in
--replay)
    shift
    TMPDIR=$TMP in_ns 600 python3 tests/fuzz/dns_answers.py replay "$@"
    ;;
--run)
    shift
    in_ns 600 python3 tests/fuzz/dns_answers.py run "$@"
    ;;
--seeds)
    [ $# -eq 2 ] || { echo "usage: $0 --seeds OUT_DIR" >&2; exit 2; }
    in_ns 60 sh -c 'build/tools/dns_server --addr 127.0.0.2 --port 53 --port-file "$0/port" &
        for i in $(seq 100); do [ -s "$0/port" ] && break; sleep 0.05; done
        python3 tests/fuzz/dns_answers.py seeds 127.0.0.2 "$1"; s=$?; kill $!; exit $s' \
        "$TMP" "$2"
    ;;
*)
    [ $# -eq 3 ] || { echo "usage: $0 SECONDS CORPUS_DIR ARTIFACT_DIR | --replay PATH... | --seeds DIR" >&2; exit 2; }
    seconds=${1%.*}
    in_ns $((seconds + 300)) python3 tests/fuzz/dns_answers.py fuzz "$1" "$2" "$3"
    ;;
esac
