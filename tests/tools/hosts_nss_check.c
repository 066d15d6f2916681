/* hosts_nss_check: libgreen's "greenfiles" NSS functions against glibc's "files" ones, call by
 * call, in one process under libgreen.
 *
 *   LD_PRELOAD=build/libgreen.so hosts_nss_check [--quick]
 *
 * For every name and address of /etc/hosts (and case variants, prefixes, names that are not
 * there), every family, buffer sizes from 0 up past the largest answer and every buffer
 * alignment, it calls _nss_files_X (glibc's, from libc) and _nss_greenfiles_X (libgreen's) the
 * same way and compares everything a caller can see: the status, errno, *errnop, *herrnop,
 * the result (names, aliases, addresses, the gaih_addrtuple chain, the canonical name) and
 * where in the caller's buffer each returned pointer points.  /etc/host.conf's "multi" (or
 * RESOLV_MULTI) is the process's, as for glibc.
 *
 * Prints one summary line, and the first mismatches; exit status 0 when every call agreed,
 * 1 on a mismatch, 2 when the functions are missing (not under libgreen).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <nss.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum nss_status (*byname4_fn)(const char *, struct gaih_addrtuple **, char *, size_t,
                                      int *, int *, int32_t *);
typedef enum nss_status (*byname3_fn)(const char *, int, struct hostent *, char *, size_t, int *,
                                      int *, int32_t *, char **);
typedef enum nss_status (*byname2_fn)(const char *, int, struct hostent *, char *, size_t, int *,
                                      int *);
typedef enum nss_status (*byname_fn)(const char *, struct hostent *, char *, size_t, int *,
                                     int *);
typedef enum nss_status (*byaddr_fn)(const void *, socklen_t, int, struct hostent *, char *,
                                     size_t, int *, int *);

struct module {
    byname4_fn byname4;
    byname3_fn byname3;
    byname2_fn byname2;
    byname_fn byname;
    byaddr_fn byaddr;
};

static struct module glibc, green;
static long calls, mismatches;

#define BUFMAX 6000
static char *buf_a, *buf_b;

/* A canonical text of one call's outcome: pointers into the buffer as offsets from its start,
 * so that two calls with buffers of the same alignment print the same text. */
struct out {
    char text[65536];
    size_t len;
};

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (o->len < sizeof o->text)
        o->len += (size_t)vsnprintf(o->text + o->len, sizeof o->text - o->len, fmt, ap);
    va_end(ap);
    if (o->len > sizeof o->text)
        o->len = sizeof o->text;
}

static void emit_ptr(struct out *o, const void *p, const char *base, size_t buflen)
{
    if (!p)
        emit(o, " NULL");
    else if ((const char *)p >= base && (const char *)p < base + buflen)
        emit(o, " @%td", (const char *)p - base);
    else
        emit(o, " outside");
}

static void emit_str(struct out *o, const char *s, const char *base, size_t buflen)
{
    emit_ptr(o, s, base, buflen);
    if (s)
        emit(o, "\"%s\"", s);
}

static void emit_hostent(struct out *o, const struct hostent *h, const char *base, size_t buflen)
{
    emit(o, " name");
    emit_str(o, h->h_name, base, buflen);
    emit(o, " type=%d len=%d aliases", h->h_addrtype, h->h_length);
    emit_ptr(o, h->h_aliases, base, buflen);
    for (char **a = h->h_aliases; a && *a; a++)
        emit_str(o, *a, base, buflen);
    emit(o, " addrs");
    emit_ptr(o, h->h_addr_list, base, buflen);
    for (char **a = h->h_addr_list; a && *a; a++) {
        emit_ptr(o, *a, base, buflen);
        for (int i = 0; i < h->h_length && i < 16; i++)
            emit(o, "%s%02x", i ? "" : ":", (unsigned char)(*a)[i]);
    }
}

static void emit_status(struct out *o, enum nss_status st, int err, int errnov, int herr)
{
    emit(o, "status=%d errno=%d *errnop=%d *herrnop=%d", st, errnov, err, herr);
}

enum { ERRNOP_OWN, ERRNOP_ERRNO };

/* One call of kind k into buf (offset off, length len) through module m; its outcome in o. */
enum kind { K_BYNAME4, K_BYNAME4_PAT, K_BYNAME3, K_BYNAME2, K_BYNAME, K_BYADDR };

static void call(const struct module *m, enum kind k, const char *name, const void *addr,
                 socklen_t alen, int af, char *buf, size_t len, int errnop_mode, struct out *o)
{
    struct hostent he;
    memset(&he, 0x5a, sizeof he);
    memset(buf, 0xa5, len + 64);
    int err = 777, herr = 888;
    int *errnop = errnop_mode == ERRNOP_ERRNO ? &errno : &err;
    errno = 999;
    enum nss_status st;
    o->len = 0;
    switch (k) {
    case K_BYNAME4:
    case K_BYNAME4_PAT: {
        struct gaih_addrtuple own, *pat = NULL;
        memset(&own, 0x5a, sizeof own);
        if (k == K_BYNAME4_PAT)
            pat = &own;
        int32_t ttl = 4242;
        st = m->byname4(name, &pat, buf, len, errnop, &herr, &ttl);
        int e = errno;
        emit_status(o, st, err, e, herr);
        emit(o, " ttl=%d", ttl);
        if (st == NSS_STATUS_SUCCESS) {
            for (struct gaih_addrtuple *t = pat; t; t = t->next) {
                emit(o, " tuple");
                if (t == &own)
                    emit(o, " own");
                else
                    emit_ptr(o, t, buf, len);
                emit_str(o, t->name, buf, len);
                emit(o, " family=%d scope=%u addr:", t->family, t->scopeid);
                int n = t->family == AF_INET ? 4 : 16;
                for (int i = 0; i < n; i++)
                    emit(o, "%02x", ((unsigned char *)t->addr)[i]);
            }
        }
        break;
    }
    case K_BYNAME3: {
        char *canon = (char *)1;
        int32_t ttl = 4242;
        st = m->byname3(name, af, &he, buf, len, errnop, &herr, &ttl, &canon);
        int e = errno;
        emit_status(o, st, err, e, herr);
        emit(o, " ttl=%d canon", ttl);
        if (canon == (char *)1)
            emit(o, " untouched");
        else
            emit_str(o, canon, buf, len);
        if (st == NSS_STATUS_SUCCESS)
            emit_hostent(o, &he, buf, len);
        break;
    }
    case K_BYNAME2:
    case K_BYNAME:
    case K_BYADDR:
        if (k == K_BYNAME2)
            st = m->byname2(name, af, &he, buf, len, errnop, &herr);
        else if (k == K_BYNAME)
            st = m->byname(name, &he, buf, len, errnop, &herr);
        else
            st = m->byaddr(addr, alen, af, &he, buf, len, errnop, &herr);
        int e = errno;
        emit_status(o, st, err, e, herr);
        if (st == NSS_STATUS_SUCCESS)
            emit_hostent(o, &he, buf, len);
        break;
    }
}

static const char *kind_name(enum kind k)
{
    static const char *const names[] = {"gethostbyname4_r", "gethostbyname4_r(*pat set)",
                                        "gethostbyname3_r", "gethostbyname2_r",
                                        "gethostbyname_r", "gethostbyaddr_r"};
    return names[k];
}

static void compare(enum kind k, const char *name, const void *addr, socklen_t alen, int af,
                    size_t off, size_t len, int errnop_mode)
{
    static struct out a, b;
    call(&glibc, k, name, addr, alen, af, buf_a + off, len, errnop_mode, &a);
    call(&green, k, name, addr, alen, af, buf_b + off, len, errnop_mode, &b);
    calls++;
    if (a.len == b.len && memcmp(a.text, b.text, a.len) == 0)
        return;
    if (++mismatches <= 20) {
        char what[128];
        if (k == K_BYADDR)
            inet_ntop(af == AF_INET6 && alen == 16 ? AF_INET6 : AF_INET, addr, what, sizeof what);
        else
            snprintf(what, sizeof what, "\"%s\"", name);
        printf("MISMATCH %s %s af=%d align=%zu buflen=%zu errnop=%s\n  glibc: %.*s\n  green: "
               "%.*s\n",
               kind_name(k), what, af, off, len, errnop_mode == ERRNOP_ERRNO ? "&errno" : "own",
               (int)a.len, a.text, (int)b.len, b.text);
    }
}

/* Buffer sizes: every one up to 700, then a sparser walk past the largest answers. */
static size_t next_len(size_t len, int quick)
{
    if (quick)
        return len < 200 ? len + 7 : len * 3 / 2 + 1;
    return len < 700 ? len + 1 : len + 29;
}

static void sweep(enum kind k, const char *name, const void *addr, socklen_t alen, int af,
                  int quick)
{
    for (size_t len = 0; len < BUFMAX; len = next_len(len, quick))
        compare(k, name, addr, alen, af, 0, len, ERRNOP_OWN);
    /* Misaligned buffers, and errnop == &errno, at a few sizes. */
    static const size_t some[] = {0, 33, 34, 35, 40, 64, 100, 200, 1000, 5000};
    for (size_t i = 0; i < sizeof some / sizeof some[0]; i++)
        for (size_t off = 1; off < 8; off++)
            compare(k, name, addr, alen, af, off, some[i], ERRNOP_OWN);
    for (size_t i = 0; i < sizeof some / sizeof some[0]; i++)
        compare(k, name, addr, alen, af, 0, some[i], ERRNOP_ERRNO);
}

#define MAXNAMES 256
static char *names[MAXNAMES];
static int nnames;

static void add_name(const char *s)
{
    for (int i = 0; i < nnames; i++)
        if (strcmp(names[i], s) == 0)
            return;
    if (nnames < MAXNAMES)
        names[nnames++] = strdup(s);
}

/* Every token of /etc/hosts (addresses included), as a plain reader splits it. */
static void file_tokens(void)
{
    FILE *f = fopen("/etc/hosts", "r");
    if (!f)
        return;
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        char *save = NULL;
        for (char *tok = strtok_r(line, " \t\r\n#", &save); tok;
             tok = strtok_r(NULL, " \t\r\n#", &save))
            add_name(tok);
    }
    fclose(f);
}

static void *need(const char *name, const char *version)
{
    void *p = version ? dlvsym(RTLD_DEFAULT, name, version) : dlsym(RTLD_DEFAULT, name);
    if (!p) {
        fprintf(stderr, "hosts_nss_check: %s is missing (run it under libgreen)\n", name);
        exit(2);
    }
    return p;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    glibc.byname4 = (byname4_fn)need("_nss_files_gethostbyname4_r", "GLIBC_PRIVATE");
    glibc.byname3 = (byname3_fn)need("_nss_files_gethostbyname3_r", "GLIBC_PRIVATE");
    glibc.byname2 = (byname2_fn)need("_nss_files_gethostbyname2_r", "GLIBC_PRIVATE");
    glibc.byname = (byname_fn)need("_nss_files_gethostbyname_r", "GLIBC_PRIVATE");
    glibc.byaddr = (byaddr_fn)need("_nss_files_gethostbyaddr_r", "GLIBC_PRIVATE");
    green.byname4 = (byname4_fn)need("_nss_greenfiles_gethostbyname4_r", NULL);
    green.byname3 = (byname3_fn)need("_nss_greenfiles_gethostbyname3_r", NULL);
    green.byname2 = (byname2_fn)need("_nss_greenfiles_gethostbyname2_r", NULL);
    green.byname = (byname_fn)need("_nss_greenfiles_gethostbyname_r", NULL);
    green.byaddr = (byaddr_fn)need("_nss_greenfiles_gethostbyaddr_r", NULL);
    /* glibc reads host.conf (and RESOLV_MULTI) with its first resolver configuration. */
    gethostbyname("localhost");
    /* Two buffers of the same alignment, so that offsets compare. */
    buf_a = aligned_alloc(64, BUFMAX + 144);
    buf_b = aligned_alloc(64, BUFMAX + 144);

    file_tokens();
    int nfile = nnames;
    for (int i = 0; i < nfile; i++) {
        char v[512];
        snprintf(v, sizeof v, "%s", names[i]);
        for (char *p = v; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        add_name(v);
        if (strlen(names[i]) > 1) {
            snprintf(v, sizeof v, "%.*s", (int)strlen(names[i]) - 1, names[i]);
            add_name(v);
        }
        snprintf(v, sizeof v, "%s.", names[i]);
        add_name(v);
    }
    add_name("");
    add_name("nosuch-name");
    add_name("nul");

    for (int i = 0; i < nnames; i++) {
        int heavy = !quick || i < nfile;
        sweep(K_BYNAME4, names[i], NULL, 0, 0, !heavy || quick);
        sweep(K_BYNAME4_PAT, names[i], NULL, 0, 0, 1);
        sweep(K_BYNAME3, names[i], NULL, 0, AF_INET, !heavy || quick);
        sweep(K_BYNAME3, names[i], NULL, 0, AF_INET6, !heavy || quick);
        sweep(K_BYNAME2, names[i], NULL, 0, AF_INET6, 1);
        sweep(K_BYNAME, names[i], NULL, 0, AF_INET, 1);
    }
    /* Reverse: every address of the file in both forms, and some that are not there. */
    int naddr = 0;
    for (int i = 0; i < nfile; i++) {
        unsigned char a4[4], a6[16];
        if (inet_pton(AF_INET, names[i], a4) == 1) {
            sweep(K_BYADDR, NULL, a4, 4, AF_INET, quick);
            unsigned char m[16] = {0};
            m[10] = m[11] = 0xff;
            memcpy(m + 12, a4, 4);
            sweep(K_BYADDR, NULL, m, 16, AF_INET6, 1);
            naddr++;
        }
        if (inet_pton(AF_INET6, names[i], a6) == 1) {
            sweep(K_BYADDR, NULL, a6, 16, AF_INET6, quick);
            sweep(K_BYADDR, NULL, a6, 16, AF_INET, 1);
            sweep(K_BYADDR, NULL, a6 + 12, 4, AF_INET, 1);
            naddr++;
        }
    }
    static const char *const others[] = {"127.0.0.1", "127.0.0.2", "10.0.0.1", "::1", "::2",
                                         "::ffff:127.0.0.1"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        unsigned char a[16];
        int af = strchr(others[i], ':') ? AF_INET6 : AF_INET;
        inet_pton(af, others[i], a);
        sweep(K_BYADDR, NULL, a, af == AF_INET ? 4 : 16, af, 1);
        sweep(K_BYADDR, NULL, a, af == AF_INET ? 4 : 16, af == AF_INET ? AF_INET6 : AF_INET, 1);
    }
    printf("hosts_nss_check: %d names, %d addresses, %ld calls compared, %ld mismatches\n",
           nnames, naddr, calls, mismatches);
    return mismatches ? 1 : 0;
}
