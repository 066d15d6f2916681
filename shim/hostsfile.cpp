// The hosts database's "files" source, answered from libgreen's copy of /etc/hosts.
//
// glibc's own files source re-reads /etc/hosts on every getaddrinfo and gethostby*; libgreen
// answers from a parsed copy it checks with one stat per call (resolver/hostsfile.h), with
// glibc 2.36's answers.  dns_setup re-points the "files" entry of the hosts line at an NSS
// module named "greenfiles".  glibc loads a module named X as libnss_X.so.2 and looks its
// functions up as _nss_X_* in that library and its dependencies; libgreen's SONAME already
// serves the name "green", so the "greenfiles" module is a second, empty library whose SONAME
// is libnss_greenfiles.so.2 and whose one dependency is libnss_green.so.2 (libgreen): built
// by the Makefile, embedded here, and loaded from memory at start-up.  glibc's dlopen of
// libnss_greenfiles.so.2 then finds it already loaded, and the _nss_greenfiles_* functions
// below in libgreen.
//
// When the copy cannot answer (no file, not a regular file, unreadable, too large, an
// unusual locale, an address family glibc's parser does not know), the call goes to glibc's
// own _nss_files_* functions; the enumeration (sethostent, gethostent_r, endhostent) always
// does.
#include <dlfcn.h>
#include <netdb.h>
#include <nss.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstdio>

#include "../hub/log.h"
#include "../hub/sys.h"
#include "../resolver/hostsfile.h"
#include "shim.h"

#include <link.h>  // after shim.h: its EV_NONE would clash with libev's

using namespace green;

// The module library, built by the Makefile (GREEN_NSS_STUB is its path at build time).
asm(".pushsection .rodata\n"
    ".balign 16\n"
    ".globl green_nss_stub\n"
    ".hidden green_nss_stub\n"
    "green_nss_stub:\n"
    ".incbin \"" GREEN_NSS_STUB "\"\n"
    ".globl green_nss_stub_end\n"
    ".hidden green_nss_stub_end\n"
    "green_nss_stub_end:\n"
    ".popsection\n");
extern "C" const char green_nss_stub[], green_nss_stub_end[];

// glibc 2.36's struct hconf (resolv/res_hconf.h), exported as _res_hconf: "multi on" in
// /etc/host.conf or RESOLV_MULTI, which glibc's files source reads on every look-up.
struct GlibcHconf {
    int initialized;
    int unused1;
    int unused2[4];
    int num_trimdomains;
    const char* trimdomain[4];
    unsigned int flags;
};
extern "C" GlibcHconf _res_hconf;

namespace {

constexpr unsigned kHconfMulti = 1u << 4;

bool multi() { return (_res_hconf.flags & kHconfMulti) != 0; }

struct GlibcFiles {
    nss_status (*byname4)(const char*, gaih_addrtuple**, char*, size_t, int*, int*, int32_t*);
    nss_status (*byname3)(const char*, int, hostent*, char*, size_t, int*, int*, int32_t*,
                          char**);
    nss_status (*byname2)(const char*, int, hostent*, char*, size_t, int*, int*);
    nss_status (*byname)(const char*, hostent*, char*, size_t, int*, int*);
    nss_status (*byaddr)(const void*, socklen_t, int, hostent*, char*, size_t, int*, int*);
    nss_status (*setent)(int);
    nss_status (*getent)(hostent*, char*, size_t, int*, int*);
    nss_status (*endent)();
} glibc_files;

template <typename F>
bool private_symbol(F* f, const char* name)
{
    *f = reinterpret_cast<F>(dlvsym(RTLD_NEXT, name, "GLIBC_PRIVATE"));
    return *f != nullptr;
}

// The name the module keeps once loaded: no file has it, and its SONAME is what glibc asks for.
constexpr char kModuleName[] = "libnss_greenfiles.so.2";

// Loads the module library from memory; false if this system does not let us.
bool load_module()
{
    long fd = raw_syscall(SYS_memfd_create, long("libnss_greenfiles.so.2"), MFD_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = true;
    for (const char* p = green_nss_stub; ok && p < green_nss_stub_end;) {
        long n = raw_syscall(SYS_write, fd, long(p), long(green_nss_stub_end - p));
        if (n == -EINTR)
            continue;
        ok = n > 0;
        p += n > 0 ? n : 0;
    }
    // The name the library is loaded by is read by debuggers too, in their own process, while
    // dlopen reports the new library to them: /proc/self/fd/N would be a descriptor of gdb's
    // own there (a pipe it then waits on for ever), /proc/PID/fd/N is ours.
    char path[48];
    snprintf(path, sizeof path, "/proc/%ld/fd/%ld", raw_syscall(SYS_getpid), fd);
    void* h = ok ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : nullptr;
    raw_syscall(SYS_close, fd);
    if (!h) {
        GREEN_DEBUG("hosts cache: the greenfiles module does not load: %s",
                    ok ? dlerror() : "write");
        return false;
    }
    // Once the descriptor is closed its number is the program's to reuse: a debugger attaching
    // later must not open that.  The library keeps a name that opens nothing.
    // (The dynamic linker's copy of the old name stays referenced here: not ours to free.)
    [[maybe_unused]] static char* volatile loaded_as = nullptr;
    link_map* map = nullptr;
    if (dlinfo(h, RTLD_DI_LINKMAP, &map) == 0 && map) {
        loaded_as = map->l_name;
        map->l_name = const_cast<char*>(kModuleName);
    }
    return true;  // kept loaded for the life of the process
}

void forget_lock_in_child() { hostsfile::etc_hosts().reset_after_fork(); }

// A snapshot for this call, or null: then glibc's own function answers.
struct Use {
    hostsfile::Snapshot* s = hostsfile::etc_hosts().acquire();
    ~Use() { hostsfile::Cache::release(s); }
};

}  // namespace

bool green::files_setup()
{
    if (!private_symbol(&glibc_files.byname4, "_nss_files_gethostbyname4_r") ||
        !private_symbol(&glibc_files.byname3, "_nss_files_gethostbyname3_r") ||
        !private_symbol(&glibc_files.byname2, "_nss_files_gethostbyname2_r") ||
        !private_symbol(&glibc_files.byname, "_nss_files_gethostbyname_r") ||
        !private_symbol(&glibc_files.byaddr, "_nss_files_gethostbyaddr_r") ||
        !private_symbol(&glibc_files.setent, "_nss_files_sethostent") ||
        !private_symbol(&glibc_files.getent, "_nss_files_gethostent_r") ||
        !private_symbol(&glibc_files.endent, "_nss_files_endhostent"))
        return false;
    if (!load_module())
        return false;
    pthread_atfork(nullptr, nullptr, forget_lock_in_child);
    return true;
}

GREEN_EXPORT nss_status _nss_greenfiles_gethostbyname4_r(const char* name, gaih_addrtuple** pat,
                                                         char* buffer, size_t buflen,
                                                         int* errnop, int* herrnop,
                                                         int32_t* ttlp)
{
    Use u;
    if (!u.s)
        return glibc_files.byname4(name, pat, buffer, buflen, errnop, herrnop, ttlp);
    return hostsfile::gethostbyname4_r(u.s, multi(), name, pat, buffer, buflen, errnop,
                                       herrnop);
}

GREEN_EXPORT nss_status _nss_greenfiles_gethostbyname3_r(const char* name, int af,
                                                         hostent* result, char* buffer,
                                                         size_t buflen, int* errnop,
                                                         int* herrnop, int32_t* ttlp,
                                                         char** canonp)
{
    if (af == AF_INET || af == AF_INET6) {
        Use u;
        if (u.s)
            return hostsfile::gethostbyname3_r(u.s, multi(), name, af, result, buffer, buflen,
                                               errnop, herrnop, canonp);
    }
    return glibc_files.byname3(name, af, result, buffer, buflen, errnop, herrnop, ttlp, canonp);
}

GREEN_EXPORT nss_status _nss_greenfiles_gethostbyname2_r(const char* name, int af,
                                                         hostent* result, char* buffer,
                                                         size_t buflen, int* errnop,
                                                         int* herrnop)
{
    if (af == AF_INET || af == AF_INET6) {
        Use u;
        if (u.s)
            return hostsfile::gethostbyname3_r(u.s, multi(), name, af, result, buffer, buflen,
                                               errnop, herrnop, nullptr);
    }
    return glibc_files.byname2(name, af, result, buffer, buflen, errnop, herrnop);
}

GREEN_EXPORT nss_status _nss_greenfiles_gethostbyname_r(const char* name, hostent* result,
                                                        char* buffer, size_t buflen,
                                                        int* errnop, int* herrnop)
{
    Use u;
    if (!u.s)
        return glibc_files.byname(name, result, buffer, buflen, errnop, herrnop);
    return hostsfile::gethostbyname3_r(u.s, multi(), name, AF_INET, result, buffer, buflen,
                                       errnop, herrnop, nullptr);
}

GREEN_EXPORT nss_status _nss_greenfiles_gethostbyaddr_r(const void* addr, socklen_t len, int af,
                                                        hostent* result, char* buffer,
                                                        size_t buflen, int* errnop,
                                                        int* herrnop)
{
    if (af == AF_INET || af == AF_INET6) {
        Use u;
        if (u.s)
            return hostsfile::gethostbyaddr_r(u.s, addr, len, af, result, buffer, buflen,
                                              errnop, herrnop);
    }
    return glibc_files.byaddr(addr, len, af, result, buffer, buflen, errnop, herrnop);
}

GREEN_EXPORT nss_status _nss_greenfiles_sethostent(int stayopen)
{
    return glibc_files.setent(stayopen);
}

GREEN_EXPORT nss_status _nss_greenfiles_gethostent_r(hostent* result, char* buffer,
                                                     size_t buflen, int* errnop, int* herrnop)
{
    return glibc_files.getent(result, buffer, buflen, errnop, herrnop);
}

GREEN_EXPORT nss_status _nss_greenfiles_endhostent() { return glibc_files.endent(); }
