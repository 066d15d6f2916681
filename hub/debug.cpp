// The table a debugger reads (hub/debug.h).  It lives in writable data, so that a core file
// holds it as the process had it, relocated (a read-only page may be left out of a core, and
// the debugger would then read the file's unrelocated bytes).  Only constants and addresses:
// the dynamic linker fills it in before any code runs, so a process stopped at its very start
// has it too.
#include "debug.h"

#include "green.h"
#include "workers.h"

namespace green {

// Every word is 64 bits: the reader unpacks the table with one format, in this order.
struct DebugInfo {
    uint64_t magic;           // kDebugMagic: this is libgreen's table
    uint64_t layout;          // kDebugLayout
    // Where the state is.
    const void* arena_base;   // &arena_base (char*)
    const void* arena_used;   // &arena_used (size_t)
    const void* arena_slot;   // &arena_slot (size_t): bytes between two records
    const void* all_hubs;     // &all_hubs (Hub*, newest first, linked by next_hub)
    const void* main_hub;     // &main_hub (Hub*)
    uint64_t green_magic;     // kGreenMagic: a record in use
    uint64_t forever;         // kForever: no deadline
    // struct Green: offsets
    uint64_t g_ctx, g_hub, g_state, g_wait_what, g_wait_addr, g_wait_kind, g_wait_events,
        g_wait_fd, g_wait_nfds, g_wait_deadline, g_wait_since, g_magic, g_id, g_is_root, g_name,
        g_stack_lo, g_stack_size, g_dead_word;
    // struct Hub: offsets
    uint64_t h_current, h_worker, h_worker_only, h_tid, h_next_hub, h_loop_now;
};

constexpr uint64_t kDebugMagic = 0x6762646e65657267;  // "greendbg", little-endian

}  // namespace green

using green::Green;
using green::Hub;

// Default visibility: in the dynamic symbol table, which stripping keeps.
extern "C" {
__attribute__((visibility("default"), used)) green::DebugInfo libgreen_debug_info = {
    .magic = green::kDebugMagic,
    .layout = green::kDebugLayout,
    .arena_base = &green::arena_base,
    .arena_used = &green::arena_used,
    .arena_slot = &green::arena_slot,
    .all_hubs = &green::all_hubs,
    .main_hub = &green::main_hub,
    .green_magic = green::kGreenMagic,
    .forever = uint64_t(green::kForever),
    .g_ctx = offsetof(Green, ctx),
    .g_hub = offsetof(Green, hub),
    .g_state = offsetof(Green, state),
    .g_wait_what = offsetof(Green, wait_what),
    .g_wait_addr = offsetof(Green, wait_addr),
    .g_wait_kind = offsetof(Green, wait_kind),
    .g_wait_events = offsetof(Green, wait_events),
    .g_wait_fd = offsetof(Green, wait_fd),
    .g_wait_nfds = offsetof(Green, wait_nfds),
    .g_wait_deadline = offsetof(Green, wait_deadline),
    .g_wait_since = offsetof(Green, wait_since),
    .g_magic = offsetof(Green, magic),
    .g_id = offsetof(Green, id),
    .g_is_root = offsetof(Green, is_root),
    .g_name = offsetof(Green, name),
    .g_stack_lo = offsetof(Green, stack_lo),
    .g_stack_size = offsetof(Green, stack_size),
    .g_dead_word = offsetof(Green, dead_word),
    .h_current = offsetof(Hub, current),
    .h_worker = offsetof(Hub, worker),
    .h_worker_only = offsetof(Hub, worker_only),
    .h_tid = offsetof(Hub, tid),
    .h_next_hub = offsetof(Hub, next_hub),
    .h_loop_now = offsetof(Hub, loop_now),
};
}
