// C11 mtx_* and cnd_*: glibc builds them on its internal pthread functions, which no wrapper
// sees, so each is routed to the pthread wrappers here, with glibc's type and error mapping.
#include <threads.h>

#include "sync.h"

using namespace green;

namespace {

int thrd_code(int err)
{
    switch (err) {
    case 0: return thrd_success;
    case EBUSY: return thrd_busy;
    case ETIMEDOUT: return thrd_timedout;
    case ENOMEM: return thrd_nomem;
    default: return thrd_error;
    }
}

pthread_mutex_t* as_mutex(mtx_t* m) { return reinterpret_cast<pthread_mutex_t*>(m); }
pthread_cond_t* as_cond(cnd_t* c) { return reinterpret_cast<pthread_cond_t*>(c); }

}  // namespace

GREEN_EXPORT int mtx_init(mtx_t* m, int type)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    switch (type) {
    case mtx_plain:
    case mtx_timed:
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_NORMAL);
        break;
    case mtx_plain | mtx_recursive:
    case mtx_timed | mtx_recursive:
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
        break;
    default:
        return thrd_error;
    }
    return thrd_code(pthread_mutex_init(as_mutex(m), &attr));
}

GREEN_EXPORT int mtx_lock(mtx_t* m) { return thrd_code(mutex_lock(as_mutex(m), CLOCK_REALTIME, nullptr, false)); }

GREEN_EXPORT int mtx_trylock(mtx_t* m) { return thrd_code(mutex_lock(as_mutex(m), CLOCK_REALTIME, nullptr, true)); }

GREEN_EXPORT int mtx_timedlock(mtx_t* m, const struct timespec* abstime)
{
    return thrd_code(mutex_lock(as_mutex(m), CLOCK_REALTIME, abstime, false));
}

GREEN_EXPORT int mtx_unlock(mtx_t* m) { return thrd_code(mutex_unlock(as_mutex(m))); }

GREEN_EXPORT void mtx_destroy(mtx_t* m) { pthread_mutex_destroy(as_mutex(m)); }

GREEN_EXPORT int cnd_init(cnd_t* c) { return thrd_code(pthread_cond_init(as_cond(c), nullptr)); }

GREEN_EXPORT int cnd_signal(cnd_t* c) { return thrd_code(pthread_cond_signal(as_cond(c))); }

GREEN_EXPORT int cnd_broadcast(cnd_t* c) { return thrd_code(pthread_cond_broadcast(as_cond(c))); }

GREEN_EXPORT int cnd_wait(cnd_t* c, mtx_t* m)
{
    return thrd_code(pthread_cond_wait(as_cond(c), as_mutex(m)));
}

GREEN_EXPORT int cnd_timedwait(cnd_t* c, mtx_t* m, const struct timespec* abstime)
{
    return thrd_code(pthread_cond_timedwait(as_cond(c), as_mutex(m), abstime));
}

GREEN_EXPORT void cnd_destroy(cnd_t* c) { pthread_cond_destroy(as_cond(c)); }
