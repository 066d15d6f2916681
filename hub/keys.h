// Thread-specific data (pthread_key_*) per green thread.
//
// Key numbers come from glibc (shim/ creates every key with the real pthread_key_create), so
// that keys are shared with the OS threads libgreen does not manage; libgreen records each
// key's destructor and a sequence number bumped at create and at delete (odd: in use), and each
// green thread keeps its values in a lazily allocated two-level table, tagged with the sequence
// number they were set under, so a value set before key_delete is never seen through a new key
// with the same number.
#ifndef GREEN_KEYS_H
#define GREEN_KEYS_H

#include <limits.h>
#include <pthread.h>

#include "green.h"

namespace green {

constexpr unsigned kKeysMax = PTHREAD_KEYS_MAX;  // 1024 on glibc
constexpr unsigned kKeyBlock = 32;                // values per second-level block

struct KeyValue {
    uint64_t seq;  // the key's sequence number when the value was set
    void* value;
};

// Whether key has per-green-thread values: created by the program after start-up.  Keys created
// before (by the sanitizer runtimes, or libraries initialised before libgreen) stay per OS
// thread: their owners manage OS-thread state with them.
bool keys_tracked(unsigned key);

// Records a key glibc has just created, with its destructor.
void keys_created(unsigned key, void (*destructor)(void*));
// Records a deleted key.  Returns false if the key was not in use.
bool keys_deleted(unsigned key);

// Values of green thread g.  get returns null for an unset or stale value; set returns 0,
// EINVAL (key not in use) or ENOMEM.
void* keys_get(Green* g, unsigned key);
int keys_set(Green* g, unsigned key, const void* value);

}  // namespace green

#endif
