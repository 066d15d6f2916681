// Stacks of green threads: mmap'd, with a guard page below, pooled.
//
// A stack is one anonymous mapping: [map, map + guard) is PROT_NONE, so that an overflow faults
// instead of silently writing into the neighbour; [lo, lo + size) is the usable part.  Stacks of
// the default size are kept in a small pool after their green thread ends, with their pages
// given back to the kernel (MADV_DONTNEED), so that thread churn costs no mmap/munmap while a
// pooled stack costs no memory.  Every stack is registered with valgrind while it exists.
#ifndef GREEN_STACK_H
#define GREEN_STACK_H

#include <cstddef>

namespace green {

struct Stack {
    void* map = nullptr;      // start of the mapping (guard page included); null if not ours
    size_t map_size = 0;      // length of the mapping
    char* lo = nullptr;       // lowest usable address
    size_t size = 0;          // usable bytes above lo; the stack grows down from lo + size
    unsigned valgrind_id = 0; // valgrind's id for the registered stack
};

// Maps a stack of at least size usable bytes with guard bytes of PROT_NONE below (both rounded
// up to pages).  Reuses a pooled stack when the sizes match.  Returns false with errno set.
bool stack_get(Stack* s, size_t size, size_t guard);

// Gives a stack back: to the pool (pages released) or to the kernel.  s is cleared.
void stack_put(Stack* s);

// How many stacks the pool holds now (for tests).
size_t stack_pool_count();

// Resets the pool's lock in a child of fork.
void stack_after_fork();

// Empties the pool (for tests).
void stack_pool_drain();

// Bounds of pooled stacks; a stack of another size is always unmapped.
constexpr size_t kStackPoolMax = 64;

// The page size, read once.
size_t page_size();

}  // namespace green

#endif
