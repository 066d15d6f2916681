// CMocka unit tests of resolver/hostsfile: when the copy of a hosts file is read again, and
// that OS threads reading it while it is rewritten always get one whole version of it.  (That
// its answers are glibc's, call by call, is tests/tools/hosts_nss_check's part.)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../../resolver/hostsfile.h"

using namespace green::hostsfile;

namespace {

char path[] = "/tmp/hosts-unit-XXXXXX";

void put(const char* text)
{
    int fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), ssize_t(strlen(text)));
    close(fd);
}

// The first address of name for af as a string, or "" when not found.
std::string lookup(Cache& c, const char* name, int af, bool multi = false)
{
    Snapshot* s = c.acquire();
    if (!s)
        return "no copy";
    hostent he;
    char buf[1024];
    int err = 0, herr = 0;
    nss_status st = gethostbyname3_r(s, multi, name, af, &he, buf, sizeof buf, &err, &herr,
                                     nullptr);
    Cache::release(s);
    if (st != NSS_STATUS_SUCCESS)
        return "";
    std::string out;
    for (char** a = he.h_addr_list; *a; a++) {
        char text[INET6_ADDRSTRLEN];
        inet_ntop(af, *a, text, sizeof text);
        out += out.empty() ? "" : " ";
        out += text;
    }
    return out;
}

int setup(void**)
{
    strcpy(path, "/tmp/hosts-unit-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    fchmod(fd, 0644);  // a copy of a file not everyone may read is never kept
    close(fd);
    return 0;
}

int teardown(void**)
{
    unlink(path);
    return 0;
}

void test_answers(void**)
{
    Cache c(path);
    put("# comment\n10.0.0.1 one One-Alias\n10.0.0.2 two\n10.0.0.3 one\n2001:db8::1 one\n"
        "::ffff:10.0.0.4 mapped\n10.0.0.999 bad\n");
    assert_string_equal(lookup(c, "one", AF_INET).c_str(), "10.0.0.1");
    assert_string_equal(lookup(c, "ONE-ALIAS", AF_INET).c_str(), "10.0.0.1");
    assert_string_equal(lookup(c, "one", AF_INET, true).c_str(), "10.0.0.1 10.0.0.3");
    assert_string_equal(lookup(c, "one", AF_INET6).c_str(), "2001:db8::1");
    assert_string_equal(lookup(c, "two", AF_INET6).c_str(), "");
    assert_string_equal(lookup(c, "mapped", AF_INET).c_str(), "10.0.0.4");
    assert_string_equal(lookup(c, "bad", AF_INET).c_str(), "");

    Snapshot* s = c.acquire();
    assert_non_null(s);
    hostent he;
    char small[40];
    int err = 0, herr = 0;
    errno = 0;
    assert_int_equal(gethostbyname3_r(s, false, "one", AF_INET, &he, small, sizeof small, &err,
                                      &herr, nullptr),
                     NSS_STATUS_TRYAGAIN);
    assert_int_equal(err, ERANGE);
    assert_int_equal(herr, NETDB_INTERNAL);
    Cache::release(s);
}

void test_fresh_file_read_every_time(void**)
{
    Cache c(path);
    put("10.0.0.1 host\n");
    assert_string_equal(lookup(c, "host", AF_INET).c_str(), "10.0.0.1");
    assert_string_equal(lookup(c, "host", AF_INET).c_str(), "10.0.0.1");
    // Changed less than a second ago: a change in the same tick could keep its identity.
    assert_int_equal(c.loads(), 2);
}

void test_old_file_read_once(void**)
{
    Cache c(path);
    put("10.0.0.1 host\n");
    usleep(1100 * 1000);
    assert_string_equal(lookup(c, "host", AF_INET).c_str(), "10.0.0.1");
    assert_string_equal(lookup(c, "host", AF_INET).c_str(), "10.0.0.1");
    assert_string_equal(lookup(c, "host", AF_INET).c_str(), "10.0.0.1");
    assert_int_equal(c.loads(), 1);
    put("10.0.0.2 host\n");  // the same size
    assert_string_equal(lookup(c, "host", AF_INET).c_str(), "10.0.0.2");
    assert_int_equal(c.loads(), 2);
    unlink(path);
    assert_null(c.acquire());  // no file: glibc's own code answers
}

std::atomic<bool> stop{false};
std::atomic<long> wrong{0}, answered{0};

void* reader(void* arg)
{
    auto* c = static_cast<Cache*>(arg);
    while (!stop.load()) {
        std::string a = lookup(*c, "host", AF_INET, true);
        if (a != "10.0.0.1" && a != "10.0.0.2 10.0.0.3" && wrong++ < 3)
            fprintf(stderr, "wrong answer: '%s'\n", a.c_str());
        answered++;
    }
    return nullptr;
}

void test_threads_while_rewritten(void**)
{
    Cache c(path);
    // Replaced whole by rename, so that a reader never sees a half-written file.
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    const char* versions[] = {"10.0.0.1 host\n", "10.0.0.2 host other\n10.0.0.3 host\n"};
    put(versions[0]);
    pthread_t t[4];
    for (auto& th : t)
        assert_int_equal(pthread_create(&th, nullptr, reader, &c), 0);
    for (int i = 0; i < 300; i++) {
        FILE* f = fopen(tmp, "w");
        assert_non_null(f);
        fputs(versions[i % 2], f);
        fclose(f);
        assert_int_equal(rename(tmp, path), 0);
        usleep(200);
    }
    stop = true;
    for (auto& th : t)
        pthread_join(th, nullptr);
    // Each answer came from one whole version: "multi on" collects both lines of the second.
    assert_true(answered.load() > 0);
    assert_int_equal(wrong.load(), 0);
    assert_true(c.loads() > 1);
}

}  // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fresh_file_read_every_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_file_read_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_while_rewritten, setup, teardown),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
