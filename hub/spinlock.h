// A minimal spinlock for libgreen's own short critical sections.  libgreen never takes a
// pthread mutex itself: shim/ may make those green, and a lock taken inside the runtime must
// never park.  No spinlock is ever held across a context switch.
#ifndef GREEN_SPINLOCK_H
#define GREEN_SPINLOCK_H

#include <atomic>

#include "sys.h"

namespace green {

class SpinLock {
public:
    void lock()
    {
        if (__builtin_expect(flag_.exchange(true, std::memory_order_acquire), 0))
            contended();
    }
    void unlock() { flag_.store(false, std::memory_order_release); }

private:
    // With several workers the holder may be an OS thread the kernel has just preempted (a
    // wake-up it made put the woken thread on its CPU): after a short spin, give the CPU away
    // instead of spinning out a whole time slice.
    __attribute__((noinline, cold)) void contended()
    {
        for (unsigned spins = 0;; spins++) {
            if (!flag_.load(std::memory_order_relaxed) &&
                !flag_.exchange(true, std::memory_order_acquire))
                return;
            if (spins < 128) {
                __builtin_ia32_pause();
            } else {
                raw_syscall(SYS_sched_yield);
            }
        }
    }

    std::atomic<bool> flag_{false};
};

class SpinGuard {
public:
    explicit SpinGuard(SpinLock& l) : l_(l) { l_.lock(); }
    ~SpinGuard() { l_.unlock(); }
    SpinGuard(const SpinGuard&) = delete;
    SpinGuard& operator=(const SpinGuard&) = delete;

private:
    SpinLock& l_;
};

}  // namespace green

#endif
