// CMocka unit tests of hub/chaos.cpp: the GREEN_INJECT spec parser and the seeded draw from the
// run queue.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <cstring>

#include "../../hub/chaos.h"
#include "../../hub/green.h"

using namespace green;

namespace {

void test_spec_every_fault(void**)
{
    double p[kFaultCount];
    int64_t d[kFaultCount];
    const char* bad = "unset";
    assert_true(parse_inject_spec("short-read:0.1,short-write:.5,eintr:1,eagain:0,reset:0.02,"
                                  "connect-fail:1.0,dns-fail:0.25,connect-delay:50ms,"
                                  "read-latency:10us,dns-nxdomain:0.5,dns-delay:1ms",
                                  p, d, &bad));
    assert_null(bad);
    assert_true(p[kShortRead] == 0.1 && p[kShortWrite] == 0.5 && p[kEintr] == 1);
    assert_true(p[kEagain] == 0 && p[kReset] == 0.02 && p[kConnectFail] == 1);
    assert_true(p[kDnsFail] == 0.25 && p[kDnsNxdomain] == 0.5);
    assert_int_equal(d[kDnsDelay], 1000000);
    assert_int_equal(d[kConnectDelay], 50000000);
    assert_int_equal(d[kReadLatency], 10000);
    assert_true(parse_inject_spec("", p, d, &bad));  // nothing to inject
    for (int f = 0; f < kFaultCount; f++)
        assert_true(p[f] == 0 && d[f] == 0);
    assert_true(parse_inject_spec("connect-delay:2s,connect-delay:3ns", p, d, &bad));
    assert_int_equal(d[kConnectDelay], 3);  // the last one counts
}

void test_spec_refused(void**)
{
    static const char* const bad_specs[] = {
        "short-read",         // no value
        "bogus:0.1",          // no such fault
        "eintr:1.5",          // not a probability
        "eintr:-0.1",         // not a probability
        "eintr:0.1x",         // trailing junk
        "eintr:",             // empty value
        "connect-delay:50",   // a duration needs its unit
        "read-latency:1h",    // no such unit
        "read-latency:3601s", // more than an hour
        "eintr:0.1,reset",    // the second item has no value
        "eintr:0.1,",         // an empty last item
        ",eintr:0.1",         // an empty first item
        "eintr:0.1,,reset:0", // an empty item
        "eintr:1e-1",         // an exponent
        "eintr:0x.8",         // hexadecimal
        "eintr:00.5",         // a leading zero
        "eintr:0.",           // no digits after the point
        "eintr:0.1\nreset:1", // a second line
        "connect-delay:050ms", // a leading zero
    };
    double p[kFaultCount];
    int64_t d[kFaultCount];
    for (const char* spec : bad_specs) {
        const char* bad = nullptr;
        if (parse_inject_spec(spec, p, d, &bad))
            fail_msg("'%s' was accepted", spec);
        assert_non_null(bad);
    }
    const char* bad = nullptr;
    assert_false(parse_inject_spec("eintr:0.1,nope:1,reset:0.1", p, d, &bad));
    assert_int_equal(strncmp(bad, "nope:1", 6), 0);  // the faulty item is named
}

// Every thread of the queue is drawn exactly once, and the queue stays well formed (head,
// tail, length) after each draw.
void test_seeded_pick_draws_each_once(void**)
{
    constexpr int n = 9;
    static Green g[n];
    Hub h;
    for (int i = 0; i < n; i++) {
        g[i].id = uint64_t(100 + i);
        h.runq.push(&g[i]);
    }
    bool seen[n] = {};
    bool in_order = true;
    for (int k = 0; k < n; k++) {
        Green* x = seeded_pick(&h);
        assert_non_null(x);
        int i = int(x - g);
        assert_true(i >= 0 && i < n);
        assert_false(seen[i]);
        seen[i] = true;
        in_order &= (i == k);
        assert_int_equal(h.runq.length, unsigned(n - k - 1));
        unsigned count = 0;
        Green* last = nullptr;
        for (Green* y = h.runq.head; y; y = y->next)
            count++, last = y;
        assert_int_equal(count, h.runq.length);
        assert_ptr_equal(last, h.runq.tail);
    }
    assert_null(seeded_pick(&h));
    assert_false(in_order);  // a draw, not the FIFO order (fixed seed: not a matter of luck)
}

}  // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_every_fault),
        cmocka_unit_test(test_spec_refused),
        cmocka_unit_test(test_seeded_pick_draws_each_once),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
