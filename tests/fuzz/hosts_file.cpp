// Fuzz harness: libgreen's copy of /etc/hosts (resolver/hostsfile.cpp) against glibc's files
// source (_nss_files_*, which opens and parses /etc/hosts on every call), on the same bytes.
//
// The input is a hosts file.  LLVMFuzzerInitialize enters a mount namespace of its own (as root,
// or in a user namespace) and bind-mounts a scratch file on /etc/hosts; each input is written
// into that file, which glibc reads through /etc/hosts and libgreen's Cache through the scratch
// path.  Then, with "multi" off and on (glibc's _res_hconf flag, which libgreen takes from the
// caller), every answer is compared as hosts_nss_check (tests/tools) compares them: status,
// errno, *errnop, *herrnop, the result and where in the caller's buffer each pointer points --
// gethostbyname4_r, gethostbyname3_r (IPv4 and IPv6), gethostbyname_r for names found in the
// input, variants of them and a few fixed names, at several buffer sizes (ERANGE exactly where
// glibc gives it), and gethostbyaddr_r for every address in the input.  A difference is printed
// and aborts.
#include <arpa/inet.h>
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <nss.h>
#include <resolv.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "../../resolver/hostsfile.h"

using namespace green;

namespace {

using Byname4 = nss_status (*)(const char*, gaih_addrtuple**, char*, size_t, int*, int*,
                               int32_t*);
using Byname3 = nss_status (*)(const char*, int, hostent*, char*, size_t, int*, int*, int32_t*,
                               char**);
using Byname = nss_status (*)(const char*, hostent*, char*, size_t, int*, int*);
using Byaddr = nss_status (*)(const void*, socklen_t, int, hostent*, char*, size_t, int*, int*);

Byname4 glibc_byname4;
Byname3 glibc_byname3;
Byname glibc_byname;
Byaddr glibc_byaddr;

// glibc 2.36's struct hconf (resolv/res_hconf.h), as shim/hostsfile.cpp reads it: "multi on".
struct GlibcHconf {
    int initialized;
    int unused1;
    int unused2[4];
    int num_trimdomains;
    const char* trimdomain[4];
    unsigned int flags;
};
constexpr unsigned kHconfMulti = 1u << 4;
GlibcHconf* hconf;

char scratch[] = "/tmp/green-fuzz-hosts.XXXXXX";
hostsfile::Cache* cache;

constexpr size_t kBufMax = 8192;
char* buf_a;
char* buf_b;

[[noreturn]] void die(const char* what)
{
    fprintf(stderr, "hosts_file: %s: %s\n", what, strerror(errno));
    abort();
}

template <typename F>
F private_fn(const char* name)
{
    void* p = dlvsym(RTLD_DEFAULT, name, "GLIBC_PRIVATE");
    if (!p) {
        fprintf(stderr, "hosts_file: glibc has no %s\n", name);
        abort();
    }
    return reinterpret_cast<F>(p);
}

// Pointers as offsets into the caller's buffer, as hosts_nss_check prints them.
void emit(std::string& o, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void emit(std::string& o, const char* fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    o.append(tmp, n < 0 ? 0 : size_t(n) < sizeof tmp ? size_t(n) : sizeof tmp - 1);
}

void emit_ptr(std::string& o, const void* p, const char* base, size_t len)
{
    if (!p)
        emit(o, " NULL");
    else if (static_cast<const char*>(p) >= base && static_cast<const char*>(p) < base + len)
        emit(o, " @%td", static_cast<const char*>(p) - base);
    else
        emit(o, " outside");
}

void emit_str(std::string& o, const char* s, const char* base, size_t len)
{
    emit_ptr(o, s, base, len);
    if (s) {
        o += " \"";
        for (const unsigned char* p = reinterpret_cast<const unsigned char*>(s); *p; p++)
            if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
                emit(o, "\\x%02x", *p);
            else
                o += char(*p);
        o += '"';
    }
}

void emit_hostent(std::string& o, const hostent* h, const char* base, size_t len)
{
    emit(o, " name");
    emit_str(o, h->h_name, base, len);
    emit(o, " type=%d len=%d aliases", h->h_addrtype, h->h_length);
    emit_ptr(o, h->h_aliases, base, len);
    for (char** a = h->h_aliases; a && *a; a++)
        emit_str(o, *a, base, len);
    emit(o, " addrs");
    emit_ptr(o, h->h_addr_list, base, len);
    for (char** a = h->h_addr_list; a && *a; a++) {
        emit_ptr(o, *a, base, len);
        for (int i = 0; i < h->h_length && i < 16; i++)
            emit(o, "%s%02x", i ? "" : ":", static_cast<unsigned char>((*a)[i]));
    }
}

enum Kind { kByname4, kByname3, kByname, kByaddr };
const char* const kind_names[] = {"gethostbyname4_r", "gethostbyname3_r", "gethostbyname_r",
                                  "gethostbyaddr_r"};

struct Call {
    Kind kind;
    const char* name;
    const unsigned char* addr;
    socklen_t alen;
    int af;
    size_t len;
};

// One call through glibc (green == false) or libgreen's copy, its outcome as text.
std::string call(bool green, const hostsfile::Snapshot* s, bool multi, const Call& c)
{
    char* buf = green ? buf_b : buf_a;
    hostent he;
    memset(&he, 0x5a, sizeof he);
    memset(buf, 0xa5, c.len + 64);
    int err = 777, herr = 888;
    errno = 999;
    nss_status st = NSS_STATUS_UNAVAIL;
    std::string o;
    switch (c.kind) {
    case kByname4: {
        gaih_addrtuple* pat = nullptr;
        int32_t ttl = 4242;
        st = green ? hostsfile::gethostbyname4_r(s, multi, c.name, &pat, buf, c.len, &err, &herr)
                   : glibc_byname4(c.name, &pat, buf, c.len, &err, &herr, &ttl);
        emit(o, "status=%d errno=%d *errnop=%d *herrnop=%d", st, errno, err, herr);
        if (st == NSS_STATUS_SUCCESS)
            for (gaih_addrtuple* t = pat; t; t = t->next) {
                emit(o, " tuple");
                emit_ptr(o, t, buf, c.len);
                emit_str(o, t->name, buf, c.len);
                emit(o, " family=%d scope=%u addr:", t->family, t->scopeid);
                for (int i = 0; i < (t->family == AF_INET ? 4 : 16); i++)
                    emit(o, "%02x", reinterpret_cast<unsigned char*>(t->addr)[i]);
            }
        break;
    }
    case kByname3: {
        char* canon = reinterpret_cast<char*>(1);
        int32_t ttl = 4242;
        st = green ? hostsfile::gethostbyname3_r(s, multi, c.name, c.af, &he, buf, c.len, &err,
                                                 &herr, &canon)
                   : glibc_byname3(c.name, c.af, &he, buf, c.len, &err, &herr, &ttl, &canon);
        emit(o, "status=%d errno=%d *errnop=%d *herrnop=%d canon", st, errno, err, herr);
        if (canon == reinterpret_cast<char*>(1))
            emit(o, " untouched");
        else
            emit_str(o, canon, buf, c.len);
        if (st == NSS_STATUS_SUCCESS)
            emit_hostent(o, &he, buf, c.len);
        break;
    }
    case kByname:
    case kByaddr:
        if (c.kind == kByname)
            st = green ? hostsfile::gethostbyname3_r(s, multi, c.name, AF_INET, &he, buf, c.len,
                                                     &err, &herr, nullptr)
                       : glibc_byname(c.name, &he, buf, c.len, &err, &herr);
        else
            st = green ? hostsfile::gethostbyaddr_r(s, c.addr, c.alen, c.af, &he, buf, c.len,
                                                    &err, &herr)
                       : glibc_byaddr(c.addr, c.alen, c.af, &he, buf, c.len, &err, &herr);
        emit(o, "status=%d errno=%d *errnop=%d *herrnop=%d", st, errno, err, herr);
        if (st == NSS_STATUS_SUCCESS)
            emit_hostent(o, &he, buf, c.len);
        break;
    }
    return o;
}

void compare(const hostsfile::Snapshot* s, bool multi, const Call& c)
{
    hconf->flags = multi ? hconf->flags | kHconfMulti : hconf->flags & ~kHconfMulti;
    std::string a = call(false, s, multi, c);
    std::string b = call(true, s, multi, c);
    if (a == b)
        return;
    char what[INET6_ADDRSTRLEN + 8] = "";
    if (c.kind == kByaddr)
        inet_ntop(c.alen == 16 ? AF_INET6 : AF_INET, c.addr, what, sizeof what);
    std::string name;
    if (c.name)
        emit_str(name, c.name, c.name, strlen(c.name) + 1);  // " @0" and the quoted name
    fprintf(stderr,
            "hosts_file: DIFFERENCE %s%s %s af=%d buflen=%zu multi=%s\n  glibc: %s\n  green: "
            "%s\n",
            kind_names[c.kind], name.c_str(), what, c.af, c.len, multi ? "on" : "off",
            a.c_str(), b.c_str());
    abort();
}

// The input's words, as a plain reader splits them (addresses included), at most 24.
std::vector<std::string> words(const uint8_t* data, size_t size)
{
    std::vector<std::string> out;
    std::string w;
    for (size_t i = 0; i <= size && out.size() < 24; i++) {
        unsigned char ch = i < size ? data[i] : ' ';
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '#' || ch == 0) {
            if (!w.empty() && w.size() < 300) {
                bool dup = false;
                for (auto& x : out)
                    dup |= x == w;
                if (!dup)
                    out.push_back(w);
            }
            w.clear();
        } else {
            w += char(ch);
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    glibc_byname4 = private_fn<Byname4>("_nss_files_gethostbyname4_r");
    glibc_byname3 = private_fn<Byname3>("_nss_files_gethostbyname3_r");
    glibc_byname = private_fn<Byname>("_nss_files_gethostbyname_r");
    glibc_byaddr = private_fn<Byaddr>("_nss_files_gethostbyaddr_r");
    hconf = static_cast<GlibcHconf*>(dlsym(RTLD_DEFAULT, "_res_hconf"));
    if (!hconf)
        die("_res_hconf");
    // glibc's first resolver configuration fills _res_hconf (host.conf, RESOLV_MULTI): done
    // now, so that it cannot overwrite the flag set before each call.  No query is sent.
    res_init();

    // A mount namespace of this process's own, where /etc/hosts is the scratch file.  Root may
    // make one directly; anyone else through a user namespace of their own.
    int fd = mkstemp(scratch);
    if (fd < 0)
        die("mkstemp");
    close(fd);
    if (unshare(CLONE_NEWNS) != 0 && unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
        die("unshare (needs root, or unprivileged user namespaces)");
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        die("mount --make-rprivate /");
    if (mount(scratch, "/etc/hosts", nullptr, MS_BIND, nullptr) != 0)
        die("mount --bind on /etc/hosts");
    // The file itself is not needed by name once it is mounted (the mount keeps it).
    static hostsfile::Cache the_cache(scratch);
    cache = &the_cache;
    buf_a = static_cast<char*>(aligned_alloc(64, kBufMax + 128));
    buf_b = static_cast<char*>(aligned_alloc(64, kBufMax + 128));
    atexit([] { unlink(scratch); });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size > 16384)
        return 0;
    int fd = open(scratch, O_WRONLY | O_TRUNC);
    if (fd < 0)
        die("open the scratch hosts file");
    for (size_t done = 0; done < size;) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0)
            die("write the scratch hosts file");
        done += size_t(n);
    }
    close(fd);

    hostsfile::Snapshot* s = cache->acquire();
    if (!s)  // left to glibc's own functions, as the shim does: nothing to compare
        return 0;

    std::vector<std::string> names = words(data, size);
    size_t nfile = names.size();
    for (size_t i = 0; i < nfile && names.size() < 48; i++) {
        std::string up = names[i];
        for (auto& ch : up)
            ch = char(toupper(static_cast<unsigned char>(ch)));
        if (up != names[i])
            names.push_back(up);
        names.push_back(names[i] + ".");
    }
    for (const char* fixed : {"localhost", "", "nosuch-name", "a"})
        names.push_back(fixed);

    static const size_t sizes[] = {0, 47, kBufMax};
    for (bool multi : {false, true}) {
        for (size_t i = 0; i < names.size(); i++) {
            const char* n = names[i].c_str();
            // Buffer sizes up to 600 bytes for the first names, where ERANGE falls (every
            // size, with the input's length choosing where the walk starts).
            if (i < 2) {
                for (size_t len = size % 11; len < 600; len += 11) {
                    compare(s, multi, {kByname4, n, nullptr, 0, 0, len});
                    compare(s, multi, {kByname3, n, nullptr, 0, AF_INET, len});
                    compare(s, multi, {kByname3, n, nullptr, 0, AF_INET6, len});
                }
            }
            for (size_t len : sizes) {
                compare(s, multi, {kByname4, n, nullptr, 0, 0, len});
                compare(s, multi, {kByname3, n, nullptr, 0, AF_INET, len});
                compare(s, multi, {kByname3, n, nullptr, 0, AF_INET6, len});
            }
            compare(s, multi, {kByname, n, nullptr, 0, AF_INET, kBufMax});
        }
    }
    // Reverse: every word that is an address, in its own family and the other.
    for (size_t i = 0; i < nfile; i++) {
        unsigned char a4[4], a6[16];
        for (size_t len : {size_t(16), size_t(64), kBufMax}) {
            if (inet_pton(AF_INET, names[i].c_str(), a4) == 1) {
                unsigned char m[16] = {0};
                m[10] = m[11] = 0xff;
                memcpy(m + 12, a4, 4);
                compare(s, false, {kByaddr, nullptr, a4, 4, AF_INET, len});
                compare(s, false, {kByaddr, nullptr, m, 16, AF_INET6, len});
            }
            if (inet_pton(AF_INET6, names[i].c_str(), a6) == 1) {
                compare(s, false, {kByaddr, nullptr, a6, 16, AF_INET6, len});
                compare(s, false, {kByaddr, nullptr, a6 + 12, 4, AF_INET, len});
            }
        }
    }
    hostsfile::Cache::release(s);
    return 0;
}
