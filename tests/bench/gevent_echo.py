"""A gevent StreamServer echo server, for scripts/bench_echo.sh: the same thread-per-connection
program shape with greenlets, as Python programs get green threads.

    python3 gevent_echo.py serve PORT [READYFILE]

Same command line and same statistics protocol as tests/plain/echo_server.c: binds
127.0.0.1:PORT (0 = any free port) with a backlog of 4096; writes the actual port to READYFILE
(through READYFILE.tmp and rename) or, without it, prints it on stdout.  Every connection gets
one greenlet that loops recv(16384) / sendall until the peer closes.  A connection whose first 5
bytes are "STAT\\n" gets one line instead of an echo:

    conns_open N conns_total M os_threads T rss_kib R cpu_ms C

(the statistics connection itself is not counted; os_threads = entries of /proc/self/task,
rss_kib = VmRSS, cpu_ms = user + system CPU time from getrusage).
"""
import os
import resource
import socket
import sys

from gevent.server import StreamServer

BUF_SIZE = 16384
STAT_REQUEST = b"STAT\n"

conns_open = 0
conns_total = 0


def rss_kib():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def stats_line():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    cpu_ms = int((ru.ru_utime + ru.ru_stime) * 1000)
    # conns_open still counts the statistics connection that asks.
    return "conns_open %d conns_total %d os_threads %d rss_kib %d cpu_ms %d\n" % (
        conns_open - 1, conns_total, len(os.listdir("/proc/self/task")), rss_kib(), cpu_ms)


def handle(sock, _address):
    global conns_open, conns_total
    conns_open += 1
    conns_total += 1
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # The first bytes: read on while what arrived is a proper prefix of the statistics request.
        first = b""
        while True:
            data = sock.recv(BUF_SIZE)
            if not data:
                if first:
                    sock.sendall(first)
                return
            first += data
            if len(first) >= len(STAT_REQUEST) or not STAT_REQUEST.startswith(first):
                break
        if first.startswith(STAT_REQUEST):
            # Not an echo connection: take it out of the counts (finally does conns_open).
            conns_total -= 1
            sock.sendall(stats_line().encode())
            return
        sock.sendall(first)
        while True:
            data = sock.recv(BUF_SIZE)
            if not data:
                return
            sock.sendall(data)
    except OSError:
        pass
    finally:
        conns_open -= 1
        sock.close()


def main():
    if len(sys.argv) not in (3, 4) or sys.argv[1] != "serve":
        sys.stderr.write("usage: gevent_echo.py serve PORT [READYFILE]\n")
        return 2
    try:
        port = int(sys.argv[2])
        if not 0 <= port <= 65535:
            raise ValueError
    except ValueError:
        sys.stderr.write("usage: gevent_echo.py serve PORT [READYFILE]\n")
        return 2
    server = StreamServer(("127.0.0.1", port), handle, backlog=4096)
    server.init_socket()
    actual = server.socket.getsockname()[1]
    if len(sys.argv) == 4:
        tmp = sys.argv[3] + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % actual)
        os.rename(tmp, sys.argv[3])
    else:
        print(actual, flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
