/* dns_query: runs a built-in corpus of resolver calls and prints their results as canonical text.
 *
 *   dns_query [--short] [--section NAME] [--help]
 *
 * The corpus is written against the DNS test zone green.test (the test server, tests/tools/
 * dns_server.c) and the test resolv.conf (search green.test sub.green.test, timeout:1 attempts:2,
 * ndots:1).  The program judges nothing: the runner runs it under glibc and under libgreen and
 * compares the outputs byte for byte, so the output holds only what a program may rely on --
 * return values, error codes, the results in the order they were returned -- and nothing that
 * changes from run to run (DNS IDs are zeroed, no pointers, times or ephemeral ports).
 * h_errno is printed only where a call failed: glibc defines it only then.
 *
 * Sections, in this order (--section NAME runs one):
 *   gai-names      every host string (numeric forms, local names, /etc/hosts names read at run
 *                  time, the zone's names) under five hint sets
 *   gai-flags      every combination of the seven AI_ flags, seven hosts, three families; bad bits
 *   gai-services   services x socket types x protocols
 *   gai-families   good and bad families, NULL hints, every gai_strerror text
 *   getnameinfo    addresses x NI_ flags, ports, small buffers (EAI_OVERFLOW), bad lengths
 *   hostent        gethostbyname, gethostbyname2, their _r forms (ERANGE), gethostbyaddr(_r)
 *   res            res_query/search/querydomain, res_ninit + res_nquery/nsearch with changed
 *                  options, res_mkquery + res_send and res_nmkquery + res_nsend (packets in hex,
 *                  ID zeroed)
 *   getaddrinfo_a  GAI_WAIT, GAI_NOWAIT with gai_suspend and with SIGEV_THREAD, gai_cancel
 *   threads        32 threads calling at once, results printed in thread order
 *   hostile-ptr    gethostbyaddr and getnameinfo on PTR answers glibc refuses or takes whole:
 *                  targets that are not host names, of 65 to 253 characters, records cut short
 *   hostile-names  the same for forward look-ups: CNAMEs that are not host names, long canonical
 *                  names, records cut short, a reply whose question cannot be read
 *                  (the hostile answers of dns_server.c)
 *   timeouts       unanswered, mismatched and unparsable queries: about 2 s each (timeout:1
 *                  attempts:2), about 14 s in all
 *   pairs          A and AAAA that fail apart (SERVFAIL, REFUSED, ... for one of the two) through
 *                  getaddrinfo, gethostbyname2 and res_query; answer buffers shorter than a UDP
 *                  answer and than a TCP one after TC (res_query, res_search, res_send)
 *   pairs-timeouts getaddrinfo where one of the two is never answered or answered with garbage,
 *                  about 9 s
 *   hosts-file     (only when named) every name and address of /etc/hosts through every entry
 *                  point, with RES_USE_INET6, buffers too small, gethostent; for a test hosts
 *                  file bind-mounted on /etc/hosts
 *   fuzz           (only when named) one name and one IPv4 address through every entry point
 *                  (getaddrinfo of three families, gethostbyname, gethostbyname2_r, gethostbyaddr,
 *                  getnameinfo, res_query with a small buffer): the calls of the fuzz harness
 *                  tests/fuzz/dns_answers.sh, whose server answers with fuzzed bytes
 * The whole corpus takes about 25 s against the test server.
 *
 * --short leaves out the names that take a timeout or a deliberate delay and the largest
 * cross products, for runs under valgrind (well under a second natively).  --rounds (with
 * --section fuzz) reads "NAME ADDRESS" lines from stdin and runs the section on each, ending
 * each round with a line "== end": one process serves a fuzzer many inputs.  Exit status 0 when
 * the corpus ran, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define N_(a) (sizeof(a) / sizeof((a)[0]))

static int short_run;

/* ---- printing helpers ------------------------------------------------------------------- */

/* A C string quoted so that any byte shows; NULL as the word NULL. */
static void put_str(const char *s)
{
    if (!s) {
        fputs("NULL", stdout);
        return;
    }
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            printf("\\x%02x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static const char *family_name(int f)
{
    switch (f) {
    case AF_UNSPEC: return "UNSPEC";
    case AF_INET: return "INET";
    case AF_INET6: return "INET6";
    case AF_UNIX: return "UNIX";
    case AF_PACKET: return "PACKET";
    }
    static char buf[32];
    snprintf(buf, sizeof buf, "AF%d", f);
    return buf;
}

static const char *socktype_name(int t)
{
    switch (t) {
    case 0: return "0";
    case SOCK_STREAM: return "STREAM";
    case SOCK_DGRAM: return "DGRAM";
    case SOCK_RAW: return "RAW";
    case SOCK_SEQPACKET: return "SEQPACKET";
    }
    static char buf[32];
    snprintf(buf, sizeof buf, "SOCK%d", t);
    return buf;
}

static const char *errno_name(int e)
{
    switch (e) {
    case 0: return "0";
    case ERANGE: return "ERANGE";
    case EINVAL: return "EINVAL";
    case ENOENT: return "ENOENT";
    case EAGAIN: return "EAGAIN";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EMSGSIZE: return "EMSGSIZE";
    case ENOSPC: return "ENOSPC";
    case EBADMSG: return "EBADMSG";
    }
    static char buf[32];
    snprintf(buf, sizeof buf, "errno%d", e);
    return buf;
}

static const char *herr_name(int h)
{
    switch (h) {
    case NETDB_INTERNAL: return "NETDB_INTERNAL";
    case NETDB_SUCCESS: return "NETDB_SUCCESS";
    case HOST_NOT_FOUND: return "HOST_NOT_FOUND";
    case TRY_AGAIN: return "TRY_AGAIN";
    case NO_RECOVERY: return "NO_RECOVERY";
    case NO_DATA: return "NO_DATA";
    }
    static char buf[32];
    snprintf(buf, sizeof buf, "h_errno%d", h);
    return buf;
}

static void put_flags(int flags)
{
    static const struct { int bit; const char *name; } names[] = {
        {AI_PASSIVE, "PASSIVE"}, {AI_CANONNAME, "CANONNAME"}, {AI_NUMERICHOST, "NUMERICHOST"},
        {AI_V4MAPPED, "V4MAPPED"}, {AI_ALL, "ALL"}, {AI_ADDRCONFIG, "ADDRCONFIG"},
        {AI_NUMERICSERV, "NUMERICSERV"},
    };
    if (flags == 0) {
        fputs("0", stdout);
        return;
    }
    const char *sep = "";
    for (size_t i = 0; i < N_(names); i++)
        if (flags & names[i].bit) {
            printf("%s%s", sep, names[i].name);
            sep = "|";
            flags &= ~names[i].bit;
        }
    if (flags)
        printf("%s0x%x", sep, (unsigned)flags);
}

/* A socket address: family, address, port, and for IPv6 the flow label and scope id. */
static void put_sockaddr(const struct sockaddr *sa, socklen_t len)
{
    char buf[INET6_ADDRSTRLEN];
    if (!sa) {
        fputs("addr=NULL", stdout);
        return;
    }
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s->sin_addr, buf, sizeof buf);
        printf("addr=%s port=%u", buf, ntohs(s->sin_port));
    } else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s->sin6_addr, buf, sizeof buf);
        printf("addr=%s port=%u flowinfo=%u scope=%u", buf, ntohs(s->sin6_port),
               (unsigned)ntohl(s->sin6_flowinfo), (unsigned)s->sin6_scope_id);
    } else {
        printf("addr=family:%s", family_name(sa->sa_family));
    }
}

static void put_addrinfo_list(const struct addrinfo *res)
{
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        printf("  ai %s %s %d flags=", family_name(ai->ai_family), socktype_name(ai->ai_socktype),
               ai->ai_protocol);
        put_flags(ai->ai_flags);
        printf(" addrlen=%u ", (unsigned)ai->ai_addrlen);
        put_sockaddr(ai->ai_addr, ai->ai_addrlen);
        fputs(" canon=", stdout);
        if (ai->ai_canonname)
            put_str(ai->ai_canonname);
        else
            putchar('-');
        putchar('\n');
    }
}

static void put_gai_rc(int rc)
{
    printf("rc=%d %s", rc, gai_strerror(rc));
    if (rc == EAI_SYSTEM)
        printf(" errno=%s", errno_name(errno));
}

/* ---- getaddrinfo ------------------------------------------------------------------------ */

static void gai(const char *host, const char *serv, int family, int socktype, int protocol,
                int flags)
{
    struct addrinfo hints = {0};
    hints.ai_family = family;
    hints.ai_socktype = socktype;
    hints.ai_protocol = protocol;
    hints.ai_flags = flags;
    struct addrinfo *res = NULL;
    errno = 0;
    int rc = getaddrinfo(host, serv, &hints, &res);
    fputs("getaddrinfo ", stdout);
    put_str(host);
    putchar(' ');
    put_str(serv);
    printf(" family=%s socktype=%s protocol=%d flags=", family_name(family),
           socktype_name(socktype), protocol);
    put_flags(flags);
    fputs(" -> ", stdout);
    put_gai_rc(rc);
    putchar('\n');
    if (rc == 0) {
        put_addrinfo_list(res);
        freeaddrinfo(res);
    }
}

/* Names from the machine's /etc/hosts, in file order, without repeats (at most 16). */
static int hosts_names(char names[][256], int max)
{
    FILE *f = fopen("/etc/hosts", "r");
    int n = 0;
    if (!f)
        return 0;
    char line[1024];
    while (n < max && fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *save = NULL;
        char *tok = strtok_r(line, " \t\r\n", &save); /* the address */
        if (!tok)
            continue;
        while (n < max && (tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
            if (strlen(tok) >= 256)
                continue;
            int dup = 0;
            for (int i = 0; i < n; i++)
                dup |= strcmp(names[i], tok) == 0;
            if (!dup)
                strcpy(names[n++], tok);
        }
    }
    fclose(f);
    return n;
}

/* Host strings that are answered without waiting: numeric forms, local names, zone names. */
static const char *const fast_hosts[] = {
    /* numeric, IPv4 and the inet_aton forms */
    "127.0.0.1", "10.53.0.1", "1.2.3", "1.2", "16909060", "0x7f.1", "0177.0.0.1", "0x7f000001",
    "127.0.0.256", "1.2.3.4.5", "1.2.3.4 ", " 1.2.3.4", "1.2.3.", "0", "255.255.255.255",
    /* numeric IPv6 */
    "::1", "::", "::ffff:10.1.2.3", "::ffff:127.0.0.1", "2001:db8::53:1", "fe80::1%lo",
    "fe80::1%1", "fe80::1%nosuchif", "2001:db8::1%lo", "::1::2", "[::1]", "fe80::1%",
    "1:2:3:4:5:6:7:8:9",
    /* local names */
    "localhost", "LOCALHOST", "localhost.", "localhost.localdomain", "ip6-localhost",
    /* the zone */
    "a", "a.green.test", "six", "six.green.test", "dual", "dual.green.test", "alias",
    "alias.green.test", "alias2.green.test", "loop1", "loop1.green.test", "www", "www.sub",
    "www.sub.green.test", "www.green.test", "nodata", "nodata.green.test", "mail.green.test",
    "fail", "fail.green.test", "refused.green.test", "big", "big.green.test", "nosuch",
    "nosuch.green.test", "nosuch.example", "a.green.test.", "A.GREEN.TEST", "aLiAs.GrEeN.tEsT",
    "h0.load.green.test", "h258.load.green.test", "h65535.load.green.test",
    "h65536.load.green.test", "badcount.green.test", "ptrloop.green.test", "huge.green.test",
    "short.green.test", "", ".", "a..green.test", "-", "a.green.test..", "green.test",
    "1.0.53.10.in-addr.arpa",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.green.test",
    "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r"
    ".s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i"
    ".j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z",
};

/* The short run: a few of each kind. */
static const char *const short_hosts[] = {
    "127.0.0.1", "1.2.3", "0x7f.1", "1.2.3.4.5", "::1", "::ffff:10.1.2.3", "fe80::1%lo",
    "localhost", "a", "a.green.test", "six.green.test", "dual.green.test", "alias.green.test",
    "loop1.green.test", "www", "nodata.green.test", "fail.green.test", "refused.green.test",
    "big.green.test", "nosuch", "a.green.test.", "A.GREEN.TEST", "",
};

/* Every host string under a few hint sets. */
static void section_gai_names(void)
{
    static const struct { int family, socktype, protocol, flags; const char *serv; } hints[] = {
        {AF_UNSPEC, 0, 0, 0, NULL},
        {AF_UNSPEC, SOCK_STREAM, 0, AI_CANONNAME, "80"},
        {AF_INET, SOCK_DGRAM, 0, AI_CANONNAME, "domain"},
        {AF_INET6, SOCK_STREAM, IPPROTO_TCP, AI_V4MAPPED, "http"},
        {AF_UNSPEC, SOCK_STREAM, 0, AI_NUMERICHOST, NULL},
    };
    const char *const *hosts = short_run ? short_hosts : fast_hosts;
    size_t nhosts = short_run ? N_(short_hosts) : N_(fast_hosts);
    size_t nhints = short_run ? 2 : N_(hints);
    char local[16][256];
    int nlocal = hosts_names(local, 16);
    for (size_t h = 0; h < nhints; h++) {
        for (size_t i = 0; i < nhosts; i++)
            gai(hosts[i], hints[h].serv, hints[h].family, hints[h].socktype, hints[h].protocol,
                hints[h].flags);
        for (int i = 0; i < nlocal; i++)
            gai(local[i], hints[h].serv, hints[h].family, hints[h].socktype, hints[h].protocol,
                hints[h].flags);
    }
    if (!short_run)
        gai("slow.green.test", "80", AF_UNSPEC, SOCK_STREAM, 0, AI_CANONNAME);
}

/* Every combination of the flags, for a few hosts and three families. */
static void section_gai_flags(void)
{
    static const int bits[] = {AI_PASSIVE, AI_CANONNAME, AI_NUMERICHOST, AI_NUMERICSERV,
                               AI_ADDRCONFIG, AI_V4MAPPED, AI_ALL};
    static const char *const hosts[] = {"dual.green.test", "a.green.test", "six.green.test",
                                        "127.0.0.1", "::1", NULL, "localhost"};
    static const int families[] = {AF_UNSPEC, AF_INET6, AF_INET};
    size_t nhosts = short_run ? 2 : N_(hosts);
    size_t nfam = short_run ? 2 : N_(families);
    for (size_t h = 0; h < nhosts; h++)
        for (size_t f = 0; f < nfam; f++)
            for (int m = 0; m < (1 << N_(bits)); m++) {
                /* The short run: each flag alone, and AI_V4MAPPED|AI_ALL. */
                if (short_run && (m & (m - 1)) && m != ((1 << 5) | (1 << 6)))
                    continue;
                int flags = 0;
                for (size_t b = 0; b < N_(bits); b++)
                    if (m & (1 << b))
                        flags |= bits[b];
                gai(hosts[h], "80", families[f], SOCK_STREAM, 0, flags);
            }
    /* Bits getaddrinfo does not know, glibc's AI_IDN (on ASCII names), AI_CANONNAME with
     * AI_NUMERICHOST, and AI_CANONNAME without a host. */
    static const int bad[] = {0x10000, 0x800, 0x1000, (int)0x80000000, AI_IDN,
                              AI_CANONNAME | AI_NUMERICHOST};
    for (size_t i = 0; i < N_(bad); i++) {
        gai("a.green.test", "80", AF_UNSPEC, SOCK_STREAM, 0, bad[i]);
        gai("127.0.0.1", "80", AF_UNSPEC, SOCK_STREAM, 0, bad[i]);
    }
    gai(NULL, "80", AF_UNSPEC, SOCK_STREAM, 0, AI_CANONNAME);
    gai(NULL, "80", AF_UNSPEC, SOCK_STREAM, 0, AI_CANONNAME | AI_PASSIVE);
    gai(NULL, NULL, AF_UNSPEC, 0, 0, 0);
    gai(NULL, NULL, AF_UNSPEC, 0, 0, AI_PASSIVE);
}

/* Services, socket types and protocols, crossed, for a numeric host, a name and no host. */
static void section_gai_services(void)
{
    static const char *const servs[] = {NULL, "80", "http", "domain", "nosuchsvc", "65536", "-1",
                                        "0", "65535", "ssh", "HTTP", " 80", "80 ", "0x50",
                                        "", "tftp", "echo"};
    static const int socktypes[] = {0, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET, 99};
    static const int protocols[] = {0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, 99};
    static const char *const hosts[] = {"127.0.0.1", "a.green.test", NULL};
    size_t nhosts = short_run ? 1 : N_(hosts);
    for (size_t h = 0; h < nhosts; h++)
        for (size_t s = 0; s < N_(servs); s++)
            for (size_t t = 0; t < N_(socktypes); t++)
                for (size_t p = 0; p < N_(protocols); p++) {
                    if (short_run && p > 2)
                        continue;
                    gai(hosts[h], servs[s], AF_UNSPEC, socktypes[t], protocols[p], 0);
                    if (servs[s] && h == 0 && p == 0)
                        gai(hosts[h], servs[s], AF_UNSPEC, socktypes[t], 0, AI_NUMERICSERV);
                }
}

/* Families, good and bad, for each kind of host. */
static void section_gai_families(void)
{
    static const int families[] = {AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX, AF_PACKET, 12345};
    static const char *const hosts[] = {"127.0.0.1", "::1", "::ffff:10.1.2.3", "a.green.test",
                                        "six.green.test", "dual.green.test", "localhost", NULL,
                                        "nodata.green.test", "www"};
    for (size_t h = 0; h < N_(hosts); h++)
        for (size_t f = 0; f < N_(families); f++) {
            gai(hosts[h], NULL, families[f], 0, 0, 0);
            gai(hosts[h], "53", families[f], SOCK_DGRAM, IPPROTO_UDP, AI_PASSIVE);
        }
    /* NULL hints, and both host and service NULL. */
    struct addrinfo *res = NULL;
    int rc = getaddrinfo("dual.green.test", "80", NULL, &res);
    fputs("getaddrinfo \"dual.green.test\" \"80\" hints=NULL -> ", stdout);
    put_gai_rc(rc);
    putchar('\n');
    if (rc == 0) {
        put_addrinfo_list(res);
        freeaddrinfo(res);
    }
    res = NULL;
    rc = getaddrinfo(NULL, NULL, NULL, &res);
    fputs("getaddrinfo NULL NULL hints=NULL -> ", stdout);
    put_gai_rc(rc);
    putchar('\n');
    if (rc == 0) {
        put_addrinfo_list(res);
        freeaddrinfo(res);
    }
    /* Every gai_strerror text, including codes that do not exist. */
    for (int code = 0; code >= -106; code--) {
        if (code < -12 && code > -100)
            continue;
        printf("gai_strerror %d = ", code);
        put_str(gai_strerror(code));
        putchar('\n');
    }
    printf("gai_strerror 1 = ");
    put_str(gai_strerror(1));
    putchar('\n');
}

/* ---- getnameinfo ------------------------------------------------------------------------ */

static const char *ni_flags_name(int f)
{
    static char buf[128];
    static const struct { int bit; const char *name; } names[] = {
        {NI_NUMERICHOST, "NUMERICHOST"}, {NI_NUMERICSERV, "NUMERICSERV"},
        {NI_NOFQDN, "NOFQDN"}, {NI_NAMEREQD, "NAMEREQD"}, {NI_DGRAM, "DGRAM"},
    };
    if (f == 0)
        return "0";
    buf[0] = '\0';
    for (size_t i = 0; i < N_(names); i++)
        if (f & names[i].bit) {
            if (buf[0])
                strcat(buf, "|");
            strcat(buf, names[i].name);
            f &= ~names[i].bit;
        }
    if (f) {
        char rest[24];
        snprintf(rest, sizeof rest, "%s0x%x", buf[0] ? "|" : "", (unsigned)f);
        strcat(buf, rest);
    }
    return buf;
}

static void gni(const char *label, const struct sockaddr *sa, socklen_t salen, size_t hostlen,
                size_t servlen, int flags, int want_host, int want_serv)
{
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    /* A fill byte shows whether a failed call wrote into the buffers. */
    memset(host, '#', sizeof host);
    memset(serv, '#', sizeof serv);
    host[sizeof host - 1] = serv[sizeof serv - 1] = '\0';
    errno = 0;
    int rc = getnameinfo(sa, salen, want_host ? host : NULL, want_host ? hostlen : 0,
                         want_serv ? serv : NULL, want_serv ? servlen : 0, flags);
    printf("getnameinfo %s salen=%u hostlen=%zu servlen=%zu flags=%s -> ", label, (unsigned)salen,
           want_host ? hostlen : 0, want_serv ? servlen : 0, ni_flags_name(flags));
    put_gai_rc(rc);
    if (rc == 0) {
        fputs(" host=", stdout);
        if (want_host)
            put_str(host);
        else
            putchar('-');
        fputs(" serv=", stdout);
        if (want_serv)
            put_str(serv);
        else
            putchar('-');
    }
    putchar('\n');
}

struct gni_addr {
    const char *text; /* address text */
    int family;
    unsigned scope;
};

static socklen_t make_sockaddr(struct sockaddr_storage *ss, const struct gni_addr *a, int port)
{
    memset(ss, 0, sizeof *ss);
    if (a->family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)ss;
        s->sin_family = AF_INET;
        s->sin_port = htons(port);
        inet_pton(AF_INET, a->text, &s->sin_addr);
        return sizeof *s;
    }
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    s->sin6_scope_id = a->scope;
    inet_pton(AF_INET6, a->text, &s->sin6_addr);
    return sizeof *s;
}

static void section_gni(void)
{
    static const struct gni_addr addrs[] = {
        {"10.53.0.1", AF_INET, 0},      {"10.53.0.2", AF_INET, 0},
        {"10.53.1.1", AF_INET, 0},      {"127.0.0.1", AF_INET, 0},
        {"10.99.0.1", AF_INET, 0},      {"0.0.0.0", AF_INET, 0},
        {"2001:db8::53:1", AF_INET6, 0}, {"::1", AF_INET6, 0},
        {"2001:db8::99", AF_INET6, 0},  {"::ffff:10.53.0.1", AF_INET6, 0},
        {"::ffff:10.99.0.1", AF_INET6, 0}, {"::10.53.0.1", AF_INET6, 0},
        {"fe80::1", AF_INET6, 1},       {"fe80::1", AF_INET6, 0},
        {"fe80::1", AF_INET6, 4242},    {"ff02::1", AF_INET6, 1},
        {"::", AF_INET6, 0},
    };
    static const int ports[] = {22, 53, 80, 0, 65535, 60999};
    static const int flagsets[] = {
        0,
        NI_NUMERICHOST,
        NI_NUMERICSERV,
        NI_NAMEREQD,
        NI_DGRAM,
        NI_NOFQDN,
        NI_NUMERICHOST | NI_NUMERICSERV,
        NI_NAMEREQD | NI_NUMERICSERV,
        NI_NAMEREQD | NI_NUMERICHOST,
        NI_NOFQDN | NI_DGRAM,
        NI_NUMERICHOST | NI_NUMERICSERV | NI_NOFQDN | NI_NAMEREQD | NI_DGRAM,
        0x4000,
    };
    size_t naddrs = short_run ? 8 : N_(addrs);
    struct sockaddr_storage ss;
    char label[96];
    /* Every address with every flag set, port 53. */
    for (size_t a = 0; a < naddrs; a++)
        for (size_t f = 0; f < N_(flagsets); f++) {
            socklen_t len = make_sockaddr(&ss, &addrs[a], 53);
            snprintf(label, sizeof label, "%s%%%u:53", addrs[a].text, addrs[a].scope);
            gni(label, (struct sockaddr *)&ss, len, NI_MAXHOST, NI_MAXSERV, flagsets[f], 1, 1);
        }
    /* Every port with the service-related flags, on one v4 and one v6 address. */
    static const size_t two[] = {0, 6};
    for (size_t i = 0; i < 2; i++)
        for (size_t p = 0; p < N_(ports); p++)
            for (int f = 0; f < 4; f++) {
                int flags = (f & 1 ? NI_NUMERICSERV : 0) | (f & 2 ? NI_DGRAM : 0);
                const struct gni_addr *a = &addrs[two[i]];
                socklen_t len = make_sockaddr(&ss, a, ports[p]);
                snprintf(label, sizeof label, "%s:%d", a->text, ports[p]);
                gni(label, (struct sockaddr *)&ss, len, NI_MAXHOST, NI_MAXSERV, flags, 1, 1);
            }
    /* Host only, service only, neither. */
    for (size_t i = 0; i < 2; i++) {
        const struct gni_addr *a = &addrs[two[i]];
        socklen_t len = make_sockaddr(&ss, a, 80);
        snprintf(label, sizeof label, "%s:80", a->text);
        gni(label, (struct sockaddr *)&ss, len, NI_MAXHOST, NI_MAXSERV, 0, 1, 0);
        gni(label, (struct sockaddr *)&ss, len, NI_MAXHOST, NI_MAXSERV, 0, 0, 1);
        gni(label, (struct sockaddr *)&ss, len, NI_MAXHOST, NI_MAXSERV, 0, 0, 0);
        gni(label, (struct sockaddr *)&ss, len, NI_MAXHOST, NI_MAXSERV, NI_NAMEREQD, 0, 1);
    }
    /* Small buffers: "a.green.test" is 12 bytes, "10.53.0.1" 9, "http" 4, "80" 2. */
    static const size_t hostlens[] = {0, 1, 2, 9, 10, 11, 12, 13, 14};
    static const size_t servlens[] = {0, 1, 2, 3, 4, 5};
    {
        socklen_t len = make_sockaddr(&ss, &addrs[0], 80);
        for (size_t h = 0; h < N_(hostlens); h++) {
            gni("10.53.0.1:80", (struct sockaddr *)&ss, len, hostlens[h], NI_MAXSERV, 0, 1, 1);
            gni("10.53.0.1:80", (struct sockaddr *)&ss, len, hostlens[h], NI_MAXSERV,
                NI_NUMERICHOST, 1, 1);
        }
        for (size_t s = 0; s < N_(servlens); s++) {
            gni("10.53.0.1:80", (struct sockaddr *)&ss, len, NI_MAXHOST, servlens[s], 0, 1, 1);
            gni("10.53.0.1:80", (struct sockaddr *)&ss, len, NI_MAXHOST, servlens[s],
                NI_NUMERICSERV, 1, 1);
        }
        static const struct gni_addr ll = {"fe80::1", AF_INET6, 1};
        len = make_sockaddr(&ss, &ll, 80);
        for (size_t h = 0; h < N_(hostlens); h++)
            gni("fe80::1%1:80", (struct sockaddr *)&ss, len, hostlens[h], NI_MAXSERV,
                NI_NUMERICHOST, 1, 1);
    }
    /* Bad and odd lengths and families. */
    for (size_t i = 0; i < 2; i++) {
        const struct gni_addr *a = &addrs[two[i]];
        socklen_t good = make_sockaddr(&ss, a, 80);
        socklen_t lens[] = {0, 2, good - 1, good + 1, sizeof ss};
        for (size_t l = 0; l < N_(lens); l++) {
            snprintf(label, sizeof label, "%s:80", a->text);
            gni(label, (struct sockaddr *)&ss, lens[l], NI_MAXHOST, NI_MAXSERV, 0, 1, 1);
        }
    }
    {
        struct sockaddr_un un = {0};
        un.sun_family = AF_UNIX;
        strcpy(un.sun_path, "/nonexistent-socket");
        gni("unix:/nonexistent-socket", (struct sockaddr *)&un, sizeof un, NI_MAXHOST,
            NI_MAXSERV, 0, 1, 1);
        memset(&ss, 0, sizeof ss);
        ss.ss_family = AF_PACKET;
        gni("family:PACKET", (struct sockaddr *)&ss, sizeof ss, NI_MAXHOST, NI_MAXSERV, 0, 1, 1);
        ss.ss_family = AF_UNSPEC;
        gni("family:UNSPEC", (struct sockaddr *)&ss, sizeof ss, NI_MAXHOST, NI_MAXSERV, 0, 1, 1);
        /* A v4 address in a sockaddr_in6-sized length is fine; a v6 one in a v4 length is not. */
        socklen_t len = make_sockaddr(&ss, &addrs[6], 80);
        (void)len;
        gni("2001:db8::53:1:80", (struct sockaddr *)&ss, sizeof(struct sockaddr_in), NI_MAXHOST,
            NI_MAXSERV, 0, 1, 1);
    }
}

/* ---- gethostbyname & co ----------------------------------------------------------------- */

static void put_hostent(const struct hostent *h)
{
    fputs("  name=", stdout);
    put_str(h->h_name);
    printf(" addrtype=%s length=%d\n", family_name(h->h_addrtype), h->h_length);
    for (char **a = h->h_aliases; a && *a; a++) {
        fputs("  alias ", stdout);
        put_str(*a);
        putchar('\n');
    }
    for (char **a = h->h_addr_list; a && *a; a++) {
        char buf[INET6_ADDRSTRLEN];
        if ((h->h_addrtype == AF_INET && h->h_length == 4) ||
            (h->h_addrtype == AF_INET6 && h->h_length == 16))
            inet_ntop(h->h_addrtype, *a, buf, sizeof buf);
        else
            strcpy(buf, "?");
        printf("  addr %s\n", buf);
    }
}

static void put_hostent_result(const struct hostent *h)
{
    if (h) {
        puts("ok");
        put_hostent(h);
    } else {
        printf("NULL h_errno=%s\n", herr_name(h_errno));
    }
}

static void ghbn(const char *name)
{
    struct hostent *h = gethostbyname(name);
    fputs("gethostbyname ", stdout);
    put_str(name);
    fputs(" -> ", stdout);
    put_hostent_result(h);
}

static void ghbn2(const char *name, int af)
{
    struct hostent *h = gethostbyname2(name, af);
    fputs("gethostbyname2 ", stdout);
    put_str(name);
    printf(" %s -> ", family_name(af));
    put_hostent_result(h);
}

/* The _r forms: af < 0 means gethostbyname_r. */
static void ghbn_r(const char *name, int af, size_t buflen)
{
    struct hostent he, *result = (struct hostent *)1;
    int herr = 12345;
    char *buf = malloc(buflen ? buflen : 1);
    int rc = af < 0 ? gethostbyname_r(name, &he, buf, buflen, &result, &herr)
                    : gethostbyname2_r(name, af, &he, buf, buflen, &result, &herr);
    if (af < 0)
        fputs("gethostbyname_r ", stdout);
    else
        fputs("gethostbyname2_r ", stdout);
    put_str(name);
    if (af >= 0)
        printf(" %s", family_name(af));
    printf(" buflen=%zu -> rc=%s result=%s", buflen, errno_name(rc),
           result == NULL ? "NULL" : result == &he ? "&he" : "other");
    if (!result)
        printf(" h_errno=%s", herr_name(herr));
    putchar('\n');
    if (result == &he)
        put_hostent(&he);
    free(buf);
}

static void ghba(const char *text, int af, int addrlen_adjust)
{
    unsigned char addr[16] = {0};
    int len = af == AF_INET6 ? 16 : 4;
    inet_pton(af == AF_INET6 ? AF_INET6 : AF_INET, text, addr);
    struct hostent *h = gethostbyaddr(addr, len + addrlen_adjust, af);
    printf("gethostbyaddr %s len=%d %s -> ", text, len + addrlen_adjust, family_name(af));
    put_hostent_result(h);

    struct hostent he, *result = (struct hostent *)1;
    int herr = 12345;
    char buf[1024];
    int rc = gethostbyaddr_r(addr, len + addrlen_adjust, af, &he, buf, sizeof buf, &result, &herr);
    printf("gethostbyaddr_r %s len=%d %s buflen=%zu -> rc=%s result=%s", text,
           len + addrlen_adjust, family_name(af), sizeof buf, errno_name(rc),
           result == NULL ? "NULL" : result == &he ? "&he" : "other");
    if (!result)
        printf(" h_errno=%s", herr_name(herr));
    putchar('\n');
    if (result == &he)
        put_hostent(&he);
    char small[16];
    result = (struct hostent *)1;
    herr = 12345;
    rc = gethostbyaddr_r(addr, len + addrlen_adjust, af, &he, small, sizeof small, &result, &herr);
    printf("gethostbyaddr_r %s len=%d %s buflen=%zu -> rc=%s result=%s", text,
           len + addrlen_adjust, family_name(af), sizeof small, errno_name(rc),
           result == NULL ? "NULL" : result == &he ? "&he" : "other");
    if (!result)
        printf(" h_errno=%s", herr_name(herr));
    putchar('\n');
    if (result == &he)
        put_hostent(&he);
}

static void section_hostent(void)
{
    static const char *const names[] = {
        "127.0.0.1", "::1", "10.53.0.1", "1.2.3", "::ffff:10.1.2.3", "1.2.3.4.5", "localhost",
        "a", "a.green.test", "six.green.test", "dual", "dual.green.test", "alias.green.test",
        "loop1.green.test", "www", "www.sub.green.test", "nodata.green.test", "mail.green.test",
        "fail.green.test", "refused.green.test", "big.green.test", "nosuch", "nosuch.green.test",
        "a.green.test.", "A.GREEN.TEST", "badcount.green.test", "ptrloop.green.test",
        "huge.green.test", "",
    };
    static const char *const short_names[] = {"127.0.0.1", "localhost", "a", "dual.green.test",
                                               "alias.green.test", "nosuch", "big.green.test"};
    const char *const *list = short_run ? short_names : names;
    size_t n = short_run ? N_(short_names) : N_(names);
    char local[16][256];
    int nlocal = hosts_names(local, 16);
    for (size_t i = 0; i < n; i++) {
        ghbn(list[i]);
        ghbn2(list[i], AF_INET);
        ghbn2(list[i], AF_INET6);
        ghbn2(list[i], AF_UNIX);
        ghbn_r(list[i], -1, 4096);
        ghbn_r(list[i], AF_INET6, 4096);
        ghbn_r(list[i], AF_INET, 4096);
        ghbn_r(list[i], -1, 16);
        ghbn_r(list[i], AF_INET6, 40);
    }
    for (int i = 0; i < nlocal; i++) {
        ghbn(local[i]);
        ghbn_r(local[i], AF_INET, 4096);
        ghbn_r(local[i], AF_INET, 8);
    }
    /* big.green.test has 60 addresses: between "fits" and "far too small". */
    static const size_t sizes[] = {256, 512, 600, 1024};
    for (size_t i = 0; i < N_(sizes); i++)
        ghbn_r("big.green.test", AF_INET, sizes[i]);
    if (!short_run)
        ghbn("slow.green.test");

    static const struct { const char *text; int af; int adjust; } addrs[] = {
        {"10.53.0.1", AF_INET, 0}, {"10.53.0.2", AF_INET, 0}, {"10.53.1.1", AF_INET, 0},
        {"127.0.0.1", AF_INET, 0}, {"10.99.0.1", AF_INET, 0}, {"2001:db8::53:1", AF_INET6, 0},
        {"::1", AF_INET6, 0},      {"2001:db8::99", AF_INET6, 0},
        {"::ffff:10.53.0.1", AF_INET6, 0}, {"10.53.0.1", AF_INET, -1},
        {"10.53.0.1", AF_INET, 12}, {"2001:db8::53:1", AF_INET6, -12},
        {"10.53.0.1", AF_UNIX, 0},
    };
    for (size_t i = 0; i < (short_run ? 4 : N_(addrs)); i++)
        ghba(addrs[i].text, addrs[i].af, addrs[i].adjust);
}

/* ---- /etc/hosts (run alone, with a test hosts file) -------------------------------------- */

/* The tokens of /etc/hosts (the first 6 of each line), addresses included, in file order,
 * without repeats. */
static int hosts_tokens(char names[][256], int max)
{
    FILE *f = fopen("/etc/hosts", "r");
    int n = 0;
    if (!f)
        return 0;
    char line[8192];
    while (n < max && fgets(line, sizeof line, f)) {
        line[strcspn(line, "#")] = '\0';
        char *save = NULL;
        int k = 0;
        for (char *tok = strtok_r(line, " \t\r\n", &save); tok && n < max && k++ < 6;
             tok = strtok_r(NULL, " \t\r\n", &save)) {
            int dup = strlen(tok) >= 256;
            for (int i = 0; i < n && !dup; i++)
                dup = strcmp(names[i], tok) == 0;
            if (!dup)
                strcpy(names[n++], tok);
        }
    }
    fclose(f);
    return n;
}

/* The hosts database's files source through every public entry point: names and aliases in
 * any case, lines that repeat a name, IPv4 lines for IPv6 questions (AI_V4MAPPED,
 * RES_USE_INET6), reverse look-ups, buffers too small, and the enumeration. */
static void section_hosts_file(void)
{
    static char toks[128][256];
    int n = hosts_tokens(toks, 80);
    for (int i = 0; i < n && n < 128; i++) {
        if (strchr(toks[i], '.') || strchr(toks[i], ':'))
            continue;
        int upper = 0;
        for (char *p = toks[i]; *p; p++)
            upper |= islower((unsigned char)*p);
        if (upper) {
            strcpy(toks[n], toks[i]);
            for (char *p = toks[n]; *p; p++)
                *p = (char)toupper((unsigned char)*p);
            n++;
        }
    }
    for (int i = 0; i < n; i++) {
        const char *name = toks[i];
        gai(name, NULL, AF_UNSPEC, 0, 0, 0);
        gai(name, "80", AF_UNSPEC, SOCK_STREAM, 0, AI_CANONNAME);
        gai(name, "80", AF_INET, SOCK_STREAM, 0, AI_CANONNAME);
        gai(name, "80", AF_INET6, SOCK_STREAM, 0, AI_CANONNAME);
        gai(name, "80", AF_INET6, SOCK_STREAM, 0, AI_V4MAPPED);
        gai(name, "80", AF_INET6, SOCK_STREAM, 0, AI_V4MAPPED | AI_ALL | AI_CANONNAME);
        ghbn(name);
        ghbn2(name, AF_INET);
        ghbn2(name, AF_INET6);
        ghbn_r(name, AF_INET, 4096);
        ghbn_r(name, AF_INET6, 4096);
        for (size_t len = 0; len <= 320; len += 8)
            ghbn_r(name, -1, len);
    }
    /* RES_USE_INET6 (gone from the headers, still honoured by glibc 2.36's gethostbyname*):
     * IPv4 answers come back as IPv4-mapped IPv6 ones. */
    const unsigned long use_inet6 = 0x00002000;
    res_init();
    _res.options |= use_inet6;
    for (int i = 0; i < n; i++) {
        ghbn(toks[i]);
        ghbn2(toks[i], AF_INET);
        ghbn_r(toks[i], -1, 4096);
        ghbn_r(toks[i], -1, 100);
    }
    _res.options &= ~use_inet6;
    /* Reverse, for every address of the file: both families, mapped forms, getnameinfo. */
    for (int i = 0; i < n; i++) {
        unsigned char a[16];
        if (inet_pton(AF_INET, toks[i], a) == 1) {
            ghba(toks[i], AF_INET, 0);
            char mapped[300];
            snprintf(mapped, sizeof mapped, "::ffff:%.255s", toks[i]);
            ghba(mapped, AF_INET6, 0);
        } else if (inet_pton(AF_INET6, toks[i], a) == 1) {
            ghba(toks[i], AF_INET6, 0);
        } else {
            continue;
        }
        struct gni_addr ga = {toks[i], strchr(toks[i], ':') ? AF_INET6 : AF_INET, 0};
        struct sockaddr_storage ss;
        socklen_t len = make_sockaddr(&ss, &ga, 80);
        gni(toks[i], (struct sockaddr *)&ss, len, NI_MAXHOST, NI_MAXSERV, 0, 1, 1);
        gni(toks[i], (struct sockaddr *)&ss, len, NI_MAXHOST, NI_MAXSERV, NI_NAMEREQD, 1, 0);
        gni(toks[i], (struct sockaddr *)&ss, len, 4, NI_MAXSERV, NI_NAMEREQD, 1, 0);
    }
    /* The enumeration: every entry in file order. */
    sethostent(0);
    for (struct hostent *h; (h = gethostent()) != NULL;) {
        fputs("gethostent -> ", stdout);
        put_hostent_result(h);
    }
    endhostent();
}

/* ---- res_* ------------------------------------------------------------------------------ */

static void put_packet(const unsigned char *p, int len)
{
    for (int i = 0; i < len; i++) {
        if (i % 32 == 0)
            fputs(i ? "\n  " : "  ", stdout);
        /* The ID (bytes 0 and 1) is random. */
        printf("%02x", i < 2 ? 0 : p[i]);
    }
    putchar('\n');
}

static const char *type_name(int t)
{
    switch (t) {
    case ns_t_a: return "A";
    case ns_t_aaaa: return "AAAA";
    case ns_t_mx: return "MX";
    case ns_t_txt: return "TXT";
    case ns_t_ptr: return "PTR";
    case ns_t_cname: return "CNAME";
    case ns_t_soa: return "SOA";
    case ns_t_ns: return "NS";
    }
    static char buf[16];
    snprintf(buf, sizeof buf, "TYPE%d", t);
    return buf;
}

/* Prints the outcome of a call that returns an answer length (or -1). */
static void put_res_result(int rc, const unsigned char *ans, int anslen)
{
    printf(" -> %d", rc);
    if (rc < 0) {
        printf(" h_errno=%s\n", herr_name(h_errno));
        return;
    }
    putchar('\n');
    put_packet(ans, rc < anslen ? rc : anslen);
}

enum res_call { R_QUERY, R_SEARCH, R_NQUERY, R_NSEARCH };

static void res_call(enum res_call call, res_state st, const char *name, int type, int anslen)
{
    unsigned char ans[8192];
    memset(ans, 0, sizeof ans);
    int rc = -2;
    h_errno = 0;
    switch (call) {
    case R_QUERY: rc = res_query(name, ns_c_in, type, ans, anslen); break;
    case R_SEARCH: rc = res_search(name, ns_c_in, type, ans, anslen); break;
    case R_NQUERY: rc = res_nquery(st, name, ns_c_in, type, ans, anslen); break;
    case R_NSEARCH: rc = res_nsearch(st, name, ns_c_in, type, ans, anslen); break;
    }
    static const char *const names[] = {"res_query", "res_search", "res_nquery", "res_nsearch"};
    printf("%s ", names[call]);
    put_str(name);
    printf(" IN %s anslen=%d", type_name(type), anslen);
    put_res_result(rc, ans, anslen);
}

static void res_call_class(const char *name, int class, int type)
{
    unsigned char ans[4096];
    h_errno = 0;
    int rc = res_query(name, class, type, ans, sizeof ans);
    fputs("res_query ", stdout);
    put_str(name);
    printf(" class=%d %s anslen=%zu", class, type_name(type), sizeof ans);
    put_res_result(rc, ans, sizeof ans);
}

static void section_res(void)
{
    static const char *const names[] = {
        "a.green.test", "six.green.test", "dual.green.test", "alias.green.test",
        "loop1.green.test", "www.sub.green.test", "nodata.green.test", "mail.green.test",
        "fail.green.test", "refused.green.test", "big.green.test", "nosuch.green.test",
        "A.GREEN.TEST", "a.green.test.", "badcount.green.test", "ptrloop.green.test",
        "huge.green.test", "1.0.53.10.in-addr.arpa", "2.0.53.10.in-addr.arpa",
        "1.0.0.0.3.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
        "9.9.9.10.in-addr.arpa", "",
    };
    static const int types[] = {ns_t_a, ns_t_aaaa, ns_t_mx, ns_t_txt, ns_t_ptr, ns_t_cname,
                                ns_t_soa};
    size_t nnames = short_run ? 6 : N_(names);
    for (size_t i = 0; i < nnames; i++)
        for (size_t t = 0; t < N_(types); t++)
            res_call(R_QUERY, NULL, names[i], types[t], 4096);
    /* Answer buffers smaller than the answer. */
    static const int lens[] = {0, 11, 12, 40, 100, 512};
    for (size_t l = 0; l < N_(lens); l++) {
        res_call(R_QUERY, NULL, "big.green.test", ns_t_a, lens[l]);
        res_call(R_QUERY, NULL, "dual.green.test", ns_t_aaaa, lens[l]);
    }
    static const char *const search[] = {"a", "www", "www.sub", "nosuch", "fail", "a.green.test",
                                         "a.green.test.", "six", "alias", "nodata", ""};
    for (size_t i = 0; i < N_(search); i++) {
        res_call(R_SEARCH, NULL, search[i], ns_t_a, 4096);
        if (!short_run)
            res_call(R_SEARCH, NULL, search[i], ns_t_aaaa, 4096);
    }
    static const struct { const char *name, *domain; } qd[] = {
        {"www", "sub.green.test"}, {"a", "green.test"}, {"a", "green.test."},
        {"nosuch", "green.test"}, {"a.green.test", NULL}, {"a.green.test.", NULL},
        {"www.sub", "green.test"},
    };
    for (size_t i = 0; i < N_(qd); i++) {
        unsigned char ans[4096];
        h_errno = 0;
        int rc = res_querydomain(qd[i].name, qd[i].domain, ns_c_in, ns_t_a, ans, sizeof ans);
        fputs("res_querydomain ", stdout);
        put_str(qd[i].name);
        putchar(' ');
        put_str(qd[i].domain);
        fputs(" IN A", stdout);
        put_res_result(rc, ans, sizeof ans);
    }

    /* The reentrant forms, on a state of our own; then the same state without the search list
     * and without recursion desired. */
    struct __res_state st;
    memset(&st, 0, sizeof st);
    int rc = res_ninit(&st);
    printf("res_ninit -> %d nscount=%d ndots=%d retrans=%d retry=%d\n", rc, st.nscount,
           (int)st.ndots, st.retrans, st.retry);
    for (int i = 0; st.dnsrch[i]; i++) {
        printf("  dnsrch[%d] ", i);
        put_str(st.dnsrch[i]);
        putchar('\n');
    }
    static const char *const rnames[] = {"a", "www", "dual.green.test", "nosuch", "mail"};
    for (size_t i = 0; i < N_(rnames); i++) {
        res_call(R_NQUERY, &st, rnames[i], ns_t_a, 4096);
        res_call(R_NSEARCH, &st, rnames[i], ns_t_a, 4096);
        res_call(R_NSEARCH, &st, rnames[i], ns_t_mx, 4096);
    }
    st.options &= ~(unsigned long)RES_DNSRCH;
    puts("options &= ~RES_DNSRCH");
    res_call(R_NSEARCH, &st, "www", ns_t_a, 4096);
    res_call(R_NSEARCH, &st, "a", ns_t_a, 4096);
    st.options &= ~(unsigned long)RES_DEFNAMES;
    puts("options &= ~RES_DEFNAMES");
    res_call(R_NSEARCH, &st, "a", ns_t_a, 4096);
    st.options &= ~(unsigned long)RES_RECURSE;
    puts("options &= ~RES_RECURSE");
    res_call(R_NQUERY, &st, "a.green.test", ns_t_a, 4096);
    st.options |= RES_USEVC;
    puts("options |= RES_USEVC");
    res_call(R_NQUERY, &st, "dual.green.test", ns_t_aaaa, 4096);
    res_call(R_NQUERY, &st, "big.green.test", ns_t_a, 4096);

    /* res_mkquery + res_send, and their reentrant forms; the query itself is printed too. */
    static const struct { const char *name; int type; int op; } mk[] = {
        {"a.green.test", ns_t_a, ns_o_query},       {"dual.green.test", ns_t_aaaa, ns_o_query},
        {"mail.green.test", ns_t_mx, ns_o_query},   {"nodata.green.test", ns_t_txt, ns_o_query},
        {"alias.green.test", ns_t_cname, ns_o_query}, {"big.green.test", ns_t_a, ns_o_query},
        {"nosuch.green.test", ns_t_a, ns_o_query},  {"fail.green.test", ns_t_a, ns_o_query},
        {"refused.green.test", ns_t_a, ns_o_query}, {"a.green.test", ns_t_a, ns_o_iquery},
        {"1.0.53.10.in-addr.arpa", ns_t_ptr, ns_o_query},
    };
    for (size_t i = 0; i < (short_run ? 4 : N_(mk)); i++) {
        unsigned char q[512], ans[4096];
        int qlen = res_mkquery(mk[i].op, mk[i].name, ns_c_in, mk[i].type, NULL, 0, NULL, q,
                               sizeof q);
        printf("res_mkquery op=%d ", mk[i].op);
        put_str(mk[i].name);
        printf(" IN %s -> %d\n", type_name(mk[i].type), qlen);
        if (qlen < 0)
            continue;
        put_packet(q, qlen);
        h_errno = 0;
        errno = 0;
        rc = res_send(q, qlen, ans, sizeof ans);
        fputs("res_send", stdout);
        if (rc < 0)
            printf(" errno=%s", errno_name(errno));
        put_res_result(rc, ans, sizeof ans);
        qlen = res_nmkquery(&st, mk[i].op, mk[i].name, ns_c_in, mk[i].type, NULL, 0, NULL, q,
                            sizeof q);
        printf("res_nmkquery (no RD) -> %d\n", qlen);
        if (qlen < 0)
            continue;
        put_packet(q, qlen);
        h_errno = 0;
        errno = 0;
        rc = res_nsend(&st, q, qlen, ans, sizeof ans);
        fputs("res_nsend (USEVC)", stdout);
        if (rc < 0)
            printf(" errno=%s", errno_name(errno));
        put_res_result(rc, ans, sizeof ans);
    }
    /* Class CHAOS (the server: NOTIMP), and a query without a question (FORMERR). */
    res_call_class("a.green.test", ns_c_chaos, ns_t_a);
    res_call_class("a.green.test", ns_c_any, ns_t_a);
    {
        unsigned char q[512], ans[4096];
        int qlen = res_mkquery(ns_o_query, "a.green.test", ns_c_in, ns_t_a, NULL, 0, NULL, q,
                               sizeof q);
        if (qlen >= 12) {
            q[5] = 0; /* QDCOUNT 0 */
            h_errno = 0;
            errno = 0;
            rc = res_send(q, qlen, ans, sizeof ans);
            printf("res_send QDCOUNT=0%s%s", rc < 0 ? " errno=" : "", rc < 0 ? errno_name(errno) : "");
            put_res_result(rc, ans, sizeof ans);
            q[5] = 1;
            q[qlen - 1] = ns_c_chaos;
            h_errno = 0;
            errno = 0;
            rc = res_send(q, qlen, ans, sizeof ans);
            printf("res_send class CHAOS%s%s", rc < 0 ? " errno=" : "", rc < 0 ? errno_name(errno) : "");
            put_res_result(rc, ans, sizeof ans);
        }
    }
    res_nclose(&st);
}

/* ---- getaddrinfo_a ---------------------------------------------------------------------- */

static void put_gaicb(const char *what, struct gaicb *cb)
{
    errno = 0; /* EAI_SYSTEM would print it: not a stale one */
    int e = gai_error(cb);
    printf("  %s ", what);
    put_str(cb->ar_name);
    fputs(" gai_error -> ", stdout);
    put_gai_rc(e);
    putchar('\n');
    if (e == 0) {
        put_addrinfo_list(cb->ar_result);
        freeaddrinfo(cb->ar_result);
        cb->ar_result = NULL;
    }
}

static pthread_mutex_t notify_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t notify_cond = PTHREAD_COND_INITIALIZER;
static int notified;
static int notified_value;

static void on_notify(union sigval v)
{
    pthread_mutex_lock(&notify_lock);
    notified++;
    notified_value = v.sival_int;
    pthread_cond_broadcast(&notify_cond);
    pthread_mutex_unlock(&notify_lock);
}

/* Waits until every request of the list is done, one request at a time and without a timeout.
 * glibc 2.36's helper thread stores a request's result before it takes the lock and notifies
 * the waiters, so a gai_suspend that returns in that window (woken by another request of its
 * list, or by its timeout) leaves its on-stack wait entry with the request, and the notification
 * then writes into a dead stack frame (seen: a crash every few dozen runs).  Waiting for a single
 * request until it is notified cannot return in that window. */
static void suspend_all(struct gaicb **list, int n)
{
    for (int i = 0; i < n; i++) {
        if (!list[i])
            continue;
        while (gai_error(list[i]) == EAI_INPROGRESS)
            gai_suspend((const struct gaicb *const *)&list[i], 1, NULL);
    }
}

/* Under valgrind with glibc this section leaves "lost" blocks: glibc's helper threads are still
 * idle (for about a second) when the program exits, with their stacks and resolver state. */
static void section_gai_a(void)
{
    static const char *const names[] = {"a.green.test", "dual.green.test", "nosuch", "127.0.0.1",
                                        "www", "fail.green.test", "alias.green.test"};
    enum { N = N_(names) };
    /* Each batch has gaicbs of its own: glibc's helper threads may still touch a request for a
     * moment after gai_error stopped saying EAI_INPROGRESS, so a request is never reused. */
    static struct gaicb batch1[N], batch2[N], batch3[N];
    struct gaicb *cbs = batch1;
    struct gaicb *list[N];
    static struct addrinfo hints; /* read by the helper threads */
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_CANONNAME;

    /* GAI_WAIT: every request is done when the call returns. */
    for (int i = 0; i < N; i++) {
        cbs[i].ar_name = names[i];
        cbs[i].ar_service = i % 2 ? "80" : NULL;
        cbs[i].ar_request = i % 3 ? &hints : NULL;
        list[i] = &cbs[i];
    }
    int rc = getaddrinfo_a(GAI_WAIT, list, N, NULL);
    fputs("getaddrinfo_a GAI_WAIT -> ", stdout);
    put_gai_rc(rc);
    putchar('\n');
    for (int i = 0; i < N; i++)
        put_gaicb("request", &cbs[i]);

    /* GAI_NOWAIT, no notification: wait with gai_suspend. A NULL entry in the list is allowed. */
    cbs = batch2;
    for (int i = 0; i < N; i++) {
        cbs[i].ar_name = names[N - 1 - i];
        cbs[i].ar_request = &hints;
        list[i] = i == 2 ? NULL : &cbs[i];
    }
    struct sigevent sev = {0};
    sev.sigev_notify = SIGEV_NONE;
    rc = getaddrinfo_a(GAI_NOWAIT, list, N, &sev);
    fputs("getaddrinfo_a GAI_NOWAIT SIGEV_NONE -> ", stdout);
    put_gai_rc(rc);
    putchar('\n');
    suspend_all(list, N);
    for (int i = 0; i < N; i++)
        if (list[i])
            put_gaicb("request", list[i]);

    /* GAI_NOWAIT with a thread notification once all are done. */
    cbs = batch3;
    for (int i = 0; i < 3; i++) {
        cbs[i].ar_name = names[i];
        list[i] = &cbs[i];
    }
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD;
    sev.sigev_notify_function = on_notify;
    sev.sigev_value.sival_int = 42;
    rc = getaddrinfo_a(GAI_NOWAIT, list, 3, &sev);
    fputs("getaddrinfo_a GAI_NOWAIT SIGEV_THREAD -> ", stdout);
    put_gai_rc(rc);
    putchar('\n');
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 10;
    pthread_mutex_lock(&notify_lock);
    while (notified == 0)
        if (pthread_cond_timedwait(&notify_cond, &notify_lock, &dl) != 0)
            break;
    printf("  notified %d value %d\n", notified, notified_value);
    pthread_mutex_unlock(&notify_lock);
    for (int i = 0; i < 3; i++)
        put_gaicb("request", &cbs[i]);

    /* An empty list, and a list of NULLs. */
    rc = getaddrinfo_a(GAI_WAIT, list, 0, NULL);
    fputs("getaddrinfo_a GAI_WAIT n=0 -> ", stdout);
    put_gai_rc(rc);
    putchar('\n');
    list[0] = list[1] = NULL;
    rc = getaddrinfo_a(GAI_WAIT, list, 2, NULL);
    fputs("getaddrinfo_a GAI_WAIT {NULL,NULL} -> ", stdout);
    put_gai_rc(rc);
    putchar('\n');
    rc = getaddrinfo_a(7, list, 2, NULL);
    fputs("getaddrinfo_a mode=7 -> ", stdout);
    put_gai_rc(rc);
    putchar('\n');

    if (short_run)
        return;

    /* A slow name (answered after 300 ms): in progress at first, gai_suspend with a shorter
     * timeout returns before it is done, a cancel while it runs gives EAI_NOTCANCELED, it then
     * completes; a cancel of a finished request gives EAI_ALLDONE. */
    static struct gaicb slow;
    slow.ar_name = "slow.green.test";
    slow.ar_request = &hints;
    struct gaicb *sl[1] = {&slow};
    rc = getaddrinfo_a(GAI_NOWAIT, sl, 1, NULL);
    fputs("getaddrinfo_a GAI_NOWAIT slow.green.test -> ", stdout);
    put_gai_rc(rc);
    putchar('\n');
    fputs("  gai_error -> ", stdout);
    put_gai_rc(gai_error(&slow));
    putchar('\n');
    /* glibc 2.36 answers a gai_suspend timeout with EAI_SYSTEM and leaves errno alone (not the
     * EAI_AGAIN of its manual): errno is cleared first so that the line is the same each run.
     * The timeout (150 ms) is far from the answer (300 ms) -- see suspend_all for why that
     * matters -- and long enough for the request to be running when it is cancelled. */
    struct timespec brief = {0, 150000000};
    errno = 0;
    fputs("  gai_suspend 150 ms -> ", stdout);
    put_gai_rc(gai_suspend((const struct gaicb *const *)sl, 1, &brief));
    putchar('\n');
    fputs("  gai_cancel -> ", stdout);
    put_gai_rc(gai_cancel(&slow));
    putchar('\n');
    suspend_all(sl, 1);
    put_gaicb("request", &slow);
    fputs("  gai_cancel after completion -> ", stdout);
    put_gai_rc(gai_cancel(&slow));
    putchar('\n');
}

/* ---- the same calls from many threads at once -------------------------------------------- */

enum job_kind { JOB_GAI, JOB_GHBN2_R, JOB_GNI };

struct job {
    enum job_kind kind;
    const char *name; /* host name, or the address for JOB_GNI */
    int rc;
    int herr;
    struct addrinfo *res;
    struct hostent he, *result;
    char buf[8192];
    char host[NI_MAXHOST], serv[NI_MAXSERV];
};

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open;

static void *job_thread(void *arg)
{
    struct job *j = arg;
    /* Every thread starts its call at about the same time. */
    pthread_mutex_lock(&gate_lock);
    while (!gate_open)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    switch (j->kind) {
    case JOB_GAI: {
        struct addrinfo hints = {0};
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_CANONNAME;
        j->rc = getaddrinfo(j->name, "80", &hints, &j->res);
        break;
    }
    case JOB_GHBN2_R:
        j->rc = gethostbyname2_r(j->name, AF_INET, &j->he, j->buf, sizeof j->buf, &j->result,
                                 &j->herr);
        break;
    case JOB_GNI: {
        struct sockaddr_storage ss;
        struct gni_addr a = {j->name, strchr(j->name, ':') ? AF_INET6 : AF_INET, 0};
        socklen_t len = make_sockaddr(&ss, &a, 53);
        j->rc = getnameinfo((struct sockaddr *)&ss, len, j->host, sizeof j->host, j->serv,
                            sizeof j->serv, 0);
        break;
    }
    }
    return NULL;
}

static void section_threads(void)
{
    static const char *const names[] = {
        "a.green.test", "dual.green.test", "slow.green.test", "nosuch.green.test", "alias",
        "www", "big.green.test", "fail.green.test", "six.green.test", "127.0.0.1", "localhost",
        "h7.load.green.test", "loop1.green.test", "nodata.green.test",
    };
    static const char *const addrs[] = {"10.53.0.1", "2001:db8::53:1", "10.99.0.1", "10.53.1.1"};
    enum { NN = N_(names), NA = N_(addrs), NJ = 2 * NN + NA };
    static struct job jobs[NJ];
    pthread_t th[NJ];
    int started[NJ];
    int n = 0;
    for (int i = 0; i < NN; i++) {
        if (short_run && strcmp(names[i], "slow.green.test") == 0)
            continue;
        jobs[n].kind = JOB_GAI;
        jobs[n++].name = names[i];
        jobs[n].kind = JOB_GHBN2_R;
        jobs[n++].name = names[i];
    }
    for (int i = 0; i < NA; i++) {
        jobs[n].kind = JOB_GNI;
        jobs[n++].name = addrs[i];
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (int i = 0; i < n; i++)
        started[i] = pthread_create(&th[i], &attr, job_thread, &jobs[i]) == 0;
    pthread_attr_destroy(&attr);
    pthread_mutex_lock(&gate_lock);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
    for (int i = 0; i < n; i++) {
        struct job *j = &jobs[i];
        if (!started[i]) {
            printf("thread %d: pthread_create failed\n", i);
            continue;
        }
        pthread_join(th[i], NULL);
        printf("thread %d: ", i);
        switch (j->kind) {
        case JOB_GAI:
            fputs("getaddrinfo ", stdout);
            put_str(j->name);
            fputs(" \"80\" STREAM CANONNAME -> ", stdout);
            put_gai_rc(j->rc);
            putchar('\n');
            if (j->rc == 0) {
                put_addrinfo_list(j->res);
                freeaddrinfo(j->res);
            }
            break;
        case JOB_GHBN2_R:
            fputs("gethostbyname2_r ", stdout);
            put_str(j->name);
            printf(" INET -> rc=%s result=%s", errno_name(j->rc),
                   j->result == NULL ? "NULL" : j->result == &j->he ? "&he" : "other");
            if (!j->result)
                printf(" h_errno=%s", herr_name(j->herr));
            putchar('\n');
            if (j->result == &j->he)
                put_hostent(&j->he);
            break;
        case JOB_GNI:
            printf("getnameinfo %s:53 -> ", j->name);
            put_gai_rc(j->rc);
            if (j->rc == 0) {
                fputs(" host=", stdout);
                put_str(j->host);
                fputs(" serv=", stdout);
                put_str(j->serv);
            }
            putchar('\n');
            break;
        }
    }
}

/* ---- names that time out or are ignored ------------------------------------------------- */

static void section_timeouts(void)
{
    /* No answer / an answer with the wrong ID / from the wrong port / malformed: each costs the
     * full timeout (timeout:1 attempts:2), so there are only a few. */
    gai("silent.green.test", "80", AF_UNSPEC, SOCK_STREAM, 0, 0);
    gai("silent.green.test", NULL, AF_INET, SOCK_DGRAM, 0, AI_CANONNAME); /* one query, not two */
    gai("wrongid.green.test", NULL, AF_INET, SOCK_STREAM, 0, 0);
    gai("garbage.green.test", NULL, AF_INET, SOCK_STREAM, 0, 0);
    res_call(R_QUERY, NULL, "spoof.green.test", ns_t_a, 4096);
    res_call(R_SEARCH, NULL, "wrongid", ns_t_a, 4096);
    /* A packet the server cannot parse: never answered. */
    unsigned char junk[5] = {1, 2, 3, 4, 5}, ans[512];
    h_errno = 0;
    errno = 0;
    int rc = res_send(junk, sizeof junk, ans, sizeof ans);
    printf("res_send 5-byte packet errno=%s", rc < 0 ? errno_name(errno) : "-");
    put_res_result(rc, ans, sizeof ans);
}

/* ---- hostile answers (dns_server.c's block of that name) --------------------------------- */

/* gethostbyname, gethostbyname2 and gethostbyaddr with errno as well: after a failure a program
 * may read errno (EMSGSIZE for a malformed answer, glibc's nss_dns). */
static void put_errno_after(const struct hostent *h, int err)
{
    if (!h)
        printf("  errno=%s\n", errno_name(err));
}

static void section_hostile_names(void)
{
    static const char *const names[] = {
        "longname.green.test", "maxname.green.test", "badcname.green.test",
        "badcname2.green.test", "truncrr.green.test", "truncname.green.test",
        "badptr.green.test",
        "long-label-host-name-of-thirty-chars-x.long-label-host-name-of-thirty-chars-y.long"
        ".green.test",
    };
    for (size_t i = 0; i < N_(names); i++) {
        gai(names[i], NULL, AF_UNSPEC, SOCK_STREAM, 0, AI_CANONNAME);
        gai(names[i], NULL, AF_INET, SOCK_STREAM, 0, AI_CANONNAME);
        gai(names[i], NULL, AF_INET6, SOCK_STREAM, 0, AI_CANONNAME | AI_V4MAPPED);
        errno = 0;
        struct hostent *h = gethostbyname(names[i]);
        int err = errno;
        fputs("gethostbyname ", stdout);
        put_str(names[i]);
        fputs(" -> ", stdout);
        put_hostent_result(h);
        put_errno_after(h, err);
        errno = 0;
        h = gethostbyname2(names[i], AF_INET6);
        err = errno;
        fputs("gethostbyname2 ", stdout);
        put_str(names[i]);
        fputs(" INET6 -> ", stdout);
        put_hostent_result(h);
        put_errno_after(h, err);
        ghbn_r(names[i], -1, 4096);
        ghbn_r(names[i], AF_INET, 4096);
        ghbn_r(names[i], AF_INET6, 4096);
        ghbn_r(names[i], AF_INET, 100);
    }
    /* Answered with an unreadable question: glibc takes the reply (and fails on it) at once. */
    gai("badq.green.test", NULL, AF_INET, SOCK_STREAM, 0, AI_CANONNAME);
    ghbn_r("badq.green.test", AF_INET, 4096);
    gai("qloop.green.test", NULL, AF_UNSPEC, SOCK_STREAM, 0, AI_CANONNAME);
    ghbn_r("qloop.green.test", AF_INET, 4096);
}

static void section_hostile_ptr(void)
{
    char addr[32];
    for (int n = 0; n <= 9; n++) {
        snprintf(addr, sizeof addr, "10.53.7.%d", n);
        errno = 0;
        unsigned char a[4];
        inet_pton(AF_INET, addr, a);
        struct hostent *h = gethostbyaddr(a, 4, AF_INET);
        int err = errno;
        printf("gethostbyaddr %s with errno -> ", addr);
        put_hostent_result(h);
        put_errno_after(h, err);
        ghba(addr, AF_INET, 0);
        struct gni_addr g = {addr, AF_INET, 0};
        struct sockaddr_storage ss;
        socklen_t len = make_sockaddr(&ss, &g, 80);
        static const int flagsets[] = {0, NI_NAMEREQD, NI_NOFQDN, NI_NAMEREQD | NI_NUMERICSERV};
        for (size_t f = 0; f < N_(flagsets); f++)
            gni(addr, (struct sockaddr *)&ss, len, NI_MAXHOST, NI_MAXSERV, flagsets[f], 1, 1);
        gni(addr, (struct sockaddr *)&ss, len, 64, NI_MAXSERV, NI_NAMEREQD, 1, 1);
    }
}

/* ---- A and AAAA that fail apart; answers longer than the buffer -------------------------- */

/* The look-ups that ask A and AAAA at once, and each alone, for a name whose A (or AAAA) query
 * fails (dns_server.c: a-HOW, aaaa-HOW); res_query with buffers shorter than the answer, over
 * UDP (huge: 2.4 KB without TC) and after a TC answer retried over TCP (tc, tc-notcp). */
static void pair_lookups(const char *name)
{
    char fqdn[256];
    snprintf(fqdn, sizeof fqdn, "%s.green.test", name);
    gai(fqdn, "80", AF_UNSPEC, SOCK_STREAM, 0, 0);
    gai(name, NULL, AF_UNSPEC, SOCK_STREAM, 0, AI_CANONNAME);
    gai(fqdn, NULL, AF_INET, SOCK_STREAM, 0, 0);
    gai(fqdn, NULL, AF_INET6, SOCK_STREAM, 0, AI_V4MAPPED | AI_ALL);
    ghbn2(fqdn, AF_INET6);
    res_call(R_QUERY, NULL, fqdn, ns_t_a, 4096);
    res_call(R_QUERY, NULL, fqdn, ns_t_aaaa, 4096);
    res_call(R_SEARCH, NULL, name, ns_t_a, 4096);
}

static void section_pairs(void)
{
    static const char *const hows[] = {"servfail", "refused", "notimp", "formerr", "nxdomain",
                                       "short", "badcount", "bare"};
    char name[64];
    for (size_t i = 0; i < N_(hows); i++) {
        snprintf(name, sizeof name, "a-%s", hows[i]);
        pair_lookups(name);
        snprintf(name, sizeof name, "aaaa-%s", hows[i]);
        pair_lookups(name);
    }
    pair_lookups("tc");
    pair_lookups("tc-notcp");
    static const int lens[] = {12, 40, 64, 100, 350, 351, 512};
    for (size_t l = 0; l < N_(lens); l++) {
        res_call(R_QUERY, NULL, "tc.green.test", ns_t_a, lens[l]);
        res_call(R_QUERY, NULL, "huge.green.test", ns_t_a, lens[l]);
        res_call(R_SEARCH, NULL, "tc", ns_t_a, lens[l]);
        res_call(R_QUERY, NULL, "tc-notcp.green.test", ns_t_a, lens[l]);
    }
    /* res_send: the same rules; res_nsend and res_nquery with RES_USEVC: over TCP only. */
    unsigned char q[512], ans[4096];
    static const char *const sent[] = {"tc.green.test", "huge.green.test", "tc-notcp.green.test",
                                       "a-servfail.green.test", "a.green.test"};
    struct __res_state st;
    memset(&st, 0, sizeof st);
    res_ninit(&st);
    st.options |= RES_USEVC;
    for (size_t i = 0; i < N_(sent); i++) {
        int qlen = res_mkquery(ns_o_query, sent[i], ns_c_in, ns_t_a, NULL, 0, NULL, q, sizeof q);
        for (size_t l = 0; qlen > 0 && l < N_(lens); l++) {
            for (int vc = 0; vc < 2; vc++) {
                memset(ans, 0, sizeof ans);
                h_errno = 0;
                errno = 0;
                int rc = vc ? res_nsend(&st, q, qlen, ans, lens[l]) : res_send(q, qlen, ans, lens[l]);
                printf("%s %s anslen=%d", vc ? "res_nsend (USEVC)" : "res_send", sent[i], lens[l]);
                if (rc < 0)
                    printf(" errno=%s", errno_name(errno));
                put_res_result(rc, ans, lens[l]);
            }
            if (strcmp(sent[i], "tc-notcp.green.test") != 0)
                res_call(R_NQUERY, &st, sent[i], ns_t_a, lens[l]);
        }
    }
    /* With EDNS0 the query offers what the buffer holds (512 to 1200 bytes). */
    st.options &= ~(unsigned long)RES_USEVC;
    st.options |= RES_USE_EDNS0;
    puts("options |= RES_USE_EDNS0");
    static const int edns_lens[] = {100, 600, 1200, 4096};
    for (size_t l = 0; l < N_(edns_lens); l++) {
        res_call(R_NQUERY, &st, "edns.green.test", ns_t_txt, edns_lens[l]);
        res_call(R_NSEARCH, &st, "edns", ns_t_txt, edns_lens[l]);
    }
    /* RES_IGNTC: the datagram with TC is the answer, no TCP retry. */
    st.options &= ~(unsigned long)RES_USE_EDNS0;
    st.options |= RES_IGNTC;
    puts("options |= RES_IGNTC");
    for (size_t i = 0; i < 3; i++) {
        res_call(R_NQUERY, &st, sent[i], ns_t_a, 4096);
        res_call(R_NQUERY, &st, sent[i], ns_t_a, 40);
        int qlen = res_nmkquery(&st, ns_o_query, sent[i], ns_c_in, ns_t_a, NULL, 0, NULL, q,
                                sizeof q);
        memset(ans, 0, sizeof ans);
        h_errno = 0;
        errno = 0;
        int rc = qlen > 0 ? res_nsend(&st, q, qlen, ans, sizeof ans) : -2;
        printf("res_nsend (IGNTC) %s", sent[i]);
        if (rc < 0)
            printf(" errno=%s", errno_name(errno));
        put_res_result(rc, ans, sizeof ans);
    }
    res_nclose(&st);
}

/* One look-up of both, for a name one of whose queries is never answered (or answered with
 * garbage, which is dropped the same way), each in a thread of its own: after such a time-out glibc
 * sends the two queries of its thread one after the other from then on (RES_F_SNGLKUP), which is
 * not what is tested here.  Each costs a few time-outs (timeout:1 attempts:2). */
static void *pair_timeout_thread(void *name)
{
    char fqdn[256];
    snprintf(fqdn, sizeof fqdn, "%s.green.test", (const char *)name);
    gai(fqdn, "80", AF_UNSPEC, SOCK_STREAM, 0, 0);
    return NULL;
}

static void section_pairs_timeouts(void)
{
    static const char *const names[] = {"a-silent", "aaaa-silent", "a-garbage"};
    for (size_t i = 0; i < N_(names); i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, pair_timeout_thread, (void *)names[i]) == 0)
            pthread_join(t, NULL);
    }
}

/* ---- fuzz ------------------------------------------------------------------------------- */

static char fuzz_name[256] = "dual.green.test";
static char fuzz_addr[64] = "10.53.0.2";

/* Every entry point once over the name and the address the fuzz driver chose; its server answers
 * their queries with the input's bytes (tests/fuzz/dns_answers.py). */
static void section_fuzz(void)
{
    gai(fuzz_name, NULL, AF_INET, SOCK_STREAM, 0, AI_CANONNAME);
    gai(fuzz_name, NULL, AF_INET6, SOCK_STREAM, 0, AI_CANONNAME);
    gai(fuzz_name, "80", AF_UNSPEC, SOCK_STREAM, 0, AI_CANONNAME);
    ghbn(fuzz_name);
    ghbn_r(fuzz_name, AF_INET, 1024);
    ghbn_r(fuzz_name, AF_INET6, 1024);
    ghbn_r(fuzz_name, AF_INET, 64);
    ghba(fuzz_addr, AF_INET, 0);
    struct gni_addr a = {fuzz_addr, AF_INET, 0};
    struct sockaddr_storage ss;
    socklen_t len = make_sockaddr(&ss, &a, 80);
    gni(fuzz_addr, (struct sockaddr *)&ss, len, NI_MAXHOST, NI_MAXSERV, NI_NAMEREQD, 1, 1);
    gni(fuzz_addr, (struct sockaddr *)&ss, len, 16, NI_MAXSERV, 0, 1, 0);
    res_call(R_QUERY, NULL, fuzz_name, ns_t_a, 8192);
    res_call(R_QUERY, NULL, fuzz_name, ns_t_aaaa, 64);
}

/* --rounds: the section once per line of stdin, "NAME ADDRESS". */
static void rounds(void (*fn)(void))
{
    char line[512];
    /* Line by line: when a call crashes, the driver sees which one. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof line, stdin)) {
        if (sscanf(line, "%255s %63s", fuzz_name, fuzz_addr) != 2)
            continue;
        fn();
        puts("== end");
        fflush(stdout);
    }
}

/* ---- main ------------------------------------------------------------------------------- */

static const struct {
    const char *name;
    void (*fn)(void);
    int slow; /* left out of --short; 2: run only when named */
} sections[] = {
    {"gai-names", section_gai_names, 0},   {"gai-flags", section_gai_flags, 0},
    {"gai-services", section_gai_services, 0}, {"gai-families", section_gai_families, 0},
    {"getnameinfo", section_gni, 0},       {"hostent", section_hostent, 0},
    {"res", section_res, 0},               {"getaddrinfo_a", section_gai_a, 0},
    {"threads", section_threads, 0},
    {"hostile-ptr", section_hostile_ptr, 0}, {"hostile-names", section_hostile_names, 0},
    {"timeouts", section_timeouts, 1},
    {"pairs", section_pairs, 0},           {"pairs-timeouts", section_pairs_timeouts, 1},
    {"hosts-file", section_hosts_file, 2},
    {"fuzz", section_fuzz, 2},
};

static void usage(FILE *f)
{
    fputs("usage: dns_query [--short] [--section NAME [--rounds]]\n"
          "Runs a corpus of resolver calls against the green.test zone and prints the results.\n"
          "  --short          a small subset without the slow and timeout names\n"
          "  --rounds         run the section once per line \"NAME ADDRESS\" of stdin\n"
          "  --section NAME   only that section:",
          f);
    for (size_t i = 0; i < N_(sections); i++)
        fprintf(f, " %s", sections[i].name);
    fputc('\n', f);
}

int main(int argc, char **argv)
{
    const char *only = NULL;
    int by_rounds = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--short") == 0) {
            short_run = 1;
        } else if (strcmp(argv[i], "--rounds") == 0) {
            by_rounds = 1;
        } else if (strcmp(argv[i], "--section") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    int found = 0;
    for (size_t i = 0; i < N_(sections); i++) {
        if (only && strcmp(only, sections[i].name) != 0)
            continue;
        if (short_run && sections[i].slow && !only)
            continue;
        if (sections[i].slow == 2 && !only)
            continue;
        found = 1;
        if (by_rounds && only) {
            rounds(sections[i].fn);
            continue;
        }
        printf("== %s\n", sections[i].name);
        sections[i].fn();
    }
    if (!found) {
        fprintf(stderr, "dns_query: no section named '%s'\n", only);
        usage(stderr);
        return 2;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
