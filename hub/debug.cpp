// The table a debugger reads (hub/debug.h).  It lives in writable data, so that a core file
// holds it as the process had it, relocated (a read-only page may be left out of a core, and
// the debugger would then read the file's unrelocated bytes).
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
    uint64_t arena_slot;      // bytes between two records
    const void* all_hubs;     // &all_hubs (Hub*, newest first, linked by next_hub)
    const void* main_hub;     // &main_hub (Hub*)
    uint64_t green_magic;     // kGreenMagic: a record in use
    uint64_t forever;         // kForever: no deadline
    // struct Green: offsets
    uint64_t g_ctx, g_hub, g_state, g_tp, g_wait_what, g_wait_addr, g_wait_kind, g_wait_events,
        g_wait_fd, g_wait_nfds, g_wait_deadline, g_wait_since, g_magic, g_id, g_is_root,
        g_detached, g_name, g_stack_lo, g_stack_size, g_start, g_dead_word;
    // struct Hub: offsets
    uint64_t h_current, h_loop, h_worker, h_worker_only, h_tid, h_next_hub, h_loop_now;
};

constexpr uint64_t kDebugMagic = 0x6762646e65657267;  // "greendbg", little-endian

}  // namespace green


using green::Green;
using green::Hub;

// Default visibility: in the dynamic symbol table, which stripping keeps.
extern "C" {
__attribute__((visibility("default"), used)) green::DebugInfo libgreen_debug_info = {
    green::kDebugMagic, green::kDebugLayout,
    &green::arena_base, &green::arena_used, green::arena_slot, &green::all_hubs, &green::main_hub,
    green::kGreenMagic, uint64_t(green::kForever),
    offsetof(Green, ctx), offsetof(Green, hub), offsetof(Green, state), offsetof(Green, tp),
    offsetof(Green, wait_what), offsetof(Green, wait_addr), offsetof(Green, wait_kind),
    offsetof(Green, wait_events), offsetof(Green, wait_fd), offsetof(Green, wait_nfds),
    offsetof(Green, wait_deadline), offsetof(Green, wait_since), offsetof(Green, magic),
    offsetof(Green, id), offsetof(Green, is_root), offsetof(Green, detached),
    offsetof(Green, name), offsetof(Green, stack_lo), offsetof(Green, stack_size),
    offsetof(Green, start), offsetof(Green, dead_word),
    offsetof(Hub, current), offsetof(Hub, loop), offsetof(Hub, worker), offsetof(Hub, worker_only),
    offsetof(Hub, tid), offsetof(Hub, next_hub), offsetof(Hub, loop_now),
};
}
