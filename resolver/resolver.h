// The resolver: DNS look-ups on c-ares, running on the hub, with glibc's semantics.
//
// Contract
// --------
// * glibc's getaddrinfo, gethostbyname*, gethostbyaddr* and getnameinfo stay glibc's: they read
//   /etc/hosts, sort, build results and map errors themselves.  Only the "dns" source of the
//   hosts database is replaced (shim/dns.cpp re-points it at libgreen's NSS functions), and only
//   the network part is new: the search-list walk, the queries and the parsing of the answers,
//   written to glibc 2.36's rules (resolv/res_query.c and resolv/nss_dns/dns-host.c), so that
//   the same configuration gives the same answers, in the same order, with the same errors.
// * Configuration is read once, as glibc reads resolv.conf (nameserver, search, domain,
//   options ndots/timeout/attempts/rotate/edns0/use-vc/no-aaaa/no-tld-query, LOCALDOMAIN and
//   RES_OPTIONS), from GREEN_RESOLV_CONF when it is set, else /etc/resolv.conf.
// * Queries go out through one c-ares channel per hub, which uses raw system calls for its
//   sockets (never libgreen's own wrappers) and libev watchers and a timer on the hub's loop.
//   Many concurrent look-ups share the channel; the calling green thread parks until its
//   answers (or the timeout) come.
// * Callable only from a green thread (green_self() != nullptr).  Elsewhere shim/ uses glibc's
//   own code, which blocks the caller as it always did.
#ifndef GREEN_RESOLVER_H
#define GREEN_RESOLVER_H

#include <netinet/in.h>
#include <resolv.h>
#include <cstddef>
#include <cstdint>

namespace green::dns {

constexpr int kMaxServers = 3;  // glibc's MAXNS

struct Conf {
    sockaddr_in6 servers[kMaxServers];  // sockaddr_in or sockaddr_in6 (by family)
    int nservers;
    char** search;      // search domains, glibc's order, all of them (malloc'd); nsearch
    int nsearch;
    int ndots;          // as glibc's _res.ndots, 0 to 15
    int timeout;        // seconds per try, as _res.retrans: RES_TIMEOUT / options timeout:
    int attempts;       // as _res.retry: RES_DFLRETRY / options attempts: (0 or less: no try)
    bool rotate, edns0, use_vc, no_aaaa, no_tld_query;
};

// The configuration, read on first use.
const Conf& conf();

// Reads a resolv.conf file into c (and the environment variables glibc honours).  Exposed for
// unit tests.
void conf_parse(const char* path, Conf* c);

// A response: a malloc'd buffer (free() it) and its length; len <= 0 when there is none.
struct Packet {
    unsigned char* data = nullptr;
    int len = 0;
    bool tcp = false;  // it came over TCP: never cut to a datagram's size (see res_query's copy)
};

// The query type that asks A and AAAA at once (glibc's T_QUERY_A_AND_AAAA).
constexpr int kTypeAAndAAAA = 439963904;

// glibc's __res_context_query: one name, one type (or A and AAAA in parallel); returns the
// length of the first response when it answers the question (ancount > 0 in either), else -1
// with *herr set (HOST_NOT_FOUND, NO_DATA, TRY_AGAIN, NO_RECOVERY) and errno set by the
// transport on a send failure (ETIMEDOUT, ECONNREFUSED).  *a2 is the AAAA response.
// statp: the caller's resolver state (res_nquery and friends), whose options (RES_RECURSE,
// RES_DEFNAMES, RES_DNSRCH, RES_USE_EDNS0, ...), ndots and search list then apply instead of
// the configuration's; nullptr for the configuration.
// anslen: the caller's buffer (res_query and friends), whose size an EDNS0 record offers (at
// least 512, at most 1200, as glibc's __res_nopt); 0 for a look-up's own, which offers 1200.
int query(const char* name, int cls, int type, Packet* a1, Packet* a2, int* herr,
          res_state statp = nullptr, int anslen = 0);

// glibc's __res_context_search: query() over the search list, ndots and trailing-dot rules.
int search(const char* name, int cls, int type, Packet* a1, Packet* a2, int* herr,
           res_state statp = nullptr, int anslen = 0);

// glibc's __res_context_querydomain: name.domain (domain may be null), then query().
int querydomain(const char* name, const char* domain, int cls, int type, Packet* a1,
                Packet* a2, int* herr, res_state statp = nullptr, int anslen = 0);

// The largest query libgreen builds: header, a name of NS_MAXCDNAME, type and class, and
// glibc's EDNS0 record.
constexpr int kQueryMax = NS_HFIXEDSZ + NS_MAXCDNAME + NS_QFIXEDSZ + 11;

// Sending a look-up's queries (1, or 2 for A and AAAA at once) takes three steps, so that the
// caller builds them in its own frame (glibc's res_mkquery is the deepest call of a look-up:
// the fewer frames above it, the less stack a look-up takes, 3.7 KiB from a thread's start):
// 1. reserve(n): waits for room for n more queries in the hub's channel; false (errno ENOMEM)
//    if there is no channel.  A caller that then cannot build its queries calls unreserve(n).
// 2. The queries are built into a malloc'd buffer: made after the wait, so that a waiting
//    look-up holds none.
// 3. exchange(): sends them, frees that buffer (c-ares keeps copies, and the channel its own
//    of each query as c-ares sent it, by the ID c-ares gave it), parks until each is answered or
//    failed.  A failed one has len 0 in answers[i] and its errno in errs[i];
//    rcodes[i] is the response code of an answered one (NOERROR otherwise); notes[i] says what
//    else happened to it (kTimedOut, kShortReply, kTcpFailed), which glibc's transport treats as
//    a failure of the whole exchange where c-ares goes on with the other query.
//    A datagram answer is the whole datagram (c-ares sees at most 512 bytes of it, or the EDNS0
//    size: glibc reads all of it; or, for a reply whose question cannot be read, the same header
//    with the query's own question), and Packet::tcp says which transport brought the answer.
//    ignore_tc (RES_IGNTC): a datagram answer with TC is the answer (c-ares asks over TCP all
//    the same; what that brings is dropped).
enum : unsigned {
    kTimedOut = 1,    // no answer in time (also when only replies that do not match it came)
    kShortReply = 2,  // a reply shorter than a header came for it
    kTcpFailed = 4,   // a datagram answer with TC, then the TCP retry failed (errs[i]: its errno)
};
bool reserve(int n);
void unreserve(int n);
void exchange(int n, const unsigned char* const* queries, const int* lens, unsigned char* buf,
              Packet* answers, int* errs, int* rcodes, unsigned* notes, bool ignore_tc = false);

// Whether a response code means the server failed the query (SERVFAIL, NOTIMP, REFUSED),
// which glibc's datagram transport treats as no answer (it asks the next server, or again).
bool refused_by_server(int rcode);

// Whether glibc's send would try at all with attempts (_res.retry) tries: with 0 or fewer
// ("options attempts:0", or a negative number, which glibc keeps) it sends nothing and fails at
// once, errno ECONNREFUSED over UDP (no server reached), ETIMEDOUT over TCP; false, errno set.
bool tries_any(int attempts, bool use_vc);

// Sends a query the caller built (res_send); returns the response length or -1 with errno.
// use_vc: the caller asked for TCP (RES_USEVC), whose transport returns any response;
// ignore_tc: RES_IGNTC, as for exchange().
int send_raw(const unsigned char* q, int qlen, Packet* answer, bool use_vc, bool ignore_tc);

}  // namespace green::dns

#endif
