// System call instructions outside the C library: liburing's and libaio's own stubs, inline
// assembly, statically linked helpers.  No wrapper ever sees them; syscall user dispatch
// (PR_SET_SYSCALL_USER_DISPATCH, Linux 5.11) makes them visible.
//
// How.  On every OS thread that runs green threads (the main thread, each worker, the spares),
// dispatch is on with the C library's code as the allowed range: its system calls run as
// always, and one made anywhere else traps with SIGSYS.  The handler points the interrupted thread at libgreen's
// entry, which runs as an ordinary function once the handler returns (not in signal context: a
// blocking call can park there).  The first trap at a site also rewrites it, when that is safe,
// so that later executions cost a jump instead of a trap (a trap costs microseconds).
//
// The rewrite (shim/rawsite.cpp).  zpoline and lazypoline turn the two-byte `syscall` (0f 05)
// into the two-byte `call *%rax` (ff d0): %rax holds the system call number, so the call lands
// in a page mapped at address 0, a slide down to the entry.  But the call pushes its return
// address into the caller's red zone (the 128 bytes below its stack pointer that leaf code may
// use without moving it), and real code keeps values there across a system call: liburing's
// io_uring_wait_cqe does (it crashed so).  libgreen's first version wrote `jmp *%rax` instead
// and found the way back in a table indexed by the number, so it could rewrite only one site
// per number, with a constant number, and needed address 0 (root, vm.mmap_min_addr).  Now each
// site gets a stub of its own, within 2 GiB, reached by a `jmp rel32` that replaces the
// instruction before the `syscall` (or the `syscall` itself): any number, any number of sites,
// no special right; see shim/rawsite.cpp for how the five bytes are found and changed safely.
// A site that cannot be rewritten keeps trapping: correct, at a trap's cost.
//
// The entry keeps the kernel's contract: every register but %rax (the result), %rcx and %r11,
// and the flags, as the system call would leave them, and nothing below the caller's stack
// pointer within the red zone is touched.  The calls syscall() goes green for (shim/syscall.cpp:
// reads, writes, accepts, connects, polls, sleeps, futex waits, wait4, io_uring_enter waiting for
// completions) take the same path here; every other call goes to the kernel at once, through a
// `syscall` instruction found in the C library's code (in the allowed range).
//
// Only where needed.  While dispatch is on for a thread, every system call it makes, the C
// library's included, takes the kernel's slower entry path (20 to 40 ns more per call here,
// BENCHMARKS.md): a visible share of a 300 ns recv.  So with GREEN_SYSCALL_DISPATCH=auto (the
// default) it is turned on only when loaded code may hold a `syscall` instruction of its own:
// at start-up, and after each dlopen (shim/dlsym.cpp), the executable sections of every object
// but the C library, the dynamic loader, the vDSO, the sanitizer runtimes (whose calls would pass
// through anyway) and libgreen are searched for the instruction, each candidate decided by
// decoding from the start of its function (hub/insn.h; the unwind table's index gives the
// function starts).  Found, dispatch goes on for good: on the calling OS thread at once, and on
// every other OS thread libgreen manages by a queued SIGSYS of libgreen's own, whose handler
// turns it on there; new workers and spares turn it on as they start.  Not found, no thread pays
// anything.  GREEN_SYSCALL_DISPATCH=on turns it on at start-up whatever the scan says (code
// generated at run time, which no scan sees), =off never.
//
// The C library's own calls, for a stretch (GlibcScope, shim/shim.h).  Where a blocking write
// happens inside glibc (a wide-character stream's flush, perror, a flush larger than a pipe's
// room: shim/stdio.cpp), the calling thread's dispatch is switched to allow only libgreen's own
// `syscall; ret` in the C library for the call's duration: glibc's reads and writes then trap,
// go green as syscall(SYS_write) would (its other system calls run as they are), and the site
// is never rewritten.  Before such a call parks, the thread's dispatch goes back to what every
// thread has (the green threads that run meanwhile must not trap), and it is taken again on
// whichever OS thread resumes the call.  Signals wait while the scope is on (a handler's calls
// through the C library would trap, with SIGSYS perhaps blocked by the handler's mask).
//
// Calls that cannot go through the entry: rt_sigreturn (it restores the stack pointer), clone,
// clone3 and vfork (the child starts on another stack, or shares this one).  At a trap the
// handler sets the dispatch selector to "allow" and resumes at the site, so the instruction
// runs natively, and the next system call through the entry sets it back to "block"; at a
// rewritten site the stub runs them at a `syscall` of its own and sets it back itself.
//
// Off: under valgrind (it does not emulate dispatch); in the ThreadSanitizer build; where the kernel refuses (before 5.11,
// or a seccomp filter): said once at GREEN_LOG_LEVEL=info, and those calls block their OS thread
// as before.

// libgreen's headers first: <elf.h> (from <link.h>) defines EV_NONE, which <ev.h> declares.
#include "../hub/config.h"
#include "../hub/insn.h"
#include "../hub/log.h"
#include "../hub/signal.h"
#include "../hub/spinlock.h"
#include "../hub/sys.h"
#include "../hub/workers.h"
#include "shim.h"
#include "rawsite.h"  // <link.h>, after <ev.h>

#include <cpuid.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <valgrind/valgrind.h>

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_OFF 0
#define PR_SYS_DISPATCH_ON 1
#endif
#ifndef SYSCALL_DISPATCH_FILTER_ALLOW
#define SYSCALL_DISPATCH_FILTER_ALLOW 0
#define SYSCALL_DISPATCH_FILTER_BLOCK 1
#endif
#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH 2
#endif

// The calls whose numbers are below this have a bit each in the entry's sets (green, native).
constexpr long kSets = 512;

extern "C" {
// The selector every dispatching OS thread shares: "block" but while a call that cannot go
// through the entry runs natively.
__attribute__((visibility("hidden"))) volatile char green_sys_selector = SYSCALL_DISPATCH_FILTER_BLOCK;
// Bit n: system call n has a green form (shim/syscall.cpp); the entry's fast path skips the others.
__attribute__((visibility("hidden"))) uint64_t green_sys_green[kSets / 64];
// Bit n: system call n must run natively, at a stub's own `syscall` (see runs_natively below).
__attribute__((visibility("hidden"))) uint64_t green_sys_native[kSets / 64];
// Bytes of the XSAVE area the entry keeps the vector registers in (64-byte aligned).
__attribute__((visibility("hidden"))) long green_sys_xsave_size;
__attribute__((visibility("hidden"))) long green_sys_dispatch(long* frame);
// Set by dlopen and dlmopen (shim/dlsym.cpp): objects may have been loaded since the last scan.
__attribute__((visibility("hidden"))) volatile char green_modules_pending;
// Set once dispatch can be turned on (dispatch_ready below), for shim/dlsym.cpp.
__attribute__((visibility("hidden"))) char green_rawsys_ready;
void green_sys_entry_rcx();
}

namespace {

using namespace green;

struct Range {
    uintptr_t lo = 0, hi = 0;  // [lo, hi)
    bool has(uintptr_t a) const { return a - lo < hi - lo; }
};

Range libc_text;
// Code whose system calls run as they are even from the entry: the dynamic loader, the vDSO and
// the sanitizer runtimes (their own stubs serve their bookkeeping, which must not park).
Range passthrough[8];
int n_passthrough;
// Dispatch may be turned on (the handler, the entry and libgreen's own system call instruction
// are set up); with GREEN_SYSCALL_DISPATCH=off, valgrind, TSan or a refusing kernel it may not.
bool dispatch_ready;
// Dispatch is on, or being turned on, for every OS thread libgreen manages (see the top).
std::atomic<bool> dispatch_on{false};
struct sigaction previous_sigsys;  // the program's (or the default) action, for other SIGSYS

bool starts_with_any(const char* base, const char* const* names)
{
    for (; *names; ++names)
        if (strncmp(base, *names, strlen(*names)) == 0)
            return true;
    return false;
}

// The objects whose system calls run as they are, after the C library: the dynamic loader, the
// vDSO and the sanitizer runtimes.  Neither searched for system call instructions nor sent
// green (see the top).
const char* const kLibcThenPassthrough[] = {"libc.so.6", "ld-linux", "linux-vdso", "libasan.",
                                            "libubsan.", "libtsan.", "liblsan.", "libhwasan.", nullptr};

const char* base_name(const dl_phdr_info* info)
{
    const char* name = info->dlpi_name ? info->dlpi_name : "";
    return strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
}

int collect_ranges(dl_phdr_info* info, size_t, void*)
{
    const char* base = base_name(info);
    bool is_libc = strcmp(base, kLibcThenPassthrough[0]) == 0;
    bool pass = starts_with_any(base, kLibcThenPassthrough + 1);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr)& ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
            continue;
        Range r{info->dlpi_addr + ph.p_vaddr, info->dlpi_addr + ph.p_vaddr + ph.p_memsz};
        if (is_libc && !libc_text.hi)
            libc_text = r;
        else if (pass && n_passthrough < int(sizeof passthrough / sizeof passthrough[0]))
            passthrough[n_passthrough++] = r;
    }
    return 0;
}

// A `syscall; ret` in the C library's code (the tail of its stubs, such as getpid's).
void* find_libc_syscall()
{
    auto* p = reinterpret_cast<const unsigned char*>(libc_text.lo);
    auto* end = reinterpret_cast<const unsigned char*>(libc_text.hi) - 3;
    for (; p < end; ++p)
        if (p[0] == 0x0f && p[1] == 0x05 && p[2] == 0xc3)
            return const_cast<unsigned char*>(p);
    return nullptr;
}

// The size of the XSAVE area for the x87, SSE and AVX state (and AVX-512's, if enabled): what
// compiled code and the C library's string functions may change.
long xsave_size()
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
        return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    long size = 576;  // the legacy area and the header
    for (unsigned i = 2; i < 8; i++) {
        if (!(lo & (1u << i)) || !((0xe4u >> i) & 1))
            continue;
        __cpuid_count(0xd, i, a, b, c, d);
        if (long(a + b) > size)
            size = long(a + b);
    }
    return (size + 63) & ~63L;
}

bool runs_natively(long nr)
{
    return nr == SYS_rt_sigreturn || nr == SYS_clone || nr == SYS_vfork
#ifdef SYS_clone3
           || nr == SYS_clone3
#endif
        ;
}


// --- The scan (see the top) ---

// The OS threads that run green threads, for turning dispatch on everywhere: the main thread,
// the workers and the spares (none of them ever exits; after fork only the forking one is left).
constexpr int kMaxManaged = 1024;
std::atomic<int> managed_tids[kMaxManaged];
std::atomic<int> n_managed{0};
// Threads that turned dispatch on at libgreen's request (the handler counts).
std::atomic<int> enable_acks{0};
// The value of libgreen's own SIGSYS that asks a thread to turn dispatch on.
char enable_request;

void register_here()
{
    int i = n_managed.fetch_add(1);
    if (i < kMaxManaged)
        managed_tids[i].store(int(raw_syscall(SYS_gettid)));
}

// Whether the bytes before site set %eax or %rax as system call stubs do: `mov $n, %eax`,
// `mov $n, %rax`, or a move from another register.
bool sets_rax_before(const unsigned char* site)
{
    if (site[-5] == 0xb8 || (site[-7] == 0x48 && site[-6] == 0xc7 && site[-5] == 0xc0))
        return true;
    // 89 /r with %eax or %rax as the destination (ModRM 11 reg 000), 8b /r with it as the source
    // register field (11 000 rm); a REX prefix before either.
    unsigned char op = site[-2], modrm = site[-1];
    return (op == 0x89 && (modrm & 0xc7) == 0xc0) || (op == 0x8b && (modrm & 0xf8) == 0xc0);
}

// The executable sections of the object, from its file's section headers (which are not
// mapped): n ranges in out, or 0 when the file cannot be read or is not the one mapped (then
// the executable segments are searched, from their starts).
int exec_sections(const dl_phdr_info* info, Range* out, int max)
{
    const char* path = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : "/proc/self/exe";
    const unsigned char* mapped_header = nullptr;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_LOAD && info->dlpi_phdr[i].p_offset == 0)
            mapped_header = reinterpret_cast<const unsigned char*>(
                info->dlpi_addr + (info->dlpi_phdr[i].p_vaddr & ~uintptr_t(4095)));
    if (!mapped_header)
        return 0;
    long fd = raw_syscall(SYS_openat, AT_FDCWD, long(path), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int n = 0;
    ElfW(Ehdr) eh;
    if (raw_syscall(SYS_pread64, fd, long(&eh), sizeof eh, 0) == long(sizeof eh) &&
        memcmp(&eh, mapped_header, sizeof eh) == 0 && eh.e_shentsize == sizeof(ElfW(Shdr))) {
        ElfW(Shdr) sh[32];
        for (unsigned first = 0; first < eh.e_shnum && n >= 0; first += 32) {
            unsigned k = eh.e_shnum - first < 32 ? eh.e_shnum - first : 32;
            if (raw_syscall(SYS_pread64, fd, long(sh), long(k * sizeof sh[0]),
                            long(eh.e_shoff + first * sizeof sh[0])) != long(k * sizeof sh[0])) {
                n = -1;
                break;
            }
            for (unsigned j = 0; j < k && n >= 0; j++) {
                if (sh[j].sh_type != SHT_PROGBITS || !(sh[j].sh_flags & SHF_EXECINSTR) ||
                    !(sh[j].sh_flags & SHF_ALLOC) || !sh[j].sh_size)
                    continue;
                Range r{info->dlpi_addr + sh[j].sh_addr, info->dlpi_addr + sh[j].sh_addr + sh[j].sh_size};
                // Inside an executable segment, or the file is not what was mapped.
                bool inside = false;
                for (int i = 0; i < info->dlpi_phnum; i++) {
                    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
                    uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
                    if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X) && r.lo >= lo &&
                        r.hi <= lo + ph.p_filesz)
                        inside = true;
                }
                if (!inside || n == max)
                    n = -1;
                else
                    out[n++] = r;
            }
        }
    }
    raw_syscall(SYS_close, fd);
    return n > 0 ? n : 0;
}

// Objects scanned already (their load address, program headers and name's first bytes), so that
// a dlopen scans only what it added.
struct ScannedKey {
    uintptr_t addr, phdr, name;
};
constexpr int kMaxScanned = 2048;
ScannedKey scanned[kMaxScanned];
int n_scanned;
SpinLock scan_lock;

// What the scan found: where, for the log.
struct Found {
    const char* object = nullptr;
    uintptr_t offset = 0;
    long us = 0;  // how long the search took
};

int scan_object(dl_phdr_info* info, size_t, void* out)
{
    const char* name = info->dlpi_name ? info->dlpi_name : "";
    if (starts_with_any(base_name(info), kLibcThenPassthrough))
        return 0;
    uintptr_t name_key = 0;
    memcpy(&name_key, name, strnlen(name, sizeof name_key));
    ScannedKey key{info->dlpi_addr, uintptr_t(info->dlpi_phdr), name_key};
    for (int i = 0; i < n_scanned; i++)
        if (memcmp(&scanned[i], &key, sizeof key) == 0)
            return 0;
    if (n_scanned < kMaxScanned)
        scanned[n_scanned++] = key;
    Range code[16];
    int n = exec_sections(info, code, 16);
    bool sections = n > 0;
    for (int i = 0; !sections && i < info->dlpi_phnum; i++) {
        const ElfW(Phdr)& ph = info->dlpi_phdr[i];
        if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X) && n < 16)
            code[n++] = Range{info->dlpi_addr + ph.p_vaddr, info->dlpi_addr + ph.p_vaddr + ph.p_filesz};
    }
    // libgreen itself: its system calls are its own business.
    uintptr_t self = reinterpret_cast<uintptr_t>(&green_sys_dispatch);
    for (int i = 0; i < n; i++)
        if (code[i].has(self))
            return 0;
    FunctionStarts starts = function_starts(info->dlpi_phdr, info->dlpi_phnum, info->dlpi_addr);
    for (int i = 0; i < n; i++) {
        auto* lo = reinterpret_cast<const unsigned char*>(code[i].lo);
        auto* hi = reinterpret_cast<const unsigned char*>(code[i].hi);
        const unsigned char* hit = lo;
        for (;;) {
            hit = find_syscall(hit, hi, starts.count ? function_start_before : nullptr, &starts);
            // Outside every function the unwind table knows, a pair is data in the text (the
            // tables OpenSSL's assembly keeps there) unless what precedes it sets the number as
            // a stub does (hand-written stubs without unwind information).
            uintptr_t f_lo, f_hi;
            if (!hit || !starts.count || hit - lo < 7 ||
                function_bounds(&starts, uintptr_t(hit), &f_lo, &f_hi) != 0 || sets_rax_before(hit))
                break;
            hit += 2;
        }
        if (hit) {
            auto* found = static_cast<Found*>(out);
            found->object = *name ? name : "the program";
            found->offset = uintptr_t(hit) - info->dlpi_addr;
            return 1;
        }
    }
    return 0;
}

// Scans the objects not scanned yet; true (and where, in found) when one may make system calls.
bool scan_objects(Found* found)
{
    SpinGuard guard(scan_lock);
    green_modules_pending = 0;
    struct timespec t0, t1;
    raw_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, long(&t0));
    bool hit = dl_iterate_phdr(scan_object, found) != 0;
    raw_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, long(&t1));
    found->us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
    return hit;
}

bool enable_here();

void on_sigsys(int sig, siginfo_t* si, void* ucv)
{
    auto* uc = static_cast<ucontext_t*>(ucv);
    greg_t* r = uc->uc_mcontext.gregs;
    if (si->si_code == SI_QUEUE && si->si_value.sival_ptr == &enable_request &&
        si->si_pid == getpid()) {
        // libgreen's request to turn dispatch on here (turn_on_everywhere).
        int saved = errno;
        if (!enable_here())
            GREEN_WARN("cannot turn syscall user dispatch on for an OS thread: %s", strerror(errno));
        errno = saved;
        enable_acks.fetch_add(1);
        return;
    }
    if (si->si_code != SYS_USER_DISPATCH) {
        // Someone else's SIGSYS (a seccomp filter's): the program's handler, or the default.
        if ((previous_sigsys.sa_flags & SA_SIGINFO) && previous_sigsys.sa_sigaction)
            previous_sigsys.sa_sigaction(sig, si, ucv);
        else if (previous_sigsys.sa_handler != SIG_IGN && previous_sigsys.sa_handler != SIG_DFL)
            previous_sigsys.sa_handler(sig);
        else if (previous_sigsys.sa_handler == SIG_DFL) {
            struct sigaction dfl = {};
            dfl.sa_handler = SIG_DFL;
            libc_sigaction(SIGSYS, &dfl, nullptr);
            raw_syscall(SYS_tgkill, getpid(), raw_syscall(SYS_gettid), SIGSYS);
        }
        return;
    }
    uintptr_t after = uintptr_t(r[REG_RIP]);
    long nr = long(r[REG_RAX]);  // the kernel put the number back
    if (runs_natively(nr)) {
        green_sys_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
        r[REG_RIP] = greg_t(after - 2);
        return;
    }
    int saved = errno;
    if (!libc_text.has(after - 2))  // the C library's own sites trap only in a glibc scope
        rewrite_site(after - 2, nr);
    errno = saved;
    // Into the entry with the return address in %rcx (which the system call clobbers anyway).
    r[REG_RCX] = greg_t(after);
    r[REG_RIP] = greg_t(reinterpret_cast<uintptr_t>(&green_sys_entry_rcx));
}

bool passes_through(uintptr_t site)
{
    for (int i = 0; i < n_passthrough; i++)
        if (passthrough[i].has(site))
            return true;
    return false;
}

// Dispatch on the calling OS thread; false (errno set) when the kernel refuses.
bool enable_here()
{
    if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, libc_text.lo,
              libc_text.hi - libc_text.lo, &green_sys_selector) != 0)
        return false;
    // Never blocked from now on (hub/signal.h).
    uint64_t open = uint64_t(1) << (SIGSYS - 1);
    raw_syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, long(&open), 0, sizeof open);
    return true;
}

// A glibc scope on the calling OS thread: dispatch on with only libgreen's own `syscall; ret`
// in the C library allowed, so that every other system call of the C library traps; left for
// dispatch as it is everywhere (on with the C library allowed, or off).  Raw: the C library's
// prctl would trap.
//
// While in a scope the thread takes no signal: a handler's system calls through the C library
// would trap, and with SIGSYS blocked by the handler's mask the kernel would kill the process.
// Signals wait until the scope is left, or until the call parks (then the green thread's own
// mask is the OS thread's again, and the next switch gives each thread its own).
void scope_enter_here()
{
    if (Hub* h = hub_self())
        sigmask_apply(h, ~((uint64_t(1) << (32 - 1)) | (uint64_t(1) << (33 - 1))));
    auto insn = reinterpret_cast<long>(__atomic_load_n(&green_libc_syscall_insn, __ATOMIC_RELAXED));
    raw_syscall(SYS_prctl, PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, insn, 3,
                long(&green_sys_selector));
}

void scope_leave_here()
{
    if (dispatch_on.load())
        raw_syscall(SYS_prctl, PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON,
                    long(libc_text.lo), long(libc_text.hi - libc_text.lo), long(&green_sys_selector));
    else
        raw_syscall(SYS_prctl, PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0);
    Hub* h = hub_self();
    Green* self = green_self();
    if (h && self)
        sigmask_apply(h, self->sigmask);
}

void enable_on_worker()
{
    // Registered first: a thread turning dispatch on everywhere either sees this one in the
    // registry or has set dispatch_on before the load below (both sequentially consistent).
    register_here();
    if (dispatch_on.load() && !enable_here())
        GREEN_WARN("cannot turn syscall user dispatch on for a worker: %s", strerror(errno));
}

// Turns dispatch on for the calling OS thread and, by a queued SIGSYS, for every other one
// libgreen manages; waits (up to 20 ms) for those to answer: a thread that does not is in the
// kernel or waiting for a CPU, and takes the signal before it runs another instruction.
void turn_on_everywhere(const Found& found, const char* when)
{
    if (dispatch_on.exchange(true))
        return;
    if (!enable_here()) {
        GREEN_WARN("cannot turn syscall user dispatch on: %s", strerror(errno));
        return;
    }
    log_msg(kLogDebug, "syscall user dispatch on (%s): %s may make system calls of its own "
                      "(offset %#lx)", when, found.object, static_cast<unsigned long>(found.offset));
    long pid = raw_syscall(SYS_getpid), self = raw_syscall(SYS_gettid);
    int n = n_managed.load() < kMaxManaged ? n_managed.load() : kMaxManaged;
    int sent = 0, acks_before = enable_acks.load();
    for (int i = 0; i < n; i++) {
        int tid = managed_tids[i].load();
        if (!tid || tid == self)
            continue;
        siginfo_t si = {};
        si.si_signo = SIGSYS;
        si.si_code = SI_QUEUE;
        si.si_pid = int(pid);
        si.si_uid = getuid();
        si.si_value.sival_ptr = &enable_request;
        if (raw_syscall(SYS_rt_tgsigqueueinfo, pid, tid, SIGSYS, long(&si)) == 0)
            sent++;
    }
    // The kernel's clock: libgreen's clock_gettime may be virtual (seeded mode).
    struct timespec start, now;
    raw_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, long(&start));
    while (enable_acks.load() - acks_before < sent) {
        raw_syscall(SYS_sched_yield);
        raw_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, long(&now));
        if ((now.tv_sec - start.tv_sec) * 1000000000L + now.tv_nsec - start.tv_nsec > 20000000L)
            break;
    }
}

}  // namespace

// Not checked by AddressSanitizer: frame is what the entry pushed below the caller's red zone,
// stack that no instrumented function has unpoisoned and that may still carry the poison of an
// earlier frame (the ASan runtime's own gettid, trapped on a fresh worker, read it).
extern "C" __attribute__((no_sanitize_address)) long green_sys_dispatch(long* frame)
{
    // frame: the number, then %r9, %r8, %r10, %rdx, %rsi, %rdi as the entry pushed them, and
    // (at [10]) the return address: the site plus 2.
    long nr = frame[0];
    long a[6] = {frame[6], frame[5], frame[4], frame[3], frame[2], frame[1]};
    uintptr_t site = uintptr_t(frame[10]) - 2;
    if (libc_text.has(site)) {
        // The C library's own call, in a glibc scope (GlibcScope): its reads and writes go green
        // with the scope left meanwhile (the call may park, and the green threads that run here
        // then must not trap), and taken again on whichever OS thread runs this one after.
        // Nothing else does: its internal futex waits are woken by wakes no wrapper sees.
        if (nr != SYS_read && nr != SYS_write && nr != SYS_readv && nr != SYS_writev)
            return raw_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        int saved = errno;
        scope_leave_here();
        long result;
        if (!syscall_green(nr, a, &result))
            result = raw_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        else if (result == -1)
            result = -errno;
        scope_enter_here();
        errno = saved;
        return result;
    }
    if (!passes_through(site)) {
        int saved = errno;
        long result;
        if (syscall_green(nr, a, &result)) {
            if (result == -1)
                result = -errno;
            errno = saved;
            return result;
        }
        errno = saved;
    }
    return raw_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

// The entry, with the return address (the site plus 2) in %rcx: from a site's stub
// (shim/rawsite.cpp) or from the trap.  The stack pointer is the caller's, and the entry stays
// below its red zone.  Fast path: a call without a green form goes to the C library's `syscall`
// with the caller's registers and flags.  A call that must run natively (clone, vfork,
// rt_sigreturn; only from a stub: the trap handler runs those itself) goes to the stub's own
// `syscall`, whose address plus 2 the stub gave in %r11, with the selector at "allow"; the stub
// sets it back after.  Slow path: the arguments, flags and vector state saved,
// green_sys_dispatch decides.  (No instruction before the pushfq changes the flags.)
__asm__(R"(
    .text
    .globl green_sys_entry_rcx
    .hidden green_sys_entry_rcx
    .type green_sys_entry_rcx, @function
green_sys_entry_rcx:
    lea -128(%rsp), %rsp
    push %r11
    push %rcx
    pushfq
    cmpb $1, green_sys_selector(%rip)
    je 3f
    movb $1, green_sys_selector(%rip)
3:  cmp $511, %rax
    ja 1f
    mov %eax, %ecx
    shr $6, %ecx
    lea green_sys_green(%rip), %r11
    mov (%r11,%rcx,8), %r11
    bt %rax, %r11
    jc 2f
    lea green_sys_native(%rip), %r11
    mov (%r11,%rcx,8), %r11
    bt %rax, %r11
    jc 4f
1:  popfq
    call *green_libc_syscall_insn(%rip)
    pop %rcx
    lea 136(%rsp), %rsp
    jmp *%rcx
4:  movb $0, green_sys_selector(%rip)
    popfq
    pop %rcx
    pop %r11
    lea 128(%rsp), %rsp
    lea -2(%r11), %r11
    jmp *%r11
2:  push %rbp
    mov %rsp, %rbp
    push %rbx
    push %rdi
    push %rsi
    push %rdx
    push %r10
    push %r8
    push %r9
    push %rax
    mov %rsp, %rbx
    sub green_sys_xsave_size(%rip), %rsp
    and $-64, %rsp
    xor %eax, %eax
    mov %rax, 512(%rsp)
    mov %rax, 520(%rsp)
    mov %rax, 528(%rsp)
    mov %rax, 536(%rsp)
    mov %rax, 544(%rsp)
    mov %rax, 552(%rsp)
    mov %rax, 560(%rsp)
    mov %rax, 568(%rsp)
    mov $0xe7, %eax
    xor %edx, %edx
    xsave64 (%rsp)
    mov %rbx, %rdi
    cld
    call green_sys_dispatch
    mov %rax, (%rbx)
    mov $0xe7, %eax
    xor %edx, %edx
    xrstor64 (%rsp)
    mov %rbx, %rsp
    pop %rax
    pop %r9
    pop %r8
    pop %r10
    pop %rdx
    pop %rsi
    pop %rdi
    pop %rbx
    pop %rbp
    popfq
    pop %rcx
    lea 136(%rsp), %rsp
    jmp *%rcx
    .size green_sys_entry_rcx, .-green_sys_entry_rcx
)");

namespace green {

void rawsys_start()
{
#if defined(__SANITIZE_THREAD__)
    // ThreadSanitizer's runtime makes system calls of its own, from its own text, and defers the
    // program's signals to points of its choosing: a trap there would never be answered.
    log_msg(kLogInfo, "system call instructions outside the C library block their OS thread: "
                      "off in the ThreadSanitizer build");
    return;
#endif
    if (config.syscall_dispatch == 2) {
        log_msg(kLogInfo, "system call instructions outside the C library block their OS thread: "
                          "GREEN_SYSCALL_DISPATCH=off");
        return;
    }
    if (RUNNING_ON_VALGRIND) {
        log_msg(kLogInfo, "system call instructions outside the C library block their OS thread: "
                          "valgrind does not emulate syscall user dispatch");
        return;
    }
    dl_iterate_phdr(collect_ranges, nullptr);
    void* insn = libc_text.hi ? find_libc_syscall() : nullptr;
    green_sys_xsave_size = xsave_size();
    if (!insn || !green_sys_xsave_size) {
        log_msg(kLogInfo, "system call instructions outside the C library block their OS thread: "
                          "no syscall instruction in the C library, or no XSAVE");
        return;
    }
    for (long nr : {SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_recvfrom, SYS_sendto,
                    SYS_recvmsg, SYS_sendmsg, SYS_accept, SYS_accept4, SYS_connect, SYS_poll,
                    SYS_select, SYS_epoll_wait, SYS_epoll_pwait, SYS_wait4, SYS_nanosleep,
                    SYS_clock_nanosleep, SYS_futex, SYS_io_uring_enter,
                    // thread ids (shim/identity.cpp)
                    SYS_gettid, SYS_tgkill, SYS_tkill, SYS_sched_setaffinity,
                    SYS_sched_getaffinity, SYS_sched_setparam, SYS_sched_getparam,
                    SYS_sched_setscheduler, SYS_sched_getscheduler, SYS_setpriority,
                    SYS_getpriority})
        green_sys_green[nr / 64] |= uint64_t(1) << (nr % 64);
    for (long nr = 0; nr < kSets; nr++)
        if (runs_natively(nr))
            green_sys_native[nr / 64] |= uint64_t(1) << (nr % 64);
    struct sigaction sa = {};
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART;
    // No asynchronous signal while the handler runs: it may hold the rewrite's lock, and a
    // handler of the program's that traps would wait for it (shim/rawsite.cpp).
    sigfillset(&sa.sa_mask);
    for (int sig : {SIGSYS, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP})
        sigdelset(&sa.sa_mask, sig);
    // Before the first thread traps: libgreen's own system calls go through the C library's.
    __atomic_store_n(&green_libc_syscall_insn, insn, __ATOMIC_RELEASE);
    // Turned on and off again at once when nothing needs it yet: whether the kernel refuses is
    // known (and said) now, not at a dlopen.
    if (libc_sigaction(SIGSYS, &sa, &previous_sigsys) != 0 || !enable_here()) {
        int err = errno;
        __atomic_store_n(&green_libc_syscall_insn, nullptr, __ATOMIC_RELEASE);
        libc_sigaction(SIGSYS, &previous_sigsys, nullptr);
        log_msg(kLogInfo, "system call instructions outside the C library block their OS thread: "
                          "syscall user dispatch is refused (%s)", strerror(err));
        return;
    }
    sigmask_kept_open = uint64_t(1) << (SIGSYS - 1);
    register_here();
    worker_thread_started = enable_on_worker;
    rawsite_start();
    dispatch_ready = true;
    green_rawsys_ready = 1;
    Found found;
    if (config.syscall_dispatch == 1) {
        dispatch_on.store(true);
        log_msg(kLogDebug, "syscall user dispatch on: GREEN_SYSCALL_DISPATCH=on");
        return;
    }
    if (!scan_objects(&found)) {
        prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0);
        log_msg(kLogDebug, "syscall user dispatch off: no system call instruction outside the C "
                          "library, the dynamic loader and libgreen (searched in %ld us; "
                          "GREEN_SYSCALL_DISPATCH=on turns it on)", found.us);
        return;
    }
    dispatch_on.store(true);  // on for this thread already; the workers are not started yet
    log_msg(kLogDebug, "syscall user dispatch on (start-up): %s may make system calls of its own "
                      "(offset %#lx)", found.object, static_cast<unsigned long>(found.offset));
}

// The green thread may park inside holding the C library's locks, whose owner is its OS
// thread: pinned meanwhile (hub/green.h).
GlibcScope::GlibcScope(bool wanted)
{
    on_ = wanted && dispatch_ready && green_self();
    if (on_) {
        pin(green_self());
        scope_enter_here();
    }
}

GlibcScope::~GlibcScope()
{
    if (on_) {
        scope_leave_here();
        unpin(green_self());
    }
}

void rawsys_scan_loaded()
{
    if (!green_modules_pending || !dispatch_ready || dispatch_on.load())
        return;
    Found found;
    if (scan_objects(&found))
        turn_on_everywhere(found, "dlopen");
}

void rawsys_after_fork()
{
    // Dispatch is per task and not inherited: the child's one thread turns it on again.  The
    // workers of the child register as they start.
    if (!dispatch_ready)
        return;
    n_managed.store(0);
    register_here();
    rawsite_after_fork();
    if (dispatch_on.load() && !enable_here())
        GREEN_WARN("cannot turn syscall user dispatch on after fork: %s", strerror(errno));
}

}  // namespace green
