// Start-up: configuration, the real-function table, and the main thread's hub.
//
// Runs as a constructor when the dynamic loader maps libgreen.so (LD_PRELOAD), before main.
// Until it has run every wrapper passes through, so libraries initialised earlier see plain
// glibc.  Only the OS thread that runs it becomes managed: OS threads that existed before, or
// that a library creates behind glibc's back, keep plain behaviour (see libgreen(7)).
#include "../hub/config.h"
#include "../hub/hub.h"
#include "../hub/log.h"
#include "real.h"
#include "shim.h"
#include "sync.h"

namespace {

__attribute__((constructor)) void libgreen_init()
{
    green::config_load();
    green::real_resolve();
    green::dns_setup();
    green::green_exit_hook = green::mutex_thread_exit;
    if (!green::hub_attach())
        GREEN_WARN("cannot set up the main thread's hub; running without green threads");
}

}  // namespace
