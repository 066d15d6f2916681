// The search-list walk and the response checks of glibc 2.36's res_query.c, over c-ares.
#include "resolver.h"

#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace green::dns {

namespace {

struct Header {
    int rcode;
    int ancount;
};

Header header(const Packet& p)
{
    return {p.data[3] & 0x0f, (p.data[6] << 8) | p.data[7]};
}

void drop(Packet* p)
{
    free(p->data);
    *p = Packet{};
}

// The response code of the first response when it came, else what the servers said in
// failing (search() treats a SERVFAIL specially).
thread_local int tl_last_rcode;

}  // namespace

// Builds a query as glibc does (res_mkquery: the same name checks, so the same failures), with
// glibc's EDNS0 record when resolv.conf asks for it, offering `offer` bytes.  Returns its length,
// or -1.
int make_query(const char* name, int cls, int type, unsigned char* buf, int size,
               res_state statp, int offer)
{
    int n = statp ? res_nmkquery(statp, ns_o_query, name, cls, type, nullptr, 0, nullptr, buf, size)
                  : res_mkquery(ns_o_query, name, cls, type, nullptr, 0, nullptr, buf, size);
    bool edns0 = statp ? (statp->options & RES_USE_EDNS0) != 0 : conf().edns0;
    if (n <= 0 || !edns0)
        return n;
    const unsigned char opt[] = {0, 0, ns_t_opt, (unsigned char)(offer >> 8),
                                 (unsigned char)(offer & 0xff), 0, 0, 0, 0, 0, 0};
    if (n + int(sizeof opt) > size)
        return -1;
    memcpy(buf + n, opt, sizeof opt);
    buf[11]++;  // ARCOUNT
    return n + int(sizeof opt);
}

int query(const char* name, int cls, int type, Packet* a1, Packet* a2, int* herr, res_state statp,
          int anslen)
{
    bool pair = type == kTypeAAndAAAA;
    // glibc's __res_context_query offers the caller's buffer when it cannot grow it (one type
    // asked by res_query and friends), else RESOLV_EDNS_BUFFER_SIZE.
    int offer = anslen <= 0 || pair ? 1200 : anslen < 512 ? 512 : anslen > 1200 ? 1200 : anslen;
    int n = pair ? 2 : 1;
    if (!reserve(n)) {  // no memory: as a transport that could not send
        *herr = TRY_AGAIN;
        return -1;
    }
    auto* buf = static_cast<unsigned char*>(malloc(2 * kQueryMax));
    const unsigned char* q[2] = {buf, buf + kQueryMax};
    int qlen[2] = {};
    if (buf) {
        qlen[0] = make_query(name, cls, pair ? ns_t_a : type, buf, kQueryMax, statp, offer);
        if (qlen[0] > 0 && pair)
            qlen[1] = make_query(name, cls, ns_t_aaaa, buf + kQueryMax, kQueryMax, statp, offer);
    }
    if (qlen[0] <= 0 || (pair && qlen[1] <= 0)) {
        unreserve(n);
        free(buf);
        if (!buf)
            errno = ENOMEM;
        *herr = buf ? NO_RECOVERY : TRY_AGAIN;
        return -1;
    }
    bool use_vc = statp ? (statp->options & RES_USEVC) != 0 : conf().use_vc;
    if (!tries_any(statp ? statp->retry : conf().attempts, use_vc)) {
        unreserve(n);
        free(buf);
        *herr = TRY_AGAIN;
        return -1;
    }
    Packet got[2];
    int errs[2] = {}, rcodes[2] = {};
    unsigned notes[2] = {};
    exchange(n, q, qlen, buf, got, errs, rcodes, notes,
             statp && (statp->options & (RES_IGNTC | RES_USEVC)) == RES_IGNTC);
    for (int i = 0; i < (pair ? 2 : 1); i++) {
        if (!use_vc && refused_by_server(rcodes[i])) {
            drop(&got[i]);
            errs[i] = ETIMEDOUT;
        }
    }
    // glibc sends A and AAAA together and waits for both (resolv/res_send.c, send_dg); some
    // failures of one end the exchange for both, where c-ares goes on with the other:
    // - a reply shorter than a header: no answer (each try alike), errno ETIMEDOUT;
    // - a TCP retry after TC that failed: no answer, the errno of that failure (0 for a
    //   connection closed unanswered);
    // - A unanswered while AAAA was answered: glibc then sends them one after the other, A
    //   first, which times out again: no answer, ETIMEDOUT;
    // - AAAA unanswered while A was answered: the same fallback ends with the A answer and a
    //   second "response" one byte long (*resplen2 = 1), which gaih_getanswer cannot parse.
    int whole = -1;
    for (int i = 0; i < n; i++) {
        if (notes[i] & kShortReply)
            whole = ETIMEDOUT;
        else if ((notes[i] & kTcpFailed) && whole < 0)
            whole = errs[i];
    }
    if (pair && whole < 0 && (notes[0] & kTimedOut) && got[1].len > 0)
        whole = ETIMEDOUT;
    if (whole >= 0) {
        drop(&got[0]);
        if (pair)
            drop(&got[1]);
        errs[0] = whole;
        errs[1] = 0;
        rcodes[0] = ns_r_noerror;  // what glibc's search sees: no SERVFAIL to search on after
    } else if (pair && (notes[1] & kTimedOut) && got[0].len > 0) {
        got[1].data = static_cast<unsigned char*>(calloc(1, 1));
        got[1].len = got[1].data ? 1 : 0;
    }
    *a1 = got[0];
    if (pair)
        *a2 = got[1];
    tl_last_rcode = rcodes[0];
    bool have1 = got[0].len >= NS_HFIXEDSZ, have2 = pair && got[1].len >= NS_HFIXEDSZ;
    if (!have1 && !have2) {
        // No response at all: the transport's error, as glibc's send returns it.
        drop(a1);
        if (pair)
            drop(a2);
        errno = errs[0] || whole >= 0 ? errs[0] : errs[1];
        *herr = TRY_AGAIN;
        return -1;
    }
    errno = 0;  // as glibc's send after a successful poll
    if (have1)
        tl_last_rcode = header(got[0]).rcode;
    // glibc looks at both headers, each standing in for the other when missing.
    Header h1 = have1 ? header(got[0]) : header(got[1]);
    Header h2 = have2 ? header(got[1]) : h1;
    if ((h1.rcode != ns_r_noerror || h1.ancount == 0) &&
        (h2.rcode != ns_r_noerror || h2.ancount == 0)) {
        bool any = (h1.rcode == ns_r_noerror && h1.ancount) || (h2.rcode == ns_r_noerror && h2.ancount);
        switch (h1.rcode == ns_r_noerror ? h2.rcode : h1.rcode) {
        case ns_r_nxdomain:
            if (any)
                return got[0].len;
            *herr = HOST_NOT_FOUND;
            break;
        case ns_r_servfail:
            *herr = TRY_AGAIN;
            break;
        case ns_r_noerror:
            *herr = NO_DATA;
            break;
        case ns_r_formerr:
        case ns_r_notimpl:
            if (any)
                return got[0].len;
            [[fallthrough]];
        default:
            *herr = NO_RECOVERY;
            break;
        }
        return -1;
    }
    return got[0].len;
}

namespace {

// name.domain asked for.  Out of line, so that the common look-up, which asks for the name as
// it is, does not carry the KiB of this buffer on its stack while it waits for the answer: a
// green thread parked there then holds one stack page, not two.
[[gnu::noinline]] int query_joined(const char* name, size_t n, const char* domain, size_t d,
                                   int cls, int type, Packet* a1, Packet* a2, int* herr,
                                   res_state statp, int anslen)
{
    char longname[NS_MAXDNAME];  // n + d + 2 bytes at most, as querydomain checked
    memcpy(longname, name, n);
    longname[n] = '.';
    memcpy(longname + n + 1, domain, d + 1);
    return query(longname, cls, type, a1, a2, herr, statp, anslen);
}

}  // namespace

int querydomain(const char* name, const char* domain, int cls, int type, Packet* a1,
                Packet* a2, int* herr, res_state statp, int anslen)
{
    size_t n = strlen(name);
    if (!domain) {
        // Decremented first, as glibc: an empty name wraps and is refused.
        if (n - 1 >= NS_MAXDNAME - 1) {
            *herr = NO_RECOVERY;
            return -1;
        }
        return query(name, cls, type, a1, a2, herr, statp, anslen);
    }
    size_t d = strlen(domain);
    if (n + d + 1 >= NS_MAXDNAME) {
        *herr = NO_RECOVERY;
        return -1;
    }
    return query_joined(name, n, domain, d, cls, type, a1, a2, herr, statp, anslen);
}

namespace {

// Whether statp's search list is the configuration's as res_ninit leaves it: the domains that
// fit in _res.dnsrch (six, in the 256 bytes of defdname), unchanged.  glibc then searches the
// configuration's whole list (its extended state), not the six, as long as the program has not
// changed them.
bool holds_conf_search(res_state statp, const Conf& cf)
{
    size_t used = 0;
    int i = 0;
    for (; i < cf.nsearch && i < MAXDNSRCH; i++) {
        size_t len = strlen(cf.search[i]) + 1;
        if (used + len > sizeof statp->defdname)
            break;
        if (!statp->dnsrch[i] || strcmp(statp->dnsrch[i], cf.search[i]) != 0)
            return false;
        used += len;
    }
    return statp->dnsrch[i] == nullptr;
}

}  // namespace

int search(const char* name, int cls, int type, Packet* a1, Packet* a2, int* herr, res_state statp,
           int anslen)
{
    // The rules: the caller's resolver state, or the configuration with glibc's defaults.
    const Conf& cf = conf();
    unsigned ndots = statp ? statp->ndots : unsigned(cf.ndots);
    unsigned long options = statp ? statp->options
                                  : RES_DEFNAMES | RES_DNSRCH | (cf.no_tld_query ? RES_NOTLDQUERY : 0);
    bool own_list = statp && !holds_conf_search(statp, cf);
    auto search_domain = [&](int i) -> const char* {
        if (own_list)
            return i < MAXDNSRCH ? statp->dnsrch[i] : nullptr;
        return i < cf.nsearch ? cf.search[i] : nullptr;
    };
    errno = 0;
    *herr = HOST_NOT_FOUND;  // if no query is ever sent
    unsigned dots = 0;
    const char* cp;
    for (cp = name; *cp; cp++)
        dots += *cp == '.';
    bool trailing_dot = cp > name && cp[-1] == '.';
    bool pair = type == kTypeAAndAAAA;

    // A success is a first response that answers, or (A and AAAA) a second one.
    auto answered = [&](int ret) { return ret > 0 || (ret == 0 && pair && a2->len > 0); };
    auto discard = [&] {
        drop(a1);
        if (pair)
            drop(a2);
    };

    int saved_herr = -1, got_nodata = 0, got_servfail = 0, root_on_list = 0;
    bool tried_as_is = false, searched = false;
    if (dots >= ndots || trailing_dot) {
        int ret = querydomain(name, nullptr, cls, type, a1, a2, herr, statp, anslen);
        if (answered(ret) || trailing_dot)
            return ret;
        saved_herr = *herr;
        tried_as_is = true;
        discard();
    }
    if ((!dots && (options & RES_DEFNAMES)) || (dots && !trailing_dot && (options & RES_DNSRCH))) {
        bool done = false;
        for (int i = 0; !done; i++) {
            const char* domain = search_domain(i);
            if (!domain)
                break;
            searched = true;
            if (domain[0] == '.')
                domain++;
            if (domain[0] == '\0')
                root_on_list++;
            int ret = querydomain(name, domain, cls, type, a1, a2, herr, statp, anslen);
            if (answered(ret))
                return ret;
            discard();
            if (errno == ECONNREFUSED) {
                *herr = TRY_AGAIN;
                return -1;
            }
            switch (*herr) {
            case NO_DATA:
                got_nodata++;
                break;
            case HOST_NOT_FOUND:
                break;
            case TRY_AGAIN:
                if (tl_last_rcode == ns_r_servfail) {
                    got_servfail++;
                    break;
                }
                done = true;
                break;
            default:
                done = true;
            }
            if (!(options & RES_DNSRCH))
                done = true;
        }
    }
    if ((dots || !searched || !(options & RES_NOTLDQUERY)) && !(tried_as_is || root_on_list)) {
        int ret = querydomain(name, nullptr, cls, type, a1, a2, herr, statp, anslen);
        if (answered(ret))
            return ret;
        discard();
    }
    if (saved_herr != -1)
        *herr = saved_herr;
    else if (got_nodata)
        *herr = NO_DATA;
    else if (got_servfail)
        *herr = TRY_AGAIN;
    return -1;
}

}  // namespace green::dns
