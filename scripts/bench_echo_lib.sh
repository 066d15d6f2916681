# shellcheck shell=bash
# Shell functions of the echo benchmarks (scripts/bench_echo.sh, scripts/bench_diag.sh), sourced
# from the repository's top directory.  They need B (the build directory) and WORK (a scratch
# directory of the caller's); a server started here is the one in SERVER_PID, listening on PORT.
#
# Every server is tests/plain/echo_server.c or speaks its protocol: "serve 0 PORTFILE" on the
# command line, a "STAT\n" request answered with one line of statistics; echo_server also exits
# (through exit(3)) on "QUIT\n".

SERVER_PID=

# make_work: sets WORK to a new scratch directory; at exit the server is stopped and WORK removed.
make_work() {
    WORK=$(mktemp -d)
    trap work_cleanup EXIT
    trap 'exit 130' INT TERM
}
# shellcheck disable=SC2317  # invoked by the trap
work_cleanup() {
    stop_server
    rm -rf "$WORK"
}

median() {
    sort -g | awk '{v[NR]=$1} END {
        if (NR == 0) print "nan"; else print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'
}

# field NAME: the value after NAME in a line.
field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i+1)}'; }

# start_server COMMAND...: runs COMMAND serve 0 PORTFILE in the background, its output in
# $WORK/server.log, and sets SERVER_PID and PORT; returns 1 (with the log's end on stderr) when
# it does not listen within 20 s (a server under valgrind takes about a second).
start_server() {
    rm -f "$WORK/port"
    "$@" serve 0 "$WORK/port" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    PORT=
    for _ in $(seq 400); do
        if [ -s "$WORK/port" ]; then
            PORT=$(cat "$WORK/port")
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "$(basename "$0"): server did not start: $(tail -n 3 "$WORK/server.log")" >&2
    return 1
}

# alive PID: whether the process runs (a child that exited stays a zombie until waited for,
# and kill -0 still finds it).
alive() {
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ -n "$state" ] && [ "$state" != Z ]
}

# stop_server: ends the server with SIGTERM (no atexit handlers run).
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=
}

# quit_server: asks echo_server to exit(0) ("QUIT\n"), so that its atexit handlers and a
# valgrind tool's summary run; returns the server's exit status.  A server still there after
# 20 s is killed (status 137).  Not a signal: a background job of a non-interactive shell starts
# with SIGINT ignored, and SIGTERM's default action skips the atexit handlers.
quit_server() {
    local status=0
    printf 'QUIT\n' 2>/dev/null >"/dev/tcp/127.0.0.1/$PORT" || true
    for _ in $(seq 400); do
        alive "$SERVER_PID" || break
        sleep 0.05
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || status=$?
    SERVER_PID=
    return "$status"
}

# server_stat: the server's STAT line, asked through echo_load with 1 connection and 0 rounds.
server_stat() {
    taskset -c 1 "$B/tools/echo_load" 127.0.0.1 "$PORT" 1 0 64 2>/dev/null | sed -n 's/^server: //p'
}
