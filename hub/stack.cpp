#include "stack.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <new>

#include "spinlock.h"
#include <valgrind/valgrind.h>

namespace green {

namespace {

// The pool is shared by every hub of the process: a stack freed on one OS thread can serve a
// green thread created on another.
SpinLock pool_lock;
Stack pool[kStackPoolMax];
size_t pool_count = 0;

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

void unmap(Stack* s)
{
    VALGRIND_STACK_DEREGISTER(s->valgrind_id);
    munmap(s->map, s->map_size);
    *s = Stack{};
}

}  // namespace

size_t page_size()
{
    static const size_t size = size_t(sysconf(_SC_PAGESIZE));
    return size;
}

bool stack_get(Stack* s, size_t size, size_t guard)
{
    size = round_up(size, page_size());
    guard = round_up(guard, page_size());
    {
        SpinGuard g(pool_lock);
        for (size_t i = pool_count; i-- > 0;) {
            if (pool[i].size == size && pool[i].map_size == size + guard) {
                *s = pool[i];
                pool[i] = pool[--pool_count];
                return true;
            }
        }
    }
    // MAP_NORESERVE: only the pages a green thread touches cost memory, so that a default
    // stack as large as glibc's (8 MiB) does not count against overcommit ten thousand times.
    void* map = mmap(nullptr, size + guard, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (map == MAP_FAILED)
        return false;
    if (guard && mprotect(map, guard, PROT_NONE) != 0) {
        int e = errno;
        munmap(map, size + guard);
        errno = e;
        return false;
    }
    s->map = map;
    s->map_size = size + guard;
    s->lo = static_cast<char*>(map) + guard;
    s->size = size;
    s->valgrind_id = VALGRIND_STACK_REGISTER(s->lo, s->lo + s->size);
    return true;
}

void stack_put(Stack* s)
{
    if (!s->map)
        return;
    // Give the pages back before pooling: a pooled stack must cost no memory.  When the pool
    // is full the stack is unmapped instead, and giving its pages back first would be a
    // second system call for nothing.
    bool room;
    {
        SpinGuard g(pool_lock);
        room = pool_count < kStackPoolMax;
    }
    if (room && madvise(s->lo, s->size, MADV_DONTNEED) == 0) {
        SpinGuard g(pool_lock);
        if (pool_count < kStackPoolMax) {
            pool[pool_count++] = *s;
            *s = Stack{};
            return;
        }
    }
    unmap(s);
}

void stack_after_fork() { new (&pool_lock) SpinLock; }

size_t stack_pool_count()
{
    SpinGuard g(pool_lock);
    return pool_count;
}

void stack_pool_drain()
{
    SpinGuard g(pool_lock);
    while (pool_count > 0)
        unmap(&pool[--pool_count]);
}

}  // namespace green
