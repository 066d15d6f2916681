#!/bin/sh
# Installs the Debian packages libgreen needs to build and test, and only those missing.
# With --bench, also those of the benchmarks (Go and gevent for scripts/bench_echo.sh); with
# --fuzz, clang and its libFuzzer runtime (make fuzz); with --deb, Debian's packaging tools
# (make deb, and the package test of make test); with
# --compat, also those of make compat (CPython's test suites, and gevent to compare with).
# Runs `apt-get update` first when something is missing; does nothing when all is there.
set -eu

PACKAGES="g++ make pkg-config libev-dev libc-ares-dev libboost-context-dev libcmocka-dev python3
valgrind gdb procps util-linux coreutils groff-base socat redis-server redis-tools memcached curl
openssl liburing-dev"
if [ "${1:-}" = "--bench" ]; then
    PACKAGES="$PACKAGES golang-go python3-gevent"
fi
if [ "${1:-}" = "--fuzz" ]; then
    PACKAGES="$PACKAGES clang libclang-rt-14-dev"
fi
if [ "${1:-}" = "--deb" ]; then
    PACKAGES="$PACKAGES build-essential dpkg-dev debhelper lintian"
fi
if [ "${1:-}" = "--compat" ]; then
    PACKAGES="$PACKAGES libpython3.11-testsuite python3-gevent"
fi

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing; run as root (or install them)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
