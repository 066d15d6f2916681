// Seeded mode's shared state, for its two files: hub/chaos.cpp (configuration, virtual time,
// fault injection) and hub/steps.cpp (the scheduling steps and their policies: the seeded draw,
// chaos, PCT, a schedule file; the trace).  Internal to them: hub/chaos.h is the interface.
#ifndef GREEN_SEEDED_H
#define GREEN_SEEDED_H

#include <ev.h>

#include <cstddef>
#include <cstdint>

#include "green.h"

namespace green {
namespace seeded {

// ---- the PRNG: xoshiro256** (Blackman and Vigna), seeded through splitmix64 ----

inline uint64_t splitmix64(uint64_t* x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

struct Rng {
    uint64_t s[4];
    void seed(uint64_t x)
    {
        for (auto& w : s)
            w = splitmix64(&x);
    }
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t next()
    {
        uint64_t result = rotl(s[1] * 5, 7) * 9;
        uint64_t t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return result;
    }
    double unit() { return double(next() >> 11) * 0x1p-53; }  // [0, 1)
    uint64_t below(uint64_t n) { return n ? next() % n : 0; }
};

// The configuration (hub/chaos.cpp reads it once at start-up).
extern uint64_t the_seed;
extern double chaos_probability;   // GREEN_CHAOS
extern double expire_probability;  // GREEN_EXPIRE
extern int pct_depth;              // GREEN_PCT
extern uint64_t pct_steps;         // GREEN_PCT_STEPS: the run's length in steps, estimated
constexpr int kMaxPctDepth = 32;
// Priorities: change points lower a thread to 1 .. depth-1; a thread that yields of its own
// accord (sched_yield) goes below every other, from kPctBase down; drawn ones are above it.
constexpr uint64_t kPctBase = uint64_t(1) << 32;

// GREEN_SCHEDULE: the decisions of a schedule file, by step (hub/steps.cpp, "Steps").
struct Decision {
    uint64_t step;
    uint64_t thread;
};
extern bool schedule_on;
extern Decision* plan;
extern size_t plan_len;
// GREEN_TRACE: where each step is written (-1: nowhere).
extern int trace_fd;

// A timed wait of a green thread, on its stack while it waits.
struct VTimer {
    int64_t deadline;
    Green* green;
    VTimer* next;
    VTimer** pprev;
};

// What a hub keeps in seeded mode (thread-local: one hub per OS thread).  Each purpose draws
// from its own stream, so that turning chaos on does not change which faults are injected
// for a given sequence of calls, and the other way round.
struct SeedState {
    bool ready = false;
    Rng sched, chaos, inject, expire, shuffle;
    uint64_t steps = 0;                  // scheduling steps taken (see "Steps" below)
    Green* forced_next = nullptr;        // chosen at a point: the pick that follows takes it
    size_t plan_at = 0;                  // GREEN_SCHEDULE: the next decision not yet passed
    uint64_t change[kMaxPctDepth] = {};  // PCT: at step change[i], the running thread's
                                         //   priority becomes i + 1
    uint64_t low = kPctBase;             // PCT: the priority the next yielder gets (decreasing)
    VTimer* timers = nullptr;
    uint64_t last_switches = 0;
    Green** batch = nullptr;  // canonicalize()'s buffer
    size_t batch_cap = 0;
    ev_timer real_wait;
    bool real_wait_fired = false;
};
// The seeded state of hub h (by default the calling OS thread's), made on first need.
SeedState* seed_state(Hub* h = hub_self());

// Fires, each with probability GREEN_EXPIRE, the virtual timers of this hub whose deadline has
// not come: time jumps to the latest such deadline (the others were busy for that long), and
// every timer due by then fires.  Whether any did.  (hub/chaos.cpp)
bool expire_some(SeedState* s);

// Reads a schedule file into plan; false, with a warning, when it is not one.  (hub/steps.cpp)
bool load_schedule(const char* path, uint64_t* seed);
// Opens the trace file (GREEN_TRACE) as trace_fd.  (hub/steps.cpp)
void open_trace(const char* path);

}  // namespace seeded
}  // namespace green

#endif
