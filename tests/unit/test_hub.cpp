// CMocka unit tests of hub/: switching, run queue order, errno, timers, fd waits, join,
// remote wake-ups, the stack allocator and the guard page.
//
// The test's main thread attaches a hub and becomes its root green thread.  Assertions are made
// only on the root (a failing CMocka assertion longjmps, which must not cross contexts): green
// threads record what they see, the root checks it afterwards.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "../../hub/config.h"
#include "../../hub/fdtable.h"
#include "../../hub/green.h"
#include "../../hub/hub.h"
#include "../../hub/stack.h"

using namespace green;

namespace {

constexpr size_t kStack = 64 * 1024;

Green* spawn(void* (*fn)(void*), void* arg)
{
    SpawnAttr attr;
    attr.stack_size = kStack;
    attr.guard_size = page_size();
    Green* g = nullptr;
    assert_int_equal(green_spawn(&g, fn, arg, attr), 0);
    return g;
}

void join(Green* g, void** result = nullptr) { assert_int_equal(green_join(g, result, kForever, false), 0); }

int hub_setup(void**)
{
    return hub_attach() ? 0 : -1;
}

// ---- run queue -------------------------------------------------------------------------

void test_runqueue_fifo(void**)
{
    Green a, b, c;
    RunQueue q;
    assert_true(q.empty());
    q.push(&a);
    q.push(&b);
    assert_ptr_equal(q.pop(), &a);
    q.push(&c);
    assert_ptr_equal(q.pop(), &b);
    assert_ptr_equal(q.pop(), &c);
    assert_null(q.pop());
    assert_true(q.empty());
}

// ---- switching order -------------------------------------------------------------------

std::string trace;

void* yielder(void* arg)
{
    char c = char(reinterpret_cast<intptr_t>(arg));
    for (int i = 0; i < 3; i++) {
        trace += c;
        yield();
    }
    return reinterpret_cast<void*>(intptr_t(c));
}

void test_yield_round_robin(void**)
{
    trace.clear();
    Green* a = spawn(yielder, reinterpret_cast<void*>(intptr_t('a')));
    Green* b = spawn(yielder, reinterpret_cast<void*>(intptr_t('b')));
    Green* c = spawn(yielder, reinterpret_cast<void*>(intptr_t('c')));
    // New green threads are runnable, not running: nothing ran yet.
    assert_string_equal(trace.c_str(), "");
    void* r;
    join(a, &r);
    assert_int_equal(reinterpret_cast<intptr_t>(r), 'a');
    join(b);
    join(c);
    assert_string_equal(trace.c_str(), "abcabcabc");
}

void test_lone_yield_returns(void**)
{
    uint64_t before = hub_stats().switches;
    for (int i = 0; i < 1000; i++)
        yield();
    // A lone yielder does not switch except to let the loop poll once per budget.
    assert_true(hub_stats().switches - before <= 1000 / kPollBudget * 2 + 2);
}

// ---- errno -----------------------------------------------------------------------------

int seen_errno[2];

void* errno_keeper(void* arg)
{
    int i = int(reinterpret_cast<intptr_t>(arg));
    errno = 100 + i;
    yield();
    yield();
    seen_errno[i] = errno;
    return nullptr;
}

void test_errno_per_green(void**)
{
    Green* a = spawn(errno_keeper, reinterpret_cast<void*>(0));
    Green* b = spawn(errno_keeper, reinterpret_cast<void*>(1));
    errno = 7;
    join(a);
    join(b);
    assert_int_equal(errno, 7);
    assert_int_equal(seen_errno[0], 100);
    assert_int_equal(seen_errno[1], 101);
}

// ---- park / unpark ---------------------------------------------------------------------

int park_reason = -1;

void* parker(void*)
{
    park_reason = park();
    return nullptr;
}

void test_park_unpark(void**)
{
    park_reason = -1;
    Green* g = spawn(parker, nullptr);
    yield();  // let it park
    assert_int_equal(park_reason, -1);
    unpark(g, kWakeTimeout);
    unpark(g, kWakeNormal);  // a second wake of a runnable thread is ignored
    join(g);
    assert_int_equal(park_reason, kWakeTimeout);
}

struct RemoteArg {
    Green* target;
};

void* remote_waker(void* p)
{
    usleep(20000);  // the target is parked by now
    unpark(static_cast<RemoteArg*>(p)->target);
    return nullptr;
}

void test_remote_unpark(void**)
{
    park_reason = -1;
    Green* g = spawn(parker, nullptr);
    yield();
    RemoteArg arg = {g};
    pthread_t os;
    assert_int_equal(pthread_create(&os, nullptr, remote_waker, &arg), 0);
    join(g);  // parks the root until the OS thread's wake-up crosses over
    pthread_join(os, nullptr);
    assert_int_equal(park_reason, kWakeNormal);
}

// ---- timers ----------------------------------------------------------------------------

std::string wake_order;
int early_wakes;

void* timed_sleeper(void* arg)
{
    int ms = int(reinterpret_cast<intptr_t>(arg));
    int64_t deadline = mono_now() + int64_t(ms) * 1000000;
    sleep_until(deadline, false);
    if (mono_now() < deadline)
        early_wakes++;
    wake_order += std::to_string(ms) + " ";
    return nullptr;
}

void test_timers_fire_in_deadline_order(void**)
{
    wake_order.clear();
    early_wakes = 0;
    int64_t start = mono_now();
    Green* a = spawn(timed_sleeper, reinterpret_cast<void*>(60));
    Green* b = spawn(timed_sleeper, reinterpret_cast<void*>(20));
    Green* c = spawn(timed_sleeper, reinterpret_cast<void*>(40));
    join(a);
    join(b);
    join(c);
    int64_t took = mono_now() - start;
    assert_string_equal(wake_order.c_str(), "20 40 60 ");
    assert_int_equal(early_wakes, 0);
    assert_true(took >= 60 * 1000000);
    assert_true(took < 2000 * 1000000LL);  // concurrent, not 120 ms of sums; generous
}

void test_sleep_past_deadline_returns_at_once(void**)
{
    uint64_t before = hub_stats().switches;
    assert_int_equal(sleep_until(mono_now() - 1000, false), 0);
    assert_int_equal(hub_stats().switches, before);
}

// ---- fd waits --------------------------------------------------------------------------

int fd_result;

void* fd_waiter(void* arg)
{
    int fd = int(reinterpret_cast<intptr_t>(arg));
    fd_result = wait_fd(fd, EV_READ, mono_now() + 2000000000LL, false);
    return nullptr;
}

void test_wait_fd_ready(void**)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    fd_result = 0;
    Green* g = spawn(fd_waiter, reinterpret_cast<void*>(intptr_t(p[0])));
    sleep_until(mono_now() + 10000000, false);
    assert_int_equal(fd_result, 0);  // still waiting
    assert_int_equal(write(p[1], "x", 1), 1);
    join(g);
    assert_int_equal(fd_result, EV_READ);
    close(p[0]);
    close(p[1]);
}

void test_wait_fd_timeout(void**)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    int64_t start = mono_now();
    assert_int_equal(wait_fd(p[0], EV_READ, start + 30000000, false), -ETIMEDOUT);
    assert_true(mono_now() - start >= 30000000);
    close(p[0]);
    close(p[1]);
}

// ---- join and detach -------------------------------------------------------------------

void* returns_arg(void* arg) { return arg; }

void test_join_errors(void**)
{
    Green* self = green_self();
    assert_int_equal(green_join(self, nullptr, kForever, false), EDEADLK);
    Green* g = spawn(returns_arg, reinterpret_cast<void*>(5));
    assert_int_equal(green_join(g, nullptr, 0, true), EBUSY);  // not run yet
    void* r = nullptr;
    assert_int_equal(green_join(g, &r, mono_now() + 1000000000, false), 0);
    assert_ptr_equal(r, reinterpret_cast<void*>(5));

    Green* d = spawn(returns_arg, nullptr);
    assert_int_equal(green_detach(d), 0);
    assert_int_equal(green_detach(d), EINVAL);
    assert_int_equal(green_join(d, nullptr, kForever, false), EINVAL);
    yield();  // let it run and be reaped
}

// ---- stacks ----------------------------------------------------------------------------

// How many of the pages of [lo, lo + len) are resident; an unmapped range has none.
size_t resident_pages(const char* lo, size_t len)
{
    unsigned char vec[kStack / 4096];
    assert_true(len <= kStack);
    if (mincore(const_cast<char*>(lo), len, vec) != 0) {
        assert_int_equal(errno, ENOMEM);
        return 0;
    }
    size_t n = 0;
    for (size_t i = 0; i < len / page_size(); i++)
        n += vec[i] & 1;
    return n;
}

size_t map_count()
{
    FILE* f = fopen("/proc/self/maps", "re");
    assert_non_null(f);
    size_t n = 0;
    for (int c; (c = fgetc(f)) != EOF;)
        n += c == '\n';
    fclose(f);
    return n;
}

void test_stack_cache_reuses_then_releases(void**)
{
    stack_release_cached();
    Stack s;
    assert_true(stack_get(&s, kStack, page_size()));
    char* lo = s.lo;
    memset(lo, 0xab, kStack);  // make every page resident
    stack_put(&s);
    assert_null(s.chunk);
    assert_int_equal(stack_cached_count(), 1);
    // The freed stack comes back first, its pages still there.
    Stack t;
    assert_true(stack_get(&t, kStack, page_size()));
    assert_ptr_equal(t.lo, lo);
    assert_int_equal(stack_cached_count(), 0);
    assert_int_equal(resident_pages(t.lo, kStack), kStack / page_size());
    stack_put(&t);
    // A stack of another size is not taken from the cache.
    Stack u;
    assert_true(stack_get(&u, 2 * kStack, page_size()));
    assert_ptr_not_equal(u.lo, lo);
    stack_put(&u);
    // Given back, the pages read as zero when the slot is used again.
    stack_release_cached();
    assert_int_equal(stack_cached_count(), 0);
    assert_int_equal(resident_pages(lo, kStack), 0);
    assert_true(stack_get(&t, kStack, page_size()));
    assert_int_equal(resident_pages(t.lo, kStack), 0);
    assert_int_equal(t.lo[100], 0);
    assert_int_equal(t.lo[kStack - 1], 0);
    stack_put(&t);
    stack_release_cached();
}

// No more than kCacheMax freed stacks keep their pages.
void test_stack_cache_is_bounded(void**)
{
    stack_release_cached();
    constexpr size_t n = kCacheMax + 10;
    static Stack s[n];
    static char* lo[n];
    for (size_t i = 0; i < n; i++) {
        assert_true(stack_get(&s[i], kStack, page_size()));
        lo[i] = s[i].lo;
        s[i].lo[kStack - 1] = 1;  // the top page, as a thread would
        s[i].lo[0] = 1;           // and the deepest one
    }
    for (size_t i = 0; i < n; i++)
        stack_put(&s[i]);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        kept += resident_pages(lo[i], kStack) > 0;
    assert_true(stack_cached_count() < kCacheMax);
    assert_int_equal(kept, stack_cached_count());
    stack_release_cached();
}

// Stacks come many to a mapping: with guard regions, 2 x 64 of them add a few entries to
// /proc/self/maps, not two each (vm.max_map_count would bound the threads).
void test_stacks_share_mappings(void**)
{
    stack_release_cached();
    constexpr size_t n = 128;
    static Stack s[n];
    size_t before = map_count();
    for (size_t i = 0; i < n; i++)
        assert_true(stack_get(&s[i], kStack, page_size()));
    size_t after = map_count();
    if (stack_guard_regions())
        assert_true(after - before <= 4);
    else  // guarded by mprotect: a writable VMA per stack, between PROT_NONE ones
        assert_true(after - before <= 2 * n + 4);
    for (size_t i = 0; i < n; i++)
        stack_put(&s[i]);
    stack_release_cached();
    assert_true(map_count() <= before + 1);
}

// The byte below a stack faults: fresh, and when the stack comes again from the cache or after
// its pages were given back.
void expect_guard_fault(const Stack& s)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);  // CMocka catches it otherwise
        s.lo[-1] = 1;  // the byte below the stack: the guard page
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSEGV);
}

void test_guard_page_faults(void**)
{
    Stack s;
    assert_true(stack_get(&s, kStack, page_size()));
    expect_guard_fault(s);
    s.lo[kStack - 1] = 1;
    stack_put(&s);
    assert_true(stack_get(&s, kStack, page_size()));
    expect_guard_fault(s);
    Stack keep;  // holds the chunk mapped while s's pages are given back
    assert_true(stack_get(&keep, kStack, page_size()));
    stack_put(&s);
    stack_release_cached();
    assert_true(stack_get(&s, kStack, page_size()));
    expect_guard_fault(s);
    stack_put(&s);
    stack_put(&keep);
}

// Two OS threads take and give back stacks at once, of two sizes, in batches up to past the
// cache's bound, each freeing in an order of its own: no stack is ever handed out twice (each
// owner's marks at both ends and in the middle stay its own) and none is lost.
struct Churn {
    unsigned seed;
    int errors;
};

void* churn(void* arg)
{
    auto* c = static_cast<Churn*>(arg);
    constexpr size_t kMax = kCacheMax + 16;
    Stack s[kMax];
    for (int round = 0; round < 300; round++) {
        size_t n = 1 + rand_r(&c->seed) % kMax;
        for (size_t i = 0; i < n; i++) {
            size_t size = (rand_r(&c->seed) & 1) ? kStack : 2 * kStack;
            if (!stack_get(&s[i], size, page_size())) {
                c->errors++;
                n = i;
                break;
            }
            uintptr_t mark = uintptr_t(&s[i]) ^ round;
            char* spots[3] = {s[i].lo, s[i].lo + s[i].size / 2, s[i].lo + s[i].size - 8};
            for (char* p : spots)
                memcpy(p, &mark, sizeof mark);
        }
        sched_yield();
        for (size_t k = 0; k < n; k++) {
            size_t i = (k * 7 + round) % n;  // every index once: 7 and n may share no factor...
            if (n % 7 == 0)
                i = k;  // ...and when they do, in order
            uintptr_t mark = uintptr_t(&s[i]) ^ round, seen;
            char* spots[3] = {s[i].lo, s[i].lo + s[i].size / 2, s[i].lo + s[i].size - 8};
            for (char* p : spots) {
                memcpy(&seen, p, sizeof seen);
                c->errors += seen != mark;
            }
            stack_put(&s[i]);
        }
    }
    return nullptr;
}

void test_stacks_from_two_threads(void**)
{
    Churn a = {1, 0}, b = {2, 0};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, nullptr, churn, &a), 0);
    assert_int_equal(pthread_create(&tb, nullptr, churn, &b), 0);
    assert_int_equal(pthread_join(ta, nullptr), 0);
    assert_int_equal(pthread_join(tb, nullptr), 0);
    assert_int_equal(a.errors, 0);
    assert_int_equal(b.errors, 0);
    stack_release_cached();
    assert_int_equal(stack_cached_count(), 0);
}

// A green thread's stack is the size asked for, and its record is an arena handle.
uintptr_t seen_local;

void* local_address(void*)
{
    char c = 0;
    seen_local = reinterpret_cast<uintptr_t>(&c);
    return nullptr;
}

void test_green_runs_on_its_stack(void**)
{
    Green* g = spawn(local_address, nullptr);
    assert_true(is_green(g));
    assert_false(is_green(&g));
    char* lo = g->stack_lo;
    size_t size = g->stack_size;
    assert_int_equal(size, kStack);
    join(g);
    assert_true(seen_local >= uintptr_t(lo) && seen_local < uintptr_t(lo + size));
}

}  // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_runqueue_fifo),
        cmocka_unit_test(test_yield_round_robin),
        cmocka_unit_test(test_lone_yield_returns),
        cmocka_unit_test(test_errno_per_green),
        cmocka_unit_test(test_park_unpark),
        cmocka_unit_test(test_remote_unpark),
        cmocka_unit_test(test_timers_fire_in_deadline_order),
        cmocka_unit_test(test_sleep_past_deadline_returns_at_once),
        cmocka_unit_test(test_wait_fd_ready),
        cmocka_unit_test(test_wait_fd_timeout),
        cmocka_unit_test(test_join_errors),
        cmocka_unit_test(test_stack_cache_reuses_then_releases),
        cmocka_unit_test(test_stack_cache_is_bounded),
        cmocka_unit_test(test_stacks_share_mappings),
        cmocka_unit_test(test_guard_page_faults),
        cmocka_unit_test(test_stacks_from_two_threads),
        cmocka_unit_test(test_green_runs_on_its_stack),
    };
    return cmocka_run_group_tests(tests, hub_setup, nullptr);
}
