// dlsym() and dlvsym(): look-ups that would hand the program a C library function libgreen wraps
// hand it libgreen's wrapper instead.
//
// A library loaded after libgreen that finds a function with dlsym(RTLD_NEXT, ...) gets the
// definition that follows it in the search order, which is the C library's: libjemalloc starts
// its background thread that way, so under a plain LD_PRELOAD that thread is a real one.  A
// look-up with a handle of the C library (dlopen("libc.so.6")) or of a library that depends on
// it does the same.  RTLD_DEFAULT already finds libgreen first, since a preloaded library comes
// right after the program.
//
// RTLD_NEXT is relative to the caller, which glibc finds from dlsym's return address: a wrapper
// that called glibc's dlsym would make libgreen the caller.  So dlsym and dlvsym are two small
// assembly entries that ask pick() first and, when it has no answer of its own, jump to glibc's
// function with the caller's return address still on the stack: glibc then answers exactly as
// it would without libgreen.  pick() answers only for a name libgreen exports, and only with
// libgreen's wrapper:
//   - RTLD_NEXT: when the first object after the caller in load order that defines the name is
//     the C library (found in each object's own dynamic symbol table, as glibc searches);
//   - another handle but RTLD_DEFAULT: when glibc's answer is defined in the C library.
// Look-ups from libgreen itself always get glibc's answer, so that the table of real functions
// (shim/real.cpp) and the runtime's own look-ups still find the C library's functions.
//
// glibc's own dlsym is found without dlsym: in the C library's dynamic symbol table.
//
// dlopen() and dlmopen() are entries of the same kind: they note that objects may have been
// loaded (green_modules_pending) and jump to glibc's, whose answer depends on its caller too (the
// caller's RUNPATH, $ORIGIN, its namespace), so libgreen cannot run code after it returns.  The
// new objects are scanned for system call instructions (shim/rawsys.cpp) at the next look-up,
// which is how a program reaches the code it loaded; their constructors have run by then.
// libgreen's headers first: <elf.h> defines EV_NONE, which <ev.h> declares.
#include "shim.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>

#include <atomic>
#include <cstdint>

#include "../hub/log.h"

namespace {

using DlsymFn = void* (*)(void*, const char*);
using DlvsymFn = void* (*)(void*, const char*, const char*);

// The C library's link map and libgreen's, found once (idempotent, so racing threads agree).
std::atomic<const link_map*> libc_map{nullptr};
std::atomic<const link_map*> self_map{nullptr};

// Whether a and b are the same string (the ASan runtime intercepts strcmp, and may look
// functions up before its interceptors work).
bool same(const char* a, const char* b)
{
    while (*a && *a == *b)
        ++a, ++b;
    return *a == *b;
}

// A dynamic-section pointer: glibc relocates most objects' entries in place, but not the
// read-only one of the vDSO.
template <typename T>
const T* dyn_ptr(const link_map* l, ElfW(Addr) p)
{
    return reinterpret_cast<const T*>(p < l->l_addr ? p + l->l_addr : p);
}

// The version name of version index ndx in l's definitions, or null.
const char* version_name(const ElfW(Verdef)* vd, const char* strtab, unsigned ndx)
{
    for (; vd; vd = vd->vd_next ? reinterpret_cast<const ElfW(Verdef)*>(
                                      reinterpret_cast<const char*>(vd) + vd->vd_next)
                                : nullptr) {
        if (vd->vd_ndx == ndx) {
            auto aux = reinterpret_cast<const ElfW(Verdaux)*>(reinterpret_cast<const char*>(vd) +
                                                              vd->vd_aux);
            return strtab + aux->vda_name;
        }
    }
    return nullptr;
}

// The address of name as object l itself defines it (not its dependencies): the default
// version when version is null, else that version; null when l does not define it.
void* own_definition(const link_map* l, const char* name, const char* version)
{
    const ElfW(Sym)* symtab = nullptr;
    const char* strtab = nullptr;
    const uint32_t* gnu_hash = nullptr;
    const uint32_t* sysv_hash = nullptr;
    const ElfW(Half)* versym = nullptr;
    const ElfW(Verdef)* verdef = nullptr;
    for (const ElfW(Dyn)* d = l->l_ld; d && d->d_tag != DT_NULL; ++d) {
        switch (d->d_tag) {
        case DT_SYMTAB: symtab = dyn_ptr<ElfW(Sym)>(l, d->d_un.d_ptr); break;
        case DT_STRTAB: strtab = dyn_ptr<char>(l, d->d_un.d_ptr); break;
        case DT_GNU_HASH: gnu_hash = dyn_ptr<uint32_t>(l, d->d_un.d_ptr); break;
        case DT_HASH: sysv_hash = dyn_ptr<uint32_t>(l, d->d_un.d_ptr); break;
        case DT_VERSYM: versym = dyn_ptr<ElfW(Half)>(l, d->d_un.d_ptr); break;
        case DT_VERDEF: verdef = dyn_ptr<ElfW(Verdef)>(l, d->d_un.d_ptr); break;
        default: break;
        }
    }
    if (!symtab || !strtab || (!gnu_hash && !sysv_hash))
        return nullptr;
    auto matches = [&](uint32_t i) -> void* {
        const ElfW(Sym)& s = symtab[i];
        unsigned bind = ELF64_ST_BIND(s.st_info), type = ELF64_ST_TYPE(s.st_info);
        if (s.st_shndx == SHN_UNDEF || type == STT_TLS ||
            (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE) ||
            !same(strtab + s.st_name, name))
            return nullptr;
        if (versym) {
            unsigned v = versym[i];
            if (!version && (v & 0x8000))
                return nullptr;  // a hidden (non-default) version: dlsym never returns it
            if (version && (v & 0x7fff) > 1) {
                const char* vn = version_name(verdef, strtab, v & 0x7fff);
                if (!vn || !same(vn, version))
                    return nullptr;
            }
        }
        return reinterpret_cast<void*>(l->l_addr + s.st_value);
    };
    if (gnu_hash) {
        uint32_t h = 5381;
        for (const unsigned char* c = reinterpret_cast<const unsigned char*>(name); *c; ++c)
            h = h * 33 + *c;
        uint32_t nbuckets = gnu_hash[0], symoffset = gnu_hash[1], bloom_words = gnu_hash[2];
        auto buckets = reinterpret_cast<const uint32_t*>(
            reinterpret_cast<const ElfW(Addr)*>(gnu_hash + 4) + bloom_words);
        const uint32_t* chain = buckets + nbuckets;
        uint32_t i = nbuckets ? buckets[h % nbuckets] : 0;
        if (i < symoffset)
            return nullptr;
        for (;; ++i) {
            uint32_t ch = chain[i - symoffset];
            if ((ch | 1) == (h | 1))
                if (void* p = matches(i))
                    return p;
            if (ch & 1)
                return nullptr;
        }
    }
    uint32_t h = 0;
    for (const unsigned char* c = reinterpret_cast<const unsigned char*>(name); *c; ++c) {
        h = (h << 4) + *c;
        h = (h ^ ((h >> 24) & 0xf0)) & 0x0fffffff;
    }
    uint32_t nbuckets = sysv_hash[0];
    const uint32_t* buckets = sysv_hash + 2;
    const uint32_t* chain = buckets + nbuckets;
    for (uint32_t i = nbuckets ? buckets[h % nbuckets] : 0; i != STN_UNDEF; i = chain[i])
        if (void* p = matches(i))
            return p;
    return nullptr;
}

const link_map* map_of(const void* addr)
{
    Dl_info info;
    void* extra = nullptr;
    if (!dladdr1(addr, &info, &extra, RTLD_DL_LINKMAP))
        return nullptr;
    return static_cast<const link_map*>(extra);
}

// Whether path names the C library (its file name is libc.so.6).
bool is_libc(const char* path)
{
    const char* base = path;
    for (const char* p = path; *p; ++p)
        if (*p == '/')
            base = p + 1;
    return same(base, "libc.so.6");
}

// Finds the two maps in the chain of loaded objects (no dlopen: the ASan runtime intercepts it).
bool find_maps()
{
    if (libc_map.load(std::memory_order_acquire))
        return true;
    const link_map* self = map_of(reinterpret_cast<const void*>(&find_maps));
    if (!self)
        return false;
    const link_map* head = self;
    while (head->l_prev)
        head = head->l_prev;
    for (const link_map* l = head; l; l = l->l_next) {
        if (l->l_name && is_libc(l->l_name)) {
            self_map.store(self, std::memory_order_relaxed);
            libc_map.store(l, std::memory_order_release);
            return true;
        }
    }
    return false;
}

}  // namespace

extern "C" {

// glibc's dlsym, dlvsym, dlopen and dlmopen, jumped to by the entries below (hidden:
// libgreen's own).
__attribute__((visibility("hidden"))) DlsymFn green_libc_dlsym;
__attribute__((visibility("hidden"))) DlvsymFn green_libc_dlvsym;
__attribute__((visibility("hidden"))) void* green_libc_dlopen;
__attribute__((visibility("hidden"))) void* green_libc_dlmopen;
// shim/rawsys.cpp's: objects may have been loaded since its last scan; it scans at all.
extern volatile char green_modules_pending;
extern char green_rawsys_ready;

// libgreen's answer for a look-up by the code at return address caller, or null: then glibc's.
__attribute__((visibility("hidden"))) void* green_dlsym_pick(void* handle, const char* name,
                                                             const char* version, void* caller)
{
    // A look-up after a dlopen is how a program reaches the code it loaded: the new objects are
    // scanned for system call instructions first (shim/rawsys.cpp).  Not before libgreen has
    // started: the ASan runtime looks functions up before it can run instrumented code.
    if (green_modules_pending && green_rawsys_ready)
        green::rawsys_scan_loaded();
    if (!name || handle == RTLD_DEFAULT || !find_maps())
        return nullptr;
    const link_map* self = self_map.load(std::memory_order_relaxed);
    const link_map* libc = libc_map.load(std::memory_order_relaxed);
    void* mine = own_definition(self, name, nullptr);
    if (!mine)
        return nullptr;
    const link_map* from = map_of(caller);
    if (!from || from == self)
        return nullptr;
    if (handle == RTLD_NEXT) {
        // A caller that defines the name itself wraps it (the ASan runtime does): it wants the
        // next definition, and libgreen's own look-up of the real function may lead to it.
        if (own_definition(from, name, nullptr))
            return nullptr;
        for (const link_map* l = from->l_next; l; l = l->l_next) {
            if (l == self)
                return mine;  // glibc's answer too, but found without asking it
            if (own_definition(l, name, version))
                return l == libc ? mine : nullptr;
        }
        return nullptr;
    }
    void* found = version ? green_libc_dlvsym(handle, name, version) : green_libc_dlsym(handle, name);
    return found && map_of(found) == libc ? mine : nullptr;
}

// Finds glibc's dlsym and dlvsym; before this, the entries cannot work.  Called by the first
// look-up (a constructor of a library loaded before libgreen's may make it) and at start-up.
__attribute__((visibility("hidden"))) void green_dlsym_setup()
{
    if (green_libc_dlvsym)
        return;
    if (!find_maps())
        green::fatal("cannot find the C library's link map");
    const link_map* libc = libc_map.load(std::memory_order_acquire);
    auto s = reinterpret_cast<DlsymFn>(own_definition(libc, "dlsym", nullptr));
    auto v = reinterpret_cast<DlvsymFn>(own_definition(libc, "dlvsym", nullptr));
    void* o = own_definition(libc, "dlopen", nullptr);
    void* m = own_definition(libc, "dlmopen", nullptr);
    if (!s || !v || !o || !m)
        green::fatal("cannot find the C library's dlsym, dlvsym, dlopen and dlmopen");
    green_libc_dlsym = s;
    green_libc_dlopen = o;
    green_libc_dlmopen = m;
    __atomic_store_n(&green_libc_dlvsym, v, __ATOMIC_RELEASE);
}

}  // extern "C"

// The entries.  Each saves its arguments, asks green_dlsym_pick (with its own return address,
// the caller's), returns its answer when there is one, and otherwise jumps to glibc's function
// with the stack as the caller left it.  Three pushes keep the stack 16-byte aligned at the call.
// The first look-up finds glibc's functions first (green_dlsym_setup).  dlsym and dlvsym are one
// macro's entries (dlsym passes no version: a null third argument); dlopen and dlmopen another's,
// each jumping to glibc's function of its name, their arguments (dlmopen has three) kept across
// the set-up.
__asm__(R"(
    .text
    .macro green_lookup_entry name, versioned
    .globl \name
    .type \name, @function
\name:
    .cfi_startproc
    push %rdi
    .cfi_adjust_cfa_offset 8
    push %rsi
    .cfi_adjust_cfa_offset 8
    push %rdx
    .cfi_adjust_cfa_offset 8
    cmpq $0, green_libc_dlvsym(%rip)
    jne 1f
    call green_dlsym_setup
    mov 16(%rsp), %rdi
    mov 8(%rsp), %rsi
    mov (%rsp), %rdx
1:
    .if \versioned == 0
    xor %edx, %edx
    .endif
    mov 24(%rsp), %rcx
    call green_dlsym_pick
    pop %rdx
    .cfi_adjust_cfa_offset -8
    pop %rsi
    .cfi_adjust_cfa_offset -8
    pop %rdi
    .cfi_adjust_cfa_offset -8
    test %rax, %rax
    jz 2f
    ret
2:  jmp *green_libc_\name(%rip)
    .cfi_endproc
    .size \name, .-\name
    .endm
    green_lookup_entry dlsym, 0
    green_lookup_entry dlvsym, 1

    .macro green_open_entry name
    .globl \name
    .type \name, @function
\name:
    .cfi_startproc
    movb $1, green_modules_pending(%rip)
    cmpq $0, green_libc_dlvsym(%rip)
    jne 1f
    push %rdi
    .cfi_adjust_cfa_offset 8
    push %rsi
    .cfi_adjust_cfa_offset 8
    push %rdx
    .cfi_adjust_cfa_offset 8
    call green_dlsym_setup
    pop %rdx
    .cfi_adjust_cfa_offset -8
    pop %rsi
    .cfi_adjust_cfa_offset -8
    pop %rdi
    .cfi_adjust_cfa_offset -8
1:  jmp *green_libc_\name(%rip)
    .cfi_endproc
    .size \name, .-\name
    .endm

    green_open_entry dlopen
    green_open_entry dlmopen
)");
