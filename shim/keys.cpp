// Thread-specific data: pthread_key_* and C11 tss_*, per green thread.
//
// glibc keeps key values per OS thread, which all green threads of a hub share; so values of
// green threads live in hub/keys.  Keys themselves are created by glibc (one numbering for
// green and real threads), and an unmanaged OS thread keeps using glibc's values, as does a key
// created before start-up (see keys_tracked).
#include <cerrno>

#include "../hub/keys.h"
#include "shim.h"

using namespace green;

// ThreadSanitizer calls it while it starts, before it can record (hub/green.h).
GREEN_EXPORT GREEN_NO_TSAN int pthread_key_create(pthread_key_t* key, void (*destructor)(void*))
{
    int r = REAL(pthread_key_create)(key, destructor);
    if (r == 0 && hub_started())
        keys_created(*key, destructor);
    return r;
}

GREEN_EXPORT int pthread_key_delete(pthread_key_t key)
{
    int r = REAL(pthread_key_delete)(key);
    if (r == 0)
        keys_deleted(key);
    return r;
}

// These two as well: ThreadSanitizer calls them while it starts a thread.
GREEN_EXPORT GREEN_NO_TSAN void* pthread_getspecific(pthread_key_t key)
{
    Green* self = green_self();
    if (self && keys_tracked(key))
        return keys_get(self, key);
    return REAL(pthread_getspecific)(key);
}

GREEN_EXPORT GREEN_NO_TSAN int pthread_setspecific(pthread_key_t key, const void* value)
{
    Green* self = green_self();
    if (self && keys_tracked(key))
        return keys_set(self, key, value);
    return REAL(pthread_setspecific)(key, value);
}

// glibc implements tss_* on its internal key functions, which no wrapper sees.
GREEN_EXPORT int tss_create(tss_t* key, tss_dtor_t destructor)
{
    pthread_key_t k;
    if (pthread_key_create(&k, destructor) != 0)
        return thrd_error;
    *key = k;
    return thrd_success;
}

GREEN_EXPORT void tss_delete(tss_t key) { pthread_key_delete(key); }

GREEN_EXPORT void* tss_get(tss_t key) { return pthread_getspecific(key); }

GREEN_EXPORT int tss_set(tss_t key, void* value)
{
    return pthread_setspecific(key, value) == 0 ? thrd_success : thrd_error;
}
