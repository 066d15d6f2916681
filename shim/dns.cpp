// DNS: the hosts database's "dns" source, the res_* query functions, and the non-reentrant
// gethostby* functions.
//
// glibc's resolver talks to the name server through internal socket calls that no wrapper
// sees.  Rather than re-implement getaddrinfo and friends (their /etc/hosts handling, RFC 3484
// sorting, hint and error rules), libgreen keeps glibc's and replaces only the network source:
// at start-up the "dns" entry of the hosts line of nsswitch.conf is re-pointed at a module
// named "green" (__nss_configure_lookup); glibc loads it as libnss_green.so.2, which is
// libgreen itself (that is its SONAME, so dlopen finds it already loaded), and calls the
// _nss_green_* functions below.  On a green thread they run resolver/ on c-ares, parking
// instead of blocking; elsewhere (the hub's loop, unmanaged OS threads) they call glibc's own
// _nss_dns_* functions, which block as they always did.  The "files" source becomes libgreen's
// "greenfiles", which answers from a copy of /etc/hosts (shim/hostsfile.cpp).  Other sources in
// the hosts line (mdns, myhostname, ...) stay as they are: modules loaded from their own
// libraries call libc through the PLT, so their sockets are green.
#include <dlfcn.h>
#include <netdb.h>
#include <nss.h>
#include <resolv.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "../hub/chaos.h"
#include "../hub/config.h"
#include "../hub/log.h"
#include "../hub/waitq.h"
#include "../resolver/hosts.h"
#include "../resolver/resolver.h"
#include "shim.h"

using namespace green;

extern "C" int __nss_configure_lookup(const char* db, const char* line);

namespace {

// glibc's own "dns" source, for callers that are not green threads.
struct GlibcDns {
    decltype(&dns::gethostbyname4_r) byname4;
    decltype(&dns::gethostbyname3_r) byname3;
    decltype(&dns::gethostbyaddr2_r) byaddr2;
} glibc_dns;

template <typename F>
bool private_symbol(F* f, const char* name)
{
    *f = reinterpret_cast<F>(dlvsym(RTLD_NEXT, name, "GLIBC_PRIVATE"));
    return *f != nullptr;
}

// The hosts line of nsswitch.conf; glibc's default without one is "dns [!UNAVAIL=return] files".
void hosts_line(char* line, size_t len)
{
    snprintf(line, len, "%s", "dns [!UNAVAIL=return] files");
    if (FILE* f = fopen("/etc/nsswitch.conf", "re")) {
        char buf[1024];
        while (fgets(buf, sizeof buf, f)) {
            char* p = buf + strspn(buf, " \t");
            if (strncmp(p, "hosts:", 6) != 0)
                continue;
            p += 6;
            p[strcspn(p, "#\n")] = '\0';
            snprintf(line, len, "%s", p);
        }
        fclose(f);
    }
}

// line with every source named from renamed to, actions in brackets kept; false when it
// names no such source (out is then line).
bool rename_source(const char* line, const char* from, const char* to, char* out, size_t outlen)
{
    size_t o = 0, nfrom = strlen(from), nto = strlen(to);
    bool found = false, in_action = false;
    for (const char* p = line; *p && o + nto + 1 < outlen;) {
        if (*p == '[')
            in_action = true;
        else if (*p == ']')
            in_action = false;
        bool word_start = p == line || strchr(" \t]", p[-1]);
        if (!in_action && word_start && strncmp(p, from, nfrom) == 0 &&
            (p[nfrom] == '\0' || strchr(" \t[", p[nfrom]))) {
            memcpy(out + o, to, nto);
            o += nto;
            p += nfrom;
            found = true;
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
    return found;
}

// A lock for the calls glibc serialises with an internal lock held across the look-up
// (gethostbyname's static result, getnameinfo's first NI_NOFQDN): a green thread waiting
// there must park, not block the OS thread that holds the parked owner.
class GreenLock {
public:
    void lock()
    {
        uint32_t c = 0;
        if (word_.compare_exchange_strong(c, 1))
            return;
        if (c != 2)
            c = word_.exchange(2);
        while (c != 0) {
            futex_wait(reinterpret_cast<uint32_t*>(&word_), 2, kForever, false, "gethostbyname");
            c = word_.exchange(2);
        }
    }
    void unlock()
    {
        if (word_.exchange(0) == 2)
            futex_wake(reinterpret_cast<uint32_t*>(&word_), 1, true);
    }

private:
    std::atomic<uint32_t> word_{0};
};

GreenLock static_result_lock;

}  // namespace

void green::dns_setup()
{
    if (!family_green(kDns))
        return;  // glibc's own resolver, which blocks the OS thread
    bool dns = private_symbol(&glibc_dns.byname4, "_nss_dns_gethostbyname4_r") &&
               private_symbol(&glibc_dns.byname3, "_nss_dns_gethostbyname3_r") &&
               private_symbol(&glibc_dns.byaddr2, "_nss_dns_gethostbyaddr2_r");
    if (!dns)
        GREEN_WARN("this C library has no _nss_dns functions: DNS look-ups block the hub");
    char line[1024], step[1200], out[1400];
    hosts_line(line, sizeof line);
    bool renamed = dns && rename_source(line, "dns", "green", step, sizeof step);
    if (!renamed)
        snprintf(step, sizeof step, "%s", line);
    // The files module is loaded only for a hosts line that names the files source.
    if (rename_source(step, "files", "greenfiles", out, sizeof out) && files_setup())
        renamed = true;
    else
        snprintf(out, sizeof out, "%s", step);
    if (renamed && __nss_configure_lookup("hosts", out) != 0)
        GREEN_WARN("cannot configure the hosts database: DNS look-ups block the hub");
}

// ---- the NSS module "green" ----

namespace {

// GREEN_INJECT's DNS faults: dns-delay waits first; dns-fail fails the look-up as a silent
// name server does, dns-nxdomain as one that says the name does not exist.
bool injected_failure(const char* name, int* errnop, int* herrnop, nss_status* status)
{
    switch (inject_dns(name)) {
    case kDnsFail:
        *errnop = EAGAIN;
        *herrnop = TRY_AGAIN;
        *status = NSS_STATUS_TRYAGAIN;
        return true;
    case kDnsNxdomain:
        *errnop = ENOENT;
        *herrnop = HOST_NOT_FOUND;
        *status = NSS_STATUS_NOTFOUND;
        return true;
    default:
        return false;
    }
}

}  // namespace

GREEN_EXPORT nss_status _nss_green_gethostbyname4_r(const char* name, gaih_addrtuple** pat,
                                                    char* buffer, size_t buflen, int* errnop,
                                                    int* herrnop, int32_t* ttlp)
{
    nss_status injected;
    if (green_self() && injected_failure(name, errnop, herrnop, &injected))
        return injected;
    if (green_self())
        return dns::gethostbyname4_r(name, pat, buffer, buflen, errnop, herrnop, ttlp);
    return glibc_dns.byname4(name, pat, buffer, buflen, errnop, herrnop, ttlp);
}

GREEN_EXPORT nss_status _nss_green_gethostbyname3_r(const char* name, int af, hostent* result,
                                                    char* buffer, size_t buflen, int* errnop,
                                                    int* herrnop, int32_t* ttlp, char** canonp)
{
    nss_status injected;
    if (green_self() && injected_failure(name, errnop, herrnop, &injected))
        return injected;
    if (green_self())
        return dns::gethostbyname3_r(name, af, result, buffer, buflen, errnop, herrnop, ttlp,
                                     canonp);
    return glibc_dns.byname3(name, af, result, buffer, buflen, errnop, herrnop, ttlp, canonp);
}

// As glibc's: the 2 and plain variants first check that the name is a host name.
GREEN_EXPORT nss_status _nss_green_gethostbyname2_r(const char* name, int af, hostent* result,
                                                    char* buffer, size_t buflen, int* errnop,
                                                    int* herrnop)
{
    if (!res_hnok(name)) {
        *herrnop = HOST_NOT_FOUND;
        return NSS_STATUS_NOTFOUND;
    }
    return _nss_green_gethostbyname3_r(name, af, result, buffer, buflen, errnop, herrnop,
                                       nullptr, nullptr);
}

GREEN_EXPORT nss_status _nss_green_gethostbyname_r(const char* name, hostent* result,
                                                   char* buffer, size_t buflen, int* errnop,
                                                   int* herrnop)
{
    return _nss_green_gethostbyname2_r(name, AF_INET, result, buffer, buflen, errnop, herrnop);
}

GREEN_EXPORT nss_status _nss_green_gethostbyaddr2_r(const void* addr, socklen_t len, int af,
                                                    hostent* result, char* buffer, size_t buflen,
                                                    int* errnop, int* herrnop, int32_t* ttlp)
{
    if (green_self())
        return dns::gethostbyaddr2_r(addr, len, af, result, buffer, buflen, errnop, herrnop,
                                     ttlp);
    return glibc_dns.byaddr2(addr, len, af, result, buffer, buflen, errnop, herrnop, ttlp);
}

GREEN_EXPORT nss_status _nss_green_gethostbyaddr_r(const void* addr, socklen_t len, int af,
                                                   hostent* result, char* buffer, size_t buflen,
                                                   int* errnop, int* herrnop)
{
    return _nss_green_gethostbyaddr2_r(addr, len, af, result, buffer, buflen, errnop, herrnop,
                                       nullptr);
}

// ---- the non-reentrant look-ups: one static result, as glibc's ----

namespace {

struct StaticHost {
    hostent host{};
    char* buffer = nullptr;
    size_t size = 0;
} static_host;

// Runs a reentrant look-up into the static result, growing its buffer on ERANGE as glibc does.
template <typename Lookup>
hostent* static_lookup(Lookup lookup)
{
    static_result_lock.lock();
    hostent* result = nullptr;
    int herr = NETDB_INTERNAL;
    for (;;) {
        if (!static_host.buffer) {
            static_host.size = 1024;
            static_host.buffer = static_cast<char*>(malloc(static_host.size));
            if (!static_host.buffer)
                break;
        }
        int rc = lookup(&static_host.host, static_host.buffer, static_host.size, &result, &herr);
        if (rc != ERANGE || herr != NETDB_INTERNAL)
            break;
        char* bigger = static_cast<char*>(realloc(static_host.buffer, static_host.size * 2));
        if (!bigger) {
            result = nullptr;
            errno = ENOMEM;
            break;
        }
        static_host.buffer = bigger;
        static_host.size *= 2;
    }
    static_result_lock.unlock();
    h_errno = herr;
    return result;
}

}  // namespace

GREEN_EXPORT hostent* gethostbyname2(const char* name, int af)
{
    if (!green_in(kDns))
        return REAL(gethostbyname2)(name, af);
    return static_lookup([&](hostent* h, char* b, size_t n, hostent** r, int* e) {
        return gethostbyname2_r(name, af, h, b, n, r, e);
    });
}

GREEN_EXPORT hostent* gethostbyname(const char* name)
{
    if (!green_in(kDns))
        return REAL(gethostbyname)(name);
    return static_lookup([&](hostent* h, char* b, size_t n, hostent** r, int* e) {
        return gethostbyname_r(name, h, b, n, r, e);
    });
}

GREEN_EXPORT hostent* gethostbyaddr(const void* addr, socklen_t len, int type)
{
    if (!green_in(kDns))
        return REAL(gethostbyaddr)(addr, len, type);
    return static_lookup([&](hostent* h, char* b, size_t n, hostent** r, int* e) {
        return gethostbyaddr_r(addr, len, type, h, b, n, r, e);
    });
}

// glibc computes the local domain for NI_NOFQDN once, holding an internal lock across a host
// look-up: the first such call must not be entered by a second green thread meanwhile.
GREEN_EXPORT int getnameinfo(const sockaddr* sa, socklen_t salen, char* host, socklen_t hostlen,
                             char* serv, socklen_t servlen, int flags)
{
    if (!green_in(kDns) || !(flags & NI_NOFQDN))
        return REAL(getnameinfo)(sa, salen, host, hostlen, serv, servlen, flags);
    static_result_lock.lock();
    int rc = REAL(getnameinfo)(sa, salen, host, hostlen, serv, servlen, flags);
    static_result_lock.unlock();
    return rc;
}

// ---- res_query and friends ----

namespace {

// Copies what fits of a response into the caller's buffer, and frees it.
// Returns what glibc returns for it (resolv/res_send.c): a datagram is read into the buffer and
// cut there, and its length is what was read; over TCP (RES_USEVC, or the retry after an answer
// with TC) the length word says the full length, which comes back, with TC set in the copy.
int copy_response(dns::Packet* p, unsigned char* answer, int anslen)
{
    int full = p->len;
    int len = full < anslen ? full : anslen;
    if (len > 0) {
        memcpy(answer, p->data, size_t(len));
        if (len < full && p->tcp)
            answer[2] |= 0x02;
        else
            full = len;
    }
    free(p->data);
    *p = dns::Packet{};
    return full;
}

// Copies a response into the caller's buffer (also after a failure, as glibc leaves the
// response it got there), frees it, and returns what res_query returns.
int deliver(int n, int herr, dns::Packet* a1, dns::Packet* a2, unsigned char* answer,
            int anslen, res_state statp)
{
    // A caller that asked for TCP gets what glibc's stream transport returns, also when the
    // channel (which has the configuration's transport) asked over UDP.
    if (statp && (statp->options & RES_USEVC))
        a1->tcp = true;
    int full = copy_response(a1, answer, anslen);
    free(a2->data);
    if (n < 0) {
        h_errno = herr;
        if (statp)
            statp->res_h_errno = herr;
        return -1;
    }
    return full;
}

// Whether a caller's resolver state names the servers libgreen's configuration names (then
// the query can go green; a program that set servers of its own gets glibc's code).
bool same_servers(res_state statp)
{
    if (!statp || !(statp->options & RES_INIT))
        return false;
    const dns::Conf& cf = dns::conf();
    if (statp->nscount != cf.nservers)
        return false;
    for (int i = 0; i < cf.nservers; i++) {
        const auto* mine = reinterpret_cast<const sockaddr_in*>(&cf.servers[i]);
        const sockaddr_in& theirs = statp->nsaddr_list[i];
        if (mine->sin_family != AF_INET) {
            if (theirs.sin_family != 0 && theirs.sin_family != AF_INET6)
                return false;
            continue;
        }
        if (theirs.sin_family != AF_INET || theirs.sin_addr.s_addr != mine->sin_addr.s_addr ||
            theirs.sin_port != mine->sin_port)
            return false;
    }
    return true;
}

// glibc's send refuses a buffer that cannot hold a header; the query then fails to be sent.
int too_small(int* herr)
{
    errno = EINVAL;
    *herr = TRY_AGAIN;
    return -1;
}

int green_query(const char* name, int cls, int type, unsigned char* answer, int anslen,
                res_state statp)
{
    dns::Packet a1, a2;
    int herr = 0;
    int n = anslen < NS_HFIXEDSZ ? too_small(&herr)
                                 : dns::query(name, cls, type, &a1, &a2, &herr, statp, anslen);
    return deliver(n, herr, &a1, &a2, answer, anslen, statp);
}

int green_search(const char* name, int cls, int type, unsigned char* answer, int anslen,
                 res_state statp)
{
    dns::Packet a1, a2;
    int herr = 0;
    int n = anslen < NS_HFIXEDSZ ? too_small(&herr)
                                 : dns::search(name, cls, type, &a1, &a2, &herr, statp, anslen);
    return deliver(n, herr, &a1, &a2, answer, anslen, statp);
}

int green_querydomain(const char* name, const char* domain, int cls, int type,
                      unsigned char* answer, int anslen, res_state statp)
{
    dns::Packet a1, a2;
    int herr = 0;
    int n = anslen < NS_HFIXEDSZ ? too_small(&herr)
                                 : dns::querydomain(name, domain, cls, type, &a1, &a2, &herr, statp,
                                                   anslen);
    return deliver(n, herr, &a1, &a2, answer, anslen, statp);
}

int green_send(const unsigned char* msg, int msglen, unsigned char* answer, int anslen,
               bool use_vc, bool ignore_tc)
{
    if (anslen < NS_HFIXEDSZ) {
        errno = EINVAL;
        return -1;
    }
    if (msglen < NS_HFIXEDSZ) {
        // glibc sends it and no server can answer it; c-ares refuses to send it.  The result
        // is the same, only sooner.
        errno = ETIMEDOUT;
        return -1;
    }
    dns::Packet a;
    int n = dns::send_raw(msg, msglen, &a, use_vc, ignore_tc);
    if (n < 0)
        return -1;
    // c-ares sends under an id of its own: the caller matches the response to its query.
    a.data[0] = msg[0];
    a.data[1] = msg[1];
    a.tcp = a.tcp || use_vc;  // as in deliver
    return copy_response(&a, answer, anslen);
}

bool green_resolver() { return green_in(kDns) != nullptr; }

}  // namespace

GREEN_EXPORT int res_query(const char* name, int cls, int type, unsigned char* answer, int anslen)
{
    if (!green_resolver())
        return REAL(res_query)(name, cls, type, answer, anslen);
    return green_query(name, cls, type, answer, anslen, nullptr);
}

GREEN_EXPORT int res_search(const char* name, int cls, int type, unsigned char* answer,
                            int anslen)
{
    if (!green_resolver())
        return REAL(res_search)(name, cls, type, answer, anslen);
    return green_search(name, cls, type, answer, anslen, nullptr);
}

GREEN_EXPORT int res_querydomain(const char* name, const char* domain, int cls, int type,
                                 unsigned char* answer, int anslen)
{
    if (!green_resolver())
        return REAL(res_querydomain)(name, domain, cls, type, answer, anslen);
    return green_querydomain(name, domain, cls, type, answer, anslen, nullptr);
}

GREEN_EXPORT int res_send(const unsigned char* msg, int msglen, unsigned char* answer, int anslen)
{
    if (!green_resolver())
        return REAL(res_send)(msg, msglen, answer, anslen);
    return green_send(msg, msglen, answer, anslen, dns::conf().use_vc, false);
}

GREEN_EXPORT int res_nquery(res_state statp, const char* name, int cls, int type,
                            unsigned char* answer, int anslen)
{
    if (!green_resolver() || !same_servers(statp))
        return REAL(res_nquery)(statp, name, cls, type, answer, anslen);
    return green_query(name, cls, type, answer, anslen, statp);
}

GREEN_EXPORT int res_nsearch(res_state statp, const char* name, int cls, int type,
                             unsigned char* answer, int anslen)
{
    if (!green_resolver() || !same_servers(statp))
        return REAL(res_nsearch)(statp, name, cls, type, answer, anslen);
    return green_search(name, cls, type, answer, anslen, statp);
}

GREEN_EXPORT int res_nquerydomain(res_state statp, const char* name, const char* domain, int cls,
                                  int type, unsigned char* answer, int anslen)
{
    if (!green_resolver() || !same_servers(statp))
        return REAL(res_nquerydomain)(statp, name, domain, cls, type, answer, anslen);
    return green_querydomain(name, domain, cls, type, answer, anslen, statp);
}

GREEN_EXPORT int res_nsend(res_state statp, const unsigned char* msg, int msglen,
                           unsigned char* answer, int anslen)
{
    if (!green_resolver() || !same_servers(statp))
        return REAL(res_nsend)(statp, msg, msglen, answer, anslen);
    return green_send(msg, msglen, answer, anslen, (statp->options & RES_USEVC) != 0,
                      (statp->options & (RES_IGNTC | RES_USEVC)) == RES_IGNTC);
}

// With GREEN_RESOLV_CONF, a resolver state the program initialises itself describes that
// configuration too, so that res_n* calls on it query the same servers (and go green).  Only
// IPv4 servers fit the legacy state: IPv6 ones are left out of it.
namespace {

void apply_green_conf(res_state s)
{
    const dns::Conf& cf = dns::conf();
    s->retrans = cf.timeout;
    s->retry = cf.attempts;
    s->ndots = cf.ndots & 15;
    auto flag = [&](unsigned long f, bool on) { s->options = on ? s->options | f : s->options & ~f; };
    flag(RES_ROTATE, cf.rotate);
    flag(RES_USE_EDNS0, cf.edns0);
    flag(RES_USEVC, cf.use_vc);
    flag(RES_NOTLDQUERY, cf.no_tld_query);
    int n = 0;
    for (int i = 0; i < cf.nservers; i++)
        if (cf.servers[i].sin6_family == AF_INET)
            memcpy(&s->nsaddr_list[n++], &cf.servers[i], sizeof(sockaddr_in));
    s->nscount = n;
    size_t used = 0;
    int k = 0;
    for (int i = 0; i < cf.nsearch && k < MAXDNSRCH; i++) {
        size_t len = strlen(cf.search[i]) + 1;
        if (used + len > sizeof s->defdname)
            break;
        memcpy(s->defdname + used, cf.search[i], len);
        s->dnsrch[k++] = s->defdname + used;
        used += len;
    }
    s->dnsrch[k] = nullptr;
}

bool green_conf_file() { return config.resolv_conf != nullptr; }

}  // namespace

GREEN_EXPORT int __res_ninit(res_state s)
{
    int rc = REAL(__res_ninit)(s);
    if (rc == 0 && green_conf_file())
        apply_green_conf(s);
    return rc;
}

GREEN_EXPORT int __res_init()
{
    int rc = REAL(__res_init)();
    if (rc == 0 && green_conf_file())
        apply_green_conf(&_res);
    return rc;
}

// Programs linked before glibc 2.34 call the same functions under their old names.
#define GREEN_RES_ALIAS(old, name) \
    GREEN_EXPORT __typeof__(name) old __attribute__((alias(#name), copy(name)));
GREEN_RES_ALIAS(__res_query, res_query)
GREEN_RES_ALIAS(__res_search, res_search)
GREEN_RES_ALIAS(__res_querydomain, res_querydomain)
GREEN_RES_ALIAS(__res_send, res_send)
GREEN_RES_ALIAS(__res_nquery, res_nquery)
GREEN_RES_ALIAS(__res_nsearch, res_nsearch)
GREEN_RES_ALIAS(__res_nquerydomain, res_nquerydomain)
GREEN_RES_ALIAS(__res_nsend, res_nsend)
