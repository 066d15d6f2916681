#!/usr/bin/env python3
"""Concurrent byte-exact echo check: N connections to 127.0.0.1:PORT at once, each sends SIZE
random bytes, shuts down its sending side and reads until EOF; what comes back must be what
went.  Prints "ok N connections" and exits 0, or names the first failure and exits 1.

    echo_client.py PORT N [SIZE]
"""
import os
import socket
import sys
import threading


def one(port, size, failures, index):
    data = os.urandom(size)
    got = bytearray()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            def send():
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
            sender = threading.Thread(target=send)
            sender.start()
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            sender.join()
    except OSError as e:
        failures.append(f"connection {index}: {e}")
        return
    if bytes(got) != data:
        failures.append(f"connection {index}: {len(got)} bytes back of {size}, "
                        f"{'a prefix' if data.startswith(bytes(got)) else 'different'}")


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 65536
    failures = []
    threads = [threading.Thread(target=one, args=(port, size, failures, i)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        print(f"{len(failures)} of {n} connections failed; first: {failures[0]}")
        sys.exit(1)
    print(f"ok {n} connections")


main()
