// Thread-local storage of green threads.
//
// A green thread gets what glibc gives a new pthread: its own static TLS blocks (every module's
// __thread and thread_local data, errno, h_errno, the locale in use, the C++ runtime's
// exception stack, C++ thread_local destructors) and its own DTV for modules loaded later.  They
// sit at the top of its stack under a copy of its OS thread's thread control block (glibc's
// struct pthread), the layout glibc uses for its own threads; the dynamic linker's
// _dl_allocate_tls fills them from the modules' TLS images.  A switch points the FS base at the
// next context's block: wrfsbase where the kernel allows it, arch_prctl elsewhere (valgrind).
//
// Some state must stay the OS thread's, shared by all its green threads as before; see
// hub/tls.cpp for each and why.  The root green thread and the loop context use the OS thread's
// own block.
//
// When the C library is not one whose layout this was checked against (no _dl_allocate_tls, a
// thread control block of unexpected size), every green thread shares its OS thread's block,
// and a warning says so once.
#ifndef GREEN_TLS_H
#define GREEN_TLS_H

#include <cstddef>

namespace green {

// The thread pointer (the FS base) of the running context.
inline char* tls_current()
{
    char* tp;
    __asm__("mov %%fs:0, %0" : "=r"(tp));
    return tp;
}

// At start-up, on the main thread, while every module's static block exists: learns the
// layout.
void tls_setup();

// Bytes a green thread's TLS takes at the top of its stack, or 0 when green threads share
// their OS thread's block.
size_t tls_area_size();

// Builds a green thread's TLS in [top - tls_area_size(), top) for an OS thread whose own
// thread pointer is os_tp.  Returns its thread pointer, or nullptr (no memory for its DTV).
char* tls_create(char* top, char* os_tp);

// Frees what tls_create allocated (the DTV, blocks of modules loaded later); the area itself is
// the stack's.  Not on the thread pointer in use.
void tls_destroy(char* tp);

// Carries the OS thread's state from the running context's block to next's and makes next's
// block the running one.
void tls_switch(char* from, char* to);

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
