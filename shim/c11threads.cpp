// C11 <threads.h>: glibc builds these on its internal pthread functions, which no wrapper sees,
// so each one is routed to the pthread wrappers here, with glibc's mapping of error codes.
#include <cerrno>

#include "shim.h"

using namespace green;

namespace {

int thrd_result(int err)
{
    switch (err) {
    case 0: return thrd_success;
    case ENOMEM: return thrd_nomem;
    case ETIMEDOUT: return thrd_timedout;
    case EBUSY: return thrd_busy;
    default: return thrd_error;
    }
}

}  // namespace

GREEN_EXPORT int thrd_create(thrd_t* thread, thrd_start_t start, void* arg)
{
    if (!green_in(kThreads))
        return REAL(thrd_create)(thread, start, arg);
    // As glibc does: the int-returning start routine runs as a pthread start routine, the int
    // comes back through the pointer-sized result, and the handle goes straight into *thread
    // (in seeded mode the child may run before pthread_create returns, and must find it).
    static_assert(sizeof(thrd_t) == sizeof(pthread_t), "thrd_t is a pthread_t");
    int r = pthread_create(reinterpret_cast<pthread_t*>(thread), nullptr,
                           reinterpret_cast<void* (*)(void*)>(reinterpret_cast<void (*)()>(start)), arg);
    return thrd_result(r == EAGAIN ? ENOMEM : r);
}

GREEN_EXPORT int thrd_join(thrd_t thread, int* result)
{
    if (!as_green(thread))
        return REAL(thrd_join)(thread, result);
    void* value;
    int r = pthread_join(thread, &value);
    if (r == 0 && result)
        *result = int(reinterpret_cast<intptr_t>(value));
    return thrd_result(r);
}

GREEN_EXPORT int thrd_detach(thrd_t thread)
{
    if (!as_green(thread))
        return REAL(thrd_detach)(thread);
    return thrd_result(pthread_detach(thread));
}

GREEN_EXPORT thrd_t thrd_current(void) { return pthread_self(); }

GREEN_EXPORT int thrd_equal(thrd_t a, thrd_t b) { return a == b; }

GREEN_EXPORT void thrd_exit(int result)
{
    if (green_self())
        green_exit(reinterpret_cast<void*>(intptr_t(result)));
    REAL(thrd_exit)(result);
    __builtin_unreachable();
}

GREEN_EXPORT int thrd_sleep(const struct timespec* duration, struct timespec* remaining)
{
    if (!green_in(kSleep))
        return REAL(thrd_sleep)(duration, remaining);
    // glibc: 0 when slept, -1 when interrupted by a signal, another negative value on error.
    int r = clock_nanosleep(CLOCK_REALTIME, 0, duration, remaining);
    return r == 0 ? 0 : (r == EINTR ? -1 : -2);
}

GREEN_EXPORT void thrd_yield(void)
{
    if (green_self())
        green::yield();
    else
        REAL(thrd_yield)();
}
