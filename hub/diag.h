// Diagnostics the user turns on: statistics at exit (GREEN_STATS), a watchdog for stalled hubs
// (GREEN_WATCHDOG), and a dump of every green thread on a signal (GREEN_DUMP_SIGNAL).  All of
// them print through the log (stderr or GREEN_LOG_FILE) with raw system calls.
#ifndef GREEN_DIAG_H
#define GREEN_DIAG_H

namespace green {

struct Hub;

// Once, at start-up, after config_load and the main thread's hub_attach: registers the exit
// report, installs the dump signal's handler and the watchdog's backtrace handler.  Returns
// true when the watchdog thread must be started; shim/ starts it (with the real
// pthread_create, which hub/ does not know) and names watchdog_main as its body.
bool diag_start();

// The watchdog: wakes every GREEN_WATCHDOG/4 and reports, once per stall, a hub that has not
// switched for longer than GREEN_WATCHDOG while it was not idle and had other green threads.
void* watchdog_main(void*);

// Prints every green thread of h, from h's loop context (the dump signal only asks for it).
void dump_hub(Hub* h);

// Prints the statistics of every hub of the process as one block.
void print_stats();

}  // namespace green

#endif
