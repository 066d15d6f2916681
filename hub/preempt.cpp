// Time slices (see preempt.h): the tick, the safe-point test and the injected call.
#include "preempt.h"

#include "handoff.h"

#include <cpuid.h>
#include <gnu/libc-version.h>
#include <dlfcn.h>
#include <ev.h>
#include <ares.h>
#include <pthread.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unwind.h>
#include <valgrind/memcheck.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include "chaos.h"
#include "config.h"
#include "green.h"
#include "log.h"
#include "signal.h"
#include "sys.h"

namespace green {

bool preempt_enabled = false;
void (*preempt_forward)(int, siginfo_t*, void*) = nullptr;
struct sigaction preempt_prior_action;

namespace {

// The look: a CPU-time timer of the OS thread.  The kernel checks those at its scheduler tick
// (every 4 ms here, a jiffy), so asking for 1 ms gets one at each jiffy the thread runs: a
// signal, with no timer interrupt of its own.  A CLOCK_MONOTONIC timer at slice/8 cost 27 us
// per tick on this virtual machine (interrupts exit to the hypervisor): 2.2% of the CPU.
constexpr long kLookNs = 1000000;
// A jiffy at HZ=250 (Debian's), the kernel's tick; how close to the end of its slice a context
// must be for a precise timer: the next look may come two jiffies later.
constexpr int64_t kJiffy = 4000000;
constexpr int64_t kArmAhead = 2 * kJiffy;
int64_t slice_ns = 0;

// The modules whose code must never be preempted (preempt.h), by their link maps.
constexpr int kMaxRuntime = 12;
void* runtime_maps[kMaxRuntime];
int n_runtime = 0;

}  // namespace
}  // namespace green

// What the injected call needs, visible to the assembly below.
extern "C" {
__attribute__((visibility("hidden"))) unsigned long green_fpu_area = 512;  // bytes to save
__attribute__((visibility("hidden"))) unsigned char green_use_xsave = 0;   // XSAVE, or FXSAVE
__attribute__((visibility("hidden"))) void green_preempt_entry();
__attribute__((visibility("hidden"))) void green_preempt_return();
__attribute__((visibility("hidden"))) void green_preempt_yield(uintptr_t* ret);
}

// The injected call.  The tick handler made the thread "call" green_preempt_entry from the
// interrupted instruction, its return address 128 bytes below the interrupted stack pointer
// (the red zone stays untouched): so the CFA is the interrupted rsp, entry rsp + 136.  It saves
// the flags and every general register, then the FP/SSE/AVX state on a 64-byte aligned area
// below them (XSAVE wants its header zeroed: it writes only XSTATE_BV there), clears the
// direction flag for C, yields (told where its return address is), and undoes it all;
// "ret $128" pops the return address and the red zone, leaving rsp as it was.
//
// green_preempt_return is where a C library routine returns to when a tick redirected its
// return (see on_tick): rsp is then its caller's, as after any return.  It makes the same frame
// as the injected call, with a zero for the return address, which green_preempt_yield fills in
// with the one the routine had (none of lea, push and jmp touch the flags).
asm(R"(
    .text
    .globl green_preempt_return
    .hidden green_preempt_return
    .type green_preempt_return, @function
green_preempt_return:
    leaq -128(%rsp), %rsp
    pushq $0
    jmp green_preempt_entry
    .size green_preempt_return, .-green_preempt_return
    .globl green_preempt_entry
    .hidden green_preempt_entry
    .type green_preempt_entry, @function
green_preempt_entry:
    .cfi_startproc
    .cfi_def_cfa rsp, 136
    .cfi_offset rip, -136
    pushfq
    .cfi_adjust_cfa_offset 8
    pushq %rax
    .cfi_adjust_cfa_offset 8
    pushq %rcx
    .cfi_adjust_cfa_offset 8
    pushq %rdx
    .cfi_adjust_cfa_offset 8
    pushq %rbx
    .cfi_adjust_cfa_offset 8
    .cfi_offset rbx, -176
    pushq %rbp
    .cfi_adjust_cfa_offset 8
    .cfi_offset rbp, -184
    pushq %rsi
    .cfi_adjust_cfa_offset 8
    pushq %rdi
    .cfi_adjust_cfa_offset 8
    pushq %r8
    .cfi_adjust_cfa_offset 8
    pushq %r9
    .cfi_adjust_cfa_offset 8
    pushq %r10
    .cfi_adjust_cfa_offset 8
    pushq %r11
    .cfi_adjust_cfa_offset 8
    pushq %r12
    .cfi_adjust_cfa_offset 8
    .cfi_offset r12, -240
    pushq %r13
    .cfi_adjust_cfa_offset 8
    .cfi_offset r13, -248
    pushq %r14
    .cfi_adjust_cfa_offset 8
    .cfi_offset r14, -256
    pushq %r15
    .cfi_adjust_cfa_offset 8
    .cfi_offset r15, -264
    movq %rsp, %rbx
    .cfi_def_cfa_register rbx
    cld
    subq green_fpu_area(%rip), %rsp
    andq $-64, %rsp
    cmpb $0, green_use_xsave(%rip)
    je 1f
    xorl %eax, %eax
    movq %rax, 512(%rsp)
    movq %rax, 520(%rsp)
    movq %rax, 528(%rsp)
    movq %rax, 536(%rsp)
    movq %rax, 544(%rsp)
    movq %rax, 552(%rsp)
    movq %rax, 560(%rsp)
    movq %rax, 568(%rsp)
    movl $-1, %eax
    movl $-1, %edx
    xsave64 (%rsp)
    leaq 128(%rbx), %rdi
    call green_preempt_yield
    movl $-1, %eax
    movl $-1, %edx
    xrstor64 (%rsp)
    jmp 2f
1:
    fxsave64 (%rsp)
    leaq 128(%rbx), %rdi
    call green_preempt_yield
    fxrstor64 (%rsp)
2:
    movq %rbx, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rdi
    popq %rsi
    popq %rbp
    popq %rbx
    popq %rdx
    popq %rcx
    popq %rax
    popfq
    .cfi_def_cfa rsp, 136
    ret $128
    .cfi_endproc
    .size green_preempt_entry, .-green_preempt_entry
)");

namespace green {
namespace {

// The yield that ends a slice.
void slice_yield(Hub* h)
{
    h->preempt.preemptions++;
    if (chaos_preempt_on) {
        chaos_preempt_point();  // a scheduling step of seeded mode (hub/chaos.h)
        return;
    }
    h->budget = 0;
    uint64_t before = h->heartbeat.load(std::memory_order_relaxed);
    yield();
    // Two switches (to the loop and back): it was the only one runnable when the loop polled,
    // so it came back first, before the threads the poll woke.  Now it goes behind them.  (On
    // the same hub: the yield may have moved it to another worker's.)
    if (tl_hub == h && h->heartbeat.load(std::memory_order_relaxed) - before == 2)
        yield();
}

}  // namespace
}  // namespace green

// Runs on the preempted thread, in its own context, with its registers saved: the yield the
// tick asked for, through the loop, which polls before this thread runs again.  *ret is the
// return address of the frame; zero when a routine's return was redirected: the routine's own.
void green_preempt_yield(uintptr_t* ret)
{
    using namespace green;
    int saved = errno;
    Hub* h = tl_hub;
    if (*ret == 0) {
        Green* g = h->current;
        *ret = g->tick_return;
        g->tick_return = 0;
        g->tick_return_slot = nullptr;
    }
    slice_yield(h);
    errno = saved;
}

namespace green {
namespace {

// Whether the thread interrupted at pc, on stack sp, may be preempted there.
bool safe_point(Hub* h, const Green* g, uintptr_t pc, uintptr_t sp)
{
    if (g == h->preempt.in_handler && sp < h->preempt.handler_sp)
        return false;
    // On another stack (an alternate signal stack, a coroutine library's): not the thread's
    // own context, whose frames it would save.  Roots learn their bounds late: not checked.
    if (g->stack_lo && (sp < uintptr_t(g->stack_lo) || sp >= uintptr_t(g->stack_lo) + g->stack_size))
        return false;
    dl_find_object found;
    if (_dl_find_object(reinterpret_cast<void*>(pc), &found) != 0)
        return true;  // in no module: code the program made (a JIT's)
    for (int i = 0; i < n_runtime; i++)
        if (found.dlfo_link_map == runtime_maps[i])
            return false;
    return true;
}

// ---- ticks inside the C library's memory and string routines ----
//
// A loop of large memset, memcpy or strlen calls spends nearly all its time inside the C
// library, where no tick may preempt it.  For those routines alone the tick moves the
// preemption to the routine's return: it replaces the return address with green_preempt_return
// and keeps the real one in the thread's record.  That is safe where it is proved that the word
// at the interrupted stack pointer is the routine's return address, and that nothing but the
// routine's own return reads it:
// * the routines are the C library's implementations (as dlsym resolves them, after the
//   indirect-function choice) whose unwind information says the return address is at the stack
//   pointer at every instruction (the CFA is rsp + 8 throughout: nothing pushed, no frame);
// * such a routine calls nothing that could call back into the program, throw or unwind, so
//   only a handler of the program could make an unwinder or a longjmp pass its frame: the
//   trampoline that runs those puts the return address back first (NoPreempt), and a redirect
//   left behind anyway is recognised by its stack word (below the stack pointer, or changed);
// * the address returned to passes safe_point like an interrupted one: the thread yields there
//   exactly as a tick at that instruction would have made it.
// Anything else in the C library is refused as before.

struct Range {
    uintptr_t lo, hi;
};
constexpr int kMaxLeaves = 48;
Range leaves[kMaxLeaves];
int n_leaves = 0;

}  // namespace
}  // namespace green

// libgcc's look-up of the unwind information that covers an address (used at start-up only);
// not in a public header.
extern "C" {
struct dwarf_eh_bases {
    void* tbase;
    void* dbase;
    void* func;
};
const void* _Unwind_Find_FDE(void* pc, struct dwarf_eh_bases* bases);
}

namespace green {
namespace {

uint64_t read_uleb(const uint8_t** p, const uint8_t* end)
{
    uint64_t v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        v |= uint64_t(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    return v;
}

// Only DW_CFA_nop from p to end.
bool all_nops(const uint8_t* p, const uint8_t* end)
{
    for (; p < end; p++)
        if (*p != 0)
            return false;
    return true;
}

// The range of the routine at addr if its unwind information puts the return address at the
// stack pointer at every instruction: a CIE "zR" whose rules are exactly "CFA = rsp + 8, return
// address at CFA - 8", and an FDE with no instruction of its own.  Anything else: false.
bool leaf_range(void* addr, Range* out)
{
    dwarf_eh_bases bases;
    auto* fde = static_cast<const uint8_t*>(_Unwind_Find_FDE(addr, &bases));
    if (!fde)
        return false;
    uint32_t len, cie_off;
    memcpy(&len, fde, 4);
    memcpy(&cie_off, fde + 4, 4);
    if (len == 0 || len == 0xffffffff)
        return false;
    const uint8_t* fde_end = fde + 4 + len;
    const uint8_t* cie = fde + 4 - cie_off;
    uint32_t cie_len;
    memcpy(&cie_len, cie, 4);
    if (cie_len == 0 || cie_len == 0xffffffff)
        return false;
    const uint8_t* cie_end = cie + 4 + cie_len;
    const uint8_t* p = cie + 8;
    if (*p++ != 1 || strcmp(reinterpret_cast<const char*>(p), "zR") != 0)
        return false;
    p += 3;
    if (read_uleb(&p, cie_end) != 1 || p >= cie_end || *p++ != 0x78 /* data alignment -8 */ ||
        p >= cie_end || *p++ != 16 /* return address: rip */)
        return false;
    if (read_uleb(&p, cie_end) != 1 || p >= cie_end)
        return false;
    uint8_t enc = *p++;
    static const uint8_t kRules[] = {0x0c, 7, 8, 0x80 | 16, 1};  // def_cfa rsp+8; rip at cfa-8
    if (cie_end - p < ptrdiff_t(sizeof kRules) || memcmp(p, kRules, sizeof kRules) != 0 ||
        !all_nops(p + sizeof kRules, cie_end))
        return false;
    // The FDE: its start (known: bases.func), its length in the encoding's size, the
    // augmentation data, then its instructions.
    size_t size = (enc & 0x0f) == 0x03 || (enc & 0x0f) == 0x0b ? 4
                  : (enc & 0x0f) == 0x04 || (enc & 0x0f) == 0x0c || (enc & 0x0f) == 0 ? 8 : 0;
    if (!size)
        return false;
    p = fde + 8 + size;
    uint64_t range = 0;
    memcpy(&range, p, size);
    p += size;
    uint64_t aug = read_uleb(&p, fde_end);
    if (p + aug > fde_end || !all_nops(p + aug, fde_end))
        return false;
    out->lo = uintptr_t(bases.func);
    out->hi = out->lo + range;
    return uintptr_t(addr) >= out->lo && uintptr_t(addr) < out->hi;
}

// The C library's memory and string routines that qualify (leaf_range), once at start-up.
void find_leaves()
{
    dl_find_object libc;
    if (_dl_find_object(reinterpret_cast<void*>(&gnu_get_libc_version), &libc) != 0)
        return;
    void* handle = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    if (!handle)
        return;
    for (const char* name :
         {"memset", "memcpy", "memmove", "mempcpy", "memcmp", "bcmp", "memchr", "memrchr",
          "rawmemchr", "strlen", "strnlen", "strcmp", "strncmp", "strchr", "strchrnul", "strrchr",
          "strcpy", "stpcpy", "strncpy", "stpncpy", "strcat", "strncat", "strspn", "strcspn",
          "strpbrk", "wmemset", "wmemcmp", "wmemchr", "wcslen", "wcsnlen", "wcscmp", "wcsncmp",
          "wcschr", "wcsrchr", "wcscpy", "__memcpy_chk", "__memmove_chk", "__memset_chk",
          "__mempcpy_chk"}) {
        void* f = dlsym(handle, name);
        dl_find_object in;
        Range r;
        if (!f || _dl_find_object(f, &in) != 0 || in.dlfo_link_map != libc.dlfo_link_map ||
            !leaf_range(f, &r) || n_leaves == kMaxLeaves)
            continue;
        bool known = false;
        for (int i = 0; i < n_leaves; i++)
            known |= leaves[i].lo == r.lo;
        if (!known)
            leaves[n_leaves++] = r;
    }
    dlclose(handle);
}

bool in_leaf(uintptr_t pc)
{
    for (int i = 0; i < n_leaves; i++)
        if (pc >= leaves[i].lo && pc < leaves[i].hi)
            return true;
    return false;
}

// Something else wants this OS thread: a runnable green thread, a wake from elsewhere, a
// signal to deliver, or a wait whose timer or descriptor only a poll can see.
bool competing(const Hub* h)
{
    return h->runq.head || __atomic_load_n(&h->remote_head, __ATOMIC_RELAXED) ||
           h->timed_waits > 0 || h->fd_waits > 0 ||
           h->pending_signals.load(std::memory_order_relaxed);
}

// The time with a system call of our own: clock_gettime may be a sanitizer's interceptor,
// and the look may have interrupted that very runtime.
int64_t raw_mono_now()
{
    timespec ts;
    raw_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, long(&ts));
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void stop_ticks(Hub* h)
{
    struct itimerspec zero = {};
    raw_syscall(SYS_timer_settime, h->preempt.timer, 0, long(&zero), 0);
    raw_syscall(SYS_timer_settime, h->preempt.deadline_timer, 0, long(&zero), 0);
    h->preempt.armed = false;
    h->preempt.deadline_armed = false;
}

// Tells the two timers apart: the look carries the hub, the deadline the hub plus one.
void* deadline_tag(Hub* h) { return reinterpret_cast<char*>(h) + 1; }

// A tick at pc in one of the leaves: the routine returns to green_preempt_return, when its
// caller is a safe point.  False when it cannot be done (or is already done and still to come).
bool redirect_return(Hub* h, Green* g, uintptr_t pc, uintptr_t sp)
{
    if (!in_leaf(pc))
        return false;
    auto* slot = reinterpret_cast<uintptr_t*>(sp);
    uintptr_t to = *slot;
    if (uintptr_t* old = g->tick_return_slot) {
        // A redirect whose routine has not returned yet; or one a longjmp left behind (its word
        // is no longer on the stack, or holds something else).
        if (uintptr_t(old) >= sp &&
            __atomic_load_n(old, __ATOMIC_RELAXED) == uintptr_t(&green_preempt_return))
            return old == slot;
        g->tick_return_slot = nullptr;
    }
    if (!safe_point(h, g, to, sp + 8))
        return false;
    g->tick_return = to;
    g->tick_return_slot = slot;
    *slot = uintptr_t(&green_preempt_return);
    return true;
}

// The injected call (see green_preempt_entry), made when the interrupted point is safe; a tick
// inside one of the C library's leaf routines makes it return to the yield instead
// (redirect_return).  False when neither can be done now.
bool inject(Hub* h, Green* g, void* context)
{
    ucontext_t* uc = static_cast<ucontext_t*>(context);
    greg_t* r = uc->uc_mcontext.gregs;
    if (!safe_point(h, g, uintptr_t(r[REG_RIP]), uintptr_t(r[REG_RSP]))) {
        if (redirect_return(h, g, uintptr_t(r[REG_RIP]), uintptr_t(r[REG_RSP])))
            return true;
        h->preempt.refused++;
        return false;
    }
    // The call: its return address below the red zone, the interrupted pc in it.
    uintptr_t sp = uintptr_t(r[REG_RSP]) - 128 - 8;
    if (__builtin_expect(RUNNING_ON_VALGRIND, 0)) {
        // Memcheck sees no stack pointer move down to what the call writes (sigreturn jumps
        // there): say it is stack in use, the saved registers and the FP area.
        size_t used = 8 + 16 * 8 + green_fpu_area + 64;
        VALGRIND_MAKE_MEM_UNDEFINED(sp + 8 - used, used);
    }
    *reinterpret_cast<uintptr_t*>(sp) = uintptr_t(r[REG_RIP]);
    r[REG_RSP] = greg_t(sp);
    r[REG_RIP] = greg_t(&green_preempt_entry);
    return true;
}

// A tick of time slices: the look, or the end-of-slice timer (tagged deadline_tag).
void on_slice_tick(Hub* h, const siginfo_t* info, void* context)
{
    PreemptState& p = h->preempt;
    if (info->si_value.sival_ptr != h)
        p.deadline_armed = false;
    if (h->live <= 1 && !competing(h)) {
        stop_ticks(h);  // nobody to share with: the next wake re-arms
        return;
    }
    // The first look at a context dates its slice: it began after the look before (at most a
    // jiffy before, unless the look was off), so halfway is off by half a jiffy at most.
    int64_t now = raw_mono_now();
    int64_t before = p.looked_at > now - kJiffy ? p.looked_at : now - kJiffy;
    p.looked_at = now;
    uint64_t beat = h->heartbeat.load(std::memory_order_relaxed);
    if (beat != p.seen) {
        p.seen = beat;
        p.seen_at = before + (now - before) / 2;
        return;
    }
    int64_t due = p.seen_at + slice_ns;
    if (now < due) {
        // The next look may come a jiffy late: a precise timer for the end of the slice, only
        // for a context that has run this long already.
        if (!p.deadline_armed && due - now <= kArmAhead) {
            struct itimerspec at = {{0, 0}, {time_t(due / 1000000000), long(due % 1000000000)}};
            raw_syscall(SYS_timer_settime, p.deadline_timer, TIMER_ABSTIME, long(&at), 0);
            p.deadline_armed = true;
        }
        return;
    }
    Green* g = h->current;
    if (g == &h->loop || g->state != State::Running || !competing(h))
        return;  // due: preempted at the first look that finds a competitor
    if (!inject(h, g, context))
        p.owed = beat + 1;
}

// GREEN_CHAOS_PREEMPT (hub/chaos.h): the CLOCK_MONOTONIC timer (a CPU-time one would come
// only at the kernel's tick, every 4 ms), one-shot, at the next random interval.
void arm_chaos(Hub* h)
{
    int64_t ns = chaos_preempt_interval();
    struct itimerspec at = {{0, 0}, {time_t(ns / 1000000000), long(ns % 1000000000)}};
    raw_syscall(SYS_timer_settime, h->preempt.deadline_timer, 0, long(&at), 0);
    h->preempt.armed = true;
}

// A tick of GREEN_CHAOS_PREEMPT: the running thread is preempted wherever it is safe when
// another thread of the hub can run (only the run queue counts: seeded mode has no other
// source of work while a thread runs).
void on_chaos_tick(Hub* h, void* context)
{
    if (h->live <= 1 || h->idle.load(std::memory_order_relaxed)) {
        stop_ticks(h);  // as for time slices: the next wake re-arms
        return;
    }
    arm_chaos(h);
    Green* g = h->current;
    if (g != &h->loop && g->state == State::Running && h->runq.head)
        inject(h, g, context);
}

void on_tick(int sig, siginfo_t* info, void* context)
{
    Hub* h = tl_hub;
    // A tick of a hub this OS thread has lost in a blocking call (hand-off): the hub's new OS
    // thread has timers of its own; this one touches nothing of it.
    if (h && handoff_lost(h))
        return;
    if (!h || info->si_code != SI_TIMER ||
        (info->si_value.sival_ptr != h && info->si_value.sival_ptr != deadline_tag(h))) {
        if (preempt_forward)
            preempt_forward(sig, info, context);
        return;
    }
    if (chaos_preempt_on)
        on_chaos_tick(h, context);
    else
        on_slice_tick(h, info, context);
}

// A timer of the hub's OS thread sending it SIGURG with tag: false when the kernel refuses.
bool make_timer(Hub* h, clockid_t clock, void* tag, int* id)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGURG;
    ev.sigev_value.sival_ptr = tag;
    ev._sigev_un._tid = h->tid;
    long rc = raw_syscall(SYS_timer_create, clock, long(&ev), long(id));
    if (rc >= 0)
        return true;
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true))
        GREEN_WARN("cannot create a time-slice timer (%s): green threads of this OS thread are "
                   "not preempted", strerror(int(-rc)));
    return false;
}

void make_ticks(Hub* h)
{
    if (RUNNING_ON_VALGRIND) {
        // Valgrind builds the handler's frame below the interrupted stack pointer, where the
        // injected call goes, and forgets that memory at sigreturn: the tick's handler runs on
        // a stack of its own there (when the OS thread has none).
        stack_t ss;
        if (sigaltstack(nullptr, &ss) == 0 && (ss.ss_flags & SS_DISABLE)) {
            constexpr size_t kSize = 64 * 1024;
            void* p = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                           -1, 0);
            if (p != MAP_FAILED) {
                ss.ss_sp = p;
                ss.ss_size = kSize;
                ss.ss_flags = 0;
                sigaltstack(&ss, nullptr);
            }
        }
    }
    // The look on the OS thread's own CPU-time clock (made on that thread).
    if (!make_timer(h, CLOCK_THREAD_CPUTIME_ID, h, &h->preempt.timer) ||
        !make_timer(h, CLOCK_MONOTONIC, deadline_tag(h), &h->preempt.deadline_timer))
        h->preempt.timer = -2;
}

void remember_runtime(const void* addr)
{
    dl_find_object found;
    if (!addr || _dl_find_object(const_cast<void*>(addr), &found) != 0)
        return;
    for (int i = 0; i < n_runtime; i++)
        if (runtime_maps[i] == found.dlfo_link_map)
            return;
    if (n_runtime < kMaxRuntime)
        runtime_maps[n_runtime++] = found.dlfo_link_map;
}

// The runtime's modules, each found by an address inside it.  libgreen's own dependencies are
// loaded with it at start-up and never unloaded, so the list never changes.
void find_runtime()
{
    remember_runtime(reinterpret_cast<const void*>(&green_preempt_entry));  // libgreen
    remember_runtime(reinterpret_cast<const void*>(&gnu_get_libc_version));  // the C library
    remember_runtime(reinterpret_cast<const void*>(&_dl_find_object));     // the dynamic linker
    remember_runtime(reinterpret_cast<const void*>(&std::terminate));      // the C++ runtime
    remember_runtime(reinterpret_cast<const void*>(&_Unwind_RaiseException));  // the unwinder
    remember_runtime(reinterpret_cast<const void*>(&ev_run));              // libev
    remember_runtime(reinterpret_cast<const void*>(&ares_init_options));   // c-ares
    remember_runtime(reinterpret_cast<const void*>(&ctx::jump_fcontext));  // Boost.Context
    remember_runtime(reinterpret_cast<const void*>(getauxval(AT_SYSINFO_EHDR)));  // the vDSO
    // Whatever took over malloc or memcpy (a sanitizer's runtime, valgrind's preload) holds
    // locks of its own there.
    for (const char* name : {"malloc", "memcpy", "__asan_init", "__ubsan_handle_add_overflow"})
        remember_runtime(dlsym(RTLD_DEFAULT, name));
}

// How much state XSAVE writes with every component the kernel enabled (CPUID leaf 0xd), or
// FXSAVE's 512 bytes where there is no XSAVE.
void find_fpu_area()
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
        return;
    if (!__get_cpuid_count(0xd, 0, &a, &b, &c, &d) || b < 576)
        return;
    green_fpu_area = b;
    green_use_xsave = 1;
}

void after_fork_child()
{
    // Timers are not inherited: the child's hub makes its own when it needs one.
    if (Hub* h = tl_hub) {
        h->preempt.timer = -1;
        h->preempt.armed = false;
        h->preempt.deadline_armed = false;
    }
}

}  // namespace

int preempt_signal() { return preempt_enabled ? SIGURG : 0; }

void preempt_moved(Hub* h)
{
    if (h->preempt.timer >= 0) {
        raw_syscall(SYS_timer_delete, h->preempt.timer);
        raw_syscall(SYS_timer_delete, h->preempt.deadline_timer);
        h->preempt.timer = -1;
    }
    h->preempt.armed = false;
    h->preempt.deadline_armed = false;
}

void preempt_setup()
{
    if (!chaos_preempt_on && (config.timeslice_ns <= 0 || (sched_seeded && !config.timeslice_set)))
        return;
    find_runtime();
    find_leaves();
    find_fpu_area();
    slice_ns = config.timeslice_ns;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_tick;
    // Every signal blocked while it runs: no handler of the program runs inside it.
    sigfillset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    if (libc_sigaction(SIGURG, &sa, &preempt_prior_action) != 0) {
        GREEN_WARN("cannot install the time-slice handler: %s", strerror(errno));
        return;
    }
    if (preempt_prior_action.sa_handler != SIG_IGN)
        preempt_prior_action.sa_handler = SIG_DFL;
    unblockable_signals |= uint64_t(1) << (SIGURG - 1);
    pthread_atfork(nullptr, nullptr, after_fork_child);
    preempt_enabled = true;
}

void preempt_woken(Hub* h, Green* g)
{
    // g counts on its hub once it first runs there (a thread placed on another worker).
    if (h->live + (g->arriving ? 1 : 0) < 2 || h->preempt.timer == -2)
        return;
    if (h->preempt.timer == -1)
        make_ticks(h);
    if (h->preempt.timer >= 0 && chaos_preempt_on) {
        arm_chaos(h);
    } else if (h->preempt.timer >= 0) {
        struct itimerspec look = {{0, kLookNs}, {0, kLookNs}};
        raw_syscall(SYS_timer_settime, h->preempt.timer, 0, long(&look), 0);
        h->preempt.armed = true;
    }
}

void preempt_point()
{
    Hub* h = tl_hub;
    if (!h || __builtin_expect(h->preempt.owed != h->heartbeat.load(std::memory_order_relaxed) + 1, 1))
        return;
    h->preempt.owed = 0;
    Green* g = h->current;
    if (g == &h->loop || g == h->preempt.in_handler || g->state != State::Running || !competing(h))
        return;
    int saved = errno;
    slice_yield(h);
    errno = saved;
}

NoPreempt::NoPreempt(void* frame) : h_(tl_hub)
{
    if (!h_)
        return;
    // A routine's return redirected by a tick (redirect_return) goes back to the routine: the
    // handler may leave by longjmp or an exception, which must find the frames as they were.
    Green* g = h_->current;
    if (uintptr_t* slot = g->tick_return_slot) {
        if (__atomic_load_n(slot, __ATOMIC_RELAXED) == uintptr_t(&green_preempt_return))
            *slot = g->tick_return;
        g->tick_return_slot = nullptr;
        g->tick_return = 0;
    }
    saved_green_ = h_->preempt.in_handler;
    saved_sp_ = h_->preempt.handler_sp;
    h_->preempt.handler_sp = uintptr_t(frame);
    h_->preempt.in_handler = h_->current;
}

NoPreempt::~NoPreempt()
{
    if (!h_)
        return;
    h_->preempt.in_handler = saved_green_;
    h_->preempt.handler_sp = saved_sp_;
}

}  // namespace green
