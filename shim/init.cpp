// Start-up: configuration, the real-function table, and the main thread's hub.
//
// Runs as a constructor when the dynamic loader maps libgreen.so (LD_PRELOAD), before main.
// Until it has run every wrapper passes through, so libraries initialised earlier see plain
// glibc.  Only the OS thread that runs it becomes managed: OS threads that existed before, or
// that a library creates behind glibc's back, keep plain behaviour (see libgreen(7)).
#include <signal.h>

#include <cstring>

#include "../hub/config.h"
#include "../hub/diag.h"
#include "../hub/hub.h"
#include "../hub/log.h"
#include "../hub/preempt.h"
#include "../hub/tls.h"
#include "../hub/handoff.h"
#include "../hub/workers.h"
#include "real.h"
#include "shim.h"
#include "sync.h"

namespace {

// The watchdog is an OS thread of libgreen's own: created with the real pthread_create, so
// that it never becomes green, and with every signal blocked, so that the program's signals
// are never handled on it.
void start_watchdog()
{
    sigset_t all, old;
    sigfillset(&all);
    // SIGSYS stays open: with syscall user dispatch on, a system call outside the C library
    // (the ASan runtime's pthread_create makes some) traps, and kills if it is blocked.
    sigdelset(&all, SIGSYS);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    int err = REAL(pthread_create)(&t, nullptr, green::watchdog_main, nullptr);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (err != 0)
        GREEN_WARN("cannot start the watchdog thread: %s", strerror(err));
    else
        REAL(pthread_detach)(t);
}

__attribute__((constructor)) void libgreen_init()
{
    green::config_load();
    green::real_resolve();
    green::tls_setup();
    green::dns_setup();
    green::green_exit_hook = green::mutex_thread_exit;
    green::preempt_forward = green::program_signal;
    green::preempt_setup();  // before the first hub: its mask must leave SIGURG open
    if (!green::hub_attach()) {
        GREEN_WARN("cannot set up the main thread's hub; running without green threads");
        return;
    }
    // Before the workers start: each turns dispatch on for its own OS thread.
    green::rawsys_start();
    green::stdio_setup();
    pthread_atfork(nullptr, nullptr, green::rawsys_after_fork);
    // Before the watchdog: it leaves the descriptor table, which the workers must share.
    green::workers_init(green::workers_wanted(), REAL(pthread_create));
    green::handoff_init(REAL(pthread_create));
    if (green::diag_start()) {
        start_watchdog();
        // A child of fork has no watchdog thread (only the forking thread is copied): it
        // gets one of its own.
        pthread_atfork(nullptr, nullptr, start_watchdog);
    }
}

}  // namespace
