// Thread-local storage of green threads.
//
// A green thread that needs it gets what glibc gives a new pthread: its own static TLS blocks
// (every module's __thread and thread_local data, errno, h_errno, the locale in use, the C++
// runtime's exception stack, C++ thread_local destructors) and its own DTV for modules loaded
// later.  They sit at the top of its stack under a copy of its OS thread's thread control block
// (glibc's struct pthread), the layout glibc uses for its own threads; the dynamic linker's
// _dl_allocate_tls fills them from the modules' TLS images.  A switch points the FS base at the
// next context's block: wrfsbase where the kernel allows it, arch_prctl elsewhere (valgrind).
//
// A green thread needs no block of its own when no module but the C library, the C++ runtime
// and libgreen has TLS: it shares its OS thread's, and the words of it that are each thread's
// own (h_errno, the C++ exception state, the locale) are saved and restored when another green
// thread sharing the block runs there (tls_words_*); errno every context saves anyway.  The root green thread uses the OS thread's
// block; the loop context runs on whichever block is in use.
//
// Some state must stay the OS thread's even in blocks of their own; see hub/tls.cpp for each
// and why.  When the C library is not one whose layout this was checked against (no
// _dl_allocate_tls, a thread control block of unexpected size), every green thread shares its
// OS thread's block, and a warning says so once.
#ifndef GREEN_TLS_H
#define GREEN_TLS_H

#include <cstddef>
#include <cstdint>

namespace green {

// The thread pointer (the FS base) of the running context.
inline char* tls_current()
{
    char* tp;
    __asm__("mov %%fs:0, %0" : "=r"(tp));
    return tp;
}

// At start-up, on the main thread, while every module's static block exists: learns the
// layout.  Once; hub_attach calls it too, for programs that use the hub without libgreen's
// start-up (the unit tests).
void tls_setup();

// Bytes a new green thread's TLS takes at the top of its stack, or 0 when it shares its OS
// thread's block (no module but the C and C++ runtimes and libgreen has TLS, or the layout is not
// the expected one).
size_t tls_area_size();

// Builds a green thread's TLS in [top - tls_area_size(), top) for an OS thread whose own
// thread pointer is os_tp.  Returns its thread pointer, or nullptr (no memory for its DTV).
// The words each green thread of an OS thread shares with it (libgreen's hub pointer, malloc's
// per-thread words) come from inherit_from: the block in use when the creator runs on that OS
// thread (nullptr), else that OS thread's own block (a thread placed on another worker).
char* tls_create(char* top, char* os_tp, const char* inherit_from = nullptr);

// With several workers a green thread may move to another worker's OS thread (hub/workers.h),
// and one that shares its OS thread's block cannot leave it: its frames hold addresses in that
// block (gcc keeps errno's address across calls).  From this call on, every new green thread
// gets a block of its own, unless blocks cannot be made (then threads that have run never move).
// Not in the ThreadSanitizer build, whose runtime's 768 KiB of TLS every block would carry.
void tls_blocks_for_all();

// A green thread whose block is at tp will run on the OS thread whose own block is os_tp: what
// it shares with its OS thread (libgreen's hub pointer, malloc's per-thread words, __resp) and
// the control block's words that name the OS thread (self: stdio lock owners; tid) become the
// new one's.  On the new OS thread, while the green thread does not run.
void tls_move(char* tp, const char* os_tp);

// Frees what tls_create allocated (the DTV, blocks of modules loaded later); the area itself is
// the stack's.  Not on the thread pointer in use.
void tls_destroy(char* tp);

// A green thread that shares its OS thread's block keeps here, while it does not run, the words
// of that block that are each thread's own (errno aside, which every context saves).
constexpr size_t kTlsOwnBytes = 64;

// Those words, a word at a time (inline, on every switch): h_errno's distance below the thread
// pointer, and the distances of the others, 8 bytes each.
extern uint32_t tls_h_errno;
constexpr int kTlsMaxOwn = int(kTlsOwnBytes / 8) - 1;
extern uint32_t tls_own[kTlsMaxOwn];
extern int tls_n_own;  // how many of them switches move now

// Some thread set a locale of its own (uselocale): from now on switches move the locale words
// too.  Their saved values are the global locale's until then, in every thread.
void tls_locale_in_use();

// A new thread's words.
void tls_words_init(char* words);

// An OS thread's words as they are when its hub is made (all of them, the locale's too).
void tls_words_attach(char* words, const char* tp);

// The running thread's words, saved from the block at tp (h_errno and the first n others);
// put back there.
inline void tls_words_save(char* words, const char* tp,
                           int n = __atomic_load_n(&tls_n_own, __ATOMIC_RELAXED))
{
    auto* slot = reinterpret_cast<uint64_t*>(words);
    slot[0] = *reinterpret_cast<const uint32_t*>(tp - tls_h_errno);
    for (int i = 0; i < n; i++)
        slot[i + 1] = *reinterpret_cast<const uint64_t*>(tp - tls_own[i]);
}
inline void tls_words_restore(const char* words, char* tp)
{
    auto* slot = reinterpret_cast<const uint64_t*>(words);
    *reinterpret_cast<uint32_t*>(tp - tls_h_errno) = uint32_t(slot[0]);
    int n = __atomic_load_n(&tls_n_own, __ATOMIC_RELAXED);
    for (int i = 0; i < n; i++)
        *reinterpret_cast<uint64_t*>(tp - tls_own[i]) = slot[i + 1];
}

// Carries the OS thread's state from the running context's block to next's and makes next's
// block the running one.
void tls_switch(char* from, char* to);

// Points the calling OS thread's FS base at tp, copying nothing (hand-off: hub/handoff.h).
void tls_set_fs(char* tp);

// Exchanges the carried spans (the sanitizer runtimes' per-thread state) of blocks a and b:
// when two OS threads exchange blocks, each keeps its own (hand-off).
void tls_swap_carried(char* a, char* b);

// Where the kernel thread id sits in the thread control block at tp (glibc's struct pthread
// tid), or nullptr when the calling thread's block does not show its id where expected.
int* tls_tid_word(char* tp);

// In a green thread with a block of its own, first thing: what glibc's start_thread does for
// a new thread's TLS (the ctype tables of the global locale).
void tls_thread_start();

// In a green thread with a block of its own, when it ends: its C++ thread_local destructors
// (__cxa_thread_atexit), before its pthread_key destructors, as glibc orders them.
void tls_thread_exit();

// In the child of fork, in the forking context: refresh its block's copy of the OS thread's
// control block, which glibc has just updated (thread id, robust list) in the original.
void tls_after_fork(char* tp, char* os_tp);

}  // namespace green

#endif
