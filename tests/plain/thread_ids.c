/* Thread ids: gettid and syscall(SYS_gettid) agree, main's is the process id, live threads have
 * distinct ids that stay theirs; the calls that take a thread id act on that thread (tgkill,
 * tkill, affinity, scheduling policy and parameters, nice value, its CPU-time clock) and fail
 * once it has exited (ESRCH, or EINVAL for the clock). */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "plain.h"

/* A thread that records its id, stays alive until released, and then reports what it sees of
 * itself through id 0. */
struct member {
    pthread_t t;
    atomic_int tid;
    atomic_int release;
    int self_cpus;       /* CPUs in sched_getaffinity(0) after release */
    int self_policy;     /* sched_getscheduler(0) after release */
    int self_nice;       /* getpriority(PRIO_PROCESS, 0) after release */
};

static void *member_body(void *arg)
{
    struct member *m = arg;
    pid_t id = gettid();
    CHECK(id > 0);
    CHECK_EQ(syscall(SYS_gettid), id);
    atomic_store(&m->tid, id);
    wait_flag(&m->release);
    CHECK_EQ(gettid(), id);  /* its own, however it was scheduled meanwhile */
    cpu_set_t set;
    CHECK_EQ(sched_getaffinity(0, sizeof set, &set), 0);
    m->self_cpus = CPU_COUNT(&set);
    m->self_policy = sched_getscheduler(0);
    errno = 0;
    m->self_nice = getpriority(PRIO_PROCESS, 0);
    CHECK_EQ(errno, 0);
    return NULL;
}

static pid_t member_start(struct member *m)
{
    atomic_store(&m->tid, 0);
    atomic_store(&m->release, 0);
    CHECK_EQ(pthread_create(&m->t, NULL, member_body, m), 0);
    for (int i = 0; atomic_load(&m->tid) == 0; i++) {
        CHECK(i < 10000);
        sleep_ms(1);
    }
    return atomic_load(&m->tid);
}

static void member_finish(struct member *m)
{
    atomic_store(&m->release, 1);
    CHECK_EQ(pthread_join(m->t, NULL), 0);
}

/* A thread's id names nothing once it has exited: the kernel lets go of it soon after join
 * returns (the task is reaped just after it clears the id join waits on), so wait a little. */
static void check_gone(pid_t tid, clockid_t clock)
{
    struct timespec ts;
    cpu_set_t set;
    int i = 0;
    while (syscall(SYS_tgkill, getpid(), tid, 0) == 0 || clock_gettime(clock, &ts) == 0) {
        CHECK(i++ < 1000);
        sleep_ms(1);
    }
    errno = 0;
    CHECK_EQ(syscall(SYS_tgkill, getpid(), tid, 0), -1);
    CHECK_EQ(errno, ESRCH);
    CHECK_EQ(tgkill(getpid(), tid, 0), -1);
    CHECK_EQ(errno, ESRCH);
    CHECK_EQ(clock_gettime(clock, &ts), -1);
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(sched_getaffinity(tid, sizeof set, &set), -1);
    CHECK_EQ(errno, ESRCH);
    CHECK_EQ(sched_getscheduler(tid), -1);
    CHECK_EQ(errno, ESRCH);
    CHECK_EQ(getpriority(PRIO_PROCESS, (id_t)tid), -1);
    CHECK_EQ(errno, ESRCH);
}

/* ------------------------------------------------------------------------------------------ */
/* Main's id is the process id; live threads' ids differ from it and from each other. */
#define MEMBERS 8

static void test_distinct(void)
{
    CHECK_EQ(gettid(), getpid());
    CHECK_EQ(syscall(SYS_gettid), getpid());
    static struct member m[MEMBERS];
    pid_t ids[MEMBERS];
    clockid_t clocks[MEMBERS];
    for (int i = 0; i < MEMBERS; i++) {
        ids[i] = member_start(&m[i]);
        CHECK(ids[i] != getpid());
        for (int j = 0; j < i; j++)
            CHECK(ids[i] != ids[j]);
        CHECK_EQ(pthread_getcpuclockid(m[i].t, &clocks[i]), 0);
    }
    check_os_threads();
    for (int i = 0; i < MEMBERS; i++) {
        struct timespec ts;
        CHECK_EQ(clock_gettime(clocks[i], &ts), 0);
        CHECK_EQ(clock_getres(clocks[i], &ts), 0);
        CHECK_EQ(tgkill(getpid(), ids[i], 0), 0);
        CHECK_EQ(syscall(SYS_tkill, ids[i], 0), 0);
    }
    for (int i = 0; i < MEMBERS; i++)
        member_finish(&m[i]);
    check_gone(ids[0], clocks[0]);
    CHECK_EQ(gettid(), getpid());
}

/* ------------------------------------------------------------------------------------------ */
/* A signal sent to a thread by its id interrupts the read it is blocked in (no SA_RESTART):
 * tgkill first, then tkill through syscall(). */
static atomic_int usr1_count, reader_ready, reader_result, reader_errno;
static int sig_pipe[2];

static void on_usr1(int sig)
{
    (void)sig;
    atomic_fetch_add(&usr1_count, 1);
}

static void *reader_body(void *arg)
{
    atomic_int *tid = arg;
    atomic_store(tid, gettid());
    char c;
    atomic_store(&reader_ready, 1);
    ssize_t n = read(sig_pipe[0], &c, 1);
    atomic_store(&reader_errno, n < 0 ? errno : 0);
    atomic_store(&reader_result, n < 0 ? -1 : 1);
    return NULL;
}

static void interrupt_by_id(int use_tkill)
{
    atomic_int tid = 0;
    atomic_store(&reader_ready, 0);
    atomic_store(&reader_result, 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, reader_body, &tid), 0);
    wait_flag(&reader_ready);
    /* It may not be in read yet when a signal comes: send until the read gives up. */
    for (int i = 0; atomic_load(&reader_result) == 0; i++) {
        CHECK(i < 2000);
        sleep_ms(5);
        long r = use_tkill ? syscall(SYS_tkill, atomic_load(&tid), SIGUSR1)
                           : tgkill(getpid(), atomic_load(&tid), SIGUSR1);
        /* ESRCH only once it has given up and exited. */
        CHECK(r == 0 || (errno == ESRCH && atomic_load(&reader_result) != 0));
    }
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(atomic_load(&reader_result), -1);
    CHECK_EQ(atomic_load(&reader_errno), EINTR);
    CHECK(atomic_load(&usr1_count) > 0);
}

static void test_signal_by_id(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
    CHECK_EQ(pipe(sig_pipe), 0);
    interrupt_by_id(0);
    interrupt_by_id(1);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    errno = 0;
    CHECK_EQ(tgkill(getpid(), gettid(), 65), -1);  /* no such signal */
    CHECK_EQ(errno, EINVAL);
}

/* ------------------------------------------------------------------------------------------ */
/* Affinity, scheduling policy and nice value set by id are that thread's (also as it sees
 * itself, and through pthread_getaffinity_np), and leave main's as they were. */
static void test_attributes_by_id(void)
{
    static struct member m;
    pid_t tid = member_start(&m);
    cpu_set_t all, set;
    CHECK_EQ(sched_getaffinity(0, sizeof all, &all), 0);
    CHECK_EQ(sched_getaffinity(tid, sizeof set, &set), 0);
    CHECK(CPU_COUNT(&set) > 0);
    int cpu = 0;
    while (!CPU_ISSET(cpu, &set))
        cpu++;
    CPU_ZERO(&set);
    CHECK_EQ(sched_setaffinity(tid, sizeof set, &set), -1);  /* no CPU */
    CHECK_EQ(errno, EINVAL);
    CPU_SET(cpu, &set);
    CHECK_EQ(sched_setaffinity(tid, sizeof set, &set), 0);
    cpu_set_t got;
    CHECK_EQ(sched_getaffinity(tid, sizeof got, &got), 0);
    CHECK(CPU_EQUAL(&got, &set));
    CHECK_EQ(pthread_getaffinity_np(m.t, sizeof got, &got), 0);
    CHECK(CPU_EQUAL(&got, &set));
    /* The system call reports how many bytes of mask it wrote. */
    long bytes = syscall(SYS_sched_getaffinity, tid, sizeof got, &got);
    CHECK(bytes > 0 && bytes <= (long)sizeof got);
    CHECK(CPU_EQUAL(&got, &set));
    CHECK_EQ(sched_getaffinity(0, sizeof got, &got), 0);
    CHECK(CPU_EQUAL(&got, &all));

    struct sched_param sp = {.sched_priority = 0};
    CHECK_EQ(sched_getscheduler(tid), SCHED_OTHER);
    CHECK_EQ(sched_setscheduler(tid, SCHED_BATCH, &sp), 0);
    CHECK_EQ(sched_getscheduler(tid), SCHED_BATCH);
    CHECK_EQ(syscall(SYS_sched_getscheduler, tid), SCHED_BATCH);
    sp.sched_priority = 1;
    CHECK_EQ(sched_setparam(tid, &sp), -1);  /* SCHED_BATCH has priority 0 only */
    CHECK_EQ(errno, EINVAL);
    sp.sched_priority = -1;
    CHECK_EQ(sched_getparam(tid, &sp), 0);
    CHECK_EQ(sp.sched_priority, 0);
    CHECK_EQ(sched_setparam(tid, &sp), 0);
    CHECK_EQ(sched_getscheduler(0), SCHED_OTHER);

    errno = 0;
    int nice0 = getpriority(PRIO_PROCESS, 0);
    CHECK_EQ(errno, 0);
    int nice1 = nice0 < 19 ? nice0 + 1 : nice0;  /* raising it is always allowed */
    CHECK_EQ(setpriority(PRIO_PROCESS, (id_t)tid, nice1), 0);
    errno = 0;
    CHECK_EQ(getpriority(PRIO_PROCESS, (id_t)tid), nice1);
    CHECK_EQ(errno, 0);
    CHECK_EQ(syscall(SYS_getpriority, PRIO_PROCESS, tid), 20 - nice1);  /* the kernel's form */
    CHECK_EQ(getpriority(PRIO_PROCESS, 0), nice0);

    member_finish(&m);
    CHECK_EQ(m.self_cpus, 1);
    CHECK_EQ(m.self_policy, SCHED_BATCH);
    CHECK_EQ(m.self_nice, nice1);
}

int main(void)
{
    test_distinct();
    test_signal_by_id();
    test_attributes_by_id();
    puts("thread_ids: ok");
    return 0;
}
