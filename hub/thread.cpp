// Life of a green thread: the record arena, start, exit by unwinding, join, detach, cancel.
//
// Exit works as glibc's pthread_exit does, on the green thread's own stack:
// _Unwind_ForcedUnwind walks up the frames, running C++ destructors and catch (...) blocks
// (which must rethrow, as with glibc), while our stop function watches two kinds of targets:
// * a C pthread_cleanup_push buffer (the setjmp-based form glibc's headers use for C without
//   -fexceptions), registered through __pthread_register_cancel into the green thread's own
//   chain: when the walk reaches the frame that registered it, we longjmp there; the macro
//   runs the handler and calls __pthread_unwind_next, which resumes the walk from there with
//   the next buffer;
// * the green thread's entry frame, where exit_jmp was set: the walk ends there and the green
//   thread finishes (green_finish).  A root green thread has no entry frame of ours: its walk
//   ends at the end of the OS stack, and it parks there for good.
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "debug.h"
#include "green.h"
#include "log.h"
#include "signal.h"
#include "sys.h"
#include "tls.h"
#include "waitq.h"
#include "workers.h"

namespace green {

std::atomic<long> live_greens{0};
void (*green_exit_hook)(Green* self) = nullptr;

// ---- the arena ------------------------------------------------------------------------

namespace {

// Reserved once (PROT_NONE), made writable kArenaStep at a time as records are handed out:
// 1 GiB of address space holds over a million, and only what is writable counts when a program
// locks its memory (mlockall(MCL_CURRENT) populates every writable mapping).
constexpr size_t kArenaBytes = size_t(1) << 30;
constexpr size_t kArenaStep = size_t(256) << 10;
constexpr size_t kSlot = (sizeof(Green) + 63) / 64 * 64;

SpinLock arena_lock;
std::atomic<size_t> arena_writable{0};  // bytes made writable, from the base; only grows
Green* arena_free = nullptr; // freed records, linked through next
uint64_t next_id = 1;

}  // namespace

// Outside the anonymous namespace: the debugger's table names them (hub/debug.h).
char* arena_base = nullptr;
size_t arena_used = 0;       // bytes handed out so far (bump pointer)
const size_t arena_slot = kSlot;

Green* green_alloc()
{
    void* slot = nullptr;
    {
        SpinGuard g(arena_lock);
        if (!arena_base) {
            void* p = mmap(nullptr, kArenaBytes, PROT_NONE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (p == MAP_FAILED)
                return nullptr;
            arena_base = static_cast<char*>(p);
        }
        if (arena_free) {
            slot = arena_free;
            arena_free = arena_free->next;
        } else if (arena_used + kSlot <= kArenaBytes) {
            size_t writable = arena_writable.load(std::memory_order_relaxed);
            if (arena_used + kSlot > writable) {
                size_t step = std::min(kArenaStep, kArenaBytes - writable);
                if (mprotect(arena_base + writable, step, PROT_READ | PROT_WRITE) != 0)
                    return nullptr;
                arena_writable.store(writable + step, std::memory_order_release);
            }
            slot = arena_base + arena_used;
            arena_used += kSlot;
        } else {
            return nullptr;
        }
    }
    Green* g = new (slot) Green;
    g->magic = kGreenMagic;
    {
        SpinGuard lock(arena_lock);
        g->id = next_id++;
    }
    return g;
}

void arena_after_fork() { new (&arena_lock) SpinLock; }

void green_ids_restart(uint64_t next)
{
    SpinGuard lock(arena_lock);
    next_id = next;
}

void green_free(Green* g)
{
    free(g->affinity);
    if (g->key_blocks) {
        for (int i = 0; i < 32; i++)
            free(g->key_blocks[i]);
        free(g->key_blocks);
    }
    g->magic = 0;
    SpinGuard lock(arena_lock);
    g->next = arena_free;
    arena_free = g;
}

GREEN_NO_TSAN bool is_green(const void* handle)
{
    const char* p = static_cast<const char*>(handle);
    char* base = arena_base;
    // Any value may be asked about (a pthread_t of a real thread): only the writable part of
    // the arena may be read.
    size_t writable = arena_writable.load(std::memory_order_acquire);
    if (!base || p < base || p + sizeof(Green) > base + writable)
        return false;
    if (size_t(p - base) % kSlot != 0)
        return false;
    return static_cast<const Green*>(handle)->magic == kGreenMagic;
}

GREEN_NO_TSAN const Green* joined_by(const Green* g)
{
    if (g->wait_kind != kWaitJoin || !g->wait_addr)
        return nullptr;
    if (is_green(g->wait_addr))
        return static_cast<const Green*>(g->wait_addr);
    auto* t = reinterpret_cast<const Green*>(static_cast<const char*>(g->wait_addr) -
                                             offsetof(Green, dead_word));
    return is_green(t) ? t : nullptr;
}

void for_each_green_record(void (*f)(Green*, void*), void* arg)
{
    size_t used;
    {
        SpinGuard g(arena_lock);
        used = arena_used;
    }
    for (size_t off = 0; off < used; off += kSlot) {
        Green* g = reinterpret_cast<Green*>(arena_base + off);
        if (g->magic == kGreenMagic)
            f(g, arg);
    }
}

// ---- start -----------------------------------------------------------------------------

namespace {

[[noreturn]] void green_entry(ctx::transfer_t t);

}  // namespace

int green_spawn(Green** out, void* (*start)(void*), void* arg, const SpawnAttr& attr)
{
    Hub* self_hub = hub_self();
    Hub* h = place_new_thread(self_hub);  // the hub it runs on (hub/workers.h)
    Green* g = green_alloc();
    if (!g)
        return EAGAIN;
    if (attr.user_stack_lo) {
        g->stack_lo = static_cast<char*>(attr.user_stack_lo);
        g->stack_size = attr.user_stack_size;
    } else {
        if (!stack_get(&g->stack, attr.stack_size, attr.guard_size)) {
            green_free(g);
            return EAGAIN;  // what pthread_create reports when memory for a stack is lacking
        }
        g->stack_lo = g->stack.lo;
        g->stack_size = g->stack.size;
        g->guard_size = attr.guard_size;
    }
    // As glibc does, the thread's TLS comes out of the top of its stack, its own or the
    // program's (pthread_attr_setstack), which must leave room to run.
    char* top = g->stack_lo + g->stack_size;
    size_t tls = tls_area_size();
    constexpr size_t kMinRest = 2048;  // glibc's MINIMAL_REST_STACK
    if (tls && g->stack_size < tls + kMinRest) {
        stack_put(&g->stack);
        green_free(g);
        return EINVAL;
    }
    g->tp = tls ? tls_create(top, h->root_tp, h == self_hub ? nullptr : h->root_tp) : h->root_tp;
    if (!tls)
        tls_words_init(g->tls_words);
    if (!g->tp) {
        stack_put(&g->stack);
        green_free(g);
        return EAGAIN;
    }
    g->hub = h;
    g->start = start;
    g->arg = arg;
    g->detached = attr.detached;
    if (attr.detached)
        g->dead_word.store(kDetachedBit, std::memory_order_relaxed);
    g->sched_policy = attr.sched_policy;
    g->sched_priority = attr.sched_priority;
    g->ctx = ctx::make_fcontext(top - tls, g->stack_size - tls, green_entry);
    g->tsan_fiber = tsan_fiber_new();
    long live = live_greens.fetch_add(1) + 1;
    if (h == self_hub) {
        h->live++;
        sigmask_spawned(h, g);
        h->stats.created++;
        if (uint64_t(live) > h->stats.peak_live)
            h->stats.peak_live = uint64_t(live);
    } else {
        // Another worker's counters are its own: it counts the thread in when it first runs.
        sigmask_inherit(self_hub, g);
        g->arriving = true;
    }
    g->state = State::Parked;  // so that unpark() queues it like any other
    unpark(g);
    if (multi_worker && h == self_hub) {
        g->movable = true;  // never run: any worker may start it (work sharing, hub/sched.cpp)
        h->movable_hint++;
    }
    *out = g;
    return 0;
}

namespace {

[[noreturn]] void green_entry(ctx::transfer_t t)
{
    resume_entry(t);
    Green* self = green_self();
    if (self->arriving) {
        Hub* h = self->hub;
        self->arriving = false;
        h->live++;
        sigmask_arrived(h, self);
        h->stats.created++;
        uint64_t live = uint64_t(live_greens.load(std::memory_order_relaxed));
        if (live > h->stats.peak_live)
            h->stats.peak_live = live;
    }
    if (has_own_tls(self))
        tls_thread_start();
    volatile char marker = 0;
    self->entry_marker = reinterpret_cast<uintptr_t>(&marker);
    if (setjmp(self->exit_jmp) == 0)
        self->result = self->start(self->arg);
    green_finish(self);
}

}  // namespace

// ---- exit ------------------------------------------------------------------------------

namespace {

// glibc mangles the stack pointer it saves in a jmp_buf (x86_64: xor with the pointer guard in
// the TCB at %fs:0x30, then rotate left by 17); the cleanup buffers are glibc jmp_bufs.
uintptr_t jmpbuf_sp(const void* buf)
{
    constexpr int kJbRsp = 6;
    uintptr_t v = static_cast<const uintptr_t*>(buf)[kJbRsp];
    uintptr_t guard;
    __asm__("mov %%fs:0x30, %0" : "=r"(guard));
    v = (v >> 0x11) | (v << (64 - 0x11));
    return v ^ guard;
}

void unwind_cleanup(_Unwind_Reason_Code, _Unwind_Exception*)
{
    // The same words and outcome as glibc: a catch (...) swallowed the exit of a thread.
    fatal("FATAL: exception not rethrown");
}

[[noreturn]] void root_exit(Green* self);

_Unwind_Reason_Code unwind_stop(int, _Unwind_Action actions, _Unwind_Exception_Class,
                                _Unwind_Exception*, _Unwind_Context* context, void* param)
{
    Green* self = static_cast<Green*>(param);
    uintptr_t cfa = _Unwind_GetCFA(context);
    bool end = (actions & _UA_END_OF_STACK) != 0;
    if (self->unwind_buf && (end || cfa >= jmpbuf_sp(self->unwind_buf)))
        longjmp(static_cast<__jmp_buf_tag*>(self->unwind_buf), 1);
    if (end || cfa > self->entry_marker) {
        if (self->is_root)
            root_exit(self);
        longjmp(self->exit_jmp, 1);
    }
    return _URC_NO_REASON;
}

[[noreturn]] void start_unwind(Green* self)
{
    _Unwind_ForcedUnwind(&self->unwind_exc, unwind_stop, self);
    // Only when the unwinder could not walk the stack at all.
    if (self->is_root)
        root_exit(self);
    longjmp(self->exit_jmp, 1);
}

// The program's original thread called pthread_exit: as with glibc, the process lives on until
// the last thread ends, then exits with status 0.
[[noreturn]] void root_exit(Green* self) { green_finish(self); }

}  // namespace

void green_exit(void* result)
{
    Green* self = green_self();
    if (!self)
        fatal("green_exit outside a green thread");
    self->result = result;
    self->exiting = true;
    self->unwind_buf = self->cleanup_chain;
    memset(&self->unwind_exc, 0, sizeof self->unwind_exc);
    self->unwind_exc.exception_class = 0x47524e4558495400ULL;  // "GRNEXIT\0"
    self->unwind_exc.exception_cleanup = unwind_cleanup;
    start_unwind(self);
}

// A cleanup buffer is glibc's __pthread_unwind_buf_t; its __pad words are the registering
// library's to use (glibc keeps its own link there too), and we keep the outer buffer in the
// first.
namespace {
void*& cleanup_prev(void* buf) { return static_cast<__pthread_unwind_buf_t*>(buf)->__pad[0]; }
}  // namespace

void cleanup_register(void* buf)
{
    Green* self = green_self();
    cleanup_prev(buf) = self->cleanup_chain;
    self->cleanup_chain = buf;
}

void cleanup_unregister(void* buf)
{
    green_self()->cleanup_chain = cleanup_prev(buf);
}

void cleanup_unwind_next(void* buf)
{
    Green* self = green_self();
    self->unwind_buf = cleanup_prev(buf);
    start_unwind(self);
}

void green_finish(Green* self)
{
    // glibc's order: thread_local destructors, then pthread_key ones.  A root green thread's
    // thread_local objects are left to exit(), as glibc leaves the main thread's.
    if (has_own_tls(self))
        tls_thread_exit();
    keys_run_destructors(self);
    if (green_exit_hook)
        green_exit_hook(self);
    // Dead, but it says so to joiners only once off its stack (reap, hub/sched.cpp): a joiner
    // on another worker frees the record.
    self->state = State::Dead;
    self->hub->live--;
    sigmask_finished(self);
    // A joiner on this hub is woken now, so that it runs next: it looks at dead_word when it
    // resumes, after the reap.  One on another worker waits on the futex, woken by the reap.
    if (Green* j = joiner_of(self); j && hub_of(j) == self->hub)
        unpark(j);
    if (live_greens.fetch_sub(1) == 1)
        exit(0);  // the last thread of the process ended without calling exit
    exit_switch();
}

// ---- join, detach, cancel --------------------------------------------------------------

int green_join(Green* t, void** result, int64_t deadline, bool try_only)
{
    Green* self = green_self();
    if (t == self || (self && joiner_of(self) == t && joiner_of(t) == self))
        return EDEADLK;
    if (t->detached)
        return EINVAL;
    if (Green* j = joiner_of(t); j && j != self)
        return EINVAL;
    if (!self) {
        // An unmanaged OS thread joins a green thread: block it for real on the futex.
        if (try_only && !(t->dead_word.load() & kDeadBit))
            return EBUSY;
        for (int word; !((word = t->dead_word.fetch_or(kOsJoinWaitBit) | kOsJoinWaitBit) & kDeadBit);) {
            timespec ts, *tsp = nullptr;
            if (deadline != kForever) {
                int64_t left = deadline - mono_now();
                if (left <= 0)
                    return ETIMEDOUT;
                ts = {time_t(left / 1000000000), long(left % 1000000000)};
                tsp = &ts;
            }
            raw_syscall(SYS_futex, long(&t->dead_word), FUTEX_WAIT_PRIVATE, word, long(tsp));
        }
    } else if (hub_of(t) == self->hub) {
        // On this hub nothing runs while it waits: the exiting thread wakes it (green_finish).
        // Work sharing does not move a thread that has a joiner (hub/sched.cpp can_move).
        while (!(t->dead_word.load(std::memory_order_acquire) & kDeadBit)) {
            if (try_only)
                return EBUSY;
            if (deadline != kForever && mono_now() >= deadline)
                return ETIMEDOUT;
            testcancel();  // pthread_join is a cancellation point
            set_joiner(t, self);
            self->in_cancel_point = true;
            self->wait_what = "pthread_join";
            self->wait_addr = t;
            int reason = park_until(deadline, kWaitJoin);
            self->wait_what = nullptr;
            self->in_cancel_point = false;
            set_joiner(t, nullptr);
            if (reason == kWakeCancel)
                testcancel();
        }
    } else {
        // On another worker: the futex word, in libgreen's queue, woken by the reap.
        for (int word; !((word = t->dead_word.load()) & kDeadBit);) {
            if (try_only)
                return EBUSY;
            word = t->dead_word.fetch_or(kJoinWaitBit) | kJoinWaitBit;
            if (word & kDeadBit)
                break;
            if (deadline != kForever && mono_now() >= deadline)
                return ETIMEDOUT;
            testcancel();  // pthread_join is a cancellation point
            set_joiner(t, self);
            int r = futex_wait_join(reinterpret_cast<const uint32_t*>(&t->dead_word),
                                    uint32_t(word), deadline);
            set_joiner(t, nullptr);
            if (r == -ECANCELED)
                testcancel();
        }
    }
    if (result)
        *result = t->result;
    if (!t->is_root)  // a root's record stays its hub's
        green_free(t);
    return 0;
}

int green_detach(Green* t)
{
    if (t->detached)
        return EINVAL;
    t->detached = true;
    // One atomic word decides who frees the record: this call if the thread is already
    // dead, else its reap (hub/sched.cpp), wherever each runs.
    int before = t->dead_word.fetch_or(kDetachedBit);
    if ((before & kDeadBit) && !t->is_root)
        green_free(t);
    return 0;
}

int green_cancel(Green* t)
{
    // glibc 2.34+: cancelling a thread that has exited succeeds.  Told by the word other
    // workers may read: its state is its own worker's.
    if (t->dead_word.load(std::memory_order_acquire) & kDeadBit)
        return 0;
    __atomic_store_n(&t->cancel_pending, true, __ATOMIC_RELAXED);
    if (cancel_off(t))
        return 0;
    if (t == green_self()) {
        if (t->cancel_async)
            green_exit(PTHREAD_CANCELED);
        return 0;
    }
    if (hub_of(t) != hub_self())
        unpark(t, kWakeCancel);  // checked on its own hub, where it cannot be running
    else if (t->state == State::Parked && t->in_cancel_point)
        unpark(t, kWakeCancel);
    return 0;
}

}  // namespace green
