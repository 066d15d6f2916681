#!/usr/bin/env python3
"""Hostile name server against the whole look-up path: glibc's answers against libgreen's.

Run by tests/fuzz/dns_answers.sh inside a network and mount namespace of its own, where
127.0.0.1 port 53 is this driver's server and /etc/resolv.conf names it:

  dns_answers.py fuzz SECONDS CORPUS_DIR ARTIFACT_DIR   replay the corpus, then mutate it
  dns_answers.py replay PATH...                         each input once (make test); with
                                                        DNS_FUZZ_SHOW=1 prints every output
  dns_answers.py run INPUT COMMAND...                   COMMAND while the server answers
                                                        with INPUT (to look at a finding)
  dns_answers.py seeds DNS_SERVER_ADDR OUT_DIR          seed inputs: real answers of the test
                                                        zone (build/tools/dns_server)

An input is a line "NAME ADDRESS\\n" followed by answer templates, each
[key][flags][length, 2 bytes big-endian][a DNS message].  key 0, 1, 2 answer the A and AAAA
queries for NAME and the PTR query for ADDRESS (an IPv4 address) over UDP; key | 0x80 the same
over TCP (when absent, the UDP template answers there too).  flags bit 0: no reply at all (the
query times out); bit 1: no SERVFAIL after the answer (see Server.reply).  The server copies the query's ID over the template's first two bytes, and
nothing else: every other byte is the input's, so a mutated answer reaches the resolver's
parser.  Queries for other names (the search list's) get NXDOMAIN.

build/tools/dns_query --section fuzz --rounds runs every entry point over NAME and ADDRESS
(getaddrinfo of three families, gethostbyname, gethostbyname2_r, gethostbyaddr(_r),
getnameinfo, res_query) in three long-lived processes: glibc, libgreen (build/libgreen.so) and
libgreen under ASan+UBSan (build/san/libgreen.so).  Each input's three outputs must be the same
byte for byte; a sanitizer report or a client that dies or hangs is a failure too.  Differences
of a class listed in tests/fuzz/dns_answers.known (a regular expression over "glibc's call and
result => libgreen's", or "=> (exited with status -11)" and the like for the call a client
did not finish; DNS_FUZZ_KNOWN names another file, /dev/null for none) are counted and
skipped, so that fuzzing finds new ones.

fuzz mode stops at the first new difference and leaves INPUT and INPUT.txt (the outputs) in
ARTIFACT_DIR; with DNS_FUZZ_KEEP_GOING=1 it goes on and keeps one input per new class.  An
input that shows a behaviour not seen before (a coarse shape of the outputs) is added to
CORPUS_DIR.  Exit status: 0 clean, 1 difference or failure, 2 bad usage.
"""
import hashlib
import os
import random
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
B = os.path.join(ROOT, "build")
QUERY = os.path.join(B, "tools", "dns_query")
KNOWN = os.environ.get("DNS_FUZZ_KNOWN") or os.path.join(ROOT, "tests", "fuzz", "dns_answers.known")
ROUND_SECONDS = 120  # one round of calls; glibc's slowest (timeouts, search list) is ~30 s
MAX_INPUT = 8192
MAX_CORPUS = 3000

T_A, T_PTR, T_AAAA = 1, 12, 28


# ---- inputs ------------------------------------------------------------------------------

def parse_input(data):
    """(name, addr, {key: (flags, bytes)}), or None when the first line is not usable."""
    nl = data.find(b"\n")
    if nl < 0:
        return None
    words = data[:nl].split()
    if len(words) != 2:
        return None
    try:
        name, addr = words[0].decode("ascii"), words[1].decode("ascii")
        socket.inet_aton(addr)
    except (UnicodeDecodeError, OSError):
        return None
    if not re.fullmatch(r"[A-Za-z0-9.-]{1,200}", name) or addr.count(".") != 3:
        return None
    entries = {}
    p = nl + 1
    while p + 4 <= len(data):
        key, flags, n = data[p], data[p + 1], struct.unpack(">H", data[p + 2:p + 4])[0]
        entries.setdefault(key, (flags, data[p + 4:p + 4 + n]))
        p += 4 + n
    return name, addr, entries


def build_input(name, addr, entries):
    out = [("%s %s\n" % (name, addr)).encode()]
    for key in sorted(entries):
        flags, msg = entries[key]
        msg = msg[:0xffff]
        out.append(struct.pack(">BBH", key, flags, len(msg)) + msg)
    return b"".join(out)


def reverse_name(addr):
    return ".".join(reversed(addr.split("."))) + ".in-addr.arpa"


# ---- the server --------------------------------------------------------------------------

def read_question(msg):
    """(lower-case name, type, end offset) of a query's first question, or None."""
    if len(msg) < 12:
        return None
    p, labels = 12, []
    while p < len(msg):
        n = msg[p]
        if n == 0:
            p += 1
            break
        if n & 0xc0 or p + 1 + n > len(msg):
            return None
        labels.append(msg[p + 1:p + 1 + n].decode("latin-1").lower())
        p += 1 + n
    else:
        return None
    if p + 4 > len(msg):
        return None
    return ".".join(labels), struct.unpack(">H", msg[p:p + 2])[0], p + 4


def ignored(answer, query, qend):
    """Whether glibc's res_send would wait on after this reply to the query (its ID fixed)."""
    if len(answer) < 12 or not answer[2] & 0x80 or answer[4:6] != b"\x00\x01":
        return True
    q = read_question(answer)
    return q is None or answer[12:q[2]].lower() != query[12:qend].lower()


class Server:
    """UDP and TCP on 127.0.0.1:53, answering from the current input."""

    def __init__(self):
        self.lock = threading.Lock()
        self.current = ("", "", {})
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 53))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", 53))
        self.tcp.listen(64)
        threading.Thread(target=self.serve, daemon=True).start()

    def set_input(self, parsed):
        with self.lock:
            self.current = parsed

    def reply(self, query, tcp):
        """The messages to send back, in order."""
        q = read_question(query)
        if q is None:
            return []
        qname, qtype, qend = q
        with self.lock:
            name, addr, entries = self.current
        key = None
        if qname == name.lower().rstrip("."):
            key = {T_A: 0, T_AAAA: 1}.get(qtype)
        elif qname == reverse_name(addr) and qtype == T_PTR:
            key = 2
        fallback = query[:2] + struct.pack(">HHHHH", 0x8000 | (query[2] & 1) << 8 | 0x80 | 2,
                                           1, 0, 0, 0) + query[12:qend]
        if key is not None:
            flags, msg = entries.get(key | 0x80, entries.get(key, (0, None))) if tcp else \
                entries.get(key, (0, None))
            if msg is not None:
                if flags & 1:
                    return []
                answer = query[:2] + msg[2:] if len(msg) >= 2 else msg
                # An answer a resolver does not take as the reply (too short, not a response,
                # another question) is followed by SERVFAIL: the look-up fails at once
                # instead of after the timeout.  Only then: a second reply to a query that
                # is still open (after TC, over TCP) would race with the first.
                if flags & 2 or not ignored(answer, query, qend):
                    return [answer]
                return [answer, fallback]
        # Not the input's: NXDOMAIN, the question echoed, RD copied.
        return [fallback[:3] + bytes([fallback[3] | 1]) + fallback[4:]]

    def serve(self):
        conns = {}  # fd: [socket, bytes read, when to close it or None]
        poller = select.poll()
        poller.register(self.udp, select.POLLIN)
        poller.register(self.tcp, select.POLLIN)

        def close(fd):
            poller.unregister(fd)
            conns.pop(fd)[0].close()

        while True:
            closing = [c[2] for c in conns.values() if c[2] is not None]
            wait = max(0, min(closing) - time.monotonic()) * 1000 if closing else None
            for fd, _ in poller.poll(wait):
                try:
                    if fd == self.udp.fileno():
                        query, peer = self.udp.recvfrom(65535)
                        for r in self.reply(query, False):
                            self.udp.sendto(r, peer)
                    elif fd == self.tcp.fileno():
                        c, _ = self.tcp.accept()
                        conns[c.fileno()] = [c, b"", None]
                        poller.register(c, select.POLLIN)
                    else:
                        c, buf, _ = conns[fd]
                        data = c.recv(65535)
                        if not data:
                            close(fd)
                            continue
                        buf += data
                        while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
                            n = struct.unpack(">H", buf[:2])[0]
                            replies = self.reply(buf[2:2 + n], True)
                            buf = buf[2 + n:]
                            for r in replies:
                                c.settimeout(5)
                                c.sendall(struct.pack(">H", len(r)) + r)
                            if not replies:
                                # Unanswered over TCP: closed 2 s later.  glibc reads a TCP
                                # reply with no timeout: an open, silent connection would
                                # hang it for ever (and no reference answer comes).
                                conns[fd][2] = time.monotonic() + 2
                        conns[fd][1] = buf
                except OSError:
                    if fd in conns:
                        close(fd)
            now = time.monotonic()
            for fd in [fd for fd, c in conns.items() if c[2] is not None and c[2] <= now]:
                close(fd)


# ---- the clients -------------------------------------------------------------------------

class Client:
    def __init__(self, label, env, errdir):
        self.label, self.env = label, env
        self.errpath = os.path.join(errdir, "dns_answers.%s.stderr" % label)
        self.proc = None

    def start(self):
        env = dict(os.environ)
        env.update(self.env)
        self.err = open(self.errpath, "wb")
        self.proc = subprocess.Popen([QUERY, "--section", "fuzz", "--rounds"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.err, env=env, cwd=ROOT)
        self.buf = b""

    def send(self, name, addr):
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        try:
            self.proc.stdin.write(("%s %s\n" % (name, addr)).encode())
            self.proc.stdin.flush()
        except OSError:
            pass

    def receive(self, deadline):
        """The round's output, or (what it printed, why) when the client died or hung."""
        fd = self.proc.stdout.fileno()
        while b"\n== end\n" not in b"\n" + self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.stop()
                out, self.buf = self.buf.decode("latin-1"), b""
                return out, "no answer in %d s (hang)" % ROUND_SECONDS
            data = os.read(fd, 65536)
            if not data:
                status = self.proc.wait()
                self.proc = None
                out, self.buf = self.buf.decode("latin-1"), b""
                return out, "exited with status %s" % status
            self.buf += data
        end = (b"\n" + self.buf).index(b"\n== end\n")
        out, self.buf = self.buf[:end], self.buf[end + len("== end\n"):]
        return out.decode("latin-1"), None

    def stderr_text(self):
        try:
            with open(self.errpath, "rb") as f:
                return f.read().decode("latin-1")
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def make_clients(errdir):
    asan_rt = subprocess.run(["g++", "-print-file-name=libasan.so"], capture_output=True,
                             text=True).stdout.strip()
    clients = [Client("glibc", {}, errdir),
               Client("green", {"LD_PRELOAD": os.path.join(B, "libgreen.so")}, errdir)]
    if os.path.exists(os.path.join(B, "san", "libgreen.so")) and asan_rt:
        clients.append(Client("san", {
            "LD_PRELOAD": os.path.join(B, "san", "libgreen.so") + " " + asan_rt,
            "ASAN_OPTIONS": "detect_leaks=0:verify_asan_link_order=0:handle_segv=0",
            "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"}, errdir))
    else:
        print("dns_answers: no build/san/libgreen.so (make san): no sanitizer run",
              file=sys.stderr)
    return clients


# ---- comparing ---------------------------------------------------------------------------

def records(out):
    """One record per call: its line and the indented lines of its result."""
    recs = []
    for line in out.split("\n"):
        if line.startswith("  ") and recs:
            recs[-1].append(line.strip())
        elif line:
            recs.append([line])
    return [" | ".join(r) for r in recs]


def load_known():
    known = []
    try:
        with open(KNOWN) as f:
            for line in f:
                line = line.rstrip("\n")
                if not line or line.startswith("#"):
                    continue
                name, _, rx = line.partition(" ")
                known.append((name, re.compile(rx.strip())))
    except OSError:
        pass
    return known


def differences(ref, other):
    """Signatures "glibc's record => other's record" of the calls that differ."""
    a, b = records(ref), records(other)
    diffs = [x + " => " + y for x, y in zip(a, b) if x != y]
    for x in a[len(b):]:
        diffs.append(x + " => (missing)")
    for y in b[len(a):]:
        diffs.append("(missing) => " + y)
    return diffs


def classify(sig, known):
    for name, rx in known:
        if rx.search(sig):
            return name
    return None


def coarse_class(sig):
    """A difference's class for keeping one input each: the call, and each side's outcome
    with names, numbers and packets taken out."""
    def shape(side):
        side = re.sub(r'"(\\.|[^"\\])*"', "S", side)
        side = re.sub(r"\b[0-9a-f]{8,}\b", "H", side)
        side = re.sub(r"\d+", "N", side)
        return side.split(" | ")[0]
    left, _, right = sig.partition(" => ")
    return shape(left) + " => " + shape(right)


def features(out):
    """The shape of one output, for the corpus: each call's outcome and how many lines."""
    feats = set()
    for r in records(out):
        parts = r.split(" | ")
        head = re.sub(r'"(\\.|[^"\\])*"', "S", parts[0])
        head = re.sub(r"\d+\.\d+\.\d+\.\d+|[0-9a-f:]*:[0-9a-f:]+", "A", head)
        feats.add(head + " #%d" % min(len(parts), 6))
        for p in parts[1:]:
            if p.startswith("ai ") or p.startswith("name=") or p.startswith("alias"):
                feats.add(head.split(" ->")[0] + " :" + re.sub(r'"(\\.|[^"\\])*"',
                          lambda m: "S%d" % min(len(m.group(0)) // 32, 8), p)[:80])
    return feats


class Runner:
    def __init__(self, errdir):
        self.server = Server()
        self.clients = make_clients(errdir)
        self.known = load_known()
        self.known_counts = {}
        self.runs = 0

    def run(self, data):
        """(outputs by label, list of new difference signatures, failure text or None)."""
        parsed = parse_input(data)
        if parsed is None:
            return {}, [], None
        self.server.set_input(parsed)
        name, addr, _ = parsed
        for c in self.clients:
            c.send(name, addr)
        deadline = time.monotonic() + ROUND_SECONDS
        outs, why = {}, {}
        for c in self.clients:
            outs[c.label], why[c.label] = c.receive(deadline)
        self.runs += 1
        for c in self.clients:
            text = c.stderr_text()
            m = re.search(r"ERROR: AddressSanitizer.*|runtime error:.*", text)
            if m:
                c.stop()
                why[c.label] = "sanitizer report: %s\n%s" % (m.group(0), text[-6000:])
        if why["glibc"]:
            # No reference for this input (glibc itself hung or died): counted, not compared.
            self.known_counts["glibc-failed"] = self.known_counts.get("glibc-failed", 0) + 1
            print("dns_answers: glibc: %s; input not compared" % why["glibc"].split("\n")[0],
                  file=sys.stderr, flush=True)
            return outs, [], None
        new, failures = [], []
        for c in self.clients[1:]:
            sigs = differences(outs["glibc"], outs[c.label])
            if why[c.label]:
                # A client that died or hung: the call it did not finish is glibc's next one.
                done = len(records(outs[c.label]))
                ref = records(outs["glibc"])
                sigs = [s for s in sigs if "=> (missing)" not in s]
                sigs.append("%s => (%s)" % (ref[done] if done < len(ref) else "(end)",
                                            why[c.label].split("\n")[0]))
            for sig in sigs:
                cls = classify(sig, self.known)
                if cls:
                    self.known_counts[cls] = self.known_counts.get(cls, 0) + 1
                else:
                    new.append(c.label + ": " + sig)
                    if why[c.label] and sig.endswith(")") and " => (" in sig:
                        failures.append("%s: %s" % (c.label, why[c.label][:6000]))
        return outs, new, "\n".join(failures) or None

    def stop(self):
        for c in self.clients:
            c.stop()


def report_text(data, outs, new, failure):
    text = ["input: %r" % data[:200]]
    if failure:
        text.append("FAILURE: " + failure)
    for sig in new:
        text.append("DIFFERENCE " + sig)
    for label, out in outs.items():
        text.append("---- %s ----\n%s" % (label, out))
    return "\n".join(text) + "\n"


# ---- mutation ----------------------------------------------------------------------------

INTERESTING16 = [0, 1, 2, 5, 0x7f, 0x80, 0xff, 0x100, 0x1ff, 0x200, 0x7fff, 0x8000, 0xffff]
INTERESTING8 = [0, 1, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xff]


def mutate_msg(rng, msg, pool):
    msg = bytearray(msg)
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 5])):
        op = rng.randrange(13)
        n = len(msg)
        if op == 0 and n:  # flip a bit
            i = rng.randrange(n)
            msg[i] ^= 1 << rng.randrange(8)
        elif op == 1 and n:  # a random or interesting byte
            msg[rng.randrange(n)] = rng.choice([rng.randrange(256)] + INTERESTING8)
        elif op == 2:  # insert bytes
            i = rng.randrange(n + 1)
            msg[i:i] = bytes(rng.randrange(256) for _ in range(rng.choice([1, 1, 2, 4, 16])))
        elif op == 3 and n > 12:  # delete a range
            i = rng.randrange(12, n)
            del msg[i:i + rng.choice([1, 1, 2, 4, 16, 64])]
        elif op == 4 and n:  # truncate
            del msg[rng.randrange(n):]
        elif op == 5 and n >= 12:  # a header count or the flags
            i = rng.choice([2, 4, 6, 8, 10])
            msg[i:i + 2] = struct.pack(">H", rng.choice(INTERESTING16 + [rng.randrange(65536)]))
        elif op == 6 and n >= 4:  # rcode, TC, AA, RA
            msg[3] = (msg[3] & 0xf0) | rng.randrange(16)
            if rng.random() < 0.3:
                msg[2] ^= rng.choice([0x02, 0x04, 0x80, 0x01, 0x78])
        elif op == 7 and n > 12:  # a compression pointer somewhere
            i = rng.randrange(12, n)
            to = rng.choice([12, rng.randrange(n), rng.randrange(0x4000)])
            msg[i:i + 2] = bytes([0xc0 | to >> 8, to & 0xff])
        elif op == 8 and n > 12:  # duplicate a range (records repeated)
            i = rng.randrange(12, n)
            j = min(n, i + rng.choice([4, 16, 28, 64]))
            k = rng.randrange(12, n + 1)
            msg[k:k] = msg[i:j]
        elif op == 9 and n > 12:  # a length or label byte at an odd value
            i = rng.randrange(12, n)
            msg[i] = rng.choice([0, 1, 63, 64, 0x3f, 0xff, rng.randrange(64)])
        elif op == 10 and pool:  # splice from another answer
            other = rng.choice(pool)
            if len(other) > 12 and n > 12:
                i, j = rng.randrange(12, n), rng.randrange(12, len(other))
                msg[i:] = other[j:j + rng.randrange(1, 256)]
        elif op == 11 and n > 12:  # a long or odd name where one was
            i = rng.randrange(12, n)
            label = rng.choice([b"a" * 63, b"x" * rng.randrange(1, 64), b"a\\b", b"$(id)",
                                b"\x00\xff", b"-", b"a.b", b"\x80\xfe"])
            reps = rng.choice([1, 2, 4])
            msg[i:i] = (bytes([len(label)]) + label) * reps
        elif op == 12 and n >= 12:  # TTL or RDLENGTH-like 16-bit field at a random place
            i = rng.randrange(12, max(13, n - 1))
            msg[i:i + 2] = struct.pack(">H", rng.choice(INTERESTING16))
    return bytes(msg[:MAX_INPUT])


def mutate(rng, data, pool_inputs):
    parsed = parse_input(data)
    if parsed is None:
        return data
    name, addr, entries = parsed
    entries = dict(entries)
    pool = [m for e in pool_inputs for (_, m) in e.values()]
    for _ in range(rng.choice([1, 1, 2])):
        r = rng.random()
        key = rng.choice(list(entries) or [0])
        flags, msg = entries.get(key, (0, b""))
        if r < 0.85:
            entries[key] = (flags, mutate_msg(rng, msg, pool))
        elif r < 0.90 and len(entries) > 1:
            entries.pop(key, None)
        elif r < 0.95:  # the same answer over the other transport
            entries[key ^ 0x80] = (flags, msg)
        elif r < 0.98 and pool_inputs:  # another input's answer for this query
            other = rng.choice(pool_inputs)
            if key in other:
                entries[key] = other[key]
        else:  # no reply, or no SERVFAIL after the answer: a timeout
            entries[key] = (flags ^ rng.choice([1, 2]), msg)
    return build_input(name, addr, entries)


# ---- modes -------------------------------------------------------------------------------

def list_inputs(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p)
                            if not f.startswith(".") and os.path.isfile(os.path.join(p, f)))
        elif os.path.isfile(p):
            files.append(p)
    return files


def replay(paths):
    files = list_inputs(paths)
    if not files:
        print("dns_answers: no inputs", file=sys.stderr)
        return 2
    runner = Runner(os.environ.get("TMPDIR", "/tmp"))
    bad = 0
    for f in files:
        data = open(f, "rb").read()
        outs, new, failure = runner.run(data)
        if failure or new:
            bad += 1
            print("FAIL %s\n%s" % (f, report_text(data, outs, new, failure)))
        elif os.environ.get("DNS_FUZZ_SHOW") == "1":
            print("ok %s\n%s" % (f, report_text(data, outs, new, failure)))
    runner.stop()
    print("dns_answers: %d inputs, %d failed; known differences: %s" %
          (len(files), bad, runner.known_counts or "none"))
    return 1 if bad else 0


def fuzz(seconds, corpus, artifacts):
    keep_going = os.environ.get("DNS_FUZZ_KEEP_GOING") == "1"
    rng = random.Random(int(os.environ.get("DNS_FUZZ_SEED", time.time_ns() % 2**32)))
    os.makedirs(corpus, exist_ok=True)
    os.makedirs(artifacts, exist_ok=True)
    runner = Runner(artifacts)
    end = time.monotonic() + seconds
    inputs, seen, classes = [], set(), set()
    status = 0
    start = time.monotonic()

    def handle(data, outs, new, failure, from_corpus):
        nonlocal status
        h = hashlib.sha1(data).hexdigest()
        if failure or new:
            fresh = [s for s in new if coarse_class(s) not in classes]
            for s in new:
                classes.add(coarse_class(s))
            if failure or fresh:
                path = os.path.join(artifacts, ("crash-" if failure else "diff-") + h)
                with open(path, "wb") as f:
                    f.write(data)
                with open(path + ".txt", "w") as f:
                    f.write(report_text(data, outs, fresh or new, failure))
                print("new %s: %s" % ("failure" if failure else "difference", path), flush=True)
                for s in fresh:
                    print("  " + s[:400], flush=True)
                if failure:
                    print("  " + failure[:2000], flush=True)
                status = 1
                if not keep_going:
                    return False
        feats = set()
        for out in outs.values():
            feats |= features(out)
        if feats - seen:
            seen.update(feats)
            p = parse_input(data)
            if p:
                inputs.append(p[2])
            if not from_corpus and len(os.listdir(corpus)) < MAX_CORPUS:
                with open(os.path.join(corpus, h), "wb") as f:
                    f.write(data)
        return True

    files = list_inputs([corpus])
    datas = []
    for f in files:
        if time.monotonic() >= end:
            break
        data = open(f, "rb").read()
        datas.append(data)
        outs, new, failure = runner.run(data)
        if not handle(data, outs, new, failure, True):
            runner.stop()
            return 1
    if not datas:
        print("dns_answers: the corpus is empty", file=sys.stderr)
        return 2
    last = time.monotonic()
    while time.monotonic() < end:
        data = mutate(rng, rng.choice(datas), inputs)
        outs, new, failure = runner.run(data)
        grew = len(inputs)
        if not handle(data, outs, new, failure, False):
            break
        if len(inputs) > grew and len(datas) < 2000:  # new behaviour: mutated further
            datas.append(data)
        if time.monotonic() - last > 30:
            last = time.monotonic()
            print("#%d %.0fs corpus features %d, known differences %s" %
                  (runner.runs, last - start, len(seen), runner.known_counts), flush=True)
    runner.stop()
    print("dns_answers: %d runs in %.0f s, %d features, known differences: %s; %s" %
          (runner.runs, time.monotonic() - start, len(seen), runner.known_counts or "none",
           "new differences or failures in " + artifacts if status else "nothing new"))
    return status


def make_seeds(server_addr, outdir):
    """Real answers of the test zone, over UDP and TCP, one input per name."""
    os.makedirs(outdir, exist_ok=True)

    def query(name, qtype, tcp):
        q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
        for label in name.split("."):
            q += bytes([len(label)]) + label.encode()
        q += b"\x00" + struct.pack(">HH", qtype, 1)
        if tcp:
            s = socket.create_connection((server_addr, 53), timeout=2)
            s.sendall(struct.pack(">H", len(q)) + q)
            buf = b""
            while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
                d = s.recv(65535)
                if not d:
                    break
                buf += d
            s.close()
            return buf[2:]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(1)
        s.sendto(q, (server_addr, 53))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None
        finally:
            s.close()

    names = [("a", "10.53.0.1"), ("six", "10.53.0.2"), ("dual", "10.53.1.1"),
             ("alias", "10.53.0.2"), ("loop1", "10.53.0.1"), ("nodata", "10.99.0.1"),
             ("mail", "10.53.0.1"), ("big", "10.53.0.2"), ("huge", "10.53.0.1"),
             ("fail", "10.53.0.2"), ("refused", "10.53.0.1"), ("short", "10.53.0.2"),
             ("badcount", "10.53.0.1"), ("ptrloop", "10.53.0.2"), ("garbage", "10.53.0.1"),
             ("nosuch", "10.53.0.3"), ("www.sub", "10.53.1.1")]
    for short, addr in names:
        name = short + ".green.test"
        entries = {}
        for key, qname, qtype in ((0, name, T_A), (1, name, T_AAAA),
                                  (2, reverse_name(addr), T_PTR)):
            udp = query(qname, qtype, False)
            tcp = query(qname, qtype, True)
            if udp is not None:
                entries[key] = (0, udp)
            if tcp and tcp != udp:
                entries[key | 0x80] = (0, tcp)
        with open(os.path.join(outdir, "seed-" + short), "wb") as f:
            f.write(build_input(name, addr, entries))
    return 0


def serve_and_run(path, command):
    """The server answering with one input while COMMAND runs (to look at a finding)."""
    server = Server()
    server.set_input(parse_input(open(path, "rb").read()))
    return subprocess.call(command)


def main(argv):
    if len(argv) >= 4 and argv[1] == "run":
        return serve_and_run(argv[2], argv[3:])
    if len(argv) == 5 and argv[1] == "fuzz":
        return fuzz(float(argv[2]), argv[3], argv[4])
    if len(argv) >= 3 and argv[1] == "replay":
        return replay(argv[2:])
    if len(argv) == 4 and argv[1] == "seeds":
        return make_seeds(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
