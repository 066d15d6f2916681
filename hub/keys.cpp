#include "keys.h"

#include <cerrno>
#include <cstdlib>

namespace green {

namespace {

struct KeySlot {
    std::atomic<uint64_t> seq{0};              // odd while the key is in use
    std::atomic<void (*)(void*)> destructor{nullptr};
};

KeySlot key_slots[kKeysMax];

bool in_use(uint64_t seq) { return (seq & 1) != 0; }

KeyValue* slot_of(Green* g, unsigned key, bool create)
{
    if (!g->key_blocks) {
        if (!create)
            return nullptr;
        g->key_blocks = static_cast<KeyValue**>(calloc(kKeysMax / kKeyBlock, sizeof(KeyValue*)));
        if (!g->key_blocks)
            return nullptr;
    }
    KeyValue*& block = g->key_blocks[key / kKeyBlock];
    if (!block) {
        if (!create)
            return nullptr;
        block = static_cast<KeyValue*>(calloc(kKeyBlock, sizeof(KeyValue)));
        if (!block)
            return nullptr;
    }
    return &block[key % kKeyBlock];
}

}  // namespace

bool keys_tracked(unsigned key)
{
    return key < kKeysMax && key_slots[key].seq.load(std::memory_order_relaxed) != 0;
}

void keys_created(unsigned key, void (*destructor)(void*))
{
    if (key >= kKeysMax)
        return;
    key_slots[key].destructor.store(destructor);
    uint64_t seq = key_slots[key].seq.load();
    key_slots[key].seq.store(in_use(seq) ? seq + 2 : seq + 1);
}

bool keys_deleted(unsigned key)
{
    if (key >= kKeysMax)
        return false;
    uint64_t seq = key_slots[key].seq.load();
    if (!in_use(seq))
        return false;
    key_slots[key].seq.store(seq + 1);
    return true;
}

void* keys_get(Green* g, unsigned key)
{
    if (key >= kKeysMax)
        return nullptr;
    KeyValue* kv = slot_of(g, key, false);
    if (!kv || kv->seq != key_slots[key].seq.load(std::memory_order_relaxed))
        return nullptr;
    return kv->value;
}

int keys_set(Green* g, unsigned key, const void* value)
{
    if (key >= kKeysMax)
        return EINVAL;
    uint64_t seq = key_slots[key].seq.load(std::memory_order_relaxed);
    if (!in_use(seq))
        return EINVAL;
    KeyValue* kv = slot_of(g, key, value != nullptr);
    if (!kv)
        return value ? ENOMEM : 0;
    kv->seq = seq;
    kv->value = const_cast<void*>(value);
    return 0;
}

void keys_run_destructors(Green* self)
{
    if (!self->key_blocks)
        return;
    // As glibc: each round clears every value before calling its destructor, and rounds repeat
    // while destructors set new values, at most PTHREAD_DESTRUCTOR_ITERATIONS times.
    for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; round++) {
        bool called = false;
        for (unsigned b = 0; b < kKeysMax / kKeyBlock; b++) {
            KeyValue* block = self->key_blocks[b];
            if (!block)
                continue;
            for (unsigned i = 0; i < kKeyBlock; i++) {
                KeyValue* kv = &block[i];
                unsigned key = b * kKeyBlock + i;
                void* value = kv->value;
                if (!value)
                    continue;
                kv->value = nullptr;
                if (kv->seq != key_slots[key].seq.load())
                    continue;
                if (void (*destructor)(void*) = key_slots[key].destructor.load()) {
                    destructor(value);
                    called = true;
                }
            }
        }
        if (!called)
            break;
    }
}

}  // namespace green
