// The green thread record and the hub record, shared by hub/ and shim/.
//
// A Green is a thread as the program sees it: pthread_self() returns its address, so every
// green thread's record comes from one reserved arena (green_alloc) and is_green() can tell a
// libgreen handle from a real pthread_t in two compares.  Records are reused, never unmapped:
// a stale handle is still readable memory.
#ifndef GREEN_GREEN_H
#define GREEN_GREEN_H

#include <ev.h>
#include <sched.h>
#include <setjmp.h>
#include <unwind.h>

#include <atomic>
#include <boost/context/detail/fcontext.hpp>
#include <cstddef>
#include <cstdint>

#include "hub.h"
#include "preempt.h"
#include "spinlock.h"
#include "stack.h"
#include "tls.h"

namespace green {

namespace ctx = boost::context::detail;

enum class State : uint8_t {
    Runnable,  // in its hub's run queue
    Running,   // the one the hub is running now
    Parked,    // waiting for unpark()
    Dead,      // finished; its record waits for pthread_join unless detached
};

struct KeyValue;
struct OsThread;

constexpr int kNiceUnset = 127;  // Green::nice never set: the OS thread's is reported

struct Green {
    // ---- scheduling (hub/sched.cpp) ----
    ctx::fcontext_t ctx = nullptr;  // where to resume it; valid while it is not running
    Green* next = nullptr;          // link in the run queue
    Hub* hub = nullptr;             // the hub that runs it: changes only while it waits in a
                                    //   run queue or a hub's remote list (work sharing, below;
                                    //   hub_of reads it from other OS threads)
    State state = State::Runnable;  // see State
    bool in_cancel_point = false;   // parked in a wait that pthread_cancel may interrupt
    bool cancel_pending = false;    // pthread_cancel was called on it   } both read and written
    bool cancel_disabled = false;   // PTHREAD_CANCEL_DISABLE             } across workers: see
                                    //   cancel_requested and cancel_off; here, not with the
                                    //   rest of cancellation, because every cancellable wait
                                    //   reads them (the first line, which a switch touches anyway)
    int saved_errno = 0;            // its errno while another context runs on its block
    char* tp = nullptr;             // its thread pointer: its own TLS block (hub/tls.h), or
                                    //   its OS thread's (the root, and green threads that need
                                    //   no block); none for the loop context (any block)
    alignas(8) char tls_words[kTlsOwnBytes];  // sharing its OS thread's block: its own words
                                              //   of it while it does not run (hub/tls.h)
    int wake_reason = kWakeNormal;  // why park() returned
    std::atomic<uint32_t> park_seq{0};  // bumped after every park: a wake for an old wait is dropped
    ev_timer timer;                 // the deadline of its current wait
    int io_revents = 0;             // what libev reported for the fds of its current wait
    const char* wait_what = nullptr;  // the call it waits in (locks, join), while it waits
    bool interruptible = false;     // in a call a signal handler interrupts (EINTR)
    bool waits_signal = false;      // in pause or sigsuspend: first to take a signal
    bool mask_wait = false;         // waiting under a mask of the call's (ppoll, pselect,
                                    //   epoll_pwait): a handler ends it, as pause's
    bool signal_came = false;       // a handler ran on it in such a call or pause or
                                    //   sigsuspend before it parked: the wait ends at once
                                    //   (hub/signal.cpp)
    bool interrupt_restart = false; // the interrupting handler had SA_RESTART
    bool movable = false;           // runnable since a yield, a lock, join or sleep wait (or
                                    //   never run): nothing its hub keeps is bound to its
                                    //   stack, another worker may take it
    bool movable_on_wake = false;   // its current park is one of those waits (park_since)
    bool timer_armed = false;       // its wait's deadline timer runs (park_until); these
                                    //   three here, in the padding before sigmask: a wake
                                    //   (unpark_wait) touches them with io_revents, and a
                                    //   switch reads sigmask, one cache line for all
    uint64_t sigmask = 0;           // its blocked signals (bit sig-1), applied while it runs
    const void* wait_addr = nullptr;  // and on what (the futex word, the thread joined)
    uint8_t wait_kind = kWaitOther; // what its current (or last) park waits for (WaitKind)
    uint8_t wait_events = 0;        // kWaitFd: EV_READ and/or EV_WRITE
    int wait_fd = -1;               // kWaitFd: the (first) descriptor
    int wait_nfds = 0;              // kWaitFd: how many descriptors
    int64_t wait_deadline = kForever;  // of the current park
    int64_t wait_since = 0;         // when it parked (the hub's loop time: see Hub::loop_now)
    Green* remote_next = nullptr;   // link in the hub's list of wakes from other OS threads
    uint32_t remote_seq = 0;        // park_seq that the queued remote wake is for
    int remote_reason = 0;          // reason of the queued remote wake
    bool remote_queued = false;     // in that list now (guarded by the hub's remote_lock)
    bool arriving = false;          // placed on another worker's hub by its creator: that hub
                                    //   counts it in (live, masks, stats) when it first runs
    uint64_t pct_priority = 0;      // seeded PCT (hub/steps.cpp): its priority; 0 until drawn
    uint16_t pins = 0;              // holds something of its OS thread's (a stdio stream lock,
                                    //   a process-shared mutex): it must not move (pin/unpin)
    uintptr_t tick_return = 0;      // time slices (hub/preempt.cpp): a tick that came inside a
    uintptr_t* tick_return_slot = nullptr;  //   C library routine made it return to the yield;
                                    //   where it returns to then, and the stack word that held it

    // ---- stack ----
    Stack stack;                    // owned stack, released when it dies (empty for root/user)
    char* stack_lo = nullptr;       // bounds of the stack it runs on, owned or not
    size_t stack_size = 0;          //   (for pthread_getattr_np and the sanitizers)
    size_t guard_size = 0;          // guard bytes below stack_lo
    void* asan_fake_stack = nullptr;  // AddressSanitizer's fake stack while switched out
    void* tsan_fiber = nullptr;     // ThreadSanitizer's fiber for this context (TSan build)

    // ---- life (hub/thread.cpp) ----
    uint32_t magic = 0;             // kGreenMagic while the record is in use
    uint64_t id = 0;                // 1 for the first root, then in creation order
    void* (*start)(void*) = nullptr;  // start routine and its argument
    void* arg = nullptr;
    void* result = nullptr;         // what it returned or passed to pthread_exit
    bool is_root = false;           // the OS thread's original context (main, for the first hub)
    bool detached = false;          // its record is freed when it dies, nobody joins it
    Green* joiner = nullptr;        // green thread parked in pthread_join on it (joiner_of:
                                    //   one on another worker sets it while it runs)
    std::atomic<int> dead_word{0};  // kDeadBit once dead (set where its record is done with,
                                    //   after its last switch); kDetachedBit once detached.
                                    //   The futex joiners wait on (hub/thread.cpp)

    // ---- exit and cancellation ----
    jmp_buf exit_jmp;               // where exit unwinding of a non-root green thread ends
    uintptr_t entry_marker = 0;     // an address in its entry frame: unwinding stops above it
    _Unwind_Exception unwind_exc;   // the forced-unwind exception of pthread_exit
    void* cleanup_chain = nullptr;  // innermost pthread_cleanup_push buffer (C, setjmp-based)
    void* unwind_buf = nullptr;     // next cleanup buffer the running exit unwinding targets
    bool exiting = false;           // pthread_exit is unwinding it
    bool cancel_async = false;      // PTHREAD_CANCEL_ASYNCHRONOUS (acted on at the next check)

    // ---- attributes seen through the pthread API (shim/threads*.cpp) ----
    char name[16] = {};             // pthread_setname_np; empty: the OS thread's name
    int sched_policy = SCHED_OTHER; // recorded, reported, not acted on
    int sched_priority = 0;
    cpu_set_t* affinity = nullptr;  // recorded mask, or null for the OS thread's
    int nice = kNiceUnset;          // setpriority's value, recorded (shim/identity.cpp)

    // ---- what shim/ keeps per green thread ----
    void* robust_mutexes = nullptr;  // robust mutexes it holds (shim/mutex.cpp), released at exit

    // ---- thread-specific data (hub/keys.cpp) ----
    KeyValue** key_blocks = nullptr;  // lazily allocated two-level table of pthread_key values
};

constexpr uint32_t kGreenMagic = 0x67726e31;  // "grn1"
constexpr int kDeadBit = 1;
constexpr int kDetachedBit = 2;
constexpr int kJoinWaitBit = 4;    // a green joiner waits (or is about to) on the futex
constexpr int kOsJoinWaitBit = 8;  // an unmanaged OS thread does, in the kernel

// Switches before the hub must poll libev even though green threads are runnable.
constexpr unsigned kPollBudget = 64;

struct RunQueue {
    Green* head = nullptr;
    Green* tail = nullptr;
    unsigned length = 0;
    bool empty() const { return head == nullptr; }
    void push(Green* g)
    {
        length++;
        g->next = nullptr;
        if (tail)
            tail->next = g;
        else
            set_head(g);
        tail = g;
    }
    Green* pop()
    {
        Green* g = head;
        if (g) {
            length--;
            set_head(g->next);
            if (!head)
                tail = nullptr;
        }
        return g;
    }
    // Other OS threads look at head (is anything runnable?) without the owner's order: a
    // relaxed atomic store, the same instruction as a plain one here.
    void set_head(Green* g) { __atomic_store_n(&head, g, __ATOMIC_RELAXED); }
};

struct Hub {
    Green* current = nullptr;       // what runs now: a green thread, or &loop
    Green* root = nullptr;          // the OS thread's original context
    Green loop;                     // the loop context (not a thread: not from the arena)
    RunQueue runq;                  // runnable green threads, FIFO
    unsigned budget = kPollBudget;  // direct switches left before the loop must poll
    struct ev_loop* evloop = nullptr;  // created on first need
    ev_async remote_async;          // woken by signal handlers on other OS threads
    SpinLock remote_lock;           // guards remote_head
    Green* remote_head = nullptr;   // wakes queued by other OS threads
    int wake_fd = -1;               // eventfd that interrupts the loop's poll for those wakes,
    ev_io wake_io;                  //   written with a raw system call (never through shim/)
    std::atomic<bool> sleeping{false};  //   and only while the loop may block in its poll
    // ---- hand-off (hub/handoff.h) ----
    OsThread* m = nullptr;          // the OS thread running it, once its calls are marked
    std::atomic<uint32_t> call_word{0};  // odd while its green thread is in a marked call
    uint32_t mon_mark = 0;          // the monitor's own: the mark it saw last,
    int64_t mon_since = 0;          //   and since when
    int worker = 0;                 // its index among the workers (hub/workers.h); 0: the
                                    //   main thread's hub, or a hub that is not a worker
    bool worker_only = false;       // a worker of libgreen's own: its root is no program thread
    int timed_waits = 0;            // green threads parked with a deadline (active timers)
    int fd_waits = 0;               // green threads parked on a descriptor
    bool deadlock_reported = false; // report_deadlock said its piece
    pthread_t os_thread;            // the real pthread_t of this OS thread
    char* tp = nullptr;             // the thread pointer in use (the FS base)
    char* root_tp = nullptr;        // the OS thread's own (root->tp)
    Green* words_owner = nullptr;   // whose own words that block holds now (hub/tls.h), if
                                    //   anyone's
    uintptr_t errno_off = 0;        // errno below the thread pointer (any block; saves a call
                                    //   on every switch)
    HubStats stats = {};
    // State other parts keep per OS thread, here rather than in thread-local variables, which
    // are each green thread's own (hub/tls.h).
    void* seed_state = nullptr;     // hub/chaos.cpp's SeedState, made on first need
    void* dns_channel = nullptr;    // resolver/channel.cpp's Channel, made on first look-up
    void* fd_poll = nullptr;        // hub/fdtable.cpp's PollSet, made at the first wait on an fd

    // ---- diagnostics (hub/diag.cpp) ----
    int live = 0;                   // green threads of this hub alive, root included
    int64_t loop_now = 0;           // CLOCK_MONOTONIC after the latest poll (or attach)
    std::atomic<uint64_t> heartbeat{0};  // bumped at every switch: the watchdog reads it
    std::atomic<bool> idle{false};  // blocked in the loop with nothing runnable: no stall
    std::atomic<bool> loop_ready{false};  // evloop and remote_async usable from a signal handler
    std::atomic<bool> dump_requested{false};  // the dump signal came: print from the loop
    std::atomic<uint64_t> pending_signals{0};  // handled signals not yet delivered (bit sig-1)
    std::atomic<uint64_t> restart_signals{0};  //   of which their handlers had SA_RESTART
    uint64_t os_mask = 0;           // the OS thread's signal mask as libgreen last set it
    int mask_members = 0;           // green threads counted in blockers
    int blockers[64] = {};          // how many of them block each signal (index sig-1)
    uint64_t blocked_any = 0;       // the signals some of them block (blockers[i] > 0)
    Green* unmasking = nullptr;     // changing its own mask now: what comes in is its
    int tid = 0;                    // kernel thread id of its OS thread
    Hub* next_hub = nullptr;        // the process's list of hubs (push only, never freed)
    uint64_t wd_seen = 0;           // the watchdog's own: heartbeat it saw last,
    int64_t wd_since = 0;           //   since when it has not changed,
    bool wd_reported = false;       //   and whether this stall was reported
    PreemptState preempt;           // its time slices (hub/preempt.h)
    unsigned movable_hint = 0;      // movable threads queued since share_work last found none
};

// Every hub of the process, newest first (hubs are never freed).  Safe to walk from a signal
// handler or another OS thread.
extern std::atomic<Hub*> all_hubs;

// The calling OS thread's hub (initial-exec TLS: libgreen is loaded at start-up, never
// dlopen'd, so its thread-local data is in the static TLS block and costs one load; __thread:
// no C++ wrapper function, which the TSan build would instrument).
extern __thread Hub* tl_hub __attribute__((tls_model("initial-exec")));

GREEN_NO_TSAN inline Hub* hub_self() { return tl_hub; }

// ThreadSanitizer's fibers (the TSan build; nothing otherwise): a new one for a new context, the
// OS thread's own for a root, freed when a context ends (never the running one).
#if defined(__SANITIZE_THREAD__)
extern "C" void* __tsan_create_fiber(unsigned flags);
extern "C" void __tsan_destroy_fiber(void* fiber);
extern "C" void* __tsan_get_current_fiber(void);
inline void* tsan_fiber_new() { return __tsan_create_fiber(0); }
inline void* tsan_fiber_current() { return __tsan_get_current_fiber(); }
inline void tsan_fiber_free(Green* g)
{
    if (g->tsan_fiber && !g->is_root)
        __tsan_destroy_fiber(g->tsan_fiber);
    g->tsan_fiber = nullptr;
}
#else
inline void* tsan_fiber_new() { return nullptr; }
inline void* tsan_fiber_current() { return nullptr; }
inline void tsan_fiber_free(Green*) {}
#endif

// A joiner on another worker writes the field while the thread runs and reads it as it ends:
// relaxed atomics (plain moves on x86-64), so that neither read is a data race.
inline Green* joiner_of(const Green* g) { return __atomic_load_n(&g->joiner, __ATOMIC_RELAXED); }
inline void set_joiner(Green* g, Green* j) { __atomic_store_n(&g->joiner, j, __ATOMIC_RELAXED); }

// pthread_cancel on another worker sets cancel_pending and reads cancel_disabled while the
// thread itself reads the one and sets the other: relaxed atomics (plain moves on x86-64); the
// wake that follows a request orders the rest.
inline bool cancel_requested(const Green* g) { return __atomic_load_n(&g->cancel_pending, __ATOMIC_RELAXED); }
inline bool cancel_off(const Green* g) { return __atomic_load_n(&g->cancel_disabled, __ATOMIC_RELAXED); }
inline void set_cancel_off(Green* g, bool off) { __atomic_store_n(&g->cancel_disabled, off, __ATOMIC_RELAXED); }

// g's hub, read on an OS thread that may not be the one running it: work sharing changes it
// under the old hub's remote_lock (hub/sched.cpp).
inline Hub* hub_of(const Green* g) { return __atomic_load_n(&g->hub, __ATOMIC_ACQUIRE); }

// A pinned green thread stays on its OS thread (work sharing passes it over): while it holds a
// lock whose owner glibc records as the OS thread (a stdio stream's, a process-shared mutex).
inline void pin(Green* g)
{
    if (g)
        g->pins++;
}
inline void unpin(Green* g)
{
    if (g && g->pins)
        g->pins--;
}

// Whether g has a TLS area of its own (hub/tls.h), rather than its OS thread's block.
inline bool has_own_tls(const Green* g) { return g->tp != g->hub->root_tp; }

GREEN_NO_TSAN inline Green* green_self()
{
    Hub* h = tl_hub;
    if (!h || h->current == &h->loop)
        return nullptr;
    return h->current;
}

// What pthread_create's attribute asks of a new green thread.
struct SpawnAttr {
    size_t stack_size = 0;           // usable stack bytes of a libgreen stack
    size_t guard_size = 0;           // guard bytes below it
    void* user_stack_lo = nullptr;   // pthread_attr_setstack: run on this stack instead
    size_t user_stack_size = 0;
    bool detached = false;
    int sched_policy = SCHED_OTHER;  // PTHREAD_EXPLICIT_SCHED values, recorded
    int sched_priority = 0;
};

// Creates a runnable green thread on the calling OS thread's hub.  Returns 0 or an errno value
// (EAGAIN when no record or stack can be had).
int green_spawn(Green** out, void* (*start)(void*), void* arg, const SpawnAttr& attr);

// pthread_join and its try/timed forms on a green thread: 0 or an errno value (EDEADLK,
// EINVAL, EBUSY, ETIMEDOUT).  deadline is CLOCK_MONOTONIC, or kForever.
int green_join(Green* t, void** result, int64_t deadline, bool try_only);
int green_detach(Green* t);
int green_cancel(Green* t);

// The green thread's own chain of C cleanup buffers (__pthread_register_cancel and friends).
void cleanup_register(void* buf);
void cleanup_unregister(void* buf);
[[noreturn]] void cleanup_unwind_next(void* buf);

// Continues a context switch in the context that was switched to (the entry of a new context).
void resume_entry(ctx::transfer_t t);

// The running green thread, dead, switches away for good.
[[noreturn]] void exit_switch();

// Unparks g only if it is still in the wait numbered seq (its park_seq when it started to
// wait): from another OS thread, the only safe way.
void unpark_wait(Green* g, uint32_t seq, int reason = kWakeNormal);

// The green thread arena.  arena_after_fork resets its lock in a child of fork, where the
// OS thread that held it may not exist.
Green* green_alloc();
void arena_after_fork();
// The next green thread gets id next (the workers' roots, made at start-up, give theirs back:
// the program's first thread is thread 2, whatever the workers).
void green_ids_restart(uint64_t next);
void green_free(Green* g);
GREEN_NO_TSAN bool is_green(const void* handle);
// The thread g waits to join (a park of kind kWaitJoin), or null: its wait names the thread
// itself when that runs on g's hub, else the thread's dead word (a join across workers).
GREEN_NO_TSAN const Green* joined_by(const Green* g);

// Calls f(Green*) for every green thread record in use, in the arena's order.  Only for
// diagnostics: it reads records that other OS threads may be changing.
void for_each_green_record(void (*f)(Green*, void*), void* arg);
template <class F> void for_each_green(F f)
{
    for_each_green_record([](Green* g, void* a) { (*static_cast<F*>(a))(g); }, &f);
}

// Creates the hub's libev loop and loop context if not done yet.  Aborts when it cannot: a
// hub without its loop cannot keep any promise.
void hub_ensure_loop(Hub* h);

// Process-wide count of green threads alive (not Dead), roots included.
extern std::atomic<long> live_greens;

// Parks the running green thread until woken or the deadline; returns the Wake reason.  kind
// as for park().
int park_until(int64_t deadline, int kind = kWaitOther);

// Called when the running green thread has finished unwinding: runs its key destructors,
// wakes its joiner, and switches away for good.
[[noreturn]] void green_finish(Green* self);

// Called by green_finish for every green thread that ends, before its joiner is woken: the
// one way hub/ reaches shim/ (which registers it at start-up), for what shim/ keeps per thread.
extern void (*green_exit_hook)(Green* self);

// Thread-specific data: destructors of the running green thread's values (glibc's order and
// PTHREAD_DESTRUCTOR_ITERATIONS rounds).
void keys_run_destructors(Green* self);

}  // namespace green

#endif
