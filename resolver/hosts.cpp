// Host look-ups over DNS with glibc 2.36's rules (resolv/nss_dns/dns-host.c): which records of
// a response count (class IN, the owner matching the name the CNAME chain leads to, the right
// length), which names are host names, how A and AAAA results combine, and the ERANGE
// protocol by which glibc asks again with a larger buffer.
#include "hosts.h"

#include "resolver.h"

#include "../hub/green.h"

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace green::dns {

namespace {

// ---- the caller's buffer, filled front to back (glibc's alloc_buffer) ----
struct Abuf {
    char* cur;
    size_t left;
    bool failed = false;

    void* alloc(size_t size, size_t align)
    {
        if (failed)
            return nullptr;
        uintptr_t p = (uintptr_t(cur) + align - 1) & ~uintptr_t(align - 1);
        size_t skip = p - uintptr_t(cur);
        if (skip > left || size > left - skip) {
            failed = true;
            return nullptr;
        }
        cur = reinterpret_cast<char*>(p + size);
        left -= skip + size;
        return reinterpret_cast<void*>(p);
    }
    char* copy_string(const char* s)
    {
        size_t n = strlen(s) + 1;
        auto* d = static_cast<char*>(alloc(n, 1));
        if (d)
            memcpy(d, s, n);
        return d;
    }
};

// A growable array of pointers (glibc's ptrlist); failed after an allocation failure.  A null
// pointer is stored like any other: it comes from the caller's exhausted buffer, which the
// caller reports as ERANGE (so that glibc asks again with a larger one), as glibc does.
struct PtrList {
    char** items = nullptr;
    size_t size = 0, cap = 0;
    bool failed = false;
    void add(char* p)
    {
        if (failed)
            return;
        if (size == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            auto* n = static_cast<char**>(realloc(items, ncap * sizeof *items));
            if (!n) {
                failed = true;
                return;
            }
            items = n;
            cap = ncap;
        }
        items[size++] = p;
    }
    ~PtrList() { free(items); }
};

// ---- reading a response (glibc's ns_rr_cursor) ----
// The readers of a whole response are kept out of line ([[gnu::noinline]]): inlined, their
// name buffers (about a KiB) would sit in the look-up's frame during the wait for the answer,
// which takes every parked green thread one stack page further down.
struct Rr {
    unsigned char rname[NS_MAXCDNAME];
    int type, rclass;
    uint32_t ttl;
    const unsigned char* rdata;
    int rdlength;
};

struct Cursor {
    const unsigned char* begin;
    const unsigned char* end;
    const unsigned char* cur;
    unsigned char qname[NS_MAXCDNAME];
    int qtype;
    int rcode;
    int ancount;

    // A failure sets errno to EMSGSIZE, as glibc's cursor does: nss_dns then returns UNAVAIL
    // with NO_RECOVERY without setting *errnop, which is errno, and gethostbyname_r and
    // friends return that EMSGSIZE to the program.
    bool init(const unsigned char* p, int len)
    {
        if (len < NS_HFIXEDSZ || ((p[4] << 8) | p[5]) != 1)
            return malformed();
        begin = p;
        end = p + len;
        rcode = p[3] & 0x0f;
        ancount = (p[6] << 8) | p[7];
        // The question's name must be uncompressed (glibc's __ns_name_length_uncompressed):
        // labels of up to 63 octets, NS_MAXCDNAME in all, within the message.
        const unsigned char* q = begin + NS_HFIXEDSZ;
        while (true) {
            if (q == end)
                return malformed();
            unsigned char b = *q++;
            if (b == 0)
                break;
            if (b > 63 || b > end - q)
                return malformed();
            q += b;
        }
        size_t n = size_t(q - (begin + NS_HFIXEDSZ));
        if (n > NS_MAXCDNAME || end - q < 4)
            return malformed();
        memcpy(qname, begin + NS_HFIXEDSZ, n);
        cur = q;
        qtype = (cur[0] << 8) | cur[1];
        cur += 4;
        return true;
    }
    bool next(Rr* rr)
    {
        int n = ns_name_unpack(begin, end, cur, rr->rname, sizeof rr->rname);
        if (n < 0 || end - (cur + n) < 10)
            return malformed();
        const unsigned char* p = cur + n;
        rr->type = (p[0] << 8) | p[1];
        rr->rclass = (p[2] << 8) | p[3];
        rr->ttl = (uint32_t(p[4]) << 24) | (uint32_t(p[5]) << 16) | (uint32_t(p[6]) << 8) | p[7];
        rr->rdlength = (p[8] << 8) | p[9];
        rr->rdata = p + 10;
        if (end - rr->rdata < rr->rdlength)
            return malformed();
        cur = rr->rdata + rr->rdlength;
        return true;
    }
    static bool malformed()
    {
        errno = EMSGSIZE;
        return false;
    }
};

// glibc's __res_binary_hnok: labels of [0-9A-Za-z_-], the first not starting with '-'.
bool binary_hnok(const unsigned char* dn)
{
    if (dn[0] > 0 && dn[1] == '-')
        return false;
    while (size_t len = *dn++) {
        for (const unsigned char* e = dn + len; dn < e; dn++) {
            unsigned char ch = *dn;
            if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= 'a' && ch <= 'z') || ch == '-' || ch == '_'))
                return false;
        }
    }
    return true;
}

// glibc's __ns_samebinaryname: equal labels, ASCII case ignored.
bool same_binary_name(const unsigned char* a, const unsigned char* b)
{
    while (true) {
        if (*a != *b)
            return false;
        size_t len = *a++;
        b++;
        if (len == 0)
            return true;
        for (size_t i = 0; i < len; i++) {
            unsigned char x = a[i], y = b[i];
            if (x >= 'A' && x <= 'Z')
                x += 32;
            if (y >= 'A' && y <= 'Z')
                y += 32;
            if (x != y)
                return false;
        }
        a += len;
        b += len;
    }
}

int rdata_length(int type) { return type == ns_t_a ? 4 : type == ns_t_aaaa ? 16 : -1; }

void min_ttl(int32_t* ttlp, uint32_t ttl)
{
    if (ttlp && *ttlp > int32_t(ttl))
        *ttlp = int32_t(ttl);
}

// The text buffer of a name handed back: nss_dns defines its own MAXHOSTNAMELEN as 256 (a
// name of up to 255 octets, RFC 1035), not <sys/param.h>'s 64, which dropped every PTR target,
// alias and canonical name over 64 characters (and left getaddrinfo a NULL canonical name).
// Host names need no escaping, so any host name that fits the wire fits here.
constexpr size_t kNameText = 256 + 1;

// A binary name as text, if it is a host name.
bool host_text(const unsigned char* dn, char* out, size_t outlen)
{
    return binary_hnok(dn) && ns_name_ntop(dn, out, outlen) >= 0;
}

[[gnu::noinline]]
nss_status getanswer_slice(const Packet& pk, Abuf* abuf, gaih_addrtuple*** tailp, int* errnop,
                           int* herrnop, int32_t* ttlp, bool store_canon)
{
    (void)errnop;
    Cursor c;
    if (!c.init(pk.data, pk.len)) {
        *herrnop = NO_RECOVERY;
        return NSS_STATUS_UNAVAIL;
    }
    unsigned char expected[NS_MAXCDNAME];
    memcpy(expected, c.qname, sizeof expected);
    // The canonical name: the last CNAME target that is a host name, else the question.
    unsigned char canon[NS_MAXCDNAME];
    memcpy(canon, c.qname, sizeof canon);
    if (c.ancount == 0 || !binary_hnok(canon)) {
        *herrnop = HOST_NOT_FOUND;
        return NSS_STATUS_NOTFOUND;
    }
    bool have = false;
    for (int n = c.ancount; n > 0; n--) {
        Rr rr;
        if (!c.next(&rr)) {
            *herrnop = NO_RECOVERY;
            return NSS_STATUS_UNAVAIL;
        }
        if (rr.type == ns_t_cname || rr.type == c.qtype)
            min_ttl(ttlp, rr.ttl);
        if (rr.type == ns_t_cname) {
            // No owner check for CNAME records, as glibc.
            if (ns_name_unpack(c.begin, c.end, rr.rdata, expected, sizeof expected) < 0) {
                *herrnop = NO_RECOVERY;
                return NSS_STATUS_UNAVAIL;
            }
            if (store_canon && binary_hnok(expected))
                memcpy(canon, expected, sizeof canon);
        } else if (rr.type == c.qtype && same_binary_name(rr.rname, expected) &&
                   rr.rdlength == rdata_length(c.qtype)) {
            auto* t = static_cast<gaih_addrtuple*>(abuf->alloc(sizeof(gaih_addrtuple),
                                                               alignof(gaih_addrtuple)));
            if (!t)
                continue;  // the caller sees the exhausted buffer and asks for more
            t->next = nullptr;
            t->name = nullptr;
            if (store_canon) {
                char text[kNameText];
                if (ns_name_ntop(canon, text, sizeof text) >= 0)
                    t->name = abuf->copy_string(text);
                store_canon = false;
            }
            t->family = rr.rdlength == 4 ? AF_INET : AF_INET6;
            memset(t->addr, 0, sizeof t->addr);
            memcpy(t->addr, rr.rdata, size_t(rr.rdlength));
            t->scopeid = 0;
            **tailp = t;
            *tailp = &t->next;
            have = true;
        }
    }
    if (have) {
        *herrnop = NETDB_SUCCESS;
        return NSS_STATUS_SUCCESS;
    }
    // Only CNAME records while A or AAAA was asked for: not found.
    *herrnop = HOST_NOT_FOUND;
    return NSS_STATUS_NOTFOUND;
}

// Both responses of an A-and-AAAA query, combined as glibc's gaih_getanswer does.
[[gnu::noinline]]
nss_status getanswer_pair(const Packet& p1, const Packet& p2, Abuf* abuf, gaih_addrtuple** pat,
                          int* errnop, int* herrnop, int32_t* ttlp)
{
    nss_status status = NSS_STATUS_NOTFOUND;
    gaih_addrtuple** tail = pat;
    if (p1.len > 0) {
        status = getanswer_slice(p1, abuf, &tail, errnop, herrnop, ttlp, true);
        if (abuf->failed)
            return NSS_STATUS_TRYAGAIN;
    }
    if ((status == NSS_STATUS_SUCCESS || status == NSS_STATUS_NOTFOUND) && p2.len > 0) {
        nss_status s2 = getanswer_slice(p2, abuf, &tail, errnop, herrnop, ttlp,
                                        status != NSS_STATUS_SUCCESS);
        if (status != NSS_STATUS_SUCCESS && s2 != NSS_STATUS_NOTFOUND)
            status = s2;
    }
    return status;
}

// The answer of a single A or AAAA query, as glibc's getanswer_r: addresses and the names
// met on the way (the question, then each CNAME target that is a host name).
[[gnu::noinline]]
nss_status getanswer_r(const Packet& pk, int qtype, Abuf* abuf, PtrList* addresses,
                       PtrList* aliases, int* errnop, int* herrnop, int32_t* ttlp)
{
    Cursor c;
    if (!c.init(pk.data, pk.len)) {
        *herrnop = NO_RECOVERY;
        return NSS_STATUS_UNAVAIL;
    }
    char text[kNameText];
    if (c.rcode == ns_r_nxdomain || !host_text(c.qname, text, sizeof text)) {
        if (ttlp)
            *ttlp = 0;
        *herrnop = HOST_NOT_FOUND;
        *errnop = ENOENT;
        return NSS_STATUS_NOTFOUND;
    }
    aliases->add(abuf->copy_string(text));
    unsigned char expected[NS_MAXCDNAME];
    memcpy(expected, c.qname, sizeof expected);
    for (int n = c.ancount; n > 0; n--) {
        Rr rr;
        if (!c.next(&rr)) {
            *herrnop = NO_RECOVERY;
            return NSS_STATUS_UNAVAIL;
        }
        if (rr.rclass != ns_c_in)
            continue;
        if (rr.type == ns_t_cname || rr.type == qtype)
            min_ttl(ttlp, rr.ttl);
        if (rr.type == ns_t_cname) {
            if (ns_name_unpack(c.begin, c.end, rr.rdata, expected, sizeof expected) < 0) {
                *herrnop = NO_RECOVERY;
                return NSS_STATUS_UNAVAIL;
            }
            if (host_text(expected, text, sizeof text))
                aliases->add(abuf->copy_string(text));
        } else if (rr.type == qtype && same_binary_name(rr.rname, expected) &&
                   rr.rdlength == rdata_length(qtype)) {
            auto* a = static_cast<char*>(abuf->alloc(size_t(rr.rdlength), 4));
            if (a)
                memcpy(a, rr.rdata, size_t(rr.rdlength));
            addresses->add(a);
        }
    }
    if (addresses->size == 0) {
        if (ttlp)
            *ttlp = 0;
        *herrnop = NO_RECOVERY;
        *errnop = ENOENT;
        return NSS_STATUS_TRYAGAIN;
    }
    *herrnop = NETDB_SUCCESS;
    return NSS_STATUS_SUCCESS;
}

[[gnu::noinline]]
nss_status getanswer_ptr(const Packet& pk, Abuf* abuf, char** hnamep, int* errnop, int* herrnop,
                         int32_t* ttlp)
{
    Cursor c;
    if (!c.init(pk.data, pk.len)) {
        *herrnop = NO_RECOVERY;
        return NSS_STATUS_UNAVAIL;
    }
    unsigned char expected[NS_MAXCDNAME];
    memcpy(expected, c.qname, sizeof expected);
    for (int n = c.ancount; n > 0; n--) {
        Rr rr;
        if (!c.next(&rr)) {
            *herrnop = NO_RECOVERY;
            return NSS_STATUS_UNAVAIL;
        }
        if (rr.rclass != ns_c_in)
            continue;
        if (rr.type == ns_t_cname || rr.type == ns_t_ptr)
            min_ttl(ttlp, rr.ttl);
        if (rr.type == ns_t_cname) {
            if (ns_name_unpack(c.begin, c.end, rr.rdata, expected, sizeof expected) < 0) {
                *herrnop = NO_RECOVERY;
                return NSS_STATUS_UNAVAIL;
            }
        } else if (rr.type == ns_t_ptr && same_binary_name(rr.rname, expected)) {
            // The target is the name the program gets: it must be a host name (glibc 2.36 as
            // Debian ships it, with the fix for CVE-2026-4438, checks the target; the check of
            // the owner that glibc had before let a reverse zone hand out "$(...)", "\", bytes
            // above 127 and NULs, escaped by ns_name_ntop but not refused).
            unsigned char target[NS_MAXCDNAME];
            char text[kNameText];
            if (ns_name_unpack(c.begin, c.end, rr.rdata, target, sizeof target) < 0 ||
                !binary_hnok(target) || ns_name_ntop(target, text, sizeof text) < 0) {
                *herrnop = NO_RECOVERY;
                return NSS_STATUS_UNAVAIL;
            }
            *hnamep = abuf->copy_string(text);
            return NSS_STATUS_SUCCESS;
        }
    }
    if (ttlp)
        *ttlp = 0;
    *herrnop = NO_RECOVERY;
    *errnop = ENOENT;
    return NSS_STATUS_TRYAGAIN;
}

// What a failed search means to NSS, as glibc maps it.
nss_status search_failure(int* errnop, int* herrnop, int herr, int olderr)
{
    nss_status status;
    switch (errno) {
    case ESRCH:
        status = NSS_STATUS_TRYAGAIN;
        herr = TRY_AGAIN;
        break;
    case EMFILE:
    case ENFILE:
        herr = NETDB_INTERNAL;
        status = NSS_STATUS_UNAVAIL;
        break;
    case ECONNREFUSED:
    case ETIMEDOUT:
        status = NSS_STATUS_UNAVAIL;
        break;
    default:
        status = NSS_STATUS_NOTFOUND;
        break;
    }
    *herrnop = herr;
    if (herr == TRY_AGAIN)
        *errnop = EAGAIN;
    else
        errno = olderr;
    return status;
}

struct Packets {
    Packet a1, a2;
    ~Packets()
    {
        free(a1.data);
        free(a2.data);
    }
};

}  // namespace

nss_status gethostbyname4_r(const char* name, gaih_addrtuple** pat, char* buffer, size_t buflen,
                            int* errnop, int* herrnop, int32_t* ttlp)
{
    hub_self()->stats.dns_lookups++;
    if (!res_hnok(name)) {
        *herrnop = HOST_NOT_FOUND;
        return NSS_STATUS_NOTFOUND;
    }
    Abuf abuf{buffer, buflen};
    int olderr = errno;
    Packets pk;
    int herr = 0;
    nss_status status = NSS_STATUS_NOTFOUND;
    bool pair = !conf().no_aaaa;
    int n = search(name, ns_c_in, pair ? kTypeAAndAAAA : ns_t_a, &pk.a1, &pk.a2, &herr);
    if (n >= 0)
        status = getanswer_pair(pk.a1, pair ? pk.a2 : Packet{}, &abuf, pat, errnop, herrnop,
                                ttlp);
    else
        status = search_failure(errnop, herrnop, herr, olderr);
    if (abuf.failed) {
        *errnop = ERANGE;
        *herrnop = NETDB_INTERNAL;
        status = NSS_STATUS_TRYAGAIN;
    }
    return status;
}

nss_status gethostbyname3_r(const char* name, int af, hostent* result, char* buffer,
                            size_t buflen, int* errnop, int* herrnop, int32_t* ttlp,
                            char** canonp)
{
    hub_self()->stats.dns_lookups++;
    int type, size;
    switch (af) {
    case AF_INET:
        type = ns_t_a;
        size = NS_INADDRSZ;
        break;
    case AF_INET6:
        type = ns_t_aaaa;
        size = NS_IN6ADDRSZ;
        break;
    default:
        *herrnop = NO_DATA;
        *errnop = EAFNOSUPPORT;
        return NSS_STATUS_UNAVAIL;
    }
    result->h_addrtype = af;
    result->h_length = size;
    int olderr = errno;
    Packets pk;
    int herr = 0;
    int n = search(name, ns_c_in, type, &pk.a1, &pk.a2, &herr);
    if (n < 0)
        return search_failure(errnop, herrnop, herr, olderr);

    Abuf abuf{buffer, buflen};
    PtrList addresses, aliases;
    nss_status status =
        getanswer_r(pk.a1, type, &abuf, &addresses, &aliases, errnop, herrnop, ttlp);
    if (status != NSS_STATUS_SUCCESS)
        return status;
    if (addresses.failed || aliases.failed) {
        // Not a question of buffer size: do not ask for a larger one.
        *errnop = ENOMEM;
        *herrnop = NETDB_INTERNAL;
        return NSS_STATUS_UNAVAIL;
    }
    // Both arrays NULL-terminated; the last alias becomes h_name, so it needs no slot.
    auto** addr_list = static_cast<char**>(
        abuf.alloc((addresses.size + 1) * sizeof(char*), alignof(char*)));
    auto** alias_list =
        static_cast<char**>(abuf.alloc(aliases.size * sizeof(char*), alignof(char*)));
    if (abuf.failed) {
        *errnop = ERANGE;
        *herrnop = NETDB_INTERNAL;
        return NSS_STATUS_TRYAGAIN;
    }
    memcpy(addr_list, addresses.items, addresses.size * sizeof(char*));
    addr_list[addresses.size] = nullptr;
    memcpy(alias_list, aliases.items, (aliases.size - 1) * sizeof(char*));
    alias_list[aliases.size - 1] = nullptr;
    result->h_addr_list = addr_list;
    result->h_aliases = alias_list;
    result->h_name = aliases.items[aliases.size - 1];
    if (canonp)
        *canonp = result->h_name;
    return NSS_STATUS_SUCCESS;
}

nss_status parse_ptr(const unsigned char* answer, int len, char* buffer, size_t buflen,
                     char** name, int* errnop, int* herrnop)
{
    Abuf abuf{buffer, buflen};
    Packet pk{const_cast<unsigned char*>(answer), len};
    nss_status status = getanswer_ptr(pk, &abuf, name, errnop, herrnop, nullptr);
    if (status == NSS_STATUS_SUCCESS && abuf.failed) {
        *errnop = ERANGE;
        *herrnop = NETDB_INTERNAL;
        status = NSS_STATUS_TRYAGAIN;
    }
    return status;
}

nss_status parse_addresses(const unsigned char* a1, int len1, const unsigned char* a2, int len2,
                           gaih_addrtuple** pat, char* buffer, size_t buflen, int* errnop,
                           int* herrnop)
{
    Abuf abuf{buffer, buflen};
    Packet p1{const_cast<unsigned char*>(a1), len1}, p2{const_cast<unsigned char*>(a2), len2};
    nss_status status = getanswer_pair(p1, p2, &abuf, pat, errnop, herrnop, nullptr);
    if (abuf.failed) {
        *errnop = ERANGE;
        *herrnop = NETDB_INTERNAL;
        status = NSS_STATUS_TRYAGAIN;
    }
    return status;
}

nss_status gethostbyaddr2_r(const void* addr, socklen_t len, int af, hostent* result,
                            char* buffer, size_t buflen, int* errnop, int* herrnop,
                            int32_t* ttlp)
{
    hub_self()->stats.dns_lookups++;
    static const unsigned char mapped[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char tunnelled[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    static const unsigned char v6local[] = {0, 0, 0, 1};
    auto* uaddr = static_cast<const unsigned char*>(addr);

    Abuf abuf{buffer, buflen};
    auto** address_array = static_cast<char**>(abuf.alloc(2 * sizeof(char*), alignof(char*)));
    if (!address_array) {
        *errnop = ERANGE;
        *herrnop = NETDB_INTERNAL;
        return NSS_STATUS_TRYAGAIN;
    }
    if (af == AF_INET6 && len == NS_IN6ADDRSZ &&
        (memcmp(uaddr, mapped, sizeof mapped) == 0 ||
         (memcmp(uaddr, tunnelled, sizeof tunnelled) == 0 &&
          memcmp(uaddr + sizeof tunnelled, v6local, sizeof v6local) != 0))) {
        uaddr += sizeof mapped;
        af = AF_INET;
        len = NS_INADDRSZ;
    }
    socklen_t size;
    switch (af) {
    case AF_INET: size = NS_INADDRSZ; break;
    case AF_INET6: size = NS_IN6ADDRSZ; break;
    default:
        *errnop = EAFNOSUPPORT;
        *herrnop = NETDB_INTERNAL;
        return NSS_STATUS_UNAVAIL;
    }
    if (size > len) {
        *errnop = EAFNOSUPPORT;
        *herrnop = NETDB_INTERNAL;
        return NSS_STATUS_UNAVAIL;
    }
    char qname[NS_MAXDNAME + 1];
    if (af == AF_INET) {
        snprintf(qname, sizeof qname, "%u.%u.%u.%u.in-addr.arpa", uaddr[3], uaddr[2], uaddr[1],
                 uaddr[0]);
    } else {
        static const char hex[] = "0123456789abcdef";
        char* q = qname;
        for (int i = NS_IN6ADDRSZ - 1; i >= 0; i--) {
            *q++ = hex[uaddr[i] & 0xf];
            *q++ = '.';
            *q++ = hex[uaddr[i] >> 4];
            *q++ = '.';
        }
        strcpy(q, "ip6.arpa");
    }
    int olderr = errno;
    Packets pk;
    int herr = 0;
    int n = query(qname, ns_c_in, ns_t_ptr, &pk.a1, &pk.a2, &herr);
    if (n < 0) {
        *herrnop = herr;
        int err = errno;
        errno = olderr;
        return err == ECONNREFUSED ? NSS_STATUS_UNAVAIL : NSS_STATUS_NOTFOUND;
    }
    nss_status status = getanswer_ptr(pk.a1, &abuf, &result->h_name, errnop, herrnop, ttlp);
    if (status != NSS_STATUS_SUCCESS)
        return status;
    result->h_addrtype = af;
    result->h_length = int(len);
    address_array[0] = static_cast<char*>(abuf.alloc(len, 4));
    if (address_array[0])
        memcpy(address_array[0], uaddr, len);
    address_array[1] = nullptr;
    if (abuf.failed) {
        *errnop = ERANGE;
        *herrnop = NETDB_INTERNAL;
        return NSS_STATUS_TRYAGAIN;
    }
    result->h_addr_list = address_array;
    result->h_aliases = &address_array[1];
    *herrnop = NETDB_SUCCESS;
    return NSS_STATUS_SUCCESS;
}

}  // namespace green::dns
