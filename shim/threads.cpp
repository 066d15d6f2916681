// Thread life: pthread_create, join and its variants, detach, exit, self, equal, and
// cancellation (pthread_cancel, cancel state and type, testcancel, and the C cleanup-buffer
// entry points that pthread_cleanup_push/pop expand to).
//
// A green thread's pthread_t is the address of its record; a real thread's handle (an OS thread
// that existed before start-up or that libgreen does not manage) goes to glibc unchanged.
#include <cerrno>

#include "../hub/chaos.h"
#include "../hub/config.h"
#include "shim.h"

namespace green {

int64_t deadline_from(clockid_t clock, const struct timespec* abstime)
{
    int64_t abs = int64_t(abstime->tv_sec) * 1000000000 + abstime->tv_nsec;
    if (clock == CLOCK_MONOTONIC)
        return abs;
    return mono_now() + (abs - clock_ns(clock));
}

namespace {

// glibc's default stack size: an attribute reporting it did not ask for a size of its own
// (glibc reports the default for an attribute whose size was never set), so GREEN_STACK_SIZE
// applies.
size_t glibc_default_stack_size()
{
    static size_t size = [] {
        pthread_attr_t attr;
        size_t s = 0;
        if (pthread_getattr_default_np(&attr) == 0) {
            pthread_attr_getstacksize(&attr, &s);
            pthread_attr_destroy(&attr);
        }
        return s;
    }();
    return size;
}

SpawnAttr spawn_attr(const pthread_attr_t* attr, Green* creator)
{
    SpawnAttr a;
    a.stack_size = config.stack_size;
    a.guard_size = config.guard_size;
    a.sched_policy = creator->sched_policy;
    a.sched_priority = creator->sched_priority;
    if (!attr)
        return a;
    int detach = PTHREAD_CREATE_JOINABLE;
    pthread_attr_getdetachstate(attr, &detach);
    a.detached = detach == PTHREAD_CREATE_DETACHED;
    size_t size = 0;
    pthread_attr_getstacksize(attr, &size);
    // glibc reports a stack set by pthread_attr_setstack as (top - size, size), and an unset
    // one as (-size, size): the top tells them apart.
    void* lo = nullptr;
    size_t raw_size = 0;
    pthread_attr_getstack(attr, &lo, &raw_size);
    uintptr_t top = reinterpret_cast<uintptr_t>(lo) + raw_size;
    if (top) {
        a.user_stack_lo = lo;
        a.user_stack_size = raw_size;
    } else if (size != glibc_default_stack_size()) {
        a.stack_size = size;
    }
    pthread_attr_getguardsize(attr, &a.guard_size);
    int inherit = PTHREAD_INHERIT_SCHED;
    pthread_attr_getinheritsched(attr, &inherit);
    if (inherit == PTHREAD_EXPLICIT_SCHED) {
        sched_param param = {};
        pthread_attr_getschedpolicy(attr, &a.sched_policy);
        pthread_attr_getschedparam(attr, &param);
        a.sched_priority = param.sched_priority;
    }
    return a;
}

bool valid_timespec(const struct timespec* ts)
{
    return ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000;
}

// The timed joins of glibc check their clock and time only when they have to wait.
int timed_join(Green* t, void** result, clockid_t clock, const struct timespec* abstime)
{
    if (!abstime)
        return green_join(t, result, kForever, false);
    int r = green_join(t, result, 0, true);
    if (r != EBUSY)
        return r;
    if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
        return EINVAL;
    if (!valid_timespec(abstime))
        return EINVAL;
    if (abstime->tv_sec < 0)
        return ETIMEDOUT;
    return green_join(t, result, deadline_from(clock, abstime), false);
}

// Acts on a cancellation made due by a change of state or type (glibc does so only for the
// asynchronous type).
void cancel_state_changed(Green* self)
{
    if (self->cancel_async && cancel_requested(self) && !cancel_off(self))
        green_exit(PTHREAD_CANCELED);
}

}  // namespace
}  // namespace green

using namespace green;

GREEN_EXPORT int pthread_create(pthread_t* thread, const pthread_attr_t* attr,
                                void* (*start)(void*), void* arg)
{
    Green* self = green_in(kThreads);
    if (!self)
        return REAL(pthread_create)(thread, attr, start, arg);
    Green* g;
    int r = green_spawn(&g, start, arg, spawn_attr(attr, self));
    if (r == 0) {
        *thread = as_handle(g);
        // Seeded mode: the child may run before pthread_create returns, as a real one can
        // (its handle is already stored, as glibc stores it before the clone).
        if (__builtin_expect(sched_seeded, 0))
            seeded_point(g);
    }
    return r;
}

GREEN_EXPORT int pthread_join(pthread_t thread, void** result)
{
    if (Green* t = as_green(thread))
        return green_join(t, result, kForever, false);
    return REAL(pthread_join)(thread, result);
}

GREEN_EXPORT int pthread_tryjoin_np(pthread_t thread, void** result)
{
    if (Green* t = as_green(thread))
        return green_join(t, result, 0, true);
    return REAL(pthread_tryjoin_np)(thread, result);
}

GREEN_EXPORT int pthread_timedjoin_np(pthread_t thread, void** result,
                                      const struct timespec* abstime)
{
    if (Green* t = as_green(thread))
        return timed_join(t, result, CLOCK_REALTIME, abstime);
    return REAL(pthread_timedjoin_np)(thread, result, abstime);
}

GREEN_EXPORT int pthread_clockjoin_np(pthread_t thread, void** result, clockid_t clock,
                                      const struct timespec* abstime)
{
    if (Green* t = as_green(thread))
        return timed_join(t, result, clock, abstime);
    return REAL(pthread_clockjoin_np)(thread, result, clock, abstime);
}

GREEN_EXPORT int pthread_detach(pthread_t thread)
{
    if (Green* t = as_green(thread))
        return green_detach(t);
    return REAL(pthread_detach)(thread);
}

GREEN_EXPORT void pthread_exit(void* result)
{
    if (green_self())
        green_exit(result);
    REAL(pthread_exit)(result);
    __builtin_unreachable();
}

GREEN_EXPORT GREEN_NO_TSAN pthread_t pthread_self(void)  // TSan calls it as a thread starts
{
    if (Green* self = green_self())
        return as_handle(self);
    return REAL(pthread_self)();
}

GREEN_EXPORT int pthread_equal(pthread_t a, pthread_t b) { return a == b; }

GREEN_EXPORT int pthread_cancel(pthread_t thread)
{
    if (Green* t = as_green(thread))
        return green_cancel(t);
    return REAL(pthread_cancel)(thread);
}

GREEN_EXPORT int pthread_setcancelstate(int state, int* old)
{
    Green* self = green_self();
    if (!self)
        return REAL(pthread_setcancelstate)(state, old);
    if (state != PTHREAD_CANCEL_ENABLE && state != PTHREAD_CANCEL_DISABLE)
        return EINVAL;
    if (old)
        *old = cancel_off(self) ? PTHREAD_CANCEL_DISABLE : PTHREAD_CANCEL_ENABLE;
    set_cancel_off(self, state == PTHREAD_CANCEL_DISABLE);
    cancel_state_changed(self);
    return 0;
}

GREEN_EXPORT int pthread_setcanceltype(int type, int* old)
{
    Green* self = green_self();
    if (!self)
        return REAL(pthread_setcanceltype)(type, old);
    if (type != PTHREAD_CANCEL_DEFERRED && type != PTHREAD_CANCEL_ASYNCHRONOUS)
        return EINVAL;
    if (old)
        *old = self->cancel_async ? PTHREAD_CANCEL_ASYNCHRONOUS : PTHREAD_CANCEL_DEFERRED;
    self->cancel_async = type == PTHREAD_CANCEL_ASYNCHRONOUS;
    cancel_state_changed(self);
    return 0;
}

GREEN_EXPORT void pthread_testcancel(void)
{
    if (green_self())
        testcancel();
    else
        REAL(pthread_testcancel)();
}

// pthread_cleanup_push/pop in C without -fexceptions expand to these (glibc's pthread.h).
GREEN_EXPORT void __pthread_register_cancel(__pthread_unwind_buf_t* buf)
{
    if (green_self())
        cleanup_register(buf);
    else
        REAL(__pthread_register_cancel)(buf);
}

GREEN_EXPORT void __pthread_unregister_cancel(__pthread_unwind_buf_t* buf)
{
    if (green_self())
        cleanup_unregister(buf);
    else
        REAL(__pthread_unregister_cancel)(buf);
}

// The _defer_np forms also switch to deferred cancellation for the handler's extent, keeping
// the previous type in the buffer (its third pad word, as glibc does).
GREEN_EXPORT void __pthread_register_cancel_defer(__pthread_unwind_buf_t* buf)
{
    Green* self = green_self();
    if (!self)
        return REAL(__pthread_register_cancel_defer)(buf);
    cleanup_register(buf);
    buf->__pad[2] = reinterpret_cast<void*>(uintptr_t(self->cancel_async));
    self->cancel_async = false;
}

GREEN_EXPORT void __pthread_unregister_cancel_restore(__pthread_unwind_buf_t* buf)
{
    Green* self = green_self();
    if (!self)
        return REAL(__pthread_unregister_cancel_restore)(buf);
    cleanup_unregister(buf);
    self->cancel_async = buf->__pad[2] != nullptr;
    cancel_state_changed(self);
}

GREEN_EXPORT void __pthread_unwind_next(__pthread_unwind_buf_t* buf)
{
    if (green_self())
        cleanup_unwind_next(buf);
    REAL(__pthread_unwind_next)(buf);
    __builtin_unreachable();
}
