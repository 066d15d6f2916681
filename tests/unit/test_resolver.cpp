// CMocka unit tests of resolver/: resolv.conf read as glibc 2.36 reads it.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <arpa/inet.h>
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
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
