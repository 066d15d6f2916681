#!/usr/bin/env python3
"""Checks what gdb printed for tests/tools/parked.c with libgreen's gdb extension.

Usage: gdb_green_check.py LOG [MAIN_STATE]

LOG holds the output of `info green-threads` and `green-thread apply all bt`.  The listing must
show the 21 threads, each in the state and the wait its function makes (MAIN_STATE for the main
thread: parked, or running when gdb stopped it at a breakpoint), the function as the innermost
frame in the program; each thread's backtrace must reach that function."""
import re
import sys

# Function a thread starts in -> (how many, what the listing says it waits on).
EXPECTED = {
    "park_in_sleep": (4, r"timer, until .* from now"),
    "park_in_read": (4, r"fd \d+ read"),
    "park_in_mutex": (3, r"pthread_mutex_lock 0x[0-9a-f]+"),
    "park_in_cond": (3, r"pthread_cond_wait 0x[0-9a-f]+"),
    "park_in_sem": (3, r"sem_wait 0x[0-9a-f]+"),
    "park_in_join": (3, r"pthread_join of thread [1-9]\d*"),
    "wait_for_go": (1, r"fd 0 read"),
}


def main():
    text = open(sys.argv[1], errors="replace").read()
    main_state = sys.argv[2] if len(sys.argv) > 2 else "parked"
    errors = []
    rows = re.findall(r"^(\d+)\s+(\S+)\s+(parked|running|runnable|dead|switching)\s+(\d+\s+)?"
                      r"(.*?)\s+(\w+) \(\S+:\d+\)$", text, re.M)
    m = re.search(r"^(\d+) green threads$", text, re.M)
    if not m or m.group(1) != "21" or len(rows) != 21:
        errors.append("listing: %s green threads, %d rows read"
                      % (m.group(1) if m else "no count of", len(rows)))
    func_of, counts = {}, {}
    for tid, name, state, _, waits, func in rows:
        func_of[tid] = func
        counts[func] = counts.get(func, 0) + 1
        if func not in EXPECTED:
            errors.append("thread %s: innermost program frame %s" % (tid, func))
            continue
        want_state = main_state if func == "wait_for_go" else "parked"
        if state != want_state:
            errors.append("thread %s (%s): %s, not %s" % (tid, func, state, want_state))
        if state == "parked" and not re.fullmatch(EXPECTED[func][1], waits.strip()):
            errors.append("thread %s (%s): waits on %r" % (tid, func, waits))
        if func in ("park_in_sleep", "park_in_read") and not name.startswith(func[8:]):
            errors.append("thread %s (%s): name %r" % (tid, func, name))
    for func, (n, _) in EXPECTED.items():
        if counts.get(func, 0) != n:
            errors.append("%d threads in %s, not %d" % (counts.get(func, 0), func, n))
    blocks = re.split(r"^Green thread (\d+)\b.*:$", text, flags=re.M)
    seen = set()
    for tid, body in zip(blocks[1::2], blocks[2::2]):
        seen.add(tid)
        func = func_of.get(tid)
        if func and not re.search(r"^#\d+\s.* in %s \(" % func, body, re.M) and \
                not re.search(r"^#\d+\s+%s \(" % func, body, re.M):
            errors.append("backtrace of thread %s does not reach %s" % (tid, func))
    if seen != set(func_of):
        errors.append("backtraces of %d threads, not of the %d listed" % (len(seen), len(func_of)))
    for e in errors:
        print("gdb_green_check:", e)
    print("gdb_green_check: %s" % ("ok" if not errors else "%d problems" % len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
