/* Authoritative DNS server for the test zone green.test, used to check libgreen's resolver
 * against glibc's.
 *
 *   dns_server --addr A [--port P] [--port-file F] [--log F]
 *
 * Serves UDP and TCP on the same address A (IPv4 or IPv6, numeric) and port P (default 53; 0
 * picks a free one).  F receives the bound port once both sockets are bound; --log writes one
 * line per query.  One thread, non-blocking sockets, one epoll loop; runs until SIGTERM/SIGINT.
 *
 * The zone (green.test., TTL 60, AA set, matching case-insensitive, question echoed as received):
 *   a              A 10.53.0.1                     six      AAAA 2001:db8::53:1
 *   dual           A 10.53.0.2, 10.53.0.3, AAAA 2001:db8::53:2, fd00::53
 *   alias          CNAME alias2; alias2 CNAME dual (answers carry the chain and the targets)
 *   loop1, loop2   CNAMEs to each other            www.sub  A 10.53.1.1
 *   nodata         TXT "hello"                     mail     MX 10 a.green.test
 *   hN.load        A 10.54.N/256.N%256 (N = 0..65535)
 *   PTRs for 10.53.0.1, 10.53.0.2, 10.53.1.1 and 2001:db8::53:1
 * and names that misbehave, for every query type (see struct special below): fail (SERVFAIL),
 * refused (REFUSED), big (60 A records: TC over UDP, full over TCP), slow (A 10.53.0.9, sent
 * 300 ms later from a timer list while others are served), silent (never answered), short
 * (5-byte reply), garbage (ID, QR, then pseudo-random bytes, the same every time so that two
 * resolvers see the same input), badcount (ANCOUNT 5, no records), ptrloop (owner name is a
 * compression pointer to itself), wrongid (A 10.53.0.10 under ID ^ 0x5a5a), spoof (A 10.53.0.11
 * sent from another UDP socket, i.e. another source port; nothing over TCP), huge (150 A records
 * in one ~2.4 KB UDP reply, TC=0).
 * Answers glibc refuses or takes whole (PTRs of 10.53.7.0-9, longname, badcname, truncrr, badq,
 * ...): see "hostile answers" below.
 * And names whose A and AAAA queries get different treatment, and answers cut with TC (see "A and
 * AAAA that fail apart" below).
 * Unknown names: NXDOMAIN; known names without the type: NODATA; both with an SOA in authority.
 * Other classes and opcodes: NOTIMP.  QDCOUNT != 1 or an unreadable question: FORMERR.
 * Messages with QR set and anything shorter than a header get no reply.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { T_A = 1, T_NS = 2, T_CNAME = 5, T_SOA = 6, T_PTR = 12, T_MX = 15, T_TXT = 16, T_AAAA = 28,
       T_ANY = 255 };
enum { NOERROR = 0, FORMERR = 1, SERVFAIL = 2, NXDOMAIN = 3, NOTIMP = 4, REFUSED = 5 };
enum action { SEND, DROP, DELAY, SPOOF, HANGUP };

#define TTL 60
#define UDP_LIMIT 512       /* also when the query offers a larger EDNS0 size: TC stays predictable */
#define SLOW_NS 300000000LL
#define BATCH 64            /* UDP datagrams per recvmmsg/sendmmsg */
#define UDP_BUF 4096
#define OUT_HIGH (1 << 20)  /* a TCP client that does not read gets no more of its queries read */
#define MAX_TIMERS 100000

/* ---- the zone ---- */

struct rr { const char *name; uint16_t type; const char *data; };
static const struct rr zone[] = {
    {"green.test", T_SOA, ""},
    {"a.green.test", T_A, "10.53.0.1"},
    {"six.green.test", T_AAAA, "2001:db8::53:1"},
    {"dual.green.test", T_A, "10.53.0.2"},
    {"dual.green.test", T_A, "10.53.0.3"},
    {"dual.green.test", T_AAAA, "2001:db8::53:2"},
    {"dual.green.test", T_AAAA, "fd00::53"},
    {"alias.green.test", T_CNAME, "alias2.green.test"},
    {"alias2.green.test", T_CNAME, "dual.green.test"},
    {"loop1.green.test", T_CNAME, "loop2.green.test"},
    {"loop2.green.test", T_CNAME, "loop1.green.test"},
    {"www.sub.green.test", T_A, "10.53.1.1"},
    {"nodata.green.test", T_TXT, "hello"},
    {"mail.green.test", T_MX, "a.green.test"},
    /* The misbehaving names that carry a real answer. */
    {"slow.green.test", T_A, "10.53.0.9"},
    {"wrongid.green.test", T_A, "10.53.0.10"},
    {"spoof.green.test", T_A, "10.53.0.11"},
    {"1.0.53.10.in-addr.arpa", T_PTR, "a.green.test"},
    {"2.0.53.10.in-addr.arpa", T_PTR, "dual.green.test"},
    {"1.1.53.10.in-addr.arpa", T_PTR, "www.sub.green.test"},
    {"1.0.0.0.3.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", T_PTR,
     "six.green.test"},
};
#define NZONE (sizeof zone / sizeof zone[0])

enum how { NORMAL, FAIL, REFUSE, BIG, HUGE, SLOW, SILENT, SHORT, GARBAGE, BADCOUNT, PTRLOOP, WRONGID,
           SPOOFED };
static const struct special { const char *name; enum how how; } specials[] = {
    {"fail.green.test", FAIL},         {"refused.green.test", REFUSE},
    {"big.green.test", BIG},           {"huge.green.test", HUGE},
    {"slow.green.test", SLOW},         {"silent.green.test", SILENT},
    {"short.green.test", SHORT},       {"garbage.green.test", GARBAGE},
    {"badcount.green.test", BADCOUNT}, {"ptrloop.green.test", PTRLOOP},
    {"wrongid.green.test", WRONGID},   {"spoof.green.test", SPOOFED},
};

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0 && (n == m || s[n - m - 1] == '.');
}

/* N of "hN.load.green.test" (decimal, no leading zero, 0..65535), or -1. */
static long load_index(const char *name)
{
    if (name[0] != 'h' || name[1] < '0' || name[1] > '9' || (name[1] == '0' && name[2] != '.'))
        return -1;
    char *end;
    long n = strtol(name + 1, &end, 10);
    return n <= 65535 && end - name <= 6 && strcmp(end, ".load.green.test") == 0 ? n : -1;
}

/* A name exists when it owns records or, inside green.test, lies above one that does (an empty
 * non-terminal such as sub.green.test answers NODATA, not NXDOMAIN).  Above the zone (test.)
 * and in the reverse trees only the names with records exist. */
static int name_exists(const char *name)
{
    if (load_index(name) >= 0 || strcmp(name, "big.green.test") == 0 ||
        strcmp(name, "huge.green.test") == 0 || strcmp(name, "load.green.test") == 0)
        return 1;
    for (size_t i = 0; i < NZONE; i++)
        if (ends_with(name, "green.test") ? ends_with(zone[i].name, name) : !strcmp(zone[i].name, name))
            return 1;
    return 0;
}

/* ---- building messages ---- */

struct msg { uint8_t *b; size_t len, cap; int overflow; const char *qname; };

static void put(struct msg *m, const void *p, size_t n)
{
    if (m->len + n > m->cap) { m->overflow = 1; return; }
    memcpy(m->b + m->len, p, n);
    m->len += n;
}
static void put16(struct msg *m, unsigned v) { uint8_t b[2] = {v >> 8, v}; put(m, b, 2); }
static void put32(struct msg *m, uint32_t v) { put16(m, v >> 16); put16(m, v & 0xffff); }

/* A dotted name; the question's name is written as a pointer to it (offset 12), which keeps
 * big.green.test's 60 records at 16 bytes each. */
static void put_name(struct msg *m, const char *name)
{
    if (m->qname && strcmp(name, m->qname) == 0) { put16(m, 0xc00c); return; }
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t n = dot ? (size_t)(dot - name) : strlen(name);
        uint8_t l = n;
        put(m, &l, 1);
        put(m, name, n);
        name += n + (dot != NULL);
    }
    put(m, "", 1);
}

/* Owner, type, class IN, TTL, then the RDATA from its presentation form. */
static void put_rr(struct msg *m, const char *owner, unsigned type, const char *data)
{
    put_name(m, owner);
    put16(m, type); put16(m, 1); put32(m, TTL);
    size_t at = m->len;
    put16(m, 0);
    uint8_t addr[16];
    switch (type) {
    case T_A: inet_pton(AF_INET, data, addr); put(m, addr, 4); break;
    case T_AAAA: inet_pton(AF_INET6, data, addr); put(m, addr, 16); break;
    case T_CNAME: case T_PTR: case T_NS: put_name(m, data); break;
    case T_MX: put16(m, 10); put_name(m, data); break;
    case T_TXT: { uint8_t l = strlen(data); put(m, &l, 1); put(m, data, l); break; }
    case T_SOA:
        put_name(m, "ns.green.test"); put_name(m, "hostmaster.green.test");
        put32(m, 1); put32(m, 3600); put32(m, 600); put32(m, 86400); put32(m, TTL);
        break;
    }
    if (!m->overflow) { m->b[at] = (m->len - at - 2) >> 8; m->b[at + 1] = m->len - at - 2; }
}

/* The records of NAME that answer QTYPE; returns their number, and the CNAME's target in
 * *cname when NAME is an alias and the question is not about the alias itself. */
static int put_rrset(struct msg *m, const char *name, unsigned qtype, const char **cname)
{
    int n = 0;
    char a[32];
    long idx = load_index(name);
    int many = strcmp(name, "big.green.test") == 0 ? 60 : strcmp(name, "huge.green.test") == 0 ? 150 : 0;
    if (idx >= 0 && (qtype == T_A || qtype == T_ANY)) {
        snprintf(a, sizeof a, "10.54.%ld.%ld", idx / 256, idx % 256);
        put_rr(m, name, T_A, a);
        n++;
    }
    for (int i = 1; i <= many && (qtype == T_A || qtype == T_ANY); i++, n++) {
        snprintf(a, sizeof a, "10.53.%d.%d", many == 60 ? 2 : 3, i);
        put_rr(m, name, T_A, a);
    }
    for (size_t i = 0; i < NZONE; i++) {
        if (strcmp(zone[i].name, name) != 0)
            continue;
        if (zone[i].type == T_CNAME && qtype != T_CNAME && qtype != T_ANY)
            *cname = zone[i].data;
        if (zone[i].type == qtype || qtype == T_ANY || zone[i].type == T_CNAME) {
            put_rr(m, name, zone[i].type, zone[i].data);
            n++;
        }
    }
    return n;
}

/* The zone whose SOA goes in the authority section of a negative answer. */
static const char *apex(const char *name)
{
    return ends_with(name, "in-addr.arpa") ? "in-addr.arpa"
         : ends_with(name, "ip6.arpa") ? "ip6.arpa" : "green.test";
}

/* Reads the question's name (labels only: a pointer has nothing to point to in a question) into
 * OUT, dotted and lower case, "" for the root.  Returns the offset after it, or 0 when it cannot
 * be read.  *plain becomes 0 for a label holding '.' or NUL, which no zone name matches. */
static size_t read_qname(const uint8_t *q, size_t len, char out[256], int *plain)
{
    size_t i = 12, o = 0;
    *plain = 1;
    for (;;) {
        if (i >= len)
            return 0;
        unsigned l = q[i++];
        if (l == 0)
            break;
        if (l > 63 || i + l > len || o + l + 1 > 254)
            return 0;
        if (o)
            out[o++] = '.';
        for (unsigned k = 0; k < l; k++) {
            uint8_t c = q[i + k];
            *plain &= c != '.' && c != 0;
            out[o++] = c >= 'A' && c <= 'Z' ? c + 32 : c;
        }
        i += l;
    }
    out[o] = 0;
    return i;
}

/* ---- hostile answers: names a resolver must refuse or take whole (libgreen's hosts.cpp) ----
 *
 * Answers a name server controls and glibc judges record by record: targets that are not host
 * names, names longer than 64 characters (up to the 255 of the wire), records cut short.  The
 * records are written here in wire form, so that they can hold what no zone file would.
 * Forward names (A records only for A and ANY questions; the CNAMEs for every type):
 *   longname    CNAME to a 106-character host name, which has A 10.53.7.101
 *   maxname     CNAME to a 253-character host name (the longest), A 10.53.7.102
 *   badcname    CNAME to bad$name.green.test, which has A 10.53.7.103
 *   badcname2   CNAME to a name with bytes 0xff and 0, CNAME to good.green.test, A 10.53.7.104
 *   truncrr     A record whose RDATA runs past the end of the message
 *   truncname   a record whose owner name runs past the end of the message
 *   badptr      CNAME whose target is a compression pointer past the end
 *   badq        A 10.53.7.105, but the question in the reply is unreadable (label type 0x40)
 *   qloop       the same with the question's name a pointer to itself
 *   long-label-host-name-of-thirty-chars-x.long-label-host-name-of-thirty-chars-y.long.green.test
 *               (a question of 93 characters) A 10.53.7.106
 * PTR answers for 10.53.7.N:
 *   1  x\$<ff><00>y.green.test (shell and log metacharacters, bytes above 127, a NUL)
 *   2  the 106-character name        3  the 253-character name       4  -dash.green.test
 *   5  CNAME to bad$name.green.test, which has PTR a.green.test
 *   6  PTR whose RDATA runs past the end     7  a.b.green.test with "a.b" one label
 *   8  PTR target a compression pointer past the end       9  under_score.green.test
 *   0  a CH-class record in the answer, PTR a.green.test in the authority section (not an
 *      answer: CVE-2026-4437) */
#define L30X "\036xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define L30Y "\036yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
#define L30Z "\036zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
#define L61 "\075aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define L63 "\077bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define GREEN_TEST "\005green\004test"
/* Wire names, with their sizes (the literal's own NUL is the root label; they may hold more). */
#define WIRE(s) s, sizeof s
static const char w_long[] = L30X L30Y L30Z "\004long" GREEN_TEST;  /* 106 characters */
static const char w_max[] = L63 L63 L63 L61;                         /* 253 characters */
static const char w_bad[] = "\010bad$name" GREEN_TEST;
static const char w_bytes[] = "\004b\377\000d" GREEN_TEST;
static const char w_meta[] = "\006x\\$\377\000y" GREEN_TEST;
static const char w_dash[] = "\005-dash" GREEN_TEST;
static const char w_dot[] = "\003a.b" GREEN_TEST;
static const char w_under[] = "\013under_score" GREEN_TEST;
static const char w_good[] = "\004good" GREEN_TEST;
static const char w_a[] = "\001a" GREEN_TEST;

static void put_wire(struct msg *m, const char *w, size_t size) { put(m, w, size); }

/* A record of owner OWNER (wire; NULL: the question, by pointer) and TYPE with RDATA. */
static void put_raw_rr(struct msg *m, const char *owner, size_t osize, unsigned type,
                       const void *rdata, size_t rdlen)
{
    if (owner)
        put_wire(m, owner, osize);
    else
        put16(m, 0xc00c);
    put16(m, type); put16(m, 1); put32(m, TTL); put16(m, rdlen);
    put(m, rdata, rdlen);
}

static void put_name_rr(struct msg *m, const char *owner, size_t osize, unsigned type,
                        const char *target, size_t tsize)
{
    put_raw_rr(m, owner, osize, type, target, tsize);
}

static void put_a_rr(struct msg *m, const char *owner, size_t osize, unsigned qtype,
                     const char *addr, int *an)
{
    uint8_t a[4];
    if (qtype != T_A && qtype != T_ANY)
        return;
    inet_pton(AF_INET, addr, a);
    put_raw_rr(m, owner, osize, T_A, a, 4);
    ++*an;
}

/* The reply to NAME (dotted, lower case) of type QTYPE when it is one of the hostile names:
 * the answer records after the question already in M, *an of them (badq also spoils that
 * question).  Returns 0 for other names. */
static int hostile_answer(struct msg *m, const char *name, unsigned qtype, int *an)
{
    static const uint8_t cut_a[] = {0xc0, 0x0c, 0, T_A, 0, 1, 0, 0, 0, TTL, 0, 4, 10, 53};
    static const uint8_t far_ptr[] = {0xc0 | 0x3f, 0xff};
    *an = 0;
    if (strcmp(name, "longname.green.test") == 0) {
        put_name_rr(m, NULL, 0, T_CNAME, WIRE(w_long)); ++*an;
        put_a_rr(m, WIRE(w_long), qtype, "10.53.7.101", an);
    } else if (strcmp(name, "maxname.green.test") == 0) {
        put_name_rr(m, NULL, 0, T_CNAME, WIRE(w_max)); ++*an;
        put_a_rr(m, WIRE(w_max), qtype, "10.53.7.102", an);
    } else if (strcmp(name, "badcname.green.test") == 0) {
        put_name_rr(m, NULL, 0, T_CNAME, WIRE(w_bad)); ++*an;
        put_a_rr(m, WIRE(w_bad), qtype, "10.53.7.103", an);
    } else if (strcmp(name, "badcname2.green.test") == 0) {
        put_name_rr(m, NULL, 0, T_CNAME, WIRE(w_bytes)); ++*an;
        put_name_rr(m, WIRE(w_bytes), T_CNAME, WIRE(w_good)); ++*an;
        put_a_rr(m, WIRE(w_good), qtype, "10.53.7.104", an);
    } else if (strcmp(name, "truncrr.green.test") == 0) {
        put(m, cut_a, sizeof cut_a); ++*an;
    } else if (strcmp(name, "truncname.green.test") == 0) {
        put(m, "\050abc", 4); ++*an;
    } else if (strcmp(name, "badptr.green.test") == 0) {
        put_raw_rr(m, NULL, 0, T_CNAME, far_ptr, sizeof far_ptr); ++*an;
        put_a_rr(m, WIRE(w_a), qtype, "10.53.0.1", an);
    } else if (strcmp(name, "badq.green.test") == 0) {
        m->b[12] = 0x40;  /* the question's first label: an extended label type */
        put_a_rr(m, WIRE(w_a), T_A, "10.53.7.105", an);
    } else if (strcmp(name, "qloop.green.test") == 0) {
        m->len = 12;
        put16(m, 0xc00c); put16(m, T_A); put16(m, 1);
        put_a_rr(m, WIRE(w_a), T_A, "10.53.7.107", an);
    } else if (strcmp(name, "long-label-host-name-of-thirty-chars-x.long-label-host-name-of-"
                              "thirty-chars-y.long.green.test") == 0) {
        put_a_rr(m, NULL, 0, qtype, "10.53.7.106", an);
    } else if (ends_with(name, "7.53.10.in-addr.arpa") && name[1] == '.' && name[0] >= '0' &&
               name[0] <= '9') {
        if (qtype != T_PTR && qtype != T_ANY)
            return 1;
        switch (name[0]) {
        case '1': put_name_rr(m, NULL, 0, T_PTR, WIRE(w_meta)); break;
        case '2': put_name_rr(m, NULL, 0, T_PTR, WIRE(w_long)); break;
        case '3': put_name_rr(m, NULL, 0, T_PTR, WIRE(w_max)); break;
        case '4': put_name_rr(m, NULL, 0, T_PTR, WIRE(w_dash)); break;
        case '5':
            put_name_rr(m, NULL, 0, T_CNAME, WIRE(w_bad)); ++*an;
            put_name_rr(m, WIRE(w_bad), T_PTR, WIRE(w_a));
            break;
        case '6': put_raw_rr(m, NULL, 0, T_PTR, "\001a", 2); m->b[m->len - 3] = 20; break;
        case '7': put_name_rr(m, NULL, 0, T_PTR, WIRE(w_dot)); break;
        case '8': put_raw_rr(m, NULL, 0, T_PTR, far_ptr, sizeof far_ptr); break;
        case '9': put_name_rr(m, NULL, 0, T_PTR, WIRE(w_under)); break;
        case '0':
            put_name_rr(m, NULL, 0, T_PTR, WIRE(w_a));
            m->b[m->len - sizeof w_a - 7] = 3;  /* class CH */
            put_name_rr(m, NULL, 0, T_PTR, WIRE(w_a));
            m->b[9] = 1;  /* NSCOUNT */
            break;
        }
        ++*an;
    } else {
        return 0;
    }
    return 1;
}
/* ---- end of the hostile answers ---- */

static uint64_t garbage_state;
static uint8_t garbage_byte(void)  /* xorshift64 */
{
    garbage_state ^= garbage_state << 13;
    garbage_state ^= garbage_state >> 7;
    garbage_state ^= garbage_state << 17;
    return garbage_state >> 24;
}

/* ---- A and AAAA that fail apart; truncation (res_query's buffer rules) ----
 * a-HOW.green.test and aaaa-HOW.green.test: the A (resp. AAAA) query gets HOW, the other one
 * its normal answer (A 10.53.5.1, AAAA 2001:db8::5:1), for the look-ups that ask both at once.
 * HOW: servfail, refused, notimp, formerr, nxdomain (rcodes, no records), silent (no reply),
 * short (5 bytes), garbage (the query's ID, then pseudo-random bytes), badcount (ANCOUNT 5, no
 * records), bare (REFUSED in a header alone, QDCOUNT 0, as some resolvers send it).  tc.green.test A: over UDP the first 2 of 20 records with TC set (63 bytes),
 * over TCP all 20 (351 bytes); tc-notcp.green.test A: over UDP 1 record with TC set, over TCP
 * the connection is closed unanswered.  Other types of these names: NODATA.  And edns.green.test
 * (below), which tells the EDNS0 payload size a query offered. */
enum pair_how { P_OK, P_SERVFAIL, P_REFUSED, P_NOTIMP, P_FORMERR, P_NXDOMAIN, P_SILENT, P_SHORT,
                P_GARBAGE, P_BADCOUNT, P_BARE, P_TC, P_TCNOTCP };
static const struct { const char *how; enum pair_how p; } pair_hows[] = {
    {"servfail", P_SERVFAIL}, {"refused", P_REFUSED}, {"notimp", P_NOTIMP},
    {"formerr", P_FORMERR},   {"nxdomain", P_NXDOMAIN}, {"silent", P_SILENT},
    {"short", P_SHORT},       {"garbage", P_GARBAGE}, {"badcount", P_BADCOUNT},
    {"bare", P_BARE},
};

/* What NAME's QTYPE query gets, or -1 when NAME is none of these. */
static int pair_how(const char *name, unsigned qtype)
{
    if (strcmp(name, "tc.green.test") == 0)
        return qtype == T_A ? P_TC : P_OK;
    if (strcmp(name, "tc-notcp.green.test") == 0)
        return qtype == T_A ? P_TCNOTCP : P_OK;
    const char *dash = strchr(name, '-');
    if (!dash || !ends_with(name, "green.test"))
        return -1;
    size_t n = strlen(dash + 1) - strlen(".green.test");
    for (size_t i = 0; i < sizeof pair_hows / sizeof pair_hows[0]; i++) {
        if (strlen(pair_hows[i].how) != n || strncmp(dash + 1, pair_hows[i].how, n) != 0)
            continue;
        if (dash - name == 1 && name[0] == 'a')
            return qtype == T_A ? (int)pair_hows[i].p : P_OK;
        if (dash - name == 4 && strncmp(name, "aaaa", 4) == 0)
            return qtype == T_AAAA ? (int)pair_hows[i].p : P_OK;
    }
    return -1;
}

/* edns.green.test TXT: the UDP payload size the query's EDNS0 record offers, "none" without one
 * (glibc offers what the caller's buffer holds, from 512 to 1200).  Returns 0 for other names. */
static int edns_answer(const char *name, unsigned qtype, const uint8_t *q, size_t len, size_t qend,
                       struct msg *m)
{
    if (strcmp(name, "edns.green.test") != 0)
        return 0;
    char text[16] = "none";
    const uint8_t *opt = q + qend + 4;
    if ((q[10] << 8 | q[11]) >= 1 && len >= qend + 4 + 11 && opt[0] == 0 && (opt[1] << 8 | opt[2]) == 41)
        snprintf(text, sizeof text, "%u", opt[3] << 8 | opt[4]);
    if (qtype == T_TXT) {
        put_rr(m, name, T_TXT, text);
        m->b[7] = 1;
    } else {
        put_rr(m, "green.test", T_SOA, "");
        m->b[9] = 1;
    }
    return 1;
}

/* The reply to a query for one of these names in M (header and question written); returns 0 for
 * any other name. */
static int pair_answer(const char *name, unsigned qtype, int tcp, struct msg *m, enum action *act)
{
    int how = pair_how(name, qtype);
    if (how < 0)
        return 0;
    uint8_t *r = m->b;
    int an = 0;
    char a[32];
    switch (how) {
    case P_SERVFAIL: r[3] = SERVFAIL; return 1;
    case P_REFUSED: r[3] = REFUSED; return 1;
    case P_NOTIMP: r[3] = NOTIMP; return 1;
    case P_FORMERR: r[3] = FORMERR; return 1;
    case P_NXDOMAIN: r[3] = NXDOMAIN; return 1;
    case P_SILENT: *act = DROP; m->len = 0; return 1;
    case P_SHORT: m->len = 5; return 1;
    case P_GARBAGE:
        garbage_state = 0x2545f4914f6cdd1dULL ^ qtype;
        r[2] = 0x80 | garbage_byte();
        for (size_t i = 3; i < 60; i++)
            r[i] = garbage_byte();
        m->len = 60;
        return 1;
    case P_BADCOUNT: r[7] = 5; return 1;
    case P_BARE: r[3] = REFUSED; r[5] = 0; m->len = 12; return 1;
    case P_TC:
        for (int i = 1; i <= (tcp ? 20 : 2); i++, an++) {
            snprintf(a, sizeof a, "10.53.6.%d", i);
            put_rr(m, name, T_A, a);
        }
        r[2] |= tcp ? 0 : 0x02;
        break;
    case P_TCNOTCP:
        if (tcp) {
            *act = HANGUP;
            m->len = 0;
            return 1;
        }
        put_rr(m, name, T_A, "10.53.6.1");
        an = 1;
        r[2] |= 0x02;
        break;
    default:
        if (qtype == T_A || qtype == T_AAAA) {
            put_rr(m, name, qtype, qtype == T_A ? "10.53.5.1" : "2001:db8::5:1");
            an = 1;
        }
    }
    r[7] = an;
    if (!an) {
        put_rr(m, "green.test", T_SOA, "");
        r[9] = 1;
    }
    return 1;
}

/* What the last query asked, for the log. */
static char log_name[256];
static unsigned log_type;

/* Builds the reply to query Q (LEN bytes) in R (CAP bytes); returns its length and, in *act,
 * whether to send it now, later, from the spoofing socket, or not at all. */
static size_t answer(const uint8_t *q, size_t len, int tcp, uint8_t *r, size_t cap, enum action *act)
{
    struct msg m = {r, 0, cap, 0, NULL};
    char name[256];
    int plain;
    size_t qend;

    *act = DROP;
    strcpy(log_name, "-");
    log_type = 0;
    if (len < 12 || (q[2] & 0x80))
        return 0;
    *act = SEND;
    /* Header: ID, QR, the query's opcode and RD, AA; counts are patched in below. */
    put(&m, q, 2);
    uint8_t flags[2] = {0x80 | (q[2] & 0x79) | 0x04, NOERROR};
    put(&m, flags, 2);
    put(&m, "\0\0\0\0\0\0\0\0", 8);
    if ((q[2] >> 3 & 15) != 0) {
        r[3] = NOTIMP;
        return m.len;
    }
    if (q[4] != 0 || q[5] != 1 || !(qend = read_qname(q, len, name, &plain)) || qend + 4 > len) {
        r[3] = FORMERR;
        return m.len;
    }
    unsigned qtype = q[qend] << 8 | q[qend + 1], qclass = q[qend + 2] << 8 | q[qend + 3];
    strcpy(log_name, name);
    log_type = qtype;
    put(&m, q + 12, qend + 4 - 12); /* the question, as received */
    r[5] = 1;
    m.qname = name;
    if (qclass != 1) {
        r[3] = NOTIMP;
        return m.len;
    }

    if (plain && (pair_answer(name, qtype, tcp, &m, act) || edns_answer(name, qtype, q, len, qend, &m)))
        return m.len;

    const struct special *sp = NULL;
    for (size_t i = 0; plain && i < sizeof specials / sizeof specials[0]; i++)
        if (strcmp(name, specials[i].name) == 0)
            sp = &specials[i];
    int hostile_an;
    if (plain && !sp && hostile_answer(&m, name, qtype, &hostile_an)) {
        r[6] = hostile_an >> 8;
        r[7] = hostile_an;
        return m.len;
    }
    switch (sp ? sp->how : NORMAL) {
    case FAIL: r[3] = SERVFAIL; return m.len;
    case REFUSE: r[3] = REFUSED; return m.len;
    case SILENT: *act = DROP; return 0;
    case SHORT: return 5;
    case GARBAGE:
        garbage_state = 0x9e3779b97f4a7c15ULL ^ qtype;
        r[2] = 0x80 | garbage_byte();
        for (size_t i = 3; i < 60; i++)
            r[i] = garbage_byte();
        return 60;
    case BADCOUNT: r[7] = 5; return m.len;
    case PTRLOOP: {
        size_t at = m.len;
        put16(&m, 0xc000 | at); put16(&m, T_A); put16(&m, 1); put32(&m, TTL);
        put16(&m, 4); put(&m, "\x0a\x35\x00\x0c", 4);
        r[7] = 1;
        return m.len;
    }
    case SLOW: *act = DELAY; break;
    case WRONGID: r[0] ^= 0x5a; r[1] ^= 0x5a; break;
    case SPOOFED: *act = tcp ? DROP : SPOOF; break;
    default: break;
    }

    /* Follow the CNAME chain inside the zone, each name once (loop1/loop2 stop there with the
     * two CNAMEs and NOERROR). */
    const char *at = name, *seen[8], *next;
    int an = 0, n, nseen = 0, loop = 0;
    do {
        seen[nseen++] = at;
        next = NULL;
        an += n = put_rrset(&m, at, qtype, &next);
        for (int i = 0; next && i < nseen; i++)
            loop |= strcmp(seen[i], next) == 0;
        at = next ? next : at;
    } while (next && !loop && nseen < 8);
    r[6] = an >> 8;
    r[7] = an;
    if (!next && n == 0) {
        /* Negative answer at the end of the chain: NXDOMAIN or NODATA, with the zone's SOA. */
        if (!plain || !name_exists(at))
            r[3] = NXDOMAIN;
        put_rr(&m, apex(at), T_SOA, "");
        r[9] = 1;
    }
    if ((!tcp && m.len > UDP_LIMIT && !(sp && sp->how == HUGE)) || m.overflow) {
        r[2] |= 0x02; /* TC: the question only */
        r[6] = r[7] = r[9] = 0;
        m.len = qend + 4;
    }
    return m.len;
}

/* ---- the event loop ---- */

struct conn {                     /* one TCP client */
    int fd;
    uint32_t events;              /* what epoll watches for it now */
    uint8_t *in, *out;            /* received bytes not yet handled; replies not yet sent */
    size_t inlen, incap, outoff, outlen, outcap;
};

struct timer {                    /* a reply held back (slow.green.test) */
    struct timer *next;
    long long due;
    struct conn *conn;            /* TCP, or NULL: UDP to peer */
    struct sockaddr_storage peer;
    socklen_t peerlen;
    size_t len;
    uint8_t data[];
};

static int ep, udp_fd, tcp_fd, spoof_fd;
static struct timer *timers, **timers_tail = &timers;  /* FIFO: every delay is the same */
static long ntimers;
static long long accept_paused_until;
static FILE *qlog;
static volatile sig_atomic_t stop;
static uint8_t udp_tag, tcp_tag;  /* epoll data for the two server sockets */

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "dns_server: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void log_query(const char *proto, const uint8_t *r, size_t len, enum action act)
{
    static const char *acts[] = {"sent", "dropped", "delayed", "spoofed", "hung up"};
    if (qlog)
        fprintf(qlog, "%s %s type %u -> %s rcode %d len %zu\n", proto, log_name, log_type,
                acts[act], len >= 4 ? r[3] & 15 : -1, len);
}

static void add_timer(struct conn *c, const struct sockaddr_storage *peer, socklen_t peerlen,
                      const uint8_t *data, size_t len)
{
    struct timer *t;
    if (ntimers >= MAX_TIMERS || !(t = malloc(sizeof *t + len)))
        return;
    *t = (struct timer){NULL, now_ns() + SLOW_NS, c, {0}, peerlen, len};
    if (peer)
        memcpy(&t->peer, peer, peerlen);
    memcpy(t->data, data, len);
    *timers_tail = t;
    timers_tail = &t->next;
    ntimers++;
}

static void set_events(struct conn *c, uint32_t events)
{
    if (events != c->events) {
        struct epoll_event ev = {.events = events, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->events = events;
    }
}

static void conn_close(struct conn *c)
{
    for (struct timer **p = &timers, *t; (t = *p);) {  /* its held-back replies go too */
        if (t->conn == c) {
            *p = t->next;
            free(t);
            ntimers--;
        } else {
            p = &t->next;
        }
    }
    for (timers_tail = &timers; *timers_tail; timers_tail = &(*timers_tail)->next)
        ;
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
}

/* Sends what is queued; returns -1 when the connection is dead. */
static int conn_flush(struct conn *c)
{
    while (c->outoff < c->outlen) {
        ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        if (n <= 0)
            return -1;
        c->outoff += n;
    }
    if (c->outoff == c->outlen)
        c->outoff = c->outlen = 0;
    size_t queued = c->outlen - c->outoff;
    set_events(c, (queued < OUT_HIGH ? EPOLLIN : 0) | (queued ? EPOLLOUT : 0));
    return 0;
}

/* Queues one reply with its 2-byte length. */
static int conn_reply(struct conn *c, const uint8_t *data, size_t len)
{
    if (c->outoff && c->outlen + len + 2 > c->outcap) {
        memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
        c->outlen -= c->outoff;
        c->outoff = 0;
    }
    if (c->outlen + len + 2 > c->outcap) {
        size_t cap = c->outcap ? c->outcap : 4096;
        while (cap < c->outlen + len + 2)
            cap *= 2;
        uint8_t *p = realloc(c->out, cap);
        if (!p)
            return -1;
        c->out = p;
        c->outcap = cap;
    }
    c->out[c->outlen] = len >> 8;
    c->out[c->outlen + 1] = len;
    memcpy(c->out + c->outlen + 2, data, len);
    c->outlen += len + 2;
    return conn_flush(c);
}

/* Reads what the client sent and answers every complete query; returns -1 to close. */
static int conn_read(struct conn *c)
{
    static uint8_t reply[65536];
    for (int rounds = 0; rounds < 16; rounds++) {  /* bounded: other clients get their turn */
        if (c->incap - c->inlen < 4096) {
            size_t cap = c->incap ? c->incap * 2 : 4096;
            uint8_t *p = realloc(c->in, cap);
            if (!p)
                return -1;
            c->in = p;
            c->incap = cap;
        }
        ssize_t n = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        if (n <= 0) {
            conn_flush(c);  /* a client that shut down its side after asking still gets answers */
            return -1;
        }
        c->inlen += n;
        size_t off = 0;
        while (c->inlen - off >= 2) {
            size_t len = c->in[off] << 8 | c->in[off + 1];
            if (c->inlen - off - 2 < len)
                break;
            enum action act;
            size_t rlen = answer(c->in + off + 2, len, 1, reply, sizeof reply, &act);
            log_query("tcp", reply, rlen, act);
            off += 2 + len;
            if ((act == SEND && conn_reply(c, reply, rlen) < 0) || act == HANGUP)
                return -1;
            if (act == DELAY)
                add_timer(c, NULL, 0, reply, rlen);
        }
        memmove(c->in, c->in + off, c->inlen - off);
        c->inlen -= off;
        if (c->incap > 131072 && c->inlen < 4096) {  /* one big message passed: shrink again */
            free(c->in);
            c->in = malloc(4096);
            c->incap = c->in ? 4096 : 0;
            if (!c->in)
                return -1;
        }
        if (!(c->events & EPOLLIN))
            return 0;
    }
    return 0;
}

static void tcp_accept(void)
{
    for (int i = 0; i < 64; i++) {
        int fd = accept4(tcp_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: stop accepting for a while rather than spin. */
                struct epoll_event ev = {.events = 0, .data.ptr = &tcp_tag};
                epoll_ctl(ep, EPOLL_CTL_MOD, tcp_fd, &ev);
                accept_paused_until = now_ns() + 100000000LL;
            }
            return;
        }
        struct conn *c = calloc(1, sizeof *c);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (!c || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            close(fd);
            free(c);
            continue;
        }
        c->fd = fd;
        c->events = EPOLLIN;
    }
}

/* Answers up to BATCH datagrams at once, with one recvmmsg and one sendmmsg. */
static int udp_batch(void)
{
    static uint8_t in[BATCH][UDP_BUF], out[BATCH][UDP_BUF];
    static struct sockaddr_storage peers[BATCH];
    static struct mmsghdr msgs[BATCH], replies[BATCH];
    static struct iovec iov[BATCH], riov[BATCH];
    for (int i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){in[i], UDP_BUF};
        msgs[i].msg_hdr = (struct msghdr){.msg_name = &peers[i], .msg_namelen = sizeof peers[i],
                                          .msg_iov = &iov[i], .msg_iovlen = 1};
    }
    int n = recvmmsg(udp_fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
        return 0;
    int nr = 0;
    for (int i = 0; i < n; i++) {
        enum action act;
        size_t len = answer(in[i], msgs[i].msg_len, 0, out[nr], UDP_BUF, &act);
        struct sockaddr *peer = (struct sockaddr *)&peers[i];
        socklen_t peerlen = msgs[i].msg_hdr.msg_namelen;
        log_query("udp", out[nr], len, act);
        if (act == SEND) {
            riov[nr] = (struct iovec){out[nr], len};
            replies[nr].msg_hdr = (struct msghdr){.msg_name = peer, .msg_namelen = peerlen,
                                                  .msg_iov = &riov[nr], .msg_iovlen = 1};
            nr++;
        } else if (act == DELAY) {
            add_timer(NULL, &peers[i], peerlen, out[nr], len);
        } else if (act == SPOOF) {
            sendto(spoof_fd, out[nr], len, MSG_DONTWAIT, peer, peerlen);
        }
    }
    /* A reply that does not fit in the socket buffer now is lost, as UDP may lose it. */
    for (int done = 0; done < nr;) {
        int k = sendmmsg(udp_fd, replies + done, nr - done, MSG_DONTWAIT);
        if (k <= 0)
            done++;  /* skip the one that failed (e.g. an unreachable peer) */
        else
            done += k;
    }
    return n;
}

static void run_timers(void)
{
    long long now = now_ns();
    struct timer *t;
    while ((t = timers) && t->due <= now) {
        timers = t->next;
        if (!timers)
            timers_tail = &timers;
        ntimers--;
        if (!t->conn)
            sendto(udp_fd, t->data, t->len, MSG_DONTWAIT, (struct sockaddr *)&t->peer, t->peerlen);
        else if (conn_reply(t->conn, t->data, t->len) < 0)
            conn_close(t->conn);  /* also unlinks the connection's other timers: fetch anew */
        free(t);
    }
    if (accept_paused_until && accept_paused_until <= now) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &tcp_tag};
        epoll_ctl(ep, EPOLL_CTL_MOD, tcp_fd, &ev);
        accept_paused_until = 0;
    }
}

static void on_signal(int sig) { (void)sig; stop = 1; }

/* A socket of TYPE bound to ADDR; with *port 0 the kernel picks one and *port receives it. */
static int bound_socket(int type, const struct sockaddr_storage *addr, socklen_t len, int *port)
{
    struct sockaddr_storage a = *addr;
    int fd = socket(a.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0)
        die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (type == SOCK_DGRAM) {
        /* Thousands of queries can arrive at once (one per thread of a client): a default
           receive buffer holds a few hundred datagrams and drops the rest.  FORCE passes
           rmem_max as root; otherwise the kernel clamps the plain request. */
        int size = 8 << 20;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    if (a.ss_family == AF_INET)
        ((struct sockaddr_in *)&a)->sin_port = htons(*port);
    else
        ((struct sockaddr_in6 *)&a)->sin6_port = htons(*port);
    if (bind(fd, (struct sockaddr *)&a, len) < 0) {
        close(fd);
        return -1;
    }
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.ss_family == AF_INET ? ((struct sockaddr_in *)&a)->sin_port
                                         : ((struct sockaddr_in6 *)&a)->sin6_port);
    return fd;
}

int main(int argc, char **argv)
{
    const char *addr_s = NULL, *port_file = NULL, *log_file = NULL;
    int port = 53;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--addr") == 0) addr_s = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0) port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--port-file") == 0) port_file = argv[i + 1];
        else if (strcmp(argv[i], "--log") == 0) log_file = argv[i + 1];
        else addr_s = NULL, i = argc;
    }
    struct sockaddr_storage addr = {0};
    socklen_t alen;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&addr;
    if (addr_s && inet_pton(AF_INET, addr_s, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        alen = sizeof *a4;
    } else if (addr_s && inet_pton(AF_INET6, addr_s, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        alen = sizeof *a6;
    } else {
        fprintf(stderr, "usage: dns_server --addr A [--port P] [--port-file F] [--log F]\n");
        return 2;
    }
    if (port < 0 || port > 65535 || (argc - 1) % 2)
        return fprintf(stderr, "dns_server: bad arguments\n"), 2;

    /* With port 0 the UDP socket's port may be taken for TCP: try a few. */
    for (int tries = 0;; tries++) {
        int p = port;
        if ((udp_fd = bound_socket(SOCK_DGRAM, &addr, alen, &p)) < 0)
            die("bind (udp)");
        if ((tcp_fd = bound_socket(SOCK_STREAM, &addr, alen, &p)) >= 0) {
            port = p;
            break;
        }
        if (port != 0 || tries == 20)
            die("bind (tcp)");
        close(udp_fd);
    }
    int zero = 0;
    if (listen(tcp_fd, 4096) < 0 || (spoof_fd = bound_socket(SOCK_DGRAM, &addr, alen, &zero)) < 0)
        die("listen");
    if (log_file && !(qlog = fopen(log_file, "w")))
        die(log_file);

    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &udp_tag};
    epoll_ctl(ep, EPOLL_CTL_ADD, udp_fd, &ev);
    ev.data.ptr = &tcp_tag;
    epoll_ctl(ep, EPOLL_CTL_ADD, tcp_fd, &ev);

    /* The signals are blocked but while epoll waits: none can slip in between check and wait. */
    sigset_t block, empty;
    sigemptyset(&block);
    sigemptyset(&empty);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, NULL);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0)
            die(port_file);
    }

    struct epoll_event events[256];
    while (!stop) {
        int timeout = -1;
        long long next = timers ? timers->due : 0, now = now_ns();
        if (accept_paused_until && (!next || accept_paused_until < next))
            next = accept_paused_until;
        if (next)
            timeout = next <= now ? 0 : (int)((next - now + 999999) / 1000000);
        int n = epoll_pwait(ep, events, 256, timeout, &empty);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            void *p = events[i].data.ptr;
            if (p == &udp_tag) {
                for (int k = 0; k < 16 && udp_batch() == BATCH; k++)
                    ;
            } else if (p == &tcp_tag) {
                tcp_accept();
            } else {
                struct conn *c = p;
                uint32_t e = events[i].events;
                if ((e & (EPOLLERR | EPOLLHUP) && !(e & EPOLLIN)) ||
                    (e & EPOLLIN && conn_read(c) < 0) || (e & EPOLLOUT && conn_flush(c) < 0))
                    conn_close(c);
            }
        }
        run_timers();
        if (qlog)
            fflush(qlog);
    }
    return 0;
}
