// What a debugger reads of libgreen: the green thread records and the hubs, described by one
// exported table (scripts/libgreen-gdb.py is its reader).
//
// The table is libgreen's libthread_db: glibc exports `_thread_db_*` descriptors so that gdb can
// read threads without libc's debug information; libgreen exports `libgreen_debug_info` so that
// the gdb extension can list and unwind green threads in a stripped, packaged library, in a live
// process or in a core file.  The offsets in it are the compiler's (offsetof), so the records
// may change freely; the order and meaning of the table's words may not without a new
// kDebugLayout, which the extension checks before it reads anything else.
#ifndef GREEN_DEBUG_H
#define GREEN_DEBUG_H

#include <cstddef>
#include <cstdint>

namespace green {

// The version of the table's layout.  Bump it (and the extension's) whenever a word is added,
// removed or changes meaning.
constexpr uint64_t kDebugLayout = 1;

// The arena's bump region (hub/thread.cpp): records live at arena_base + i * arena_slot for
// i * arena_slot < arena_used, in use when their magic is kGreenMagic.
extern char* arena_base;
extern size_t arena_used;
extern const size_t arena_slot;

}  // namespace green

#endif
