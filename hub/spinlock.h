// A minimal spinlock for libgreen's own short critical sections.  libgreen never takes a
// pthread mutex itself: shim/ may make those green, and a lock taken inside the runtime must
// never park.  No spinlock is ever held across a context switch.
#ifndef GREEN_SPINLOCK_H
#define GREEN_SPINLOCK_H

#include <atomic>

namespace green {

class SpinLock {
public:
    void lock()
    {
        while (flag_.exchange(true, std::memory_order_acquire))
            while (flag_.load(std::memory_order_relaxed))
                __builtin_ia32_pause();
    }
    void unlock() { flag_.store(false, std::memory_order_release); }

private:
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
