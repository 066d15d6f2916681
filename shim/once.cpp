// pthread_once and C11 call_once: one thread runs the initialiser, the others wait for it.
//
// The control word takes glibc's values for the states it shares with us (0: not run,
// 2: done), so a control that glibc completed before start-up reads as done; 1 means running.
// A waiter parks on the word.  If the initialiser is cancelled, the control goes back to "not
// run" and a waiter takes over, as POSIX asks.
#include <climits>

#include "sync.h"

namespace green {

namespace {

constexpr uint32_t kNotRun = 0, kRunning = 1, kDone = 2;

void reset_on_cancel(void* word)
{
    __atomic_store_n(static_cast<uint32_t*>(word), kNotRun, __ATOMIC_SEQ_CST);
    futex_wake(static_cast<uint32_t*>(word), INT_MAX);
}

}  // namespace
}  // namespace green

using namespace green;

GREEN_EXPORT int pthread_once(pthread_once_t* control, void (*init)(void))
{
    uint32_t* w = as_word(control);
    for (;;) {
        uint32_t v = load(w);
        if (v == kDone)
            return 0;
        if (v == kNotRun &&
            __atomic_compare_exchange_n(w, &v, kRunning, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
            pthread_cleanup_push(reset_on_cancel, w);
            init();
            pthread_cleanup_pop(0);
            __atomic_store_n(w, kDone, __ATOMIC_RELEASE);
            futex_wake(w, INT_MAX);
            return 0;
        }
        if (v == kRunning)
            futex_wait(w, kRunning, kForever, false, "pthread_once");
    }
}

GREEN_EXPORT void call_once(once_flag* flag, void (*init)(void))
{
    static_assert(sizeof(once_flag) == sizeof(pthread_once_t), "glibc: the same word");
    pthread_once(reinterpret_cast<pthread_once_t*>(flag), init);
}
