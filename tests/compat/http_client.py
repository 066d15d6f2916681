"""Load for the python3 http.server compatibility case: CLIENTS threads, each fetching the file
ROUNDS times over fresh connections and comparing every byte.  Runs WITHOUT libgreen.

    http_client.py PORT FILE CLIENTS ROUNDS SERVER_PID

Prints "ok N errors E peak_server_threads T" and exits 0 only when every fetch matched."""
import http.client
import os
import sys
import threading

port, path, clients, rounds, server_pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
data = open(path, "rb").read()
name = "/" + os.path.basename(path)
ok = 0
errors = []
lock = threading.Lock()
peak = 0
done = threading.Event()


def fetch_all():
    global ok
    try:
        for _ in range(rounds):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            c.request("GET", name)
            body = c.getresponse().read()
            c.close()
            if body != data:
                raise ValueError("body differs (%d bytes, expected %d)" % (len(body), len(data)))
            with lock:
                ok += 1
    except Exception as e:  # reported, counted as a failure
        with lock:
            errors.append(repr(e))


def watch_threads():
    global peak
    while not done.wait(0.02):
        try:
            peak = max(peak, len(os.listdir("/proc/%d/task" % server_pid)))
        except OSError:
            pass


watcher = threading.Thread(target=watch_threads)
watcher.start()
workers = [threading.Thread(target=fetch_all) for _ in range(clients)]
for t in workers:
    t.start()
for t in workers:
    t.join()
done.set()
watcher.join()
print("ok %d errors %d peak_server_threads %d %s" % (ok, len(errors), peak, errors[:3]))
sys.exit(0 if ok == clients * rounds and not errors else 1)
