// resolv.conf, read as glibc 2.36 reads it (resolv/res_init.c): the last "domain" or "search"
// line wins, LOCALDOMAIN replaces both, at most three nameservers (none: the local host),
// "options" from the file and then from RES_OPTIONS, limits as glibc clamps them, and a search
// list taken from the host name when none is given.
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
    c->nsearch = 0;
}

// Splits a blank-separated list of domains into the search list (replacing it).
void set_search(Conf* c, const char* list)
{
    clear_search(c);
    while (*list && *list != '\n') {
        while (is_blank(*list))
            list++;
        const char* end = list;
        while (*end && !is_blank(*end) && *end != '\n')
            end++;
        if (end > list && c->nsearch < int(sizeof c->search / sizeof c->search[0]))
            c->search[c->nsearch++] = strndup(list, size_t(end - list));
        list = end;
    }
}

void add_server(Conf* c, const char* text)
{
    if (c->nservers >= kMaxServers)
        return;
    char addr[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    size_t n = strcspn(text, " \t\n");
    if (n >= sizeof addr)
        return;
    memcpy(addr, text, n);
    addr[n] = '\0';
    sockaddr_in6* slot = &c->servers[c->nservers];
    memset(slot, 0, sizeof *slot);
    in_addr a4;
    if (inet_aton(addr, &a4) && !strchr(addr, ':')) {
        auto* sin = reinterpret_cast<sockaddr_in*>(slot);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(NAMESERVER_PORT);
        sin->sin_addr = a4;
        c->nservers++;
        return;
    }
    char* scope = strchr(addr, '%');
    if (scope)
        *scope++ = '\0';
    if (inet_pton(AF_INET6, addr, &slot->sin6_addr) != 1)
        return;
    slot->sin6_family = AF_INET6;
    slot->sin6_port = htons(NAMESERVER_PORT);
    if (scope) {
        slot->sin6_scope_id = if_nametoindex(scope);
        if (!slot->sin6_scope_id)
            slot->sin6_scope_id = unsigned(strtoul(scope, nullptr, 10));
    }
    c->nservers++;
}

int clamp_option(const char* value, int max)
{
    int v = atoi(value);
    return v < 0 ? 0 : v > max ? max : v;
}

void set_options(Conf* c, const char* p)
{
    while (*p) {
        while (is_blank(*p) || *p == '\n')
            p++;
        if (!strncmp(p, "ndots:", 6))
            c->ndots = clamp_option(p + 6, RES_MAXNDOTS);
        else if (!strncmp(p, "timeout:", 8))
            c->timeout = clamp_option(p + 8, RES_MAXRETRANS);
        else if (!strncmp(p, "attempts:", 9))
            c->attempts = clamp_option(p + 9, RES_MAXRETRY);
        else if (!strncmp(p, "rotate", 6))
            c->rotate = true;
        else if (!strncmp(p, "edns0", 5))
            c->edns0 = true;
        else if (!strncmp(p, "use-vc", 6))
            c->use_vc = true;
        else if (!strncmp(p, "no-aaaa", 7))
            c->no_aaaa = true;
        else if (!strncmp(p, "no_tld_query", 12) || !strncmp(p, "no-tld-query", 12))
            c->no_tld_query = true;
        while (*p && !is_blank(*p) && *p != '\n')
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
                if (!env_domain)  // only its first word
                    set_search(c, strndupa(v, strcspn(v, " \t\n")));
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
        // No search list: the domain part of the host name, as glibc does.
        char host[256];
        if (gethostname(host, sizeof host) == 0) {
            host[sizeof host - 1] = '\0';
            if (const char* dot = strchr(host, '.'); dot && dot[1])
                set_search(c, dot + 1);
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
