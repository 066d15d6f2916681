# libgreen's gdb extension: the green threads of a process under libgreen, as gdb's own
# commands show OS threads.
#
#   info green-threads                     every green thread: id, name, state, what it waits
#                                          on, its worker, the innermost frame in the program
#   green-thread N [COMMAND]               COMMAND (default: bt) as if green thread N ran
#   green-thread apply all|N... COMMAND    the same for each (e.g. `green-thread apply all bt full`)
#
# gdb loads it by itself for an installed libgreen.so (from its auto-load directory); from a
# build tree, `source build/libgreen.so-gdb.py`.  It works on a live process (run under gdb or
# attached to) and on a core file, and changes nothing in the process: the records are read
# through the table the library exports (libgreen_debug_info, hub/debug.h), and a parked
# thread's frames come from an unwinder that starts from its saved context.
#
# How a parked thread is unwound.  A parked green thread is a Boost.Context fcontext: its stack
# pointer, where jump_fcontext (x86_64 System V) left, from that address, the MXCSR and x87
# control words (8 bytes), r12, r13, r14, r15, rbx, rbp, then the return address into libgreen's
# switch.  While `green-thread` runs its command, an unwinder gives the selected OS thread's
# innermost frame those registers as its caller's, so gdb's own unwinding (CFI) continues down
# the green thread's stack; a frame filter leaves that OS frame (and frames inlined in it) out of
# `bt`, which therefore numbers the green thread's frames from 1 (or more).  Registers are never written, so this works on a
# core file, and detaching leaves the process as it was.  Thread-local variables (`errno`,
# `__thread` data) still print as the OS thread's: gdb finds them through glibc, not through
# the unwound registers.
import itertools
import struct
import time

import gdb
import gdb.unwinder

LAYOUT = 1  # kDebugLayout in hub/debug.h: the table below, word by word
MAGIC = 0x6762646E65657267
FIELDS = (
    "magic layout arena_base arena_used arena_slot all_hubs main_hub green_magic forever "
    "g_ctx g_hub g_state g_wait_what g_wait_addr g_wait_kind g_wait_events g_wait_fd "
    "g_wait_nfds g_wait_deadline g_wait_since g_magic g_id g_is_root g_name g_stack_lo "
    "g_stack_size g_dead_word "
    "h_current h_worker h_worker_only h_tid h_next_hub h_loop_now"
).split()

STATES = ("runnable", "running", "parked", "dead")
WAIT_FD, WAIT_TIMER, WAIT_FUTEX, WAIT_JOIN = 1, 2, 3, 4  # enum WaitKind, hub/hub.h
EV_READ, EV_WRITE = 1, 2
# Where jump_fcontext saves each register, from the saved stack pointer.
FCONTEXT_SLOTS = (("r12", 0x08), ("r13", 0x10), ("r14", 0x18), ("r15", 0x20),
                  ("rbx", 0x28), ("rbp", 0x30), ("rip", 0x38))
FCONTEXT_SIZE = 0x40
# Libraries that are not the program's own code when looking for its innermost frame.
RUNTIME_LIBS = ("libgreen", "libc.so", "libc-", "ld-linux", "libstdc++", "libgcc_s", "libev.",
                "libboost_context", "libcares", "libm.so", "libpthread", "libasan", "libubsan")


def _duration(ns):
    ns = max(ns, 0)
    if ns < 1000000:
        return "%d us" % (ns // 1000)
    if ns < 1000000000:
        return "%.1f ms" % (ns / 1e6)
    return "%.2f s" % (ns / 1e9)


class Process:
    """libgreen's state in the selected inferior, read once per command."""

    def __init__(self):
        self.inf = gdb.selected_inferior()
        try:
            addr = int(gdb.parse_and_eval("(unsigned long) &libgreen_debug_info"))
        except gdb.error:
            raise gdb.GdbError("libgreen: this process has no libgreen "
                               "(no libgreen_debug_info symbol)")
        magic, layout = struct.unpack("<2Q", self._read(addr, 16))
        if magic != MAGIC:
            raise gdb.GdbError("libgreen: libgreen_debug_info is not libgreen's table")
        if layout != LAYOUT:
            raise gdb.GdbError("libgreen: this libgreen has table layout %d, this extension "
                               "reads layout %d: use the extension installed with it"
                               % (layout, LAYOUT))
        words = struct.unpack("<%dQ" % len(FIELDS), self._read(addr, 8 * len(FIELDS)))
        self.t = dict(zip(FIELDS, words))
        self.forever = struct.unpack("<q", struct.pack("<Q", self.t["forever"]))[0]
        self.core = self._is_core()
        self.hubs = self._hubs()
        self.threads = self._threads()
        self.by_id = {g.id: g for g in self.threads}

    def _read(self, addr, size):
        return bytes(self.inf.read_memory(addr, size))

    def value(self, addr, fmt="<Q"):
        return struct.unpack(fmt, self._read(addr, struct.calcsize(fmt)))[0]

    def string(self, addr, limit=64):
        if not addr:
            return None
        try:
            data = self._read(addr, limit)
        except gdb.MemoryError:
            return "?"
        return data.split(b"\0", 1)[0].decode("utf-8", "replace")

    def _is_core(self):
        conn = getattr(self.inf, "connection", None)
        return conn is not None and conn.type == "core"

    def _hubs(self):
        t, hubs = self.t, {}
        main = self.value(t["main_hub"])
        h = self.value(t["all_hubs"])
        while h and h not in hubs:
            hubs[h] = Hub(self, h, main)
            h = self.value(h + t["h_next_hub"])
        return hubs

    def _threads(self):
        t = self.t
        base, used = self.value(t["arena_base"]), self.value(t["arena_used"])
        slot = self.value(t["arena_slot"])
        threads = []
        chunk = max(slot, (1 << 20) // slot * slot)
        for start in range(0, used, chunk):
            data = self._read(base + start, min(chunk, used - start))
            for off in range(0, len(data) - slot + 1, slot):
                rec = data[off:off + slot]
                if struct.unpack_from("<I", rec, t["g_magic"])[0] != t["green_magic"]:
                    continue
                g = Green(self, base + start + off, rec)
                if not (g.is_root and g.hub and g.hub.worker_only):  # libgreen's own
                    threads.append(g)
        return threads

    def now(self):
        """CLOCK_MONOTONIC now: the clock itself for a live process, the latest poll of a hub
        in a core file."""
        if self.core:
            return max(h.loop_now for h in self.hubs.values()) if self.hubs else 0
        return time.clock_gettime_ns(time.CLOCK_MONOTONIC)

    def several_workers(self):
        return sum(1 for h in self.hubs.values() if h.worker or h.is_main) > 1


class Hub:
    def __init__(self, proc, addr, main):
        t, v = proc.t, proc.value
        self.addr = addr
        self.current = v(addr + t["h_current"])
        self.is_main = addr == main
        self.worker = 0 if self.is_main else v(addr + t["h_worker"], "<i")
        self.worker_only = bool(v(addr + t["h_worker_only"], "<B"))
        self.tid = v(addr + t["h_tid"], "<i")
        self.loop_now = v(addr + t["h_loop_now"], "<q")


class Green:
    def __init__(self, proc, addr, rec):
        t = proc.t

        def q(name, fmt="<Q"):
            return struct.unpack_from(fmt, rec, t[name])[0]

        self.proc, self.addr = proc, addr
        self.ctx = q("g_ctx")
        self.hub = proc.hubs.get(q("g_hub"))
        state = q("g_state", "<B")
        self.state = STATES[state] if state < len(STATES) else "state %d" % state
        self.id = q("g_id")
        self.is_root = bool(q("g_is_root", "<B"))
        self.name = rec[t["g_name"]:t["g_name"] + 16].split(b"\0", 1)[0].decode("utf-8",
                                                                                 "replace")
        self.wait_what = q("g_wait_what")
        self.wait_addr = q("g_wait_addr")
        self.wait_kind = q("g_wait_kind", "<B")
        self.wait_events = q("g_wait_events", "<B")
        self.wait_fd = q("g_wait_fd", "<i")
        self.wait_nfds = q("g_wait_nfds", "<i")
        self.wait_deadline = q("g_wait_deadline", "<q")
        self.wait_since = q("g_wait_since", "<q")
        self.stack_lo = q("g_stack_lo")
        self.stack_size = q("g_stack_size")
        if self.state == "running" and not (self.hub and self.hub.current == addr):
            self.state = "switching"  # stopped inside a switch: neither context is whole

    def label(self):
        if self.name:
            return self.name
        return "(main)" if self.is_root else ""

    def waits_on(self):
        """What it waits on, in the dump signal's words."""
        if self.state == "running":
            return "running on LWP %d" % self.hub.tid if self.hub else "running"
        if self.state != "parked":
            return self.state
        k = self.wait_kind
        if k == WAIT_FD:
            ev = self.wait_events & (EV_READ | EV_WRITE)
            what = "fd %d %s" % (self.wait_fd, "read/write" if ev == EV_READ | EV_WRITE else
                                 "write" if ev == EV_WRITE else "read")
            if self.wait_nfds > 1:
                what += " (and %d more fds)" % (self.wait_nfds - 1)
        elif k == WAIT_TIMER:
            what = "timer"
        elif k == WAIT_FUTEX:
            what = "%s %#x" % (self.proc.string(self.wait_what) or "futex", self.wait_addr)
        elif k == WAIT_JOIN:
            # The thread itself on the joiner's hub, its dead word (a futex) across hubs.
            dead_word = self.proc.t["g_dead_word"]
            target = next((g for g in self.proc.threads
                           if self.wait_addr in (g.addr, g.addr + dead_word)), None)
            what = "pthread_join of thread %d" % (target.id if target else 0)
        else:
            what = "other"
        if self.wait_deadline != self.proc.forever:
            what += ", until %s from now" % _duration(self.wait_deadline - self.proc.now())
        return what

    def saved_registers(self):
        """The registers of its saved context, or None when it has none (it runs, or it never
        ran: a fresh context starts in make_fcontext's trampoline)."""
        if self.state not in ("parked", "runnable") or not self.ctx:
            return None
        sp = self.ctx
        regs = {name: self.proc.value(sp + off) for name, off in FCONTEXT_SLOTS}
        regs["rsp"] = sp + FCONTEXT_SIZE
        if regs["rip"] == 0:
            raise gdb.GdbError("libgreen: the stack of thread %d is not in this core file "
                               "(make it with green-gcore, not gcore)" % self.id)
        sym = gdb.execute("info symbol %#x" % regs["rip"], to_string=True)
        if sym.startswith("make_fcontext"):
            return None
        return regs


class _FrameId:
    def __init__(self, sp, pc):
        self.sp, self.pc = sp, pc


class GreenUnwinder(gdb.unwinder.Unwinder):
    """While `regs` is set: the selected OS thread's innermost frame has for caller the green
    thread whose saved registers these are."""

    def __init__(self):
        super().__init__("libgreen")
        self.regs = None
        self.level = 0  # of the OS thread's innermost real frame (frames inlined in it come first)

    def __call__(self, pending):
        if self.regs is None or pending.level() != self.level:
            return None
        # The frame's identity on the green stack, just below the frames unwound from it, so
        # that gdb sees the stack go the right way.
        pc = pending.read_register("rip")
        info = pending.create_unwind_info(_FrameId(gdb.Value(self.regs["rsp"] - FCONTEXT_SIZE)
                                                   .cast(pending.read_register("rsp").type), pc))
        for name, value in self.regs.items():
            info.add_saved_register(name, gdb.Value(value).cast(pending.read_register(name).type))
        return info


class SkipOsFrame:
    """Leaves the OS thread's own innermost frame out of a backtrace of a green thread."""

    def __init__(self):
        self.name, self.priority, self.enabled = "libgreen", 100, True

    def filter(self, frames):
        if _unwinder.regs is None:
            return frames
        return itertools.islice(frames, _unwinder.level + 1, None)


_unwinder = GreenUnwinder()
gdb.unwinder.register_unwinder(None, _unwinder, replace=True)
gdb.frame_filters["libgreen"] = SkipOsFrame()


def _os_thread(lwp):
    for t in gdb.selected_inferior().threads():
        if t.ptid[1] == lwp:
            return t
    return None


class _Context:
    """Makes gdb's selected thread and frames those of green thread g, and restores gdb's
    selection afterwards."""

    def __init__(self, g):
        self.g = g

    def __enter__(self):
        self.thread = gdb.selected_thread()
        try:
            self.level = gdb.selected_frame().level()
        except gdb.error:
            self.level = None
        os_thread = _os_thread(self.g.hub.tid) if self.g.hub else None
        if self.g.state == "running":
            if os_thread is None:
                raise gdb.GdbError("libgreen: thread %d runs on LWP %d, which gdb does not see"
                                   % (self.g.id, self.g.hub.tid))
            os_thread.switch()
            return self
        regs = self.g.saved_registers()
        if regs is None:
            raise gdb.GdbError("libgreen: thread %d has no saved context (%s)"
                               % (self.g.id, "not started yet" if self.g.state == "runnable"
                                  else self.g.state))
        if os_thread is not None:
            os_thread.switch()
        try:
            self._activate(regs)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _activate(self, regs):
        frame, level = gdb.newest_frame(), 0
        while frame.type() == gdb.INLINE_FRAME:
            frame, level = frame.older(), level + 1
        # gdb ends a backtrace at main before it asks any unwinder: the OS thread may be
        # stopped in main (or in a function inlined in it).
        if frame.name() == "main" and not gdb.parameter("backtrace past-main"):
            self.past_main = True
            gdb.execute("set backtrace past-main on", to_string=True)
        _unwinder.level = level
        _unwinder.regs = regs
        gdb.invalidate_cached_frames()
        frame = gdb.newest_frame()  # select the green thread's innermost frame
        while frame.level() <= level and frame.older() is not None:
            frame = frame.older()
        frame.select()

    def __exit__(self, *exc):
        if getattr(self, "past_main", False):
            gdb.execute("set backtrace past-main off", to_string=True)
        _unwinder.regs = None
        gdb.invalidate_cached_frames()
        if self.thread is not None and self.thread.is_valid():
            self.thread.switch()
            if self.level is not None:
                frame = gdb.newest_frame()
                for _ in range(self.level):
                    frame = frame.older() or frame
                frame.select()
        return False


def _program_frame(g):
    """The innermost frame of g in the program's own code, as "function (file:line)"."""
    try:
        if g.state != "running" and g.saved_registers() is None:
            return "(not started)"
        with _Context(g):
            frame = gdb.newest_frame()
            while g.state != "running" and frame is not None and frame.level() <= _unwinder.level:
                frame = frame.older()  # the OS thread's own
            depth = 0
            while frame is not None and depth < 64:
                lib = gdb.solib_name(frame.pc()) or ""
                if not any(part in lib for part in RUNTIME_LIBS):
                    sal = frame.find_sal()
                    where = frame.name() or "%#x" % frame.pc()
                    if sal.symtab:
                        where += " (%s:%d)" % (sal.symtab.filename, sal.line)
                    return where
                frame = frame.older()
                depth += 1
    except (gdb.error, gdb.GdbError) as e:
        return "(%s)" % str(e).replace("libgreen: ", "")
    return "-"


class InfoGreenThreads(gdb.Command):
    """List the green threads of a process under libgreen.
Usage: info green-threads
Each line: the thread's id (its creation order; 1 is main), its name (pthread_setname_np),
its state, what a parked thread waits on (descriptor, lock or condition address, deadline,
join target), its worker when there are several, and its innermost frame in the program's
own code.  `green-thread N bt` shows one thread's backtrace."""

    def __init__(self):
        super().__init__("info green-threads", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        proc = Process()
        workers = proc.several_workers()
        rows = []
        for g in proc.threads:
            row = [str(g.id), g.label() or "-", g.state]
            if workers:
                row.append(str(g.hub.worker) if g.hub else "?")
            frame = _program_frame(g) if g.state in ("parked", "running", "runnable") else "-"
            row += [g.waits_on() if g.state == "parked" else "-", frame]
            rows.append(row)
        head = ["Id", "Name", "State"] + (["Worker"] if workers else []) + ["Waits on", "Frame"]
        widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head) - 1)]
        for r in [head] + rows:
            line = "  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1]
            gdb.write(line.rstrip() + "\n")
        gdb.write("%d green threads\n" % len(rows))


class GreenThread(gdb.Command):
    """Run a command as if a green thread were running.
Usage: green-thread N [COMMAND]          COMMAND (default: bt) for green thread N
       green-thread apply all COMMAND     for every green thread that has a context
       green-thread apply N... COMMAND    for the threads listed
For a parked thread, frames are unwound from its saved context; `bt` numbers them from 1 (frame
0 stays the OS thread's own, and so do frames inlined in it).  Nothing in the process is changed."""

    def __init__(self):
        super().__init__("green-thread", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        args = gdb.string_to_argv(arg)
        if not args:
            raise gdb.GdbError("usage: green-thread N [COMMAND] | green-thread apply all|N... COMMAND")
        proc = Process()
        if args[0] == "apply":
            words = arg.split()[1:]
            if not words:
                raise gdb.GdbError("usage: green-thread apply all|N... COMMAND")
            if words[0] == "all":
                targets, command = list(proc.threads), " ".join(words[1:])
            else:
                ids = list(itertools.takewhile(str.isdigit, words))
                targets, command = [self._find(proc, i) for i in ids], " ".join(words[len(ids):])
            if not command:
                raise gdb.GdbError("green-thread apply: no command")
            for g in targets:
                try:
                    if g.state == "running" or g.saved_registers() is not None:
                        self._run(g, command)
                except (gdb.error, gdb.GdbError) as e:  # one thread's failure, not the others'
                    gdb.write("%s\n" % e)
        else:
            if not args[0].isdigit():
                raise gdb.GdbError("green-thread: %s is not a green thread id" % args[0])
            command = " ".join(arg.split()[1:]) or "bt"
            self._run(self._find(proc, args[0]), command)

    @staticmethod
    def _find(proc, word):
        g = proc.by_id.get(int(word))
        if g is None:
            raise gdb.GdbError("libgreen: no green thread %s" % word)
        return g

    @staticmethod
    def _run(g, command):
        name = ' "%s"' % g.name if g.name else (" (main)" if g.is_root else "")
        worker = ", worker %d" % g.hub.worker if g.hub and g.proc.several_workers() else ""
        gdb.write("\nGreen thread %d%s (%s%s):\n" % (g.id, name, g.waits_on(), worker))
        with _Context(g):
            gdb.execute(command, from_tty=False)


class GreenGcore(gdb.Command):
    """Save a core file of the process, with the stacks of its green threads.
Usage: green-gcore [FILE]      (default: core.PID)
gdb's gcore reads memory a mebibyte at a time, and a read that meets one of the guard regions
libgreen puts between the stacks it maps together (Linux 6.13 and later) fails whole: the
stacks of every green thread are then missing from its core file.  This runs gcore, then
copies into the file what each green thread's stack holds, from its stack pointer up."""

    def __init__(self):
        super().__init__("green-gcore", gdb.COMMAND_FILES)

    def invoke(self, arg, from_tty):
        proc = Process()
        if proc.core:
            raise gdb.GdbError("green-gcore: this is already a core file")
        path = arg.strip() or "core.%d" % proc.inf.pid
        ranges = []
        for g in proc.threads:
            if g.is_root or not g.stack_lo or g.state == "dead":
                continue  # a root runs on its OS thread's stack, which gcore saves
            sp = g.ctx if g.state != "running" else self._running_sp(g)
            top = g.stack_lo + g.stack_size
            if g.stack_lo <= sp < top:
                ranges.append((sp & ~0xFFF, top))
        gdb.execute("gcore " + path, from_tty=from_tty)
        with open(path, "r+b") as core:
            loads = self._loads(core)
            for lo, hi in ranges:
                for vaddr, offset, filesz in loads:
                    a, b = max(lo, vaddr), min(hi, vaddr + filesz)
                    if a < b:
                        core.seek(offset + a - vaddr)
                        core.write(proc._read(a, b - a))
        gdb.write("libgreen: the stacks of %d green threads copied into %s\n" % (len(ranges), path))

    @staticmethod
    def _running_sp(g):
        t = _os_thread(g.hub.tid) if g.hub else None
        if t is None:
            return 0
        selected = gdb.selected_thread()
        t.switch()
        try:
            return int(gdb.newest_frame().read_register("rsp"))
        finally:
            selected.switch()

    @staticmethod
    def _loads(core):
        """The PT_LOAD segments of an ELF64 core: (address, file offset, bytes in the file)."""
        head = core.read(64)
        phoff, = struct.unpack_from("<Q", head, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        loads = []
        for i in range(phnum):
            core.seek(phoff + i * phentsize)
            p_type, _, offset, vaddr, _, filesz = struct.unpack("<IIQQQQ", core.read(40))
            if p_type == 1 and filesz:
                loads.append((vaddr, offset, filesz))
        return loads


InfoGreenThreads()
GreenThread()
GreenGcore()
