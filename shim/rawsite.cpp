// Rewriting a system call site outside the C library, at its first trap, into a jump to a
// trampoline of its own, so that later executions cost a jump and libgreen's entry instead of a
// trap (shim/rawsys.cpp traps them by syscall user dispatch; a trap costs about a microsecond).
//
// The trampoline.  A `jmp rel32` (5 bytes) at an instruction boundary B before the `syscall` at
// S leads to a stub in a page within 2 GiB: the stub runs copies of the instructions [B, S) (a
// RIP-relative operand's displacement adjusted), sets %rcx to S + 2 and jumps to libgreen's entry
// (green_sys_entry_rcx), which makes the call, green or not, and returns to S + 2 by `jmp *%rcx`.
// Nothing is pushed or stored on the caller's stack and no flag changes on the way: the caller's
// red zone stays as it was (liburing keeps a pointer there across io_uring_enter, which is why
// zpoline's `call *%rax` is not used), and %rcx is the system call's to clobber.  The number may
// be computed anywhere before; each site has its stub, so many sites of one number all get one.
//
// Only the first instruction changes, and only as much of it as the jump needs (E9Patch's
// "instruction punning", Duck et al., PLDI 2020).  The jump's four displacement bytes overlap
// the bytes after its opcode; where those belong to later instructions (B's instruction is
// shorter than 5 bytes) they keep their values, and only the stub's address is chosen to suit
// them: a 3-byte instruction before the `syscall` leaves the two low bytes free (a 64 KiB window,
// 84 MB on from the site when the next bytes are the `syscall`'s own 0f 05), a 4-byte one three.
// So every instruction boundary after B holds its original bytes: a thread stopped there (by a
// signal, by the kernel, by a time slice: it resumes there), a direct branch there, a thread
// still in the kernel for a call made before dispatch was on, all find the original code and at
// worst trap as before.  B is chosen among the last few boundaries before S, the nearest whose
// instructions can be moved (no branch, call, return or other control transfer; a RIP-relative
// operand only when its target stays in reach) and whose stub can be placed (a page mapped in
// the window); the last resort is S itself: the `syscall` becomes `e9` and one free byte, with
// the three bytes after it as the displacement's high bytes (a 256-byte window), nothing moved.
// The five bytes of a jump stay reserved: a later rewrite never changes any of them (its
// displacement may be the next instruction's bytes).  The calls that must run natively (clone,
// vfork, rt_sigreturn: a new stack, or none to return on) run at a `syscall` of the stub's own,
// which the stub follows by setting the dispatch selector back to "block" and jumping to S + 2,
// in the parent and the child alike.
//
// Boundaries come from decoding (hub/insn.h) from the start of the function that holds S, as the
// unwind table's index gives it, through to its end: a decode that does not land on S, or fails
// anywhere in the function, refuses the site; so does a direct branch anywhere in the function
// that targets a changed byte other than B (a branch into the middle of B's instruction: only
// code that overlaps instructions does that).  What cannot be checked is an indirect jump (a
// jump table, a computed goto) into the changed bytes: its targets are instruction boundaries
// too, and the changed bytes hold none but B, so only code that jumps into the middle of an
// instruction would be hurt.  Outside every function the unwind table describes (hand-written
// stubs without unwind information), B is `mov $n, %eax` or `mov $n, %rax` right before S with
// the number the trap saw (a boundary by its value, and no REX byte before it), or S itself (a
// boundary proven by the trap); no branch can be checked there.  Previous rewrites are known
// (their original lengths are kept), so a later decode of the same function steps over them.
//
// Concurrency.  Other OS threads may run the bytes being changed.  Changed bytes within one
// aligned 8-byte word change with one locked compare-and-exchange: a thread fetches the old
// instruction or the new jump.  Otherwise the first two bytes become `jmp .` (eb fe) first,
// atomically, so that a thread arriving at B waits there; every core serialises its instruction
// stream (membarrier's SYNC_CORE: no core keeps a stale prefetch of the bytes); the other changed
// bytes are written; cores serialise again; and the first two bytes become the jump's.  A thread
// waiting at the guard spins only while the rewriting thread, which never parks, finishes; the
// rewriting thread takes no signal meanwhile but the synchronous ones (the SIGSYS handler's
// mask): a handler of its own could reach the guard, or trap and wait for the lock it holds.
// Without SYNC_CORE (kernels before 4.16) such sites are refused.
//
// W^X.  Stub pages are a memfd mapped twice: executable near the sites, writable elsewhere;
// no page is writable and executable at once, stubs are added while others run.  The site's own
// page, though, must stay executable while its bytes change (other threads run it), so it is
// writable and executable for the few stores of a rewrite, as every live patcher has it.  After
// fork, the stub pages are shared with the parent: the child puts new stubs in new pages.
//
// Sites are remembered by address (rewritten, refused, a jump's start): a library unloaded by
// dlclose leaves its entries, and one loaded at the same place later may find its sites
// refused (they trap, correctly) and its decodes stepping over a stale jump only where the
// byte there is a jump's opcode.
//
// GREEN_SYSCALL_DISPATCH and the trap itself are shim/rawsys.cpp's.

// libgreen's headers first: <elf.h> (from <link.h>) defines EV_NONE, which <ev.h> declares.
#include "rawsite.h"

#include "../hub/insn.h"
#include "../hub/log.h"
#include "../hub/spinlock.h"
#include "../hub/sys.h"

#include <dlfcn.h>
#include <pthread.h>
#include <elf.h>
#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <cstring>
#include <initializer_list>

extern "C" {
void green_sys_entry_rcx();
extern volatile char green_sys_selector;
}

namespace green {

namespace {

// --- Stub pages ---

constexpr uintptr_t kPage = 4096;
struct Chunk {
    uintptr_t rx;       // the executable view, near sites
    unsigned char* rw;  // the writable view of the same page
    uint32_t used;      // bytes given out from the start
};
constexpr int kMaxChunks = 1024;
Chunk chunks[kMaxChunks];
int n_chunks;

// Maps a stub page at exactly page, or returns false (taken, below vm.mmap_min_addr, no memfd).
bool map_chunk(uintptr_t page)
{
    if (n_chunks == kMaxChunks)
        return false;
    long fd = raw_syscall(SYS_memfd_create, long("libgreen-stubs"), MFD_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = false;
    if (raw_syscall(SYS_ftruncate, fd, long(kPage)) == 0) {
        long rx = raw_syscall(SYS_mmap, long(page), long(kPage), PROT_READ | PROT_EXEC,
                              MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
        if (rx > 0 && uintptr_t(rx) != page)
            raw_syscall(SYS_munmap, rx, long(kPage));  // a kernel without MAP_FIXED_NOREPLACE
        if (uintptr_t(rx) == page) {
            long rw = raw_syscall(SYS_mmap, 0, long(kPage), PROT_READ | PROT_WRITE, MAP_SHARED,
                                  fd, 0);
            if (rw < 0 && rw > -4096) {
                raw_syscall(SYS_munmap, rx, long(kPage));
            } else {
                memset(reinterpret_cast<void*>(rw), 0xcc, kPage);  // int3 between stubs
                chunks[n_chunks++] = Chunk{page, reinterpret_cast<unsigned char*>(rw), 0};
                ok = true;
            }
        }
    }
    raw_syscall(SYS_close, fd);
    return ok;
}

// Room for size bytes starting at an address t with lo <= t <= hi, in a stub page near near;
// 0 when none can be had.
uintptr_t place(uintptr_t lo, uintptr_t hi, uint32_t size, uintptr_t near)
{
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < n_chunks; i++) {
            Chunk& c = chunks[i];
            uintptr_t t = c.rx + c.used > lo ? c.rx + c.used : lo;
            if (((t + 15) & ~uintptr_t(15)) <= hi)
                t = (t + 15) & ~uintptr_t(15);  // aligned where the window allows
            if (t <= hi && t + size <= c.rx + kPage) {
                c.used = uint32_t(t + size - c.rx);
                return t;
            }
        }
        if (pass)
            break;
        // A new page.  A wide window: pages below the object, then above it (a program's heap
        // grows up from its end); a narrow one: pages spread over it.
        uintptr_t first = lo & ~(kPage - 1), last = hi & ~(kPage - 1);
        bool mapped = false;
        if (hi - lo > (uintptr_t(1) << 30)) {
            uintptr_t base = near & ~(kPage - 1);
            for (int k = 1; k <= 24 && !mapped; k++) {
                uintptr_t step = uintptr_t(k) << 25;  // 32 MiB
                if (base - step >= first && base - step < base)
                    mapped = map_chunk(base - step);
                if (!mapped && base + step <= last)
                    mapped = map_chunk(base + step);
            }
        } else {
            uintptr_t pages = (last - first) / kPage + 1;
            uintptr_t stride = pages > 32 ? pages / 32 : 1;
            for (uintptr_t k = 0; k < pages && !mapped; k += stride) {
                uintptr_t p = first + k * kPage;
                // The stub must start in the window and end in the page.
                uintptr_t t = p > lo ? p : lo;
                if (t <= hi && t + size <= p + kPage)
                    mapped = map_chunk(p);
            }
        }
        if (!mapped)
            return 0;
    }
    return 0;
}

// --- Sites decided, and instructions rewritten ---

// Open addressing on the address: a site (rewritten or refused) or a rewritten start B with
// its instruction's original length, so that later decodes step over the jump.
enum : uint8_t { kEmpty, kSiteDone, kSiteRefused, kStart };
constexpr int kTable = 16384;
struct Entry {
    uintptr_t addr;
    uint8_t kind;
    uint8_t length;  // kStart: the original instruction's length
};
Entry table[kTable];
int n_table;
SpinLock lock;
bool sync_core;  // membarrier's SYNC_CORE is registered

Entry* lookup(uintptr_t addr, bool site, bool insert)
{
    uint64_t h = (addr * 0x9e3779b97f4a7c15ull) >> 50;  // 14 bits
    for (int n = 0; n < kTable; n++, h = (h + 1) % kTable) {
        Entry& e = table[h];
        if (e.kind == kEmpty) {
            if (!insert || n_table > kTable * 3 / 4)
                return nullptr;
            n_table++;
            e.addr = addr;
            return &e;
        }
        if (e.addr == addr && (e.kind == kStart) != site)
            return &e;
    }
    return nullptr;
}

void decide(uintptr_t site, uint8_t kind)
{
    if (Entry* e = lookup(site, true, true))
        e->kind = kind;
}

// The loaded object that holds site: its load bias and program headers, and the bounds and
// protection of the segment; false when no object has it.
struct Object {
    uintptr_t bias = 0, seg_lo = 0, seg_hi = 0;
    const ElfW(Phdr)* ph = nullptr;
    int phnum = 0, prot = 0;
};

bool object_of(uintptr_t site, Object* o)
{
    Dl_info info;
    if (!dladdr(reinterpret_cast<void*>(site), &info) || !info.dli_fbase)
        return false;
    auto* eh = static_cast<const ElfW(Ehdr)*>(info.dli_fbase);
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
        return false;
    o->ph = reinterpret_cast<const ElfW(Phdr)*>(reinterpret_cast<const char*>(eh) + eh->e_phoff);
    o->phnum = eh->e_phnum;
    // dli_fbase is the lowest mapped address; the load bias is that minus the first segment's.
    bool first = true;
    for (int i = 0; i < o->phnum; i++) {
        const ElfW(Phdr)& ph = o->ph[i];
        if (ph.p_type != PT_LOAD)
            continue;
        if (first) {
            o->bias = reinterpret_cast<uintptr_t>(eh) - (ph.p_vaddr & ~uintptr_t(4095));
            first = false;
        }
        uintptr_t lo = o->bias + ph.p_vaddr;
        if (site - lo < ph.p_filesz) {
            o->seg_lo = lo;
            o->seg_hi = lo + ph.p_filesz;
            o->prot = ((ph.p_flags & PF_R) ? PROT_READ : 0) | ((ph.p_flags & PF_W) ? PROT_WRITE : 0) |
                      ((ph.p_flags & PF_X) ? PROT_EXEC : 0);
        }
    }
    return o->seg_hi && (o->prot & PROT_EXEC);
}

// The instructions before a site, as far back as a rewrite may reach.
constexpr int kBack = 6;
struct Before {
    uintptr_t at[kBack];  // starts, nearest first
    Insn insn[kBack];
    int n = 0;
    // Direct branch targets in the function within [S - 64, S + 2).
    uintptr_t targets[64];
    int n_targets = 0;
};

// Decodes the function [lo, hi) that holds site; false when the decode fails or misses site.
bool decode_function(uintptr_t lo, uintptr_t hi, uintptr_t site, Before* b)
{
    uintptr_t ring[kBack];
    Insn ring_insn[kBack];
    int n = 0;
    bool reached = false;
    for (uintptr_t at = lo; at < hi;) {
        Insn d;
        Entry* start = lookup(at, false, false);
        if (start && *reinterpret_cast<const unsigned char*>(at) != 0xe9)
            start = nullptr;  // an object unloaded since, another loaded there (dlclose)
        if (start) {  // a jump of ours: the original instruction was this long
            d.length = start->length;
            d.control = true;
        } else if (!insn_decode(reinterpret_cast<const unsigned char*>(at), hi - at, &d)) {
            return false;
        }
        if (at == site)
            reached = true;
        if (at < site) {
            ring[n % kBack] = at;
            ring_insn[n % kBack] = d;
            n++;
        }
        if (d.direct && !start) {
            uintptr_t t = at + d.length + uintptr_t(d.rel);
            if (t - (site - 64) < 66) {
                if (b->n_targets == 64)
                    return false;
                b->targets[b->n_targets++] = t;
            }
        }
        at += d.length;
    }
    if (!reached)
        return false;
    for (int k = 0; k < kBack && k < n; k++) {
        b->at[k] = ring[(n - 1 - k) % kBack];
        b->insn[k] = ring_insn[(n - 1 - k) % kBack];
    }
    b->n = n < kBack ? n : kBack;
    return true;
}

// Outside known functions: `mov $nr, %eax` or `mov $nr, %rax` right before the site.
bool constant_move_before(uintptr_t site, long nr, const Object& o, Before* b)
{
    auto* s = reinterpret_cast<const unsigned char*>(site);
    int32_t imm;
    if (site - o.seg_lo < 7)
        return false;
    memcpy(&imm, s - 4, sizeof imm);
    if (imm != nr)
        return false;
    int len;
    if (s[-5] == 0xb8 && !(s[-6] >= 0x40 && s[-6] <= 0x4f))  // not a REX prefix: %eax itself
        len = 5;
    else if (s[-7] == 0x48 && s[-6] == 0xc7 && s[-5] == 0xc0)
        len = 7;
    else
        return false;
    b->at[0] = site - len;
    b->insn[0] = Insn{};
    b->insn[0].length = len;
    b->n = 1;
    return true;
}

void serialise_cores()
{
    raw_syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0);
}

// Changes the bytes [at, at + n) (n at most 5, at a boundary, read as old) to want (see the
// top); false when it cannot be done safely.
bool patch(uintptr_t at, const unsigned char* old, const unsigned char* want, int n, const Object& o)
{
    bool one_word = (at & ~uintptr_t(7)) == ((at + n - 1) & ~uintptr_t(7));
    if (!one_word && (!sync_core || (at & 63) == 63))
        return false;
    uintptr_t page = at & ~(kPage - 1), end = (at + n + kPage - 1) & ~(kPage - 1);
    if (mprotect(reinterpret_cast<void*>(page), end - page, o.prot | PROT_WRITE | PROT_EXEC) != 0)
        return false;  // the vDSO, for one
    bool ok;
    if (one_word) {
        auto* word = reinterpret_cast<uint64_t*>(at & ~uintptr_t(7));
        uint64_t expected = __atomic_load_n(word, __ATOMIC_RELAXED), wanted = expected;
        int off = int(at & 7);
        ok = memcmp(reinterpret_cast<unsigned char*>(&expected) + off, old, n) == 0;
        memcpy(reinterpret_cast<unsigned char*>(&wanted) + off, want, n);
        ok = ok && __atomic_compare_exchange_n(word, &expected, wanted, false, __ATOMIC_SEQ_CST,
                                               __ATOMIC_SEQ_CST);
    } else {
        auto* head = reinterpret_cast<uint16_t*>(at);
        uint16_t expected, guard = 0xfeeb, jump;
        memcpy(&expected, old, 2);
        memcpy(&jump, want, 2);
        // lock cmpxchg on two bytes in one cache line: atomic, aligned or not.
        uint16_t seen = expected;
        __asm__ volatile("lock cmpxchgw %2, %1" : "+a"(seen), "+m"(*head) : "r"(guard) : "memory", "cc");
        ok = seen == expected;
        if (ok) {
            serialise_cores();
            auto* tail = reinterpret_cast<volatile unsigned char*>(at);
            for (int i = 2; i < n; i++)
                tail[i] = want[i];
            serialise_cores();
            seen = guard;
            __asm__ volatile("lock cmpxchgw %2, %1" : "+a"(seen), "+m"(*head) : "r"(jump) : "memory", "cc");
        }
    }
    if (sync_core)
        serialise_cores();
    mprotect(reinterpret_cast<void*>(page), end - page, o.prot);
    return ok;
}

void put(unsigned char* out, uint32_t* n, std::initializer_list<unsigned char> bytes)
{
    for (unsigned char b : bytes)
        out[(*n)++] = b;
}

void put32(unsigned char* out, uint32_t* n, int32_t v)
{
    memcpy(out + *n, &v, 4);
    *n += 4;
}

// The stub for the instructions [b, site) (k + 1 of them, b->at[k] first; none for k = -1) at t, written through
// the writable view; its size, or 0 when an instruction cannot be moved there.
uint32_t write_stub(const Before* b, int k, uintptr_t site, uintptr_t t, unsigned char* out)
{
    uint32_t n = 0;
    for (int j = k; j >= 0; j--) {
        uintptr_t from = b->at[j];
        const Insn& d = b->insn[j];
        memcpy(out + n, reinterpret_cast<const void*>(from), d.length);
        if (d.rip_disp >= 0) {
            int32_t disp;
            memcpy(&disp, out + n + d.rip_disp, 4);
            int64_t moved = int64_t(disp) + int64_t(from - (t + n));
            if (moved != int32_t(moved))
                return 0;
            disp = int32_t(moved);
            memcpy(out + n + d.rip_disp, &disp, 4);
        }
        n += d.length;
    }
    // lea site+2(%rip), %rcx; lea tail(%rip), %r11; jmp *0(%rip), then the entry's address
    uint32_t tail = n + 7 + 7 + 6 + 8 + 2;
    int64_t back = int64_t(site + 2) - int64_t(t + n + 7);
    int64_t to_tail = int64_t(tail) - int64_t(n + 14);
    if (back != int32_t(back))
        return 0;
    put(out, &n, {0x48, 0x8d, 0x0d});
    put32(out, &n, int32_t(back));
    put(out, &n, {0x4c, 0x8d, 0x1d});
    put32(out, &n, int32_t(to_tail));
    put(out, &n, {0xff, 0x25, 0, 0, 0, 0});
    uintptr_t entry = reinterpret_cast<uintptr_t>(&green_sys_entry_rcx);
    memcpy(out + n, &entry, 8);
    n += 8;
    // The native tail, for the calls that must run as they are (the entry comes here with the
    // selector at "allow"): syscall; movabs $selector, %r11; movb $1, (%r11); jmp site+2.  %r11
    // is the system call's to clobber; no flag changes.
    put(out, &n, {0x0f, 0x05, 0x49, 0xbb});
    uintptr_t selector = reinterpret_cast<uintptr_t>(&green_sys_selector);
    memcpy(out + n, &selector, 8);
    n += 8;
    put(out, &n, {0x41, 0xc6, 0x03, 0x01, 0xe9});
    int64_t home = int64_t(site + 2) - int64_t(t + n + 4);
    if (home != int32_t(home))
        return 0;
    put32(out, &n, int32_t(home));
    return n;
}

// The stub's bytes besides the moved instructions.
constexpr uint32_t kStubFixed = 7 + 7 + 6 + 8 + 2 + 10 + 4 + 5;

const char* try_rewrite(uintptr_t site, long nr)
{
    Object o;
    if (!object_of(site, &o))
        return "not in a loaded object's code";
    FunctionStarts f = function_starts(o.ph, o.phnum, o.bias);
    uintptr_t lo, hi;
    Before b;
    if (f.count && function_bounds(&f, site, &lo, &hi) == 1) {
        if (lo < o.seg_lo || hi > o.seg_hi)
            return "its function's bounds are not in its segment";
        if (!decode_function(lo, hi, site, &b))
            return "its function cannot be decoded";
    } else if (!constant_move_before(site, nr, o, &b)) {
        return "outside every function of the unwind table, and no constant move before it";
    }
    // Candidates: the boundaries before the site, nearest first, then the site itself (nothing
    // moved; the `syscall` changes, which is safe: see the top).
    const char* why = nullptr;  // the nearest candidate's reason
    for (int k = 0; k <= b.n; k++) {
        if (k < b.n && (b.insn[k].control || site + 2 - b.at[k] > 40 || b.at[k] + 5 > o.seg_hi)) {
            if (b.insn[k].control)
                why = why ? why : "a control transfer right before it";
            k = b.n;
        }
        bool self = k == b.n;
        if (self && site + 5 > o.seg_hi)
            break;
        uintptr_t at = self ? site : b.at[k];
        int length = self ? 2 : b.insn[k].length, last_moved = self ? -1 : k;
        int changed = length < 5 ? length : 5;
        bool target_inside = false;
        for (int i = 0; i < b.n_targets; i++)
            target_inside |= b.targets[i] > at && b.targets[i] < at + changed;
        if (target_inside) {
            why = why ? why : "a branch into the bytes it would change";
            continue;
        }
        // An earlier jump's five bytes stay as they are (its displacement may be bytes that
        // belong to the instructions after it).
        bool overlaps = false;
        for (uintptr_t a = at - 4; a < at + changed; a++)
            overlaps |= lookup(a, false, false) != nullptr;
        if (overlaps) {
            why = why ? why : "an earlier rewrite's jump holds bytes it would change";
            continue;
        }
        // The window for the stub: the displacement's bytes past the changed ones are fixed.
        unsigned char old[5];
        memcpy(old, reinterpret_cast<const void*>(at), 5);
        uint32_t orig;
        memcpy(&orig, old + 1, 4);
        int free_bits = (changed - 1) * 8;
        int64_t rel_lo, rel_hi;
        if (free_bits == 32) {
            rel_lo = INT32_MIN;
            rel_hi = INT32_MAX;
        } else {
            uint32_t mask = (uint32_t(1) << free_bits) - 1;
            rel_lo = int32_t(orig & ~mask);
            rel_hi = rel_lo + mask;
        }
        uintptr_t next = at + 5;
        int64_t t_lo = int64_t(next) + rel_lo, t_hi = int64_t(next) + rel_hi;
        if (t_lo < int64_t(kPage))
            t_lo = int64_t(kPage);
        if (t_hi < t_lo) {
            why = why ? why : "no room for its stub where the jump can reach";
            continue;
        }
        uint32_t size = kStubFixed;
        for (int j = last_moved; j >= 0; j--)
            size += uint32_t(b.insn[j].length);
        uintptr_t t = place(uintptr_t(t_lo), uintptr_t(t_hi), size, o.seg_lo);
        if (!t) {
            why = why ? why : "no room for its stub where the jump can reach";
            continue;
        }
        Chunk* c = nullptr;
        for (int i = 0; i < n_chunks; i++)
            if (t - chunks[i].rx < kPage)
                c = &chunks[i];
        if (!write_stub(&b, last_moved, site, t, c->rw + (t - c->rx))) {
            why = why ? why : "an instruction before it cannot be moved";
            continue;  // the bytes stay given out, unused
        }
        unsigned char want[5] = {0xe9};
        uint32_t rel = uint32_t(int64_t(t) - int64_t(next));
        memcpy(want + 1, &rel, 4);
        // The bytes past the changed ones are the old ones, by the window's choice.
        if (memcmp(want + changed, old + changed, 5 - changed) != 0)
            return "internal: the jump does not keep the bytes it must";
        if (!patch(at, old, want, changed, o)) {
            why = why ? why : "its bytes cannot be changed safely";
            continue;
        }
        if (Entry* e = lookup(at, false, true)) {
            e->kind = kStart;
            e->length = uint8_t(length);
        }
        log_msg(kLogDebug, "system call site %p rewritten: a jump at %p (%d bytes changed) to a stub at %p",
                reinterpret_cast<void*>(site), reinterpret_cast<void*>(at), changed,
                reinterpret_cast<void*>(t));
        return nullptr;
    }
    return why ? why : "no instruction before it in its function";
}

}  // namespace

FunctionStarts function_starts(const ElfW(Phdr)* phdr, int phnum, uintptr_t bias)
{
    FunctionStarts f;
    for (int i = 0; i < phnum; i++) {
        const ElfW(Phdr)& ph = phdr[i];
        if (ph.p_type != PT_GNU_EH_FRAME || ph.p_memsz < 12)
            continue;
        auto* h = reinterpret_cast<const unsigned char*>(bias + ph.p_vaddr);
        // Version 1; the pointer to .eh_frame in 4 bytes; the count as udata4; the table as
        // datarel sdata4 (what GNU ld and lld write).
        if (h[0] != 1 || (h[1] & 0x0f) == 0x0c || (h[1] & 0x07) != 0x03 || h[2] != 0x03 ||
            h[3] != 0x3b)
            break;
        uint32_t count;
        memcpy(&count, h + 8, sizeof count);
        if (12 + uint64_t(count) * 8 > ph.p_memsz)
            break;
        f.hdr = h;
        f.table = reinterpret_cast<const int32_t*>(h + 12);
        f.count = count;
        break;
    }
    return f;
}

namespace {

// The index of the greatest function start at most addr, or -1.
long function_before(const FunctionStarts* f, uintptr_t addr)
{
    uint32_t lo = 0, hi = f->count;  // the answer is below hi
    long best = -1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (uintptr_t(f->hdr) + intptr_t(f->table[2 * mid]) <= addr) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return best;
}

}  // namespace

uintptr_t function_start_before(uintptr_t addr, void* ctx)
{
    auto* f = static_cast<const FunctionStarts*>(ctx);
    long i = function_before(f, addr);
    return i < 0 ? 0 : uintptr_t(f->hdr) + intptr_t(f->table[2 * i]);
}

// The entry (an FDE) gives the function's length after its start; read only in the usual
// encoding (a 4-byte PC-relative start, which must agree with the index, then a 4-byte length).
int function_bounds(const FunctionStarts* f, uintptr_t addr, uintptr_t* lo, uintptr_t* hi)
{
    long i = function_before(f, addr);
    if (i < 0)
        return 0;
    uintptr_t start = uintptr_t(f->hdr) + intptr_t(f->table[2 * i]);
    auto* fde = f->hdr + intptr_t(f->table[2 * i + 1]);
    uint32_t length;
    int32_t begin;
    uint32_t range;
    memcpy(&length, fde, 4);
    memcpy(&begin, fde + 8, 4);
    memcpy(&range, fde + 12, 4);
    if (length == 0xffffffff || length < 12 || uintptr_t(fde + 8) + intptr_t(begin) != start)
        return -1;
    if (addr >= start + range)
        return 0;
    *lo = start;
    *hi = start + range;
    return 1;
}

void rewrite_site(uintptr_t site, long nr)
{
    SpinGuard guard(lock);
    Entry* e = lookup(site, true, false);
    if (e && e->kind != kEmpty)
        return;
    // A rewrite records two entries (the site, the jump's start); one that could not record its
    // start would mislead later decodes: past this, sites keep trapping.
    if (n_table + 2 > kTable * 3 / 4)
        return;
    const char* why = try_rewrite(site, nr);
    decide(site, why ? kSiteRefused : kSiteDone);
    if (why)
        log_msg(kLogDebug, "system call site %p not rewritten (it traps at every call): %s",
                reinterpret_cast<void*>(site), why);
}

void rawsite_start()
{
    sync_core = raw_syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) == 0;
    // No fork while another OS thread rewrites: the child would get the site half changed (a
    // guard no thread of its own would ever lift) and the lock held.
    pthread_atfork([] { lock.lock(); }, [] { lock.unlock(); }, nullptr);
}

void rawsite_after_fork()
{
    lock.unlock();
    // membarrier's registration belongs to the address space: the child's is new.
    sync_core = raw_syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) == 0;
    for (int i = 0; i < n_chunks; i++)
        chunks[i].used = kPage;
}

}  // namespace green
