#!/usr/bin/env python3
"""Correctness and load client for memcached's text protocol (runs WITHOUT libgreen).

    memcached_client.py PORT CONNECTIONS SECONDS

First checks, on one connection, set/get/add/replace/append/incr/decr/cas/delete/expiry and the
server's thread count; then CONNECTIONS threads, each on its own connection, set and get their
own keys (values of 1 to 4000 random bytes) for SECONDS, checking every value that comes back.
Prints "load: N ops in S s, X ops/s" and exits 0 only when everything was right."""
import os
import socket
import sys
import threading
import time

port, conns, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])


class Conn:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exactly(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def cmd(self, text, data=None):
        self.s.sendall(text.encode() + b"\r\n" + (data + b"\r\n" if data is not None else b""))
        return self.line()

    def store(self, verb, key, value, exptime=0, extra=""):
        return self.cmd(f"{verb} {key} 0 {exptime} {len(value)}{extra}", value)

    def get(self, key, cas=False):
        self.s.sendall(f"{'gets' if cas else 'get'} {key}\r\n".encode())
        head = self.line()
        if head == b"END":
            return None
        parts = head.split()
        assert parts[0] == b"VALUE" and parts[1] == key.encode(), head
        value = self.exactly(int(parts[3]) + 2)[:-2]
        assert self.line() == b"END"
        return (value, int(parts[4])) if cas else value


def expect(what, got, want):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def correctness():
    c = Conn()
    expect("set", c.store("set", "k1", b"hello"), b"STORED")
    expect("get", c.get("k1"), b"hello")
    expect("add existing", c.store("add", "k1", b"x"), b"NOT_STORED")
    expect("add new", c.store("add", "k2", b"x"), b"STORED")
    expect("replace", c.store("replace", "k2", b"yy"), b"STORED")
    expect("replace missing", c.store("replace", "nope", b"z"), b"NOT_STORED")
    expect("append", c.store("append", "k1", b" world"), b"STORED")
    expect("get appended", c.get("k1"), b"hello world")
    expect("set n", c.store("set", "n", b"10"), b"STORED")
    expect("incr", c.cmd("incr n 5"), b"15")
    expect("decr", c.cmd("decr n 20"), b"0")
    value, token = c.get("k2", cas=True)
    expect("cas ok", c.store("cas", "k2", b"new", extra=f" {token}"), b"STORED")
    expect("cas stale", c.store("cas", "k2", b"newer", extra=f" {token}"), b"EXISTS")
    expect("get after cas", c.get("k2"), b"new")
    expect("delete", c.cmd("delete k2"), b"DELETED")
    expect("get deleted", c.get("k2"), None)
    # Expiry: memcached's clock ticks once a second from a libevent timer in the main thread.
    expect("set short", c.store("set", "short", b"v", exptime=1), b"STORED")
    expect("get short", c.get("short"), b"v")
    time.sleep(2.5)
    expect("get expired", c.get("short"), None)
    c.s.sendall(b"stats settings\r\n")
    settings = {}
    while True:
        line = c.line()
        if line == b"END":
            break
        _, name, value = line.split(b" ", 2)
        settings[name] = value
    expect("num_threads", settings.get(b"num_threads"), b"4")
    c.s.close()


ops = 0
errors = []
lock = threading.Lock()


def load(index, deadline):
    global ops
    n = 0
    try:
        c = Conn()
        mine = {}
        i = 0
        while time.monotonic() < deadline:
            key = f"load:{index}:{i % 200}"
            value = os.urandom(1 + (i * 37) % 4000)
            expect("load set", c.store("set", key, value), b"STORED")
            mine[key] = value
            probe = f"load:{index}:{(i * 7) % 200}"
            expect("load get", c.get(probe), mine.get(probe))
            n += 2
            i += 1
        c.s.close()
    except Exception as e:  # reported and counted
        with lock:
            errors.append(f"connection {index}: {e!r}")
    with lock:
        ops += n


def main():
    correctness()
    print("correctness: ok")
    start = time.monotonic()
    threads = [threading.Thread(target=load, args=(i, start + seconds)) for i in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - start
    if errors:
        print(f"{len(errors)} errors; first: {errors[0]}")
        sys.exit(1)
    print(f"load: {ops} ops in {took:.1f} s, {int(ops / took)} ops/s")


main()
