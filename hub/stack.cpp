#include "stack.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <new>

#include "spinlock.h"
#include "sys.h"
#include <valgrind/valgrind.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

namespace green {

struct StackChunk {
    char* base = nullptr;
    size_t guard = 0;           // geometry of every slot: guard bytes, then size usable ones
    size_t size = 0;
    unsigned slots = 0;         // how many, at most kMaxSlots
    uint64_t used = 0;          // handed out, or having their pages given back right now
    uint64_t cached = 0;        // freed, pages kept (in the cache below)
    uint64_t ready = 0;         // writable (PROT_NONE until first use without guard regions)
    StackChunk* next = nullptr; // in the list of mapped chunks, or of unused records

    size_t slot_bytes() const { return guard + size; }
    size_t bytes() const { return slots * slot_bytes(); }
    uint64_t all() const { return ~uint64_t(0) >> (64 - slots); }
    char* lo(unsigned slot) const { return base + slot * slot_bytes() + guard; }
};

namespace {

constexpr unsigned kMaxSlots = 64;                  // one bit each in a chunk's masks
constexpr size_t kChunkAddressMax = size_t(1) << 30; // address space of one chunk, at most
constexpr size_t kRecordBlock = 1024;                // records mapped at a time, when needed
// process_madvise on the calling process without a pidfd of our own (Linux 6.15); an open
// pidfd would take a descriptor number the program expects to get.
constexpr long kPidfdSelf = -10000;

// How a slot's guard bytes are made to fault.
enum class Guards : int {
    Unknown,   // not decided yet (decided by the first chunk with guards)
    Regions,   // MADV_GUARD_INSTALL: page-table markers, the chunk stays one VMA
    Mprotect,  // chunk mapped PROT_NONE, a slot's usable part made writable on first use
};

struct Cached {
    StackChunk* chunk;
    unsigned slot;
};

// The chunks are shared by every hub of the process: a stack freed on one OS thread can serve
// a green thread created on another.  No system call is made while the lock is held.
SpinLock lock;
// Chunk records: a few here, then blocks mapped as needed (never unmapped: a Stack points at
// its record).
StackChunk first_records[16];
StackChunk* record_block = first_records;
size_t records_left = 16;
StackChunk* free_records = nullptr;
std::atomic<bool> locked{false}; // mlockall(MCL_FUTURE) is in effect (stack_before_mlockall)
StackChunk* chunks = nullptr;   // every mapped chunk
StackChunk* hint = nullptr;     // the chunk the last slot came from
size_t free_slots = 0;          // in no use and not cached, over every chunk
Cached cache[kCacheMax];        // freed stacks with their pages, the most recent last
size_t cache_n = 0;
size_t cache_bytes = 0;         // their usable bytes
std::atomic<Guards> guards{Guards::Unknown};

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }
uint64_t bit(unsigned slot) { return uint64_t(1) << slot; }

void hand_out(Stack* s, StackChunk* c, unsigned slot)
{
    s->chunk = c;
    s->slot = slot;
    s->lo = c->lo(slot);
    s->size = c->size;
}

// The first chunk in [from, to) of this geometry with a slot neither in use nor cached.
StackChunk* open_chunk(StackChunk* from, StackChunk* to, size_t size, size_t guard)
{
    for (StackChunk* c = from; c != to; c = c->next)
        if ((c->all() & ~(c->used | c->cached)) && c->size == size && c->guard == guard)
            return c;
    return nullptr;
}

// Takes a stack of this geometry that is not in use, most recently freed first; false if
// there is none.  *fresh says that it may need making writable.  Under the lock.
bool take_locked(Stack* s, size_t size, size_t guard, bool* fresh)
{
    for (size_t i = cache_n; i-- > 0;) {
        Cached e = cache[i];
        if (e.chunk->size != size || e.chunk->guard != guard)
            continue;
        for (size_t j = i + 1; j < cache_n; j++)
            cache[j - 1] = cache[j];
        cache_n--;
        cache_bytes -= size;
        e.chunk->cached &= ~bit(e.slot);
        e.chunk->used |= bit(e.slot);
        hand_out(s, e.chunk, e.slot);
        *fresh = false;
        return true;
    }
    if (free_slots == 0)
        return false;
    // From the chunk of the last fresh slot on, then the ones before it.
    StackChunk* c = open_chunk(hint ? hint : chunks, nullptr, size, guard);
    if (!c && hint)
        c = open_chunk(chunks, hint, size, guard);
    if (!c)
        return false;
    unsigned slot = unsigned(__builtin_ctzll(c->all() & ~(c->used | c->cached)));
    c->used |= bit(slot);
    free_slots--;
    hint = c;
    hand_out(s, c, slot);
    *fresh = !(c->ready & bit(slot));
    return true;
}

// Advice for many ranges in one system call where the kernel takes it, else one each.
void advise(iovec* ranges, size_t n, int advice)
{
    size_t want = 0;
    for (size_t i = 0; i < n; i++)
        want += ranges[i].iov_len;
    // valgrind does not know process_madvise (it would warn once and refuse it).
    if (!RUNNING_ON_VALGRIND && n > 1 &&
        raw_syscall(SYS_process_madvise, kPidfdSelf, long(ranges), long(n), advice, 0) ==
            long(want))
        return;
    for (size_t i = 0; i < n; i++)
        madvise(ranges[i].iov_base, ranges[i].iov_len, advice);
}

// Makes the guard bytes of every slot fault with guard regions; false if the kernel has none.
bool install_guards(char* base, unsigned slots, size_t slot_bytes, size_t guard)
{
    if (RUNNING_ON_VALGRIND)  // it would not know those pages are not to be touched
        return false;
    if (madvise(base, guard, MADV_GUARD_INSTALL) != 0)
        return false;
    // The others a few at a time: this runs in pthread_create, maybe on a small stack.
    constexpr unsigned kAtOnce = 16;
    iovec ranges[kAtOnce];
    for (unsigned first = 1; first < slots; first += kAtOnce) {
        unsigned k = 0;
        for (; k < kAtOnce && first + k < slots; k++)
            ranges[k] = {base + (first + k) * slot_bytes, guard};
        advise(ranges, k, MADV_GUARD_INSTALL);
    }
    return true;
}

void free_record_locked(StackChunk* c)
{
    *c = StackChunk{};
    c->next = free_records;
    free_records = c;
}

// A record for a new chunk, mapping a block of them when none is left; null with errno set.
StackChunk* new_record()
{
    for (;;) {
        {
            SpinGuard g(lock);
            if (StackChunk* c = free_records) {
                free_records = c->next;
                return c;
            }
            if (records_left > 0) {
                records_left--;
                return record_block++;
            }
        }
        void* p = mmap(nullptr, kRecordBlock * sizeof(StackChunk), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return nullptr;
        SpinGuard g(lock);
        auto* block = static_cast<StackChunk*>(p);
        for (size_t i = 0; i < kRecordBlock; i++)
            free_record_locked(&block[i]);
    }
}

// Maps a chunk for stacks of this geometry, and links it; null with errno set.
StackChunk* make_chunk(size_t size, size_t guard)
{
    size_t slot_bytes = size + guard;
    unsigned slots = unsigned(kChunkAddressMax / slot_bytes);
    slots = slots < 1 ? 1 : slots > kMaxSlots ? kMaxSlots : slots;
    Guards how = guards.load(std::memory_order_relaxed);
    bool lock_all = locked.load(std::memory_order_relaxed);
    StackChunk* c = new_record();
    if (!c)
        return nullptr;
    // While the program's memory is locked as it is mapped, a chunk holds one stack, mapped
    // PROT_NONE and made writable (and so locked) when used: a stack costs locked memory as a
    // real thread's does, not 64 of them.
    if (lock_all) {
        slots = 1;
        how = Guards::Mprotect;
    }
    int prot = (guard || lock_all) && how == Guards::Mprotect ? PROT_NONE : PROT_READ | PROT_WRITE;
    char* base;
    for (;;) {
        // MAP_NORESERVE: only the pages a green thread touches cost memory, so that stacks
        // as large as glibc's default (8 MiB) do not count against overcommit by the thousand.
        void* p = mmap(nullptr, slots * slot_bytes, prot,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
        if (p != MAP_FAILED) {
            base = static_cast<char*>(p);
            break;
        }
        if (slots == 1) {  // ENOMEM: no room even for this one stack
            SpinGuard g(lock);
            free_record_locked(c);
            return nullptr;
        }
        slots /= 2;  // a limit on address space (ulimit -v): fewer stacks to a chunk
    }
    uint64_t ready = ~uint64_t(0) >> (64 - slots);  // every slot writable
    if (prot == PROT_NONE) {
        ready = 0;
    } else if (guard) {
        if (install_guards(base, slots, slot_bytes, guard)) {
            guards.store(Guards::Regions, std::memory_order_relaxed);
        } else if (mprotect(base, slots * slot_bytes, PROT_NONE) == 0) {
            guards.store(Guards::Mprotect, std::memory_order_relaxed);
            ready = 0;
        } else {
            int e = errno;
            munmap(base, slots * slot_bytes);
            SpinGuard g(lock);
            free_record_locked(c);
            errno = e;
            return nullptr;
        }
    }
    SpinGuard g(lock);
    *c = StackChunk{};
    c->base = base;
    c->guard = guard;
    c->size = size;
    c->slots = slots;
    c->ready = ready;
    c->next = chunks;
    chunks = c;
    free_slots += slots;
    return c;
}

// Forgets the chunk *link (no stack of it in use) and its cached stacks; the caller unmaps
// [base, base + bytes) once the lock is released.
void unlink_locked(StackChunk** link, char** base, size_t* bytes)
{
    StackChunk* c = *link;
    size_t kept = 0;
    for (size_t i = 0; i < cache_n; i++) {
        if (cache[i].chunk == c)
            cache_bytes -= c->size;
        else
            cache[kept++] = cache[i];
    }
    cache_n = kept;
    free_slots -= c->slots - size_t(__builtin_popcountll(c->cached));
    *link = c->next;
    if (hint == c)
        hint = nullptr;
    *base = c->base;
    *bytes = c->bytes();
    free_record_locked(c);
}

// If c has no stack in use and another chunk has none either, forgets c and its cached stacks
// and returns true: the caller unmaps [base, base + bytes) once the lock is released.  A chunk
// no longer in the list (a batch may name one several times) is left alone.
bool drop_if_spare_locked(StackChunk* c, char** base, size_t* bytes)
{
    if (c->used)
        return false;
    StackChunk** link = nullptr;
    bool other_empty = false;
    for (StackChunk** l = &chunks; *l; l = &(*l)->next) {
        if (*l == c)
            link = l;
        else if ((*l)->used == 0)
            other_empty = true;
    }
    if (!link || !other_empty)
        return false;
    unlink_locked(link, base, bytes);
    return true;
}

// One batch of cached stacks is given back at a time, through these rather than arrays on the
// stack: stack_put runs on whatever context resumes after a thread ends, maybe on a small stack.
Cached releasing[kCacheMax];     // the batch, taken out of the cache
iovec releasing_ranges[kCacheMax];
char* releasing_unmap[kCacheMax];
size_t releasing_unmap_bytes[kCacheMax];
bool releasing_now = false;      // someone gives a batch back (under the lock)

// Gives back the pages of stacks taken out of the cache (marked in use meanwhile), and unmaps
// the chunks that are left empty but one.  ranges, unmap and unmap_bytes have room for n.
void release(const Cached* batch, size_t n, iovec* ranges, char** unmap, size_t* unmap_bytes)
{
    for (size_t i = 0; i < n; i++)
        ranges[i] = {batch[i].chunk->lo(batch[i].slot), batch[i].chunk->size};
    advise(ranges, n, MADV_DONTNEED);
    size_t n_unmap = 0;
    {
        SpinGuard g(lock);
        for (size_t i = 0; i < n; i++) {
            batch[i].chunk->used &= ~bit(batch[i].slot);
            free_slots++;
        }
        for (size_t i = 0; i < n; i++)
            if (drop_if_spare_locked(batch[i].chunk, &unmap[n_unmap], &unmap_bytes[n_unmap]))
                n_unmap++;
    }
    for (size_t i = 0; i < n_unmap; i++)
        munmap(unmap[i], unmap_bytes[i]);
}

// Gives back the batch in releasing[0, n), and lets the next batch go.
void release_batch(size_t n)
{
    release(releasing, n, releasing_ranges, releasing_unmap, releasing_unmap_bytes);
    SpinGuard g(lock);
    releasing_now = false;
}

// Takes every cached stack out of the cache, into batch; returns how many.  Under the lock.
size_t take_cache_locked(Cached* batch)
{
    size_t n = cache_n;
    for (size_t i = 0; i < n; i++) {
        batch[i] = cache[i];
        batch[i].chunk->cached &= ~bit(batch[i].slot);
        batch[i].chunk->used |= bit(batch[i].slot);  // until its pages are gone
    }
    cache_n = 0;
    cache_bytes = 0;
    return n;
}

}  // namespace

size_t page_size()
{
    static const size_t size = size_t(sysconf(_SC_PAGESIZE));
    return size;
}

bool stack_get(Stack* s, size_t size, size_t guard)
{
    size = round_up(size ? size : 1, page_size());
    guard = round_up(guard, page_size());
    bool fresh = false;
    bool found;
    {
        SpinGuard g(lock);
        found = take_locked(s, size, guard, &fresh);
    }
    while (!found) {
        if (!make_chunk(size, guard))
            return false;
        SpinGuard g(lock);  // another hub may take the new chunk's slots first
        found = take_locked(s, size, guard, &fresh);
    }
    if (fresh) {  // guarded by mprotect: the usable part becomes writable on first use
        if (mprotect(s->lo, s->size, PROT_READ | PROT_WRITE) != 0) {
            int e = errno;
            SpinGuard g(lock);
            s->chunk->used &= ~bit(s->slot);
            free_slots++;
            *s = Stack{};
            errno = e;
            return false;
        }
        SpinGuard g(lock);
        s->chunk->ready |= bit(s->slot);
    }
    s->valgrind_id = VALGRIND_STACK_REGISTER(s->lo, s->lo + s->size);
    return true;
}

void stack_put(Stack* s)
{
    StackChunk* c = s->chunk;
    if (!c)
        return;
    VALGRIND_STACK_DEREGISTER(s->valgrind_id);
    Cached self = {c, s->slot};
    *s = Stack{};
    size_t n = 0;
    bool alone = false;
    char* unmap = nullptr;
    size_t unmap_bytes = 0;
    {
        SpinGuard g(lock);
        if (cache_n < kCacheMax) {
            c->used &= ~bit(self.slot);
            c->cached |= bit(self.slot);
            cache[cache_n++] = self;
            cache_bytes += c->size;
            if (!drop_if_spare_locked(c, &unmap, &unmap_bytes) && !releasing_now &&
                (cache_n == kCacheMax || cache_bytes > kCacheBytes)) {
                releasing_now = true;
                n = take_cache_locked(releasing);
            }
        } else {
            // Full, and its last batch is still being given back elsewhere: this stack's
            // pages go back at once (it stays marked in use until they have).
            alone = true;
        }
    }
    if (unmap)
        munmap(unmap, unmap_bytes);
    if (n)
        release_batch(n);
    if (alone) {
        iovec range;
        release(&self, 1, &range, &unmap, &unmap_bytes);
    }
}

size_t stack_cached_count()
{
    SpinGuard g(lock);
    return cache_n;
}

void stack_release_cached()
{
    size_t n = 0;
    for (bool mine = false; !mine; __builtin_ia32_pause()) {  // after a batch under way
        SpinGuard g(lock);
        if (!releasing_now) {
            releasing_now = mine = true;
            n = take_cache_locked(releasing);
        }
    }
    release_batch(n);
    for (;;) {  // release() keeps one empty chunk: none is kept here
        char* base = nullptr;
        size_t bytes = 0;
        {
            SpinGuard g(lock);
            StackChunk** link = &chunks;
            while (*link && (*link)->used)
                link = &(*link)->next;
            if (!*link)
                break;
            unlink_locked(link, &base, &bytes);
        }
        munmap(base, bytes);
    }
}

void stack_before_mlockall(int flags)
{
    if (flags & MCL_ONFAULT)  // pages are locked as they are touched: nothing is populated
        return;
    if (flags & MCL_FUTURE)
        locked.store(true, std::memory_order_relaxed);
    if (!(flags & MCL_CURRENT))
        return;
    stack_release_cached();
    // Every free writable slot becomes PROT_NONE, marked in use meanwhile so that no hub takes
    // it half-done; stack_get makes it writable again (a "fresh" slot).
    for (;;) {
        Cached batch[kCacheMax];
        size_t n = 0;
        {
            SpinGuard g(lock);
            for (StackChunk* c = chunks; c && n < kCacheMax; c = c->next) {
                uint64_t open = c->all() & c->ready & ~(c->used | c->cached);
                for (; open && n < kCacheMax; open &= open - 1) {
                    unsigned slot = unsigned(__builtin_ctzll(open));
                    c->used |= bit(slot);
                    c->ready &= ~bit(slot);
                    free_slots--;
                    batch[n++] = {c, slot};
                }
            }
        }
        if (n == 0)
            return;
        for (size_t i = 0; i < n; i++)
            mprotect(batch[i].chunk->lo(batch[i].slot), batch[i].chunk->size, PROT_NONE);
        SpinGuard g(lock);
        for (size_t i = 0; i < n; i++) {
            batch[i].chunk->used &= ~bit(batch[i].slot);
            free_slots++;
        }
    }
}

void stack_after_munlockall() { locked.store(false, std::memory_order_relaxed); }

bool stack_guard_regions() { return guards.load(std::memory_order_relaxed) == Guards::Regions; }

void stack_after_fork() { new (&lock) SpinLock; }

}  // namespace green
