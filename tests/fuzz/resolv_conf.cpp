// Fuzz harness: libgreen's resolv.conf parser (resolver/conf.cpp) against glibc 2.36's own
// (res_init), on the same bytes, the same LOCALDOMAIN and RES_OPTIONS and the same host name.
//
// Input: one byte of flags, then, for each flag set, in this order, a value ending at the next
// NUL byte: LOCALDOMAIN (bit 0), RES_OPTIONS (bit 1), the host name (bit 2, at most 64 bytes);
// what follows is the file, NUL bytes and all.  Unset flags leave the variable unset and the
// host name "fuzz" (no domain part).
//
// glibc reads /etc/resolv.conf only, and caches what it read while the file's inode and times
// stay the same (the environment variables are not part of that check).  So the harness runs in
// a mount and UTS namespace of its own (unshare as root, once), with a file of its own
// bind-mounted on /etc/resolv.conf, and asks glibc for a fresh parse each time: res_init() with
// a "pre-initialised" _res (a retry count the parser can never produce, 1000) loads the file
// again instead of taking the cached copy.  The fields compared are what libgreen uses: the
// first MAXNS name servers (IPv6 ones with their scope ids), the whole search list (glibc's
// extended state: _res.dnsrch holds only six of it), ndots, timeout, attempts, and the options
// rotate, edns0, use-vc, no-tld-query and no-aaaa.  A difference aborts with both sides.
// Inputs on which glibc aborts (see glibc_asserts) are parsed by libgreen only.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../../resolver/resolver.h"

// glibc 2.36's extended resolver state (resolv/resolv_conf.h, resolv/resolv_context.h),
// reached through its GLIBC_PRIVATE __resolv_context_get_override: the only place where the
// whole search list and name server list are kept.  Checked against _res at every use.
struct glibc_resolv_conf {
    size_t refcount;
    const sockaddr** nameserver_list;
    size_t nameserver_list_size;
    const char* const* search_list;
    size_t search_list_size;
    const void* sort_list;
    size_t sort_list_size;
    unsigned options, retrans, retry, ndots;
};
struct glibc_resolv_context {
    struct __res_state* resp;
    glibc_resolv_conf* conf;
    size_t refcount;
    bool from_res;
    glibc_resolv_context* next;
};
extern "C" glibc_resolv_context* __resolv_context_get_override(struct __res_state*);
extern "C" void __resolv_context_put(glibc_resolv_context*);

namespace {

const char kPath[] = "/etc/resolv.conf";  // in this process's mount namespace: its own file
constexpr int kPreinitRetry = 1000;  // above RES_MAXRETRY: never the parser's

std::string show_addr(const sockaddr* sa)
{
    char buf[INET6_ADDRSTRLEN + 16];
    if (!sa)
        return "(none)";
    if (sa->sa_family == AF_INET) {
        auto* s = reinterpret_cast<const sockaddr_in*>(sa);
        inet_ntop(AF_INET, &s->sin_addr, buf, sizeof buf);
        return std::string(buf) + " port " + std::to_string(ntohs(s->sin_port));
    }
    if (sa->sa_family == AF_INET6) {
        auto* s = reinterpret_cast<const sockaddr_in6*>(sa);
        inet_ntop(AF_INET6, &s->sin6_addr, buf, sizeof buf);
        return std::string(buf) + "%" + std::to_string(s->sin6_scope_id) + " port " +
               std::to_string(ntohs(s->sin6_port));
    }
    return "family " + std::to_string(sa->sa_family);
}

std::string quoted(const char* s)
{
    std::string out = "\"";
    for (; *s; s++) {
        unsigned char c = static_cast<unsigned char>(*s);
        if (c < 32 || c > 126 || c == '"' || c == '\\') {
            char b[8];
            snprintf(b, sizeof b, "\\x%02x", c);
            out += b;
        } else {
            out += char(c);
        }
    }
    return out + "\"";
}

// One side's view, as text, so that the two can be compared and shown.
struct View {
    std::vector<std::string> servers, search;
    int ndots = 0, timeout = 0, attempts = 0;
    bool rotate = false, edns0 = false, use_vc = false, no_tld_query = false, no_aaaa = false;

    std::string text() const
    {
        std::string t;
        for (auto& s : servers)
            t += "nameserver " + s + "\n";
        t += "search";
        for (auto& s : search)
            t += " " + s;
        t += "\nndots " + std::to_string(ndots) + " timeout " + std::to_string(timeout) +
             " attempts " + std::to_string(attempts) + " rotate " + std::to_string(rotate) +
             " edns0 " + std::to_string(edns0) + " use-vc " + std::to_string(use_vc) +
             " no-tld-query " + std::to_string(no_tld_query) + " no-aaaa " +
             std::to_string(no_aaaa) + "\n";
        return t;
    }
};

[[noreturn]] void fail(const char* what)
{
    fprintf(stderr, "resolv_conf: %s\n", what);
    abort();
}

View glibc_view()
{
    // A fresh parse: res_init keeps retry, retrans and options it finds set, and a retry other
    // than the default makes it load the file instead of reusing the cached configuration.
    if (_res.options & RES_INIT)
        res_nclose(&_res);  // frees the copies of IPv6 server addresses
    _res.options = RES_DEFAULT;
    _res.retrans = RES_TIMEOUT;
    _res.retry = kPreinitRetry;
    if (res_init() != 0)
        fail("res_init failed");
    glibc_resolv_context* ctx = __resolv_context_get_override(&_res);
    if (!ctx || ctx->resp != &_res || !ctx->conf)
        fail("no extended resolver state: not glibc 2.36's layout?");
    const glibc_resolv_conf* gc = ctx->conf;
    if (int(gc->retry) != _res.retry || gc->nameserver_list_size < size_t(_res.nscount) ||
        (gc->search_list_size > 0 && _res.dnsrch[0] && strcmp(gc->search_list[0], _res.dnsrch[0])))
        fail("glibc's extended state does not match _res: not glibc 2.36's layout?");
    View v;
    for (int i = 0; i < _res.nscount; i++) {
        const sockaddr* sa = _res.nsaddr_list[i].sin_family == AF_INET
                                 ? reinterpret_cast<const sockaddr*>(&_res.nsaddr_list[i])
                                 : reinterpret_cast<const sockaddr*>(_res._u._ext.nsaddrs[i]);
        v.servers.push_back(show_addr(sa));
    }
    for (size_t i = 0; i < gc->search_list_size; i++)
        v.search.push_back(quoted(gc->search_list[i]));
    v.ndots = int(_res.ndots);
    v.timeout = _res.retrans;
    v.attempts = _res.retry == kPreinitRetry ? RES_DFLRETRY : _res.retry;
    v.rotate = _res.options & RES_ROTATE;
    v.edns0 = _res.options & RES_USE_EDNS0;
    v.use_vc = _res.options & RES_USEVC;
    v.no_tld_query = _res.options & RES_NOTLDQUERY;
    v.no_aaaa = _res.options & RES_NOAAAA;
    __resolv_context_put(ctx);
    return v;
}

View green_view(const green::dns::Conf& c)
{
    View v;
    for (int i = 0; i < c.nservers; i++)
        v.servers.push_back(show_addr(reinterpret_cast<const sockaddr*>(&c.servers[i])));
    for (int i = 0; i < c.nsearch; i++)
        v.search.push_back(quoted(c.search[i]));
    v.ndots = c.ndots;
    v.timeout = c.timeout;
    v.attempts = c.attempts;
    v.rotate = c.rotate;
    v.edns0 = c.edns0;
    v.use_vc = c.use_vc;
    v.no_tld_query = c.no_tld_query;
    v.no_aaaa = c.no_aaaa;
    return v;
}

// Whether glibc 2.36's res_init fails its own assertion on this search list (and aborts the
// program: update_from_conf's check of _res against its extended state): when _res.dnsrch,
// which holds the first six domains in 256 bytes, is cut short by the room before six, and
// the domains before the cut take no more than 56 bytes (it compares with sizeof dnsrch, not
// sizeof defdname): a first domain of 256 bytes or more, or "a.test" followed by one of 250.
// Such a file makes every glibc look-up abort, so there is no answer of glibc's to compare
// with; libgreen keeps the whole list (and must not crash on it).
bool glibc_asserts(const green::dns::Conf& c)
{
    size_t used = 0;
    for (int i = 0; i < c.nsearch && i < MAXDNSRCH; i++) {
        size_t len = strlen(c.search[i]) + 1;
        if (used + len > sizeof _res.defdname)
            return used <= sizeof _res.dnsrch;
        used += len;
    }
    return false;
}

// The next NUL-terminated value of the input, or nullptr at its end.
std::string take(const uint8_t*& p, const uint8_t* end)
{
    const uint8_t* z = static_cast<const uint8_t*>(memchr(p, 0, size_t(end - p)));
    const uint8_t* stop = z ? z : end;
    std::string s(reinterpret_cast<const char*>(p), size_t(stop - p));
    p = z ? z + 1 : end;
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    // Before any thread exists (unshare refuses a process with several).
    char file[] = "/tmp/green-fuzz-resolv-XXXXXX";
    int fd = mkstemp(file);
    if (fd < 0)
        fail("cannot create the test file");
    close(fd);
    if (unshare(CLONE_NEWNS | CLONE_NEWUTS) != 0)
        fail("unshare(CLONE_NEWNS | CLONE_NEWUTS) failed: this harness runs as root");
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount(file, kPath, nullptr, MS_BIND, nullptr) != 0)
        fail("cannot bind-mount the test file on /etc/resolv.conf");
    unlink(file);  // the mount keeps it
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t* p = data + 1;
    const uint8_t* end = data + size;
    unsigned flags = data[0];
    if (flags & 1)
        setenv("LOCALDOMAIN", take(p, end).c_str(), 1);
    else
        unsetenv("LOCALDOMAIN");
    if (flags & 2)
        setenv("RES_OPTIONS", take(p, end).c_str(), 1);
    else
        unsetenv("RES_OPTIONS");
    std::string host = flags & 4 ? take(p, end) : "fuzz";
    if (host.size() > 64)
        host.resize(64);
    if (sethostname(host.data(), host.size()) != 0)
        fail("sethostname failed");

    FILE* f = fopen(kPath, "r+");
    if (!f || ftruncate(fileno(f), 0) != 0 ||
        fwrite(p, 1, size_t(end - p), f) != size_t(end - p) || fclose(f) != 0)
        fail("cannot write the test file");

    static green::dns::Conf c;
    green::dns::conf_parse(kPath, &c);
    if (glibc_asserts(c))
        return 0;
    View want = glibc_view();
    View got = green_view(c);
    if (want.text() != got.text()) {
        fprintf(stderr, "resolv_conf: libgreen differs from glibc\n--- glibc\n%s--- libgreen\n%s",
                want.text().c_str(), got.text().c_str());
        abort();
    }
    return 0;
}
