// CMocka unit tests of resolver/: resolv.conf read as glibc 2.36 reads it.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <arpa/inet.h>
#include <net/if.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../../resolver/resolver.h"

using namespace green::dns;

namespace {

// Parses text as a resolv.conf into c.
void parse(const char* text, Conf* c)
{
    char path[] = "/tmp/resolv-unit-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), ssize_t(strlen(text)));
    close(fd);
    conf_parse(path, c);
    unlink(path);
}

std::string server(const Conf& c, int i)
{
    char buf[INET6_ADDRSTRLEN];
    const auto* sa = &c.servers[i];
    if (sa->sin6_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
    else
        inet_ntop(AF_INET6, &sa->sin6_addr, buf, sizeof buf);
    return buf;
}

void test_servers_and_search(void**)
{
    Conf c = {};
    parse("# comment\n; another\nnameserver 10.0.0.1\nnameserver ::1\nnameserver 10.0.0.3\n"
          "nameserver 10.0.0.4\nsearch a.test b.test\toops.test\n",
          &c);
    assert_int_equal(c.nservers, 3);  // glibc's MAXNS: the fourth is ignored
    assert_string_equal(server(c, 0).c_str(), "10.0.0.1");
    assert_string_equal(server(c, 1).c_str(), "::1");
    assert_int_equal(ntohs(c.servers[1].sin6_port), 53);
    assert_int_equal(c.nsearch, 3);
    assert_string_equal(c.search[0], "a.test");
    assert_string_equal(c.search[2], "oops.test");
    assert_int_equal(c.ndots, 1);
    assert_int_equal(c.timeout, 5);
    assert_int_equal(c.attempts, 2);
}

void test_last_domain_or_search_wins(void**)
{
    Conf c = {};
    parse("search a.test b.test\ndomain c.test d.test\n", &c);
    assert_int_equal(c.nsearch, 1);  // domain: only its first word
    assert_string_equal(c.search[0], "c.test");
    parse("domain c.test\nsearch e.test\n", &c);
    assert_int_equal(c.nsearch, 1);
    assert_string_equal(c.search[0], "e.test");
}

void test_options_clamped(void**)
{
    Conf c = {};
    parse("options ndots:20 timeout:99 attempts:9 rotate edns0 no-tld-query\n", &c);
    assert_int_equal(c.ndots, 15);
    assert_int_equal(c.timeout, 30);
    assert_int_equal(c.attempts, 5);
    assert_true(c.rotate);
    assert_true(c.edns0);
    assert_true(c.no_tld_query);
    assert_false(c.use_vc);
}

void test_environment_overrides(void**)
{
    Conf c = {};
    setenv("LOCALDOMAIN", "x.test y.test", 1);
    setenv("RES_OPTIONS", "ndots:3 attempts:1", 1);
    parse("search a.test\noptions ndots:2 timeout:4\n", &c);
    unsetenv("LOCALDOMAIN");
    unsetenv("RES_OPTIONS");
    assert_int_equal(c.nsearch, 2);
    assert_string_equal(c.search[0], "x.test");
    assert_int_equal(c.ndots, 3);
    assert_int_equal(c.timeout, 4);
    assert_int_equal(c.attempts, 1);
}

void test_defaults_without_file(void**)
{
    Conf c = {};
    conf_parse("/nonexistent/resolv.conf", &c);
    assert_int_equal(c.nservers, 1);
    assert_string_equal(server(c, 0).c_str(), "127.0.0.1");
    assert_int_equal(c.timeout, 5);
    assert_int_equal(c.attempts, 2);
}

void test_bad_lines_ignored(void**)
{
    Conf c = {};
    parse("nameserver\nnameserver not-an-address\nnameserver 10.0.0.9 trailing\nsearch\n"
          "nameserverX 10.0.0.8\n",
          &c);
    assert_int_equal(c.nservers, 1);
    assert_string_equal(server(c, 0).c_str(), "10.0.0.9");
}

// Issue 21: every search domain is used (glibc's list has no fixed length since 2.26).
void test_all_search_domains(void**)
{
    Conf c = {};
    parse("search d1.test d2.test d3.test d4.test d5.test d6.test d7.test d8.test d9.test "
          "d10.test\n",
          &c);
    assert_int_equal(c.nsearch, 10);
    assert_string_equal(c.search[8], "d9.test");
    assert_string_equal(c.search[9], "d10.test");
    std::string many = "search";
    for (int i = 0; i < 3000; i++)
        many += " s" + std::to_string(i) + ".test";
    parse((many + "\n").c_str(), &c);
    assert_int_equal(c.nsearch, 3000);
    assert_string_equal(c.search[2999], "s2999.test");
}

// Issue 21: glibc reads a nameserver address with inet_aton_exact, so a line ending in CR LF
// (or with a VT or FF after the address) names no server; libgreen used to take it.
void test_nameserver_cr_ignored(void**)
{
    Conf c = {};
    parse("nameserver 10.0.0.1\r\nnameserver 10.0.0.2\nnameserver 10.0.0.3\v\n"
          "nameserver ::1\r\nnameserver 10.0.0.5\n",
          &c);
    assert_int_equal(c.nservers, 2);
    assert_string_equal(server(c, 0).c_str(), "10.0.0.2");
    assert_string_equal(server(c, 1).c_str(), "10.0.0.5");
}

// Issue 21: scope ids as glibc's __inet6_scopeid_pton reads them: an interface name only for
// a link-local address, else a whole decimal number of 32 bits; anything else is 0.
void test_scope_ids(void**)
{
    Conf c = {};
    parse("nameserver fe80::1%lo\nnameserver 2001:db8::1%lo\nnameserver fe80::2%12junk\n", &c);
    assert_int_equal(c.nservers, 3);
    assert_int_equal(c.servers[0].sin6_scope_id, if_nametoindex("lo"));
    assert_int_equal(c.servers[1].sin6_scope_id, 0);  // not link-local: no interface names
    assert_int_equal(c.servers[2].sin6_scope_id, 0);  // not all digits
    parse("nameserver fe80::1%99999999999\nnameserver fe80::1%4294967295\n"
          "nameserver fe80::1%000000000000000000000000000000000042\n",
          &c);
    assert_int_equal(c.nservers, 3);
    assert_int_equal(c.servers[0].sin6_scope_id, 0);  // above 32 bits
    assert_int_equal(c.servers[1].sin6_scope_id, 4294967295u);
    assert_int_equal(c.servers[2].sin6_scope_id, 42);  // longer than any buffer of a fixed size
}

// Issue 21: numbers capped above only, as glibc does: negative ones stay (ndots in _res's
// four-bit field), and attempts:0 is kept (glibc then sends nothing).
void test_options_out_of_range(void**)
{
    Conf c = {};
    parse("options ndots:-1 timeout:-5 attempts:-2\n", &c);
    assert_int_equal(c.ndots, 15);
    assert_int_equal(c.timeout, -5);
    assert_int_equal(c.attempts, -2);
    parse("options ndots:-16 timeout:0 attempts:0\n", &c);
    assert_int_equal(c.ndots, 0);
    assert_int_equal(c.timeout, 0);
    assert_int_equal(c.attempts, 0);
    parse("options ndots:99999999999 attempts:3x\n", &c);  // atoi's reading of both
    assert_int_equal(c.ndots, 15);  // atoi gives 1215752191: above the cap
    assert_int_equal(c.attempts, 3);
}

// Issue 21: RES_OPTIONS is split at blanks only; a newline is part of a word.
void test_res_options_newline(void**)
{
    Conf c = {};
    setenv("RES_OPTIONS", "ndots:2\nrotate", 1);
    parse("", &c);
    unsetenv("RES_OPTIONS");  // before any assertion can end the test
    assert_int_equal(c.ndots, 2);
    assert_false(c.rotate);
    setenv("RES_OPTIONS", "\nedns0 rotate\nuse-vc", 1);
    parse("", &c);
    unsetenv("RES_OPTIONS");
    assert_false(c.edns0);  // "\nedns0" is no option
    assert_true(c.rotate);  // "rotate\nuse-vc" is rotate, by its prefix
    assert_false(c.use_vc);
}

// Issue 21: LOCALDOMAIN as glibc splits it: its first entry is what comes before the first
// blank, even nothing, and a newline ends it; set but empty, it still replaces the file's list.
void test_localdomain_split(void**)
{
    Conf c = {};
    setenv("LOCALDOMAIN", " a.test\tb.test ", 1);
    parse("search c.test\n", &c);
    unsetenv("LOCALDOMAIN");  // before any assertion can end the test
    assert_int_equal(c.nsearch, 3);
    assert_string_equal(c.search[0], "");
    assert_string_equal(c.search[1], "a.test");
    assert_string_equal(c.search[2], "b.test");
    setenv("LOCALDOMAIN", "", 1);
    parse("search c.test\n", &c);
    unsetenv("LOCALDOMAIN");
    assert_int_equal(c.nsearch, 1);
    assert_string_equal(c.search[0], "");
    setenv("LOCALDOMAIN", "a.test\nb.test", 1);
    parse("", &c);
    unsetenv("LOCALDOMAIN");
    assert_int_equal(c.nsearch, 1);
    assert_string_equal(c.search[0], "a.test");
}

// Issue 21: a "domain" word of any length is kept whole (it was copied onto the stack).
void test_long_domain_word(void**)
{
    Conf c = {};
    std::string word(14000, 'a');
    parse(("domain " + word + " second\n").c_str(), &c);
    assert_int_equal(c.nsearch, 1);
    assert_int_equal(strlen(c.search[0]), 14000);
}

}  // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_servers_and_search),
        cmocka_unit_test(test_last_domain_or_search_wins),
        cmocka_unit_test(test_options_clamped),
        cmocka_unit_test(test_environment_overrides),
        cmocka_unit_test(test_defaults_without_file),
        cmocka_unit_test(test_bad_lines_ignored),
        cmocka_unit_test(test_all_search_domains),
        cmocka_unit_test(test_nameserver_cr_ignored),
        cmocka_unit_test(test_scope_ids),
        cmocka_unit_test(test_options_out_of_range),
        cmocka_unit_test(test_res_options_newline),
        cmocka_unit_test(test_localdomain_split),
        cmocka_unit_test(test_long_domain_word),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
