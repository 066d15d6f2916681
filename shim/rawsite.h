// System call sites outside the C library, rewritten into jumps to trampolines of their own
// (shim/rawsite.cpp), and the unwind index's function bounds that both the rewrite and the scan
// for such sites (shim/rawsys.cpp) decode from.
#ifndef GREEN_RAWSITE_H
#define GREEN_RAWSITE_H

#include <link.h>

#include <cstdint>

namespace green {

// The function starts the unwind table's index (PT_GNU_EH_FRAME, the .eh_frame_hdr section)
// gives.
struct FunctionStarts {
    const unsigned char* hdr = nullptr;  // the index; its entries are relative to it
    const int32_t* table = nullptr;      // pairs: function start, its unwind entry
    uint32_t count = 0;
};

FunctionStarts function_starts(const ElfW(Phdr)* phdr, int phnum, uintptr_t bias);

// The greatest function start at most addr, or 0.
uintptr_t function_start_before(uintptr_t addr, void* starts);

// The function that holds addr, [*lo, *hi), from its unwind entry: 1; 0 when addr lies outside
// every function the table describes; -1 when the entry is not in the usual encoding.
int function_bounds(const FunctionStarts* f, uintptr_t addr, uintptr_t* lo, uintptr_t* hi);

// Called at a trap of the `syscall` at site with number nr (in the SIGSYS handler): rewrites
// the site when that is safe, once; later traps there (a thread that was stopped inside the
// rewritten instructions) cost a look-up.
void rewrite_site(uintptr_t site, long nr);

// Before the first rewrite: membarrier's core serialisation, which multi-step patches need, and
// fork handlers that keep a fork from happening in the middle of one.
void rawsite_start();

// In a child of fork: the lock the fork took is released, and since the stub pages are shared
// with the parent (see the top of shim/rawsite.cpp) new stubs go to pages of the child's own.
void rawsite_after_fork();

}  // namespace green

#endif
