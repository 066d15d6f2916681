// CMocka unit tests of the diagnostics' parsers (hub/env.cpp) and counters (hub/sched.cpp):
// the values GREEN_WATCHDOG and GREEN_DUMP_SIGNAL accept, which greenrun must accept too, and
// the per-reason park counters.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <signal.h>

#include "../../hub/config.h"
#include "../../hub/green.h"
#include "../../hub/hub.h"

using namespace green;

namespace {

void test_parse_duration(void**)
{
    assert_int_equal(parse_duration("0"), 0);
    assert_int_equal(parse_duration("10ms"), 10000000ll);
    assert_int_equal(parse_duration("500ms"), 500000000ll);
    assert_int_equal(parse_duration("2s"), 2000000000ll);
    assert_int_equal(parse_duration("3600s"), 3600000000000ll);
    assert_int_equal(parse_duration("3600000ms"), 3600000000000ll);
    // Leading zeros are refused (octal?), as greenrun refuses them: one grammar (hub/env.h).
    const char* bad[] = {"", "5", "9ms", "0ms", "0s", "3601s", "3600001ms", "1.5s", "-1s", "2m",
                         "1h", "500MS", " 2s", "2s ", "99999999999999999999s", "00", "010s",
                         "0010ms", "+10ms", "10ms\n", nullptr};
    for (const char** b = bad; *b; b++) {
        if (parse_duration(*b) != -1)
            fail_msg("parse_duration(\"%s\") accepted", *b);
    }
    assert_int_equal(parse_duration(nullptr), -1);
}

void test_parse_signal(void**)
{
    assert_int_equal(parse_signal("USR2"), SIGUSR2);
    assert_int_equal(parse_signal("SIGUSR2"), SIGUSR2);
    assert_int_equal(parse_signal("12"), SIGUSR2);
    assert_int_equal(parse_signal("HUP"), SIGHUP);
    assert_int_equal(parse_signal("SYS"), SIGSYS);
    assert_int_equal(parse_signal("RTMIN"), SIGRTMIN);
    assert_int_equal(parse_signal("SIGRTMIN+3"), SIGRTMIN + 3);
    assert_int_equal(parse_signal("RTMAX"), SIGRTMAX);
    assert_int_equal(parse_signal("RTMAX-1"), SIGRTMAX - 1);
    assert_int_equal(parse_signal("34"), 34);
    assert_int_equal(parse_signal("64"), 64);
    const char* bad[] = {"", "0", "65", "9", "KILL", "SIGKILL", "STOP", "19", "SEGV", "11", "BUS",
                         "FPE", "ILL", "TRAP", "ABRT", "6", "32", "33", "usr2", "SIG", "BOGUS",
                         "RTMIN+31", "RTMAX-31", "RTMIN-1", "RTMAX+1", "RTMIN+", "12x", "-12",
                         "0010", "010", "012", "RTMIN+03", "RTMAX-01", "+12", "12\n", nullptr};
    for (const char** b = bad; *b; b++) {
        if (parse_signal(*b) != 0)
            fail_msg("parse_signal(\"%s\") accepted", *b);
    }
}

void* sleeper(void*)
{
    sleep_until(mono_now() + 1000000, false);
    return nullptr;
}

// One park per sleep, counted as a timer park; one join of a running thread, as a join.
void test_park_reasons(void**)
{
    HubStats before = hub_stats();
    Green* g;
    SpawnAttr attr;
    attr.stack_size = 64 * 1024;
    attr.guard_size = 4096;
    assert_int_equal(green_spawn(&g, sleeper, nullptr, attr), 0);
    assert_int_equal(green_join(g, nullptr, kForever, false), 0);
    HubStats after = hub_stats();
    assert_int_equal(after.created - before.created, 1);
    assert_int_equal(after.parks[kWaitTimer] - before.parks[kWaitTimer], 1);
    assert_int_equal(after.parks[kWaitJoin] - before.parks[kWaitJoin], 1);
    assert_int_equal(after.parks[kWaitFd] - before.parks[kWaitFd], 0);
    assert_int_equal(after.parks[kWaitFutex] - before.parks[kWaitFutex], 0);
    assert_true(after.polls > before.polls);
}

}  // namespace

int main()
{
    if (!hub_attach())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_parse_signal),
        cmocka_unit_test(test_park_reasons),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
