// Stacks of green threads, carved out of chunks.
//
// A stack is a slot [guard | usable] of a chunk: one anonymous mapping (MAP_NORESERVE) that
// holds up to 64 stacks of one geometry.  The guard bytes fault instead of letting an overflow
// write into the neighbour.  Mapping a chunk rather than a stack saves each thread an mmap, an
// mprotect and an munmap (most of what a short-lived thread cost); where the kernel has guard
// regions (madvise MADV_GUARD_INSTALL, Linux 6.13) a chunk stays one VMA instead of two per
// stack, so vm.max_map_count no longer bounds the number of green threads.  Elsewhere (older
// kernels, valgrind) a chunk is mapped PROT_NONE and a slot made writable on its first use.
//
// A freed stack keeps its pages for a while: it is the first one handed out again, warm and
// without page faults.  Once kCacheMax of them wait (or kCacheBytes of usable size), their pages
// all go back to the kernel in one call; a chunk whose every slot is free is unmapped, pages and
// all, unless it is the only empty chunk left (kept for the next thread).  Every stack handed
// out is registered with valgrind until it is given back.
#ifndef GREEN_STACK_H
#define GREEN_STACK_H

#include <cstddef>

namespace green {

struct StackChunk;

struct Stack {
    StackChunk* chunk = nullptr; // the chunk it is a slot of; null if not ours
    unsigned slot = 0;           // its index there
    char* lo = nullptr;          // lowest usable address (the guard is just below)
    size_t size = 0;             // usable bytes above lo; the stack grows down from lo + size
    unsigned valgrind_id = 0;    // valgrind's id for the registered stack
};

// A stack of at least size usable bytes with guard bytes below that fault (both rounded up to
// pages).  A freed stack of the same geometry comes first.  Returns false with errno set.
bool stack_get(Stack* s, size_t size, size_t guard);

// Gives a stack back (see above for when its pages go).  s is cleared.
void stack_put(Stack* s);

// Freed stacks whose pages are still kept (for tests).
size_t stack_cached_count();

// Gives back the pages of every freed stack and unmaps every chunk with no stack in use (tests,
// and stack_before_mlockall).
void stack_release_cached();

// True once guard regions keep chunks one VMA each (false before the first guarded stack, and
// where stacks are guarded by mprotect).
bool stack_guard_regions();

// mlockall(flags) is about to lock the program's memory.  Unless MCL_ONFAULT: with MCL_CURRENT,
// free stacks give their pages back and become inaccessible until used (locking populates
// every writable mapping: it would take 64 stacks' worth for each in use); with MCL_FUTURE,
// new chunks hold one stack each, made writable (and so locked) when used, as a real thread's
// stack is, until stack_after_munlockall().
void stack_before_mlockall(int flags);
void stack_after_munlockall();

// Resets the allocator's lock in a child of fork.
void stack_after_fork();

// Freed stacks that keep their pages, at most: kCacheMax of them, kCacheBytes of usable size.
constexpr size_t kCacheMax = 64;
constexpr size_t kCacheBytes = size_t(64) << 20;

// The page size, read once.
size_t page_size();

}  // namespace green

#endif
