// The end of the process: exit, and the return from main (through __libc_start_main).
//
// Only seeded mode acts here.  When main returns or a thread calls exit, real threads that are
// runnable at that moment may well run first (the exiting thread is not special to the kernel's
// scheduler), and their effects (output, a use of something main's exit handlers destroy) can
// show; green threads would never run there, since neither is a call that switches.  So in
// seeded mode each is a scheduling point (hub/chaos.h: seeded_point), and the seeded schedule
// decides whether others run first.  Elsewhere both pass straight through.
//
// The return from main reaches exit inside the C library, where no wrapper sees it: main itself
// is wrapped, by handing __libc_start_main (which the program's start code calls through its
// GOT) a main of our own.
#include "../hub/chaos.h"
#include "shim.h"

namespace {

int (*program_main)(int, char**, char**);

int seeded_main(int argc, char** argv, char** envp)
{
    int status = program_main(argc, argv, envp);
    green::seeded_point(nullptr);
    return status;
}

}  // namespace

GREEN_EXPORT void exit(int status)
{
    if (__builtin_expect(green::sched_seeded, 0))
        green::seeded_point(nullptr);
    REAL(exit)(status);
    __builtin_unreachable();
}

GREEN_EXPORT int __libc_start_main(int (*main)(int, char**, char**), int argc, char** argv,
                                   void (*init)(void), void (*fini)(void),
                                   void (*rtld_fini)(void), void* stack_end)
{
    // Our constructor has run (the dynamic loader runs preloaded libraries' constructors before
    // the program's start code): the configuration is known.
    if (__builtin_expect(green::sched_seeded, 0)) {
        program_main = main;
        main = seeded_main;
    }
    return REAL(__libc_start_main)(main, argc, argv, init, fini, rtld_fini, stack_end);
}
