// CMocka unit tests of resolver/: resolv.conf read as glibc 2.36 reads it; answers judged as
// glibc's nss_dns judges them.
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

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../../resolver/hosts.h"
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

// ---- answers (resolver/hosts.cpp) ----

// A response built by hand: header, one question, then records; names in wire form, given as
// strings of dotted labels ("a.test") or raw bytes (wire()).
struct Answer {
    std::string b;
    int an = 0;

    static std::string wire(const std::string& dotted)
    {
        std::string w;
        size_t at = 0;
        while (at < dotted.size()) {
            size_t dot = dotted.find('.', at);
            if (dot == std::string::npos)
                dot = dotted.size();
            w += char(dot - at);
            w += dotted.substr(at, dot - at);
            at = dot + 1;
        }
        return w + '\0';
    }
    void u16(unsigned v)
    {
        b += char(v >> 8);
        b += char(v & 0xff);
    }
    Answer(const std::string& qname_wire, unsigned qtype)
    {
        b = std::string("\0\0\x81\x80\0\x01\0\0\0\0\0\0", 12);
        b += qname_wire;
        u16(qtype);
        u16(ns_c_in);
    }
    // A record; owner "" is the question's name (a pointer to it).
    void rr(const std::string& owner_wire, unsigned type, const std::string& rdata)
    {
        if (owner_wire.empty())
            u16(0xc00c);
        else
            b += owner_wire;
        u16(type);
        u16(ns_c_in);
        b += std::string("\0\0\0\x3c", 4);
        u16(unsigned(rdata.size()));
        b += rdata;
        an++;
        b[6] = char(an >> 8);
        b[7] = char(an & 0xff);
    }
    const unsigned char* data() const { return reinterpret_cast<const unsigned char*>(b.data()); }
    int len() const { return int(b.size()); }
};

const std::string kReverse = Answer::wire("45.7.0.10.in-addr.arpa");

nss_status ptr(const Answer& a, std::string* name, int* herr, int* err = nullptr)
{
    char buf[1024];
    char* h = nullptr;
    int e = 0;
    *herr = 0;
    nss_status s = parse_ptr(a.data(), a.len(), buf, sizeof buf, &h, err ? err : &e, herr);
    *name = s == NSS_STATUS_SUCCESS && h ? h : "";
    return s;
}

// The PTR target is what the program gets: it must be a host name, whatever the owner.
void test_ptr_target_must_be_host_name(void**)
{
    std::string name;
    int herr;
    Answer good(kReverse, ns_t_ptr);
    good.rr("", ns_t_ptr, Answer::wire("host-1.example"));
    assert_int_equal(ptr(good, &name, &herr), NSS_STATUS_SUCCESS);
    assert_string_equal(name.c_str(), "host-1.example");

    // Shell and log metacharacters, a byte above 127, a NUL, a dot inside a label, a leading
    // hyphen: refused as glibc refuses them (NO_RECOVERY), not handed back escaped.
    static const char* const bad[] = {"x$(id).example", "a\\b.example", "\xff.example",
                                      "-dash.example", "sp ace.example"};
    for (const char* b : bad) {
        Answer a(kReverse, ns_t_ptr);
        a.rr("", ns_t_ptr, Answer::wire(b));
        assert_int_equal(ptr(a, &name, &herr), NSS_STATUS_UNAVAIL);
        assert_int_equal(herr, NO_RECOVERY);
    }
    Answer nul(kReverse, ns_t_ptr);
    nul.rr("", ns_t_ptr, std::string("\003a\000b\007example", 13));
    assert_int_equal(ptr(nul, &name, &herr), NSS_STATUS_UNAVAIL);
    Answer dot(kReverse, ns_t_ptr);
    dot.rr("", ns_t_ptr, std::string("\003a.b\007example", 13));
    assert_int_equal(ptr(dot, &name, &herr), NSS_STATUS_UNAVAIL);

    // The owner reached through a CNAME need not be a host name; the target must.
    std::string odd = Answer::wire("odd$owner.example");
    Answer chain(kReverse, ns_t_ptr);
    chain.rr("", ns_t_cname, odd);
    chain.rr(odd, ns_t_ptr, Answer::wire("fine.example"));
    assert_int_equal(ptr(chain, &name, &herr), NSS_STATUS_SUCCESS);
    assert_string_equal(name.c_str(), "fine.example");
}

// Names up to the wire's limit (253 characters as text), not <sys/param.h>'s 64: PTR targets
// and canonical names.
void test_long_names(void**)
{
    std::string l63(63, 'b'), l61(61, 'a');
    std::string names[] = {std::string(30, 'x') + "." + std::string(30, 'y') + "." +
                               std::string(30, 'z') + ".long.example",
                           l63 + "." + l63 + "." + l63 + "." + l61};
    assert_int_equal(names[1].size(), 253);
    for (const std::string& n : names) {
        std::string name;
        int herr;
        Answer a(kReverse, ns_t_ptr);
        a.rr("", ns_t_ptr, Answer::wire(n));
        assert_int_equal(ptr(a, &name, &herr), NSS_STATUS_SUCCESS);
        assert_string_equal(name.c_str(), n.c_str());

        Answer f(Answer::wire("short.example"), ns_t_a);
        f.rr("", ns_t_cname, Answer::wire(n));
        f.rr(Answer::wire(n), ns_t_a, std::string("\012\065\007\145", 4));
        char buf[1024];
        gaih_addrtuple* at = nullptr;
        int err = 0;
        assert_int_equal(parse_addresses(f.data(), f.len(), nullptr, 0, &at, buf, sizeof buf,
                                         &err, &herr),
                         NSS_STATUS_SUCCESS);
        assert_non_null(at);
        assert_non_null(at->name);  // getaddrinfo's AI_CANONNAME reads it
        assert_string_equal(at->name, n.c_str());
    }
}

// A record cut short or an unreadable question: UNAVAIL, NO_RECOVERY and errno EMSGSIZE, which
// gethostbyname_r and friends return to the program.
void test_malformed_answers(void**)
{
    std::string name;
    int herr;
    Answer cut(kReverse, ns_t_ptr);
    cut.rr("", ns_t_ptr, Answer::wire("a.example"));
    cut.b.resize(cut.b.size() - 3);
    errno = 0;
    assert_int_equal(ptr(cut, &name, &herr), NSS_STATUS_UNAVAIL);
    assert_int_equal(herr, NO_RECOVERY);
    assert_int_equal(errno, EMSGSIZE);

    Answer cut_a(Answer::wire("a.example"), ns_t_a);
    cut_a.rr("", ns_t_a, std::string("\012\065\007\145", 4));
    cut_a.b.resize(cut_a.b.size() - 2);
    char buf[1024];
    gaih_addrtuple* at = nullptr;
    int err = 0;
    errno = 0;
    assert_int_equal(parse_addresses(cut_a.data(), cut_a.len(), nullptr, 0, &at, buf,
                                     sizeof buf, &err, &herr),
                     NSS_STATUS_UNAVAIL);
    assert_int_equal(herr, NO_RECOVERY);
    assert_int_equal(errno, EMSGSIZE);

    // A compressed question name (glibc wants it uncompressed), and one with a label type of
    // 0x40.
    static const char* const questions[] = {"\300\014", "\100abc"};
    for (const char* q : questions) {
        Answer a(std::string(q, strlen(q)) + '\0', ns_t_ptr);
        a.rr(Answer::wire("45.7.0.10.in-addr.arpa"), ns_t_ptr, Answer::wire("a.example"));
        errno = 0;
        assert_int_equal(ptr(a, &name, &herr), NSS_STATUS_UNAVAIL);
        assert_int_equal(herr, NO_RECOVERY);
        assert_int_equal(errno, EMSGSIZE);
    }
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
        cmocka_unit_test(test_ptr_target_must_be_host_name),
        cmocka_unit_test(test_long_names),
        cmocka_unit_test(test_malformed_answers),
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
