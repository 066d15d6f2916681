#include "workers.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "chaos.h"
#include "config.h"
#include "log.h"
#include "signal.h"
#include "sys.h"
#include "tls.h"

namespace green {

bool multi_worker = false;
int n_workers = 1;
Hub* main_hub = nullptr;
void (*worker_thread_started)() = nullptr;

namespace {

constexpr int kMaxWorkers = 256;
Hub* workers[kMaxWorkers];
std::atomic<int> started_workers{0};
std::atomic<unsigned> next_place{0};
OsThreadCreate os_create;  // the real pthread_create
int wanted_workers = 1;
// A process runs one worker until it creates a thread, and so does a child of fork: then it
// starts the others (a program or child that only execs or exits never pays for them).
bool restart_pending = false;

// The CPUs a cgroup v2 quota allows ("QUOTA PERIOD" in cpu.max, rounded up), or 0 for none.
int cgroup_cpus()
{
    char line[512], path[600], max[64];
    if (!read_small_file("/proc/self/cgroup", line, sizeof line) || strncmp(line, "0::", 3) != 0)
        return 0;
    char* end = strchr(line, '\n');
    if (end)
        *end = 0;
    snprintf(path, sizeof path, "/sys/fs/cgroup%s/cpu.max", strcmp(line + 3, "/") ? line + 3 : "");
    if (!read_small_file(path, max, sizeof max))
        return 0;
    long long quota, period;
    if (sscanf(max, "%lld %lld", &quota, &period) != 2 || quota <= 0 || period <= 0)
        return 0;  // "max": no quota
    return int((quota + period - 1) / period);
}

int default_workers()
{
    cpu_set_t set;
    int n = 1;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
    int quota = cgroup_cpus();
    if (quota > 0 && quota < n)
        n = quota;
    return n < 1 ? 1 : n > kMaxWorkers ? kMaxWorkers : n;
}

void* worker_main(void* arg)
{
    int index = int(reinterpret_cast<intptr_t>(arg));
    if (!hub_attach())
        fatal("cannot set up worker %d's hub", index);
    if (worker_thread_started)
        worker_thread_started();
    Hub* h = hub_self();
    h->worker = index;
    // After a fork a worker may be the child's main hub: its root stays libgreen's.
    h->worker_only = true;
    live_greens.fetch_sub(1);  // its root is libgreen's, not a thread of the program
    hub_ensure_loop(h);
    sigmask_worker(h);
    workers[index] = h;
    started_workers.fetch_add(1, std::memory_order_release);
    raw_syscall(SYS_futex, long(&started_workers), FUTEX_WAKE_PRIVATE, INT_MAX);
    // The root sleeps for good; the hub's loop runs the green threads placed here.
    for (;;)
        park(kWaitOther);
}

}  // namespace

int workers_wanted() { return config.workers > 0 ? config.workers : default_workers(); }

namespace {

void remember(int n, OsThreadCreate create)
{
    main_hub = hub_self();
    workers[0] = main_hub;
    os_create = create;
    wanted_workers = n;
}

}  // namespace

void workers_init(int n, OsThreadCreate create)
{
    remember(n, create);
    restart_pending = n > 1 && !sched_seeded;
}

int workers_start(int n, OsThreadCreate create)
{
    remember(n, create);
    if (n <= 1 || sched_seeded)
        return 1;
    started_workers.store(0);
    // Set before any other hub exists: from now on the paths shared by hubs take their locks.
    multi_worker = true;
    // Every signal blocked while it starts (glibc's own two stay open: setxid needs them; and
    // SIGSYS while syscall user dispatch is on: hub/signal.h).
    uint64_t all = ~((uint64_t(1) << (32 - 1)) | (uint64_t(1) << (33 - 1))) & ~sigmask_kept_open;
    uint64_t old = 0;
    raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, long(&all), long(&old), sizeof all);
    int made = 1;
    for (int i = 1; i < n; i++) {
        pthread_t t;
        if (create(&t, nullptr, worker_main, reinterpret_cast<void*>(intptr_t(i))) != 0) {
            GREEN_WARN("cannot start worker %d: running %d workers", i, made);
            break;
        }
        pthread_detach(t);
        made++;
    }
    raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, long(&old), 0, sizeof old);
    for (int seen; (seen = started_workers.load(std::memory_order_acquire)) < made - 1;)
        raw_syscall(SYS_futex, long(&started_workers), FUTEX_WAIT_PRIVATE, seen, 0);
    n_workers = made;
    if (made == 1)
        multi_worker = false;
    else
        tls_blocks_for_all();  // green threads may move between workers from now on
    if (hub_self() == main_hub && main_hub->root->id == 1) {  // start-up, not a fork's child
        for (int i = 1; i < made; i++)
            workers[i]->root->id = 0;
        green_ids_restart(2);
    }
    return made;
}

Hub* place_new_thread(Hub* self)
{
    if (__builtin_expect(restart_pending, 0)) {
        restart_pending = false;
        workers_start(wanted_workers, os_create);
    }
    if (!multi_worker || sched_seeded)
        return self;
    return workers[next_place.fetch_add(1, std::memory_order_relaxed) % unsigned(n_workers)];
}

void workers_after_fork_child(Hub* h)
{
    restart_pending = restart_pending || multi_worker;
    multi_worker = false;
    n_workers = 1;
    main_hub = h;
    workers[0] = h;
}

Hub* worker_hub(int i) { return i >= 0 && i < n_workers ? workers[i] : nullptr; }

}  // namespace green
