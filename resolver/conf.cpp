// resolv.conf, read as glibc 2.36 reads it (resolv/res_init.c): the last "domain" or "search"
// line wins, LOCALDOMAIN replaces both, at most three nameservers (none: the local host),
// "options" from the file and then from RES_OPTIONS, limits as glibc clamps them, and a search
// list taken from the host name when none is given.  tests/fuzz/resolv_conf.cpp compares the
// result with glibc's own parse of the same bytes.
#include "resolver.h"

#include "../hub/config.h"
#include "../hub/spinlock.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <resolv.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace green::dns {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// "keyword" followed by a blank, as glibc's MATCH.
const char* match(const char* line, const char* keyword)
{
    size_t n = strlen(keyword);
    if (strncmp(line, keyword, n) != 0 || !is_blank(line[n]))
        return nullptr;
    line += n;
    while (is_blank(*line))
        line++;
    return (*line == '\0' || *line == '\n') ? nullptr : line;
}

void clear_search(Conf* c)
{
    for (int i = 0; i < c->nsearch; i++)
        free(c->search[i]);
    free(c->search);
    c->search = nullptr;
    c->nsearch = 0;
}

// Appends the n bytes at s to the search list.  glibc keeps every domain it is given (since
// 2.26 the list has no fixed length); the array grows by doubling, so that a line of many
// thousand words stays linear.
void add_search(Conf* c, const char* s, size_t n)
{
    int k = c->nsearch;
    if (k == 0 || (k >= 4 && (k & (k - 1)) == 0)) {
        void* grown = realloc(c->search, sizeof(char*) * size_t(k ? 2 * k : 4));
        if (!grown)
            return;
        c->search = static_cast<char**>(grown);
    }
    if (char* copy = strndup(s, n))
        c->search[c->nsearch++] = copy;
}

// Replaces the search list with the blank-separated words of list, up to its first newline,
// as glibc splits LOCALDOMAIN and a "search" line: the first entry is whatever comes before
// the first blank, even nothing (LOCALDOMAIN=" a.test" gives "" and "a.test").
void set_search(Conf* c, const char* list)
{
    clear_search(c);
    size_t n = strcspn(list, " \t\n");
    add_search(c, list, n);
    for (const char* p = list + n; *p && *p != '\n';) {
        if (is_blank(*p)) {
            p++;
            continue;
        }
        n = strcspn(p, " \t\n");
        add_search(c, p, n);
        p += n;
    }
}

// glibc's inet_aton_exact: inet_aton, which stops at the first white space and ignores what
// follows it, with nothing after the address.  The caller cut the text at blanks and newlines;
// a CR, VT or FF left in it makes the address invalid (a "nameserver" line ending in CR LF is
// ignored, as glibc ignores it).
bool aton_exact(const char* text, in_addr* a)
{
    return !strpbrk(text, "\r\v\f") && inet_aton(text, a);
}

// glibc's __inet6_scopeid_pton: an interface name for a link-local address, else a decimal
// number that fits in 32 bits and is all the text; anything else is 0 (glibc ignores the error).
uint32_t scope_id(const in6_addr& a, const char* scope)
{
    if (IN6_IS_ADDR_LINKLOCAL(&a) || IN6_IS_ADDR_MC_NODELOCAL(&a) || IN6_IS_ADDR_MC_LINKLOCAL(&a)) {
        if (unsigned index = if_nametoindex(scope))
            return index;
    }
    if (scope[0] >= '0' && scope[0] <= '9') {
        char* end;
        unsigned long long v = strtoull(scope, &end, 10);
        if (*end == '\0' && v <= UINT32_MAX)
            return uint32_t(v);
    }
    return 0;
}

void add_server(Conf* c, const char* text)
{
    if (c->nservers >= kMaxServers)
        return;
    // On the heap: the word can be as long as the line (a scope id may have any number of
    // leading zeros), and this may run on a green thread's small stack.
    char* addr = strndup(text, strcspn(text, " \t\n"));
    if (!addr)
        return;
    sockaddr_in6* slot = &c->servers[c->nservers];
    memset(slot, 0, sizeof *slot);
    in_addr a4;
    if (*addr && aton_exact(addr, &a4)) {
        auto* sin = reinterpret_cast<sockaddr_in*>(slot);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(NAMESERVER_PORT);
        sin->sin_addr = a4;
        c->nservers++;
    } else {
        char* scope = strchr(addr, '%');
        if (scope)
            *scope++ = '\0';
        if (*addr && inet_pton(AF_INET6, addr, &slot->sin6_addr) == 1) {
            slot->sin6_family = AF_INET6;
            slot->sin6_port = htons(NAMESERVER_PORT);
            if (scope)
                slot->sin6_scope_id = scope_id(slot->sin6_addr, scope);
            c->nservers++;
        }
    }
    free(addr);
}

// glibc's res_setoptions: options separated by blanks only (a newline in RES_OPTIONS is part
// of a word), each recognised by its prefix; numbers as atoi reads them, capped above but not
// below: a negative timeout or attempts stays negative, as in _res, and ndots lands in _res's
// four-bit field (ndots:-1 is 15).
void set_options(Conf* c, const char* p)
{
    while (*p) {
        while (is_blank(*p))
            p++;
        if (!strncmp(p, "ndots:", 6)) {
            int v = atoi(p + 6);
            c->ndots = int(unsigned(v <= RES_MAXNDOTS ? v : RES_MAXNDOTS) & 15);
        } else if (!strncmp(p, "timeout:", 8)) {
            int v = atoi(p + 8);
            c->timeout = v <= RES_MAXRETRANS ? v : RES_MAXRETRANS;
        } else if (!strncmp(p, "attempts:", 9)) {
            int v = atoi(p + 9);
            c->attempts = v <= RES_MAXRETRY ? v : RES_MAXRETRY;
        } else if (!strncmp(p, "rotate", 6)) {
            c->rotate = true;
        } else if (!strncmp(p, "edns0", 5)) {
            c->edns0 = true;
        } else if (!strncmp(p, "use-vc", 6)) {
            c->use_vc = true;
        } else if (!strncmp(p, "no-aaaa", 7)) {
            c->no_aaaa = true;
        } else if (!strncmp(p, "no_tld_query", 12) || !strncmp(p, "no-tld-query", 12)) {
            c->no_tld_query = true;
        }
        while (*p && !is_blank(*p))
            p++;
    }
}

}  // namespace

void conf_parse(const char* path, Conf* c)
{
    clear_search(c);
    memset(c, 0, sizeof *c);
    c->ndots = 1;
    c->timeout = RES_TIMEOUT;
    c->attempts = RES_DFLRETRY;

    // Set, even empty, it replaces the file's "domain" and "search" lines.
    const char* env_domain = getenv("LOCALDOMAIN");
    if (env_domain)
        set_search(c, env_domain);

    if (FILE* f = fopen(path, "re")) {
        char* line = nullptr;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0) {
            if (line[0] == ';' || line[0] == '#')
                continue;
            const char* v;
            if ((v = match(line, "domain"))) {
                if (!env_domain) {  // only its first word, copied on the heap (any length)
                    clear_search(c);
                    add_search(c, v, strcspn(v, " \t\n"));
                }
            } else if ((v = match(line, "search"))) {
                if (!env_domain)
                    set_search(c, v);
            } else if ((v = match(line, "nameserver"))) {
                add_server(c, v);
            } else if ((v = match(line, "options"))) {
                set_options(c, v);
            }
        }
        free(line);
        fclose(f);
    }
    if (c->nservers == 0)
        add_server(c, "127.0.0.1");
    if (c->nsearch == 0) {
        // No search list: what follows the first dot of the host name, as one entry (even
        // empty, for "host."), as glibc does.
        char host[256];
        host[sizeof host - 1] = '\0';
        if (gethostname(host, sizeof host - 1) == 0) {
            if (const char* dot = strchr(host, '.'))
                add_search(c, dot + 1, strlen(dot + 1));
        }
    }
    if (const char* env_options = getenv("RES_OPTIONS"))
        set_options(c, env_options);
}

const Conf& conf()
{
    // Read once, under a spinlock: reading a file never parks, so no switch happens inside.
    static Conf c;
    static std::atomic<bool> ready{false};
    static SpinLock lock;
    if (!ready.load(std::memory_order_acquire)) {
        SpinGuard guard(lock);
        if (!ready.load(std::memory_order_relaxed)) {
            conf_parse(config.resolv_conf ? config.resolv_conf : "/etc/resolv.conf", &c);
            ready.store(true, std::memory_order_release);
        }
    }
    return c;
}

}  // namespace green::dns
