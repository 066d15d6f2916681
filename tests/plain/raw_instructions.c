/* System calls made with the `syscall` instruction itself (inline assembly, as liburing's and
 * libaio's own stubs make them), not through the C library: 100 threads sleeping 1 s in
 * nanosleep and 100 reading pipes another process fills after 1 s all finish together (in at
 * most 1.5 s, raw_util.h), a futex wait made that way is woken by a wake made through syscall()
 * and the other way round, and every call keeps the kernel's contract: the result in %rax,
 * errors as negative numbers (errno untouched), every other register but %rcx and %r11 as it
 * was, vector registers included, at a site's first execution and at later ones; gettid made
 * that way is the thread's id as gettid() gives it, twice in a row (at the trap, then at the
 * rewritten site), and a raw tgkill with that id finds the thread (signal 0) and refuses a
 * signal that does not exist. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "plain.h"
#include "raw_contract.h"
#include "raw_util.h"

/* One site for every thread: it is executed by many at once. */
static __attribute__((noinline)) long raw(long nr, long a1, long a2, long a3, long a4, long a5)
{
    long ret;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    return ret;
}

static long raw4(long nr, long a1, long a2, long a3)
{
    return raw(nr, a1, a2, a3, 0, 0);
}

/* A system call with every register the contract keeps set to a known value, checked after. */
static long contract_call(long nr, long a1, long a2, long a3)
{
    register long rdi __asm__("rdi") = a1;
    register long rsi __asm__("rsi") = a2;
    register long rdx __asm__("rdx") = a3;
    register long r10 __asm__("r10") = 0x1010101010L;
    register long r8 __asm__("r8") = 0x0808080808L;
    register long r9 __asm__("r9") = 0x0909090909L;
    register long rbx __asm__("rbx") = 0x0b0b0b0b0bL;
    register long r12 __asm__("r12") = 0x1212121212L;
    register long r13 __asm__("r13") = 0x1313131313L;
    register long r14 __asm__("r14") = 0x1414141414L;
    register long r15 __asm__("r15") = 0x1515151515L;
    register double x0 __asm__("xmm0") = 1.5;
    register double x7 __asm__("xmm7") = -7.25;
    register double x15 __asm__("xmm15") = 15.125;
    long ret = nr;
    __asm__ volatile("syscall"
                     : "+a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "+r"(r8), "+r"(r9),
                       "+r"(rbx), "+r"(r12), "+r"(r13), "+r"(r14), "+r"(r15), "+x"(x0), "+x"(x7),
                       "+x"(x15)
                     :
                     : "rcx", "r11", "memory");
    CHECK_EQ(rdi, a1);
    CHECK_EQ(rsi, a2);
    CHECK_EQ(rdx, a3);
    CHECK_EQ(r10, 0x1010101010L);
    CHECK_EQ(r8, 0x0808080808L);
    CHECK_EQ(r9, 0x0909090909L);
    CHECK_EQ(rbx, 0x0b0b0b0b0bL);
    CHECK_EQ(r12, 0x1212121212L);
    CHECK_EQ(r13, 0x1313131313L);
    CHECK_EQ(r14, 0x1414141414L);
    CHECK_EQ(r15, 0x1515151515L);
    CHECK(x0 == 1.5 && x7 == -7.25 && x15 == 15.125);
    return ret;
}

/* Futexes: waits and wakes made either way meet. */
static uint32_t word;
static atomic_int waiting;

static void *raw_waiter(void *arg)
{
    (void)arg;
    atomic_store(&waiting, 1);
    while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) == 0)
        raw(SYS_futex, (long)&word, FUTEX_WAIT_PRIVATE, 0, 0, 0);
    return NULL;
}

static void *libc_waiter(void *arg)
{
    (void)arg;
    atomic_store(&waiting, 1);
    while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) == 0)
        syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    return NULL;
}

static void futexes_meet(void *(*waiter)(void *), int raw_wake)
{
    word = 0;
    atomic_store(&waiting, 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, waiter, NULL), 0);
    wait_flag(&waiting);
    sleep_ms(50);  /* in its wait by now */
    __atomic_store_n(&word, 1, __ATOMIC_RELEASE);
    long woken = raw_wake ? raw(SYS_futex, (long)&word, FUTEX_WAKE_PRIVATE, 1, 0, 0)
                          : syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    CHECK(woken == 0 || woken == 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
}

static void *raw_ids(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2; i++)
        CHECK_EQ(raw(SYS_gettid, 0, 0, 0, 0, 0), gettid());
    CHECK_EQ(raw(SYS_tgkill, getpid(), gettid(), 0, 0, 0), 0);
    CHECK_EQ(raw(SYS_tgkill, getpid(), gettid(), 65, 0, 0), -EINVAL);
    return NULL;
}

int main(void)
{
    raw_ids(NULL);
    CHECK_EQ(in_thread(raw_ids, NULL), 0);
    raw_contract_rounds(contract_call);
    futexes_meet(raw_waiter, 0);
    futexes_meet(libc_waiter, 1);
    futexes_meet(raw_waiter, 1);
    raw_sleep_and_read_together(raw4);
    puts("raw_instructions: ok");
    return 0;
}
