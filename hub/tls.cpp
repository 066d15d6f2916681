// Thread-local storage of green threads: layout, creation, switch (see hub/tls.h).
//
// What stays the OS thread's, and why:
//  * The control block's self word (THREAD_SELF, %fs:16) keeps naming the OS thread's own
//    descriptor.  glibc's recursive internal locks (stdio streams, the loader's lock) take it as
//    their owner's identity; libgreen already orders green threads around those locks with green
//    locks of its own, and relies on a green thread that parked inside one (a stream it writes to
//    a slow pipe) not making the next one wait in the kernel, which would freeze the hub.
//  * glibc malloc's per-thread words (its cache of free chunks and its arena): glibc frees the
//    cache only when a real thread exits, which green threads never do, so a cache per green
//    thread would leak with every thread.  Which words they are is not public: the first malloc
//    on a fresh block shows which words of the C library's block it sets (probe_malloc).
//  * The resolver state pointer (__resp): res_init and the res_* functions keep _res per OS
//    thread, as libgreen's resolver wrappers expect.
//  * libgreen's own TLS block: the hub pointer.  (What else libgreen keeps per OS thread is in
//    its Hub, not in thread-local variables.)
// These words do not change while the OS thread lives, so a new block inherits them from the
// block of the context that creates it.  The blocks of sanitizer runtimes, whose per-thread state
// describes the OS thread and changes all the time, are carried instead: every switch copies
// them from the block it leaves to the block it enters.
//
// A block of its own costs a green thread two pages of stack instead of one, and each switch a
// wrfsbase (about 12 ns here).  Most programs of the kind libgreen is for need neither: when no
// module but the C library, the C++ runtime and libgreen has TLS, green threads share their OS
// thread's block, and what in it is each thread's own -- h_errno, the C++ exception state, the
// locale uselocale set (errno every context saves anyway) -- is saved to its owner's record and
// replaced by the next one's when another green thread sharing the block runs (the hub does it,
// with tls_words_save and tls_words_restore).  A module with TLS loaded later (dlopen) makes the
// green threads created after it get blocks of their own.
#include "tls.h"

// green.h (libev's header) first: <link.h> brings <elf.h>, whose EV_NONE macro would break
// libev's enum.
#include "green.h"
#include "log.h"
#include "spinlock.h"
#include "sys.h"

#include <asm/prctl.h>
#include <dlfcn.h>
#include <link.h>
#include <locale.h>
#include <netdb.h>
#include <ctype.h>
#include <pthread.h>
#include <sys/auxv.h>
#include <sys/rseq.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

namespace green {

uint32_t tls_h_errno = 0;
uint32_t tls_own[kTlsMaxOwn];
int tls_n_own = 0;

namespace {

int n_all_own = 0;   // own words with the locale's
int n_base_own = 0;  // without them

// A carried span: bytes [tp - off, tp - off + len) of every block.
struct Span {
    uint32_t off;
    uint32_t len;
};
constexpr int kMaxSpans = 16;
struct Spans {
    Span span[kMaxSpans];
    int n;
    // A span that continues the previous one extends it.  (At most five are ever added.)
    void add(char* tp, const char* addr, size_t len)
    {
        uint32_t off = uint32_t(tp - addr);
        if (n > 0 && span[n - 1].off - span[n - 1].len == off)
            span[n - 1].len += uint32_t(len);
        else if (n < kMaxSpans)
            span[n++] = Span{off, uint32_t(len)};
    }
};
Spans inherited;  // copied from the creator's block when a block is made
Spans carried;    // copied from block to block at every switch
char fresh_words[kTlsOwnBytes];  // the own words of a new thread

// Whether green threads need blocks of their own: some module other than the C library, the
// C++ runtime, libgreen and the sanitizers has TLS.  Checked again when modules were loaded.
std::atomic<bool> foreign{false};
bool for_all = false;  // tls_blocks_for_all
constexpr int kMaxKnown = 8;
size_t known_modids[kMaxKnown];
int n_known = 0;
unsigned long long seen_adds = 0;

// The layout, learnt by tls_setup.  area_size 0: green threads share their OS thread's block.
size_t tcb_size = 0;      // glibc's struct pthread
size_t static_size = 0;   // static TLS of every module, the surplus for dlopen, the TCB
size_t static_align = 0;
size_t area_size = 0;
long rseq_cpu_id = -1;    // offset of the TCB's rseq cpu_id from the thread pointer
bool use_wrfsbase = false;
uint32_t libc_off = 0, libc_len = 0;  // the C library's block

void* (*allocate_tls)(void*) = nullptr;
void (*deallocate_tls)(void*, bool) = nullptr;
void (*ctype_init)() = nullptr;
void (*call_tls_dtors)() = nullptr;

SpinLock probe_lock;
std::atomic<bool> probed{false};

bool contains(const char* lo, size_t len, const void* p)
{
    return static_cast<const char*>(p) >= lo && static_cast<const char*>(p) < lo + len;
}

bool is_sanitizer_runtime(const char* path)
{
    static const char* const names[] = {"libasan.so", "libubsan.so", "liblsan.so", "libtsan.so",
                                        "libhwasan.so"};
    for (const char* n : names)
        if (strstr(path, n))
            return true;
    return false;
}

bool is_known(size_t modid)
{
    for (int i = 0; i < n_known; i++)
        if (known_modids[i] == modid)
            return true;
    return false;
}

struct Scan {
    char* tp;
    const char* eh;  // the C++ runtime's exception state, in its block
    size_t lowest;   // the farthest block end below tp
    bool libc_found;
};

// At start-up: the modules with TLS, and what of theirs is carried, inherited or known.
int scan_module(dl_phdr_info* info, size_t, void* arg)
{
    Scan* s = static_cast<Scan*>(arg);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr)& ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_TLS)
            continue;
        char* data = static_cast<char*>(info->dlpi_tls_data);
        size_t len = ph.p_memsz;
        bool known = true;
        if (!data) {
            known = false;
        } else if (is_sanitizer_runtime(info->dlpi_name)) {
            carried.add(s->tp, data, len);
        } else if (contains(data, len, &tl_hub)) {
            inherited.add(s->tp, data, len);
        } else if (contains(data, len, &errno)) {
            libc_off = uint32_t(s->tp - data);
            libc_len = uint32_t(len);
            s->libc_found = true;
        } else if (!s->eh || !contains(data, len, s->eh)) {
            known = false;
        }
        if (data && (data > s->tp || size_t(s->tp - data) > s->lowest))
            s->lowest = data > s->tp ? SIZE_MAX : size_t(s->tp - data);
        if (known && n_known < kMaxKnown)
            known_modids[n_known++] = info->dlpi_tls_modid;
        else
            foreign.store(true, std::memory_order_relaxed);
    }
    return 0;
}

// Later: a module with TLS none of the above.
int scan_foreign(dl_phdr_info* info, size_t, void*)
{
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_TLS && !is_known(info->dlpi_tls_modid))
            foreign.store(true, std::memory_order_relaxed);
    return 0;
}

int count_adds(dl_phdr_info* info, size_t, void* arg)
{
    *static_cast<unsigned long long*>(arg) = info->dlpi_adds;
    return 1;  // the first module is enough
}

inline void copy_spans(const Spans& spans, char* to_tp, const char* from_tp)
{
    for (int i = 0; i < spans.n; i++)
        memcpy(to_tp - spans.span[i].off, from_tp - spans.span[i].off, spans.span[i].len);
}

void set_fs(char* tp)
{
    if (use_wrfsbase)
        __asm__ volatile("wrfsbase %0" : : "r"(tp) : "memory");
    else
        raw_syscall(SYS_arch_prctl, ARCH_SET_FS, long(tp));
}

// Copies the OS thread's control block (all but the words that locate this block's TLS) and
// makes the copy's rseq area say "not registered": the kernel updates only the original's, so
// sched_getcpu must not read a stale CPU number from the copy.
void copy_tcb(char* tp, const char* os_tp, bool whole)
{
    constexpr size_t kLocating = 2 * sizeof(void*);  // header.tcb, header.dtv
    if (whole)
        memcpy(tp, os_tp, tcb_size);
    else
        memcpy(tp + kLocating, os_tp + kLocating, tcb_size - kLocating);
    *reinterpret_cast<char**>(tp) = tp;  // header.tcb: %fs:0, the base of every TLS address
    if (rseq_cpu_id >= 0) {
        int32_t unregistered = RSEQ_CPU_ID_REGISTRATION_FAILED;
        memcpy(tp + rseq_cpu_id, &unregistered, sizeof unregistered);
    }
}

char* make_tls(char* top, char* os_tp)
{
    uintptr_t at = reinterpret_cast<uintptr_t>(top - tcb_size) & ~uintptr_t(static_align - 1);
    char* tp = reinterpret_cast<char*>(at);
    copy_tcb(tp, os_tp, true);
    if (!allocate_tls(tp))  // the DTV, and every static block from its module's image
        return nullptr;
    return tp;
}

// The words of the C library's block that the first malloc of a new thread sets: malloc's
// per-thread cache and arena.  Learnt once, on the OS thread that makes the first green thread
// with a block of its own: for a moment it runs on a scratch block, as fresh as a green thread's,
// with every signal blocked, and calls malloc there.  That costs one arena and one cache, kept
// (as a real thread's would be, had it never ended).  When malloc is not glibc's (a program
// linked with jemalloc), there is nothing of malloc's in the C library's block to carry.
bool probe_malloc()
{
    void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    void* glibc_malloc = libc ? dlsym(libc, "malloc") : nullptr;
    if (libc)
        dlclose(libc);
    if (!glibc_malloc || dlsym(RTLD_DEFAULT, "malloc") != glibc_malloc)
        return true;
    char* mem = static_cast<char*>(malloc(area_size));
    if (!mem)
        return false;
    char* os_tp = tls_current();
    char* tp = make_tls(mem + area_size, os_tp);
    if (!tp) {
        free(mem);
        return false;
    }
    char* block = tp - libc_off;
    uint64_t before[64];
    size_t words = libc_len / 8;
    memcpy(before, block, words * 8);
    sigset_t all, old;
    sigfillset(&all);
    raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, long(&all), long(&old), _NSIG / 8);
    set_fs(tp);
    void* (*volatile alloc)(size_t) = malloc;  // not a pair the compiler may drop
    free(alloc(64));
    set_fs(os_tp);
    raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, long(&old), 0, _NSIG / 8);
    size_t errno_word = (libc_off - size_t(os_tp - reinterpret_cast<char*>(&errno))) / 8;
    for (size_t w = 0; w < words; w++) {
        uint64_t now;
        memcpy(&now, block + w * 8, 8);
        if (now != before[w] && w != errno_word)
            inherited.add(os_tp, os_tp - libc_off + w * 8, 8);
    }
    deallocate_tls(tp, false);
    free(mem);
    return true;
}

void disable(const char* why)
{
    area_size = 0;
    GREEN_WARN("green threads share their OS thread's thread-local storage: %s", why);
}

// Whether a new green thread needs a block of its own: looks again for modules with TLS when
// modules were loaded since the last look.
bool needs_blocks()
{
    if (foreign.load(std::memory_order_relaxed))
        return true;
    unsigned long long adds = 0;
    dl_iterate_phdr(count_adds, &adds);
    SpinGuard g(probe_lock);
    if (adds != seen_adds) {
        seen_adds = adds;
        dl_iterate_phdr(scan_foreign, nullptr);
    }
    return foreign.load(std::memory_order_relaxed);
}

// The word of the C library's block that holds the locale uselocale set: the one that changes
// to a new locale's address.  nullptr if there is not exactly one.
char* find_locale_word(char* block, size_t len)
{
    locale_t loc = newlocale(LC_ALL_MASK, "C", nullptr);
    if (!loc)
        return nullptr;
    locale_t old = uselocale(loc);
    char* found = nullptr;
    int n = 0;
    for (size_t w = 0; w + 8 <= len; w += 8) {
        void* v;
        memcpy(&v, block + w, 8);
        if (v == static_cast<void*>(loc))
            found = block + w, n++;
    }
    uselocale(old);
    freelocale(loc);
    return n == 1 ? found : nullptr;
}

// Once, at the first green thread with a block of its own.
bool probe()
{
    if (probed.load(std::memory_order_acquire))
        return area_size != 0;
    SpinGuard g(probe_lock);
    if (probed.load(std::memory_order_relaxed))
        return area_size != 0;
    if (area_size && !probe_malloc())
        disable("no memory to learn malloc's thread state with");
    probed.store(true, std::memory_order_release);
    return area_size != 0;
}

}  // namespace

void tls_setup()
{
    static bool done = false;  // start-up is single-threaded
    if (done)
        return;
    done = true;
    allocate_tls = reinterpret_cast<void* (*)(void*)>(
        dlvsym(RTLD_DEFAULT, "_dl_allocate_tls", "GLIBC_PRIVATE"));
    deallocate_tls = reinterpret_cast<void (*)(void*, bool)>(
        dlvsym(RTLD_DEFAULT, "_dl_deallocate_tls", "GLIBC_PRIVATE"));
    auto static_info = reinterpret_cast<void (*)(size_t*, size_t*)>(
        dlvsym(RTLD_DEFAULT, "_dl_get_tls_static_info", "GLIBC_PRIVATE"));
    ctype_init = reinterpret_cast<void (*)()>(dlvsym(RTLD_DEFAULT, "__ctype_init", "GLIBC_PRIVATE"));
    call_tls_dtors =
        reinterpret_cast<void (*)()>(dlvsym(RTLD_DEFAULT, "__call_tls_dtors", "GLIBC_PRIVATE"));
    if (!allocate_tls || !deallocate_tls || !static_info || !ctype_init || !call_tls_dtors)
        return disable("this C library does not offer what a thread's TLS is made with");
    static_info(&static_size, &static_align);
    // struct pthread ends with its rseq area (glibc 2.35 and later), 32 bytes, and is aligned
    // to 64; __rseq_offset says where that area is from the thread pointer.
    tcb_size = (size_t(__rseq_offset) + 32 + 63) & ~size_t(63);
    char* tp = tls_current();
    auto eh_state = reinterpret_cast<void* (*)()>(dlsym(RTLD_DEFAULT, "__cxa_get_globals"));
    Scan s = {tp, eh_state ? static_cast<char*>(eh_state()) : nullptr, 0, false};
    dl_iterate_phdr(scan_module, &s);
    dl_iterate_phdr(count_adds, &seen_adds);
    if (*reinterpret_cast<char**>(tp + 16) != tp || __rseq_offset <= 0 || tcb_size > 8192 ||
        static_align == 0 || (static_align & (static_align - 1)) ||
        static_size < tcb_size + s.lowest || !s.libc_found || libc_len > 512)
        return disable("the C library's thread control block is not laid out as expected");
    if (void* resp = dlsym(RTLD_DEFAULT, "__resp"); resp && contains(tp - libc_off, libc_len, resp))
        inherited.add(tp, static_cast<char*>(resp), sizeof(void*));
    // What a green thread sharing this block keeps of its own, in the order of the block.  As
    // it is now (start-up: the global locale, no exception) is how a new thread starts.
    // The locale's last: switches move them only once a thread sets one (tls_locale_in_use).
    const void* locale_word = find_locale_word(tp - libc_off, libc_len);
    const void* words[] = {s.eh, s.eh ? s.eh + sizeof(void*) : nullptr, locale_word,
                           __ctype_b_loc(), __ctype_tolower_loc(), __ctype_toupper_loc()};
    for (const void* w : words) {
        if (w == locale_word)
            n_base_own = n_all_own;
        if (w)
            tls_own[n_all_own++] = uint32_t(tp - static_cast<const char*>(w));
    }
    tls_h_errno = uint32_t(tp - reinterpret_cast<char*>(__h_errno_location()));
    if (!locale_word) {  // then every green thread gets a block of its own
        foreign.store(true, std::memory_order_relaxed);
        return;
    }
    tls_words_save(fresh_words, tp, n_all_own);  // what a new thread starts with
    tls_n_own = n_base_own;
    if (__rseq_size > 0)
        rseq_cpu_id = __rseq_offset + long(offsetof(struct rseq, cpu_id));
    use_wrfsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
    // Below the thread pointer, aligned down from top - tcb_size: room for every static block.
    area_size = (static_size + static_align + 15) & ~size_t(15);
}

size_t tls_area_size()
{
    return area_size && (for_all || needs_blocks()) && probe() ? area_size : 0;
}

void tls_blocks_for_all()
{
#if !defined(__SANITIZE_THREAD__)
    for_all = true;
#endif
}

void tls_move(char* tp, const char* os_tp)
{
    copy_spans(inherited, tp, os_tp);
    constexpr size_t kSelf = 16;  // header.self: THREAD_SELF
    memcpy(tp + kSelf, os_tp + kSelf, sizeof(void*));
    if (int* tid = tls_tid_word(tp))
        *tid = *tls_tid_word(const_cast<char*>(os_tp));
}

char* tls_create(char* top, char* os_tp, const char* inherit_from)
{
    char* tp = make_tls(top, os_tp);
    if (tp)
        copy_spans(inherited, tp, inherit_from ? inherit_from : tls_current());
    return tp;
}

void tls_destroy(char* tp) { deallocate_tls(tp, false); }

void tls_switch(char* from, char* to)
{
    copy_spans(carried, to, from);
    set_fs(to);
}

void tls_set_fs(char* tp) { set_fs(tp); }

void tls_swap_carried(char* a, char* b)
{
    char buf[512];
    for (int i = 0; i < carried.n; i++)
        for (uint32_t done = 0; done < carried.span[i].len; done += sizeof buf) {
            uint32_t n = carried.span[i].len - done < sizeof buf ? carried.span[i].len - done
                                                                   : uint32_t(sizeof buf);
            char* pa = a - carried.span[i].off + done;
            char* pb = b - carried.span[i].off + done;
            memcpy(buf, pa, n);
            memcpy(pa, pb, n);
            memcpy(pb, buf, n);
        }
}

int* tls_tid_word(char* tp)
{
    // glibc 2.36's struct pthread on x86_64 keeps tid at 0x2d0; checked against the caller's
    // own block and id rather than assumed, since a TCB of another layout must not be written.
    constexpr size_t kTidOffset = 0x2d0;
    static int ok = -1;
    if (ok < 0) {
        int tid = int(raw_syscall(SYS_gettid));
        ok = *reinterpret_cast<int*>(tls_current() + kTidOffset) == tid;
    }
    return ok ? reinterpret_cast<int*>(tp + kTidOffset) : nullptr;
}

void tls_thread_start() { ctype_init(); }

void tls_words_init(char* words) { memcpy(words, fresh_words, kTlsOwnBytes); }

void tls_words_attach(char* words, const char* tp) { tls_words_save(words, tp, n_all_own); }

void tls_locale_in_use()
{
    if (__atomic_load_n(&tls_n_own, __ATOMIC_RELAXED) != n_all_own)
        __atomic_store_n(&tls_n_own, n_all_own, __ATOMIC_RELAXED);
}


void tls_thread_exit() { call_tls_dtors(); }

void tls_after_fork(char* tp, char* os_tp) { copy_tcb(tp, os_tp, false); }

}  // namespace green
