#include "waitq.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <new>

#include "config.h"
#include "green.h"
#include "sys.h"
#include "workers.h"

namespace green {

namespace {

// A waiting green thread, on its own stack for the duration of the wait.
struct Waiter {
    const uint32_t* word;  // the address it waits on
    Green* green;
    uint32_t seq;          // the green thread's park_seq for this wait
    Waiter* prev;
    Waiter* next;
    bool woken;            // set by the waker, under the bucket lock, as it unlinks it
};

struct Bucket {
    SpinLock lock;
    Waiter* head = nullptr;        // FIFO of waiters of every address hashing here
    Waiter* tail = nullptr;
    std::atomic<int> kernel_waiters{0};  // real threads in FUTEX_WAIT on an address here
};

constexpr unsigned kBucketBits = 10;
Bucket buckets[1u << kBucketBits];

Bucket& bucket_of(const void* word)
{
    uint64_t h = reinterpret_cast<uintptr_t>(word) * 0x9e3779b97f4a7c15ull;
    return buckets[h >> (64 - kBucketBits)];
}

void link(Bucket& b, Waiter* w)
{
    w->next = nullptr;
    w->prev = b.tail;
    if (b.tail)
        b.tail->next = w;
    else
        b.head = w;
    b.tail = w;
}

void unlink(Bucket& b, Waiter* w)
{
    (w->prev ? w->prev->next : b.head) = w->next;
    (w->next ? w->next->prev : b.tail) = w->prev;
}

// Returns the result or -errno.
long sys_futex(const uint32_t* word, int op, uint32_t val, const timespec* ts, uint32_t val3)
{
    return raw_syscall(SYS_futex, long(word), op, val, long(ts), 0, val3);
}

// A real thread waits in the kernel (FUTEX_WAIT_BITSET: an absolute CLOCK_MONOTONIC deadline).
int kernel_wait(Bucket& b, const uint32_t* word, uint32_t expected, int64_t deadline, bool shared)
{
    timespec ts, *tsp = nullptr;
    if (deadline != kForever) {
        if (deadline < 0)
            deadline = 0;
        ts = {time_t(deadline / 1000000000), long(deadline % 1000000000)};
        tsp = &ts;
    }
    b.kernel_waiters.fetch_add(1);
    int op = FUTEX_WAIT_BITSET | (shared ? 0 : FUTEX_PRIVATE_FLAG);
    long r = sys_futex(word, op, expected, tsp, FUTEX_BITSET_MATCH_ANY);
    b.kernel_waiters.fetch_sub(1);
    if (r == 0 || r == -EINTR)
        return 0;  // EINTR: a spurious wake-up, which every caller tolerates
    return int(r);
}

}  // namespace

namespace {

// kind is a constant in each caller below: the common one pays nothing for it.
inline __attribute__((always_inline)) int wait_on(const uint32_t* word, uint32_t expected,
                                                  int64_t deadline, bool cancellable,
                                                  const char* what, bool shared, int kind)
{
    Bucket& b = bucket_of(word);
    Green* self = green_self();
    if (!self || !family_green(kSync))  // GREEN_FAMILIES without sync: block as glibc does
        return kernel_wait(b, word, expected, deadline, shared);
    hub_ensure_loop(self->hub);  // a waker on another OS thread needs the hub's ev_async
    Waiter w = {word, self, self->park_seq.load(std::memory_order_relaxed), nullptr, nullptr, false};
    {
        SpinGuard g(b.lock);
        if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != expected)
            return -EAGAIN;
        link(b, &w);
    }
    self->wait_what = what;
    self->wait_addr = word;
    self->in_cancel_point = cancellable;
    int reason = park_until(deadline, kind);
    self->in_cancel_point = false;
    self->wait_what = nullptr;
    if (!__atomic_load_n(&w.woken, __ATOMIC_ACQUIRE)) {
        SpinGuard g(b.lock);
        if (!w.woken)
            unlink(b, &w);
    }
    if (w.woken)
        return 0;  // a wake won, even if the deadline or a cancellation came too
    if (reason == kWakeCancel)
        return -ECANCELED;
    if (reason == kWakeTimeout)
        return -ETIMEDOUT;
    if (reason == kWakeInterrupt)
        return -EINTR;
    return 0;
}

}  // namespace

int futex_wait(const uint32_t* word, uint32_t expected, int64_t deadline, bool cancellable,
               const char* what, bool shared)
{
    return wait_on(word, expected, deadline, cancellable, what, shared, kWaitFutex);
}

int futex_wait_join(const uint32_t* word, uint32_t expected, int64_t deadline)
{
    return wait_on(word, expected, deadline, true, "pthread_join", false, kWaitJoin);
}

namespace {

// Takes up to n waiters of word off the bucket's queue (its lock held), calling f(green, seq)
// for each; returns how many.  Stops early, setting *more, once limit were taken.
template <class F>
int take_waiters(Bucket& b, const uint32_t* word, int n, int limit, bool* more, F f)
{
    int k = 0;
    for (Waiter* w = b.head; w && k < n;) {
        Waiter* next = w->next;
        if (w->word == word) {
            if (k == limit) {
                *more = true;
                break;
            }
            unlink(b, w);
            f(w->green, w->seq);
            k++;
            __atomic_store_n(&w->woken, true, __ATOMIC_RELEASE);
            // After this store the waiter may return and its stack frame (w) vanish: w is not
            // touched again, only the green thread's record.
        }
        w = next;
    }
    return k;
}

}  // namespace

int futex_wake(const uint32_t* word, int n, bool kernel_too, bool shared)
{
    Bucket& b = bucket_of(word);
    int woken = 0;
    if (n <= 0)
        return 0;
    bool more = false;
    if (!multi_worker) {
        // One worker: every green waiter is this OS thread's, made runnable at once.
        SpinGuard g(b.lock);
        woken = take_waiters(b, word, n, n, &more,
                             [](Green* green, uint32_t seq) { unpark_wait(green, seq); });
    } else {
        // Several: waiters are made runnable after the lock is released.  A wake for another
        // worker may write its eventfd, and a system call under a spinlock stalls every worker
        // that wants the bucket (the kernel may well preempt the waker for the woken).
        constexpr int kBatch = 32;
        struct Taken {
            Green* green;
            uint32_t seq;
        } taken[kBatch];
        do {
            int k = 0;
            more = false;
            {
                SpinGuard g(b.lock);
                take_waiters(b, word, n - woken, kBatch, &more,
                             [&](Green* green, uint32_t seq) { taken[k++] = {green, seq}; });
            }
            for (int i = 0; i < k; i++)
                unpark_wait(taken[i].green, taken[i].seq);
            woken += k;
        } while (more && woken < n);
    }
    // The word was changed before this call (a locked instruction, a full barrier on x86):
    // a real thread that counted itself after that sees the new value in the kernel's compare.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (woken < n && (kernel_too || b.kernel_waiters.load() > 0)) {
        long r = sys_futex(word, FUTEX_WAKE | (shared ? 0 : FUTEX_PRIVATE_FLAG), n - woken,
                           nullptr, 0);
        if (r > 0)
            woken += int(r);
    }
    return woken;
}

void waitq_lock_all()
{
    for (Bucket& b : buckets)
        b.lock.lock();
}

void waitq_unlock_all()
{
    for (Bucket& b : buckets)
        b.lock.unlock();
}

void waitq_after_fork_child()
{
    for (Bucket& b : buckets)
        new (&b.lock) SpinLock;
}

}  // namespace green
