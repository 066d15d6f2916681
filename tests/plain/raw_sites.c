/* System call instructions of the program's own at many sites, with numbers set every way:
 * computed in a register (a function that takes the number), loaded from memory (RIP-relative),
 * constant; 512 sites of one number; 64 sites 5 bytes apart; sites first run by several threads at once.  Every call
 * gives the kernel's result (negative errors, errno untouched) at its first execution and at
 * later ones (under libgreen: the first traps, and rewrites the site), every register but %rax,
 * %rcx and %r11 as it was, the flags (carry and direction set) too, and the 128 bytes below the
 * stack pointer (the red zone) untouched; clone made through a site that ran other calls
 * before starts a child that returns from the same instruction. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plain.h"
#include "raw_contract.h"

/* rz_syscall(nr, a1, a2, a3): the number computed (moved from %rdi), the kept registers loaded
 * from rz_in[0..8], the red zone filled from rz_in[10..25], carry and direction set; after the
 * call everything is stored in rz_out: %rax, the flags, the kept registers and the argument
 * registers, the red zone. */
long rz_syscall(long nr, long a1, long a2, long a3);
long rz_in[26], rz_out[32];
__asm__(R"(
    .text
    .globl rz_syscall
    .type rz_syscall, @function
rz_syscall:
    .cfi_startproc
    push %rbx
    .cfi_adjust_cfa_offset 8
    push %rbp
    .cfi_adjust_cfa_offset 8
    push %r12
    .cfi_adjust_cfa_offset 8
    push %r13
    .cfi_adjust_cfa_offset 8
    push %r14
    .cfi_adjust_cfa_offset 8
    push %r15
    .cfi_adjust_cfa_offset 8
    lea rz_in(%rip), %r11
    .set i, 0
    .rept 16
    mov 80+8*i(%r11), %rax
    mov %rax, -8-8*i(%rsp)
    .set i, i+1
    .endr
    mov 0(%r11), %rbx
    mov 8(%r11), %rbp
    mov 16(%r11), %r12
    mov 24(%r11), %r13
    mov 32(%r11), %r14
    mov 40(%r11), %r15
    mov 48(%r11), %r8
    mov 56(%r11), %r9
    mov 64(%r11), %r10
    stc
    std
    mov %rdi, %rax
    mov %rsi, %rdi
    mov %rdx, %rsi
    mov %rcx, %rdx
    syscall
    lea rz_out(%rip), %r11
    mov %rax, 0(%r11)
    .set i, 0
    .rept 16
    mov -8-8*i(%rsp), %rax
    mov %rax, 128+8*i(%r11)
    .set i, i+1
    .endr
    pushfq
    pop %rax
    cld
    mov %rax, 8(%r11)
    mov %rbx, 16(%r11)
    mov %rbp, 24(%r11)
    mov %r12, 32(%r11)
    mov %r13, 40(%r11)
    mov %r14, 48(%r11)
    mov %r15, 56(%r11)
    mov %r8, 64(%r11)
    mov %r9, 72(%r11)
    mov %r10, 80(%r11)
    mov %rdi, 88(%r11)
    mov %rsi, 96(%r11)
    mov %rdx, 104(%r11)
    mov 0(%r11), %rax
    pop %r15
    .cfi_adjust_cfa_offset -8
    pop %r14
    .cfi_adjust_cfa_offset -8
    pop %r13
    .cfi_adjust_cfa_offset -8
    pop %r12
    .cfi_adjust_cfa_offset -8
    pop %rbp
    .cfi_adjust_cfa_offset -8
    pop %rbx
    .cfi_adjust_cfa_offset -8
    ret
    .cfi_endproc
    .size rz_syscall, .-rz_syscall
)");

/* back_to_back(nr): 64 sites one after another, 5 bytes apart (`mov %rdx, %rax; syscall`), as
 * gcc lays out inline system calls whose results go unused; the last result. */
long back_to_back(long nr);
__asm__(R"(
    .text
    .globl back_to_back
    .type back_to_back, @function
back_to_back:
    .cfi_startproc
    mov %rdi, %rdx
    .rept 64
    mov %rdx, %rax
    syscall
    .endr
    ret
    .cfi_endproc
    .size back_to_back, .-back_to_back
)");

static long rz_round;

/* One call through rz_syscall, everything checked; the result. */
static long rz(long nr, long a1, long a2, long a3)
{
    rz_round++;
    for (int k = 0; k < 26; k++)
        rz_in[k] = (long)(0x0101010101010101UL * (unsigned long)(k + 1)) ^ (rz_round << 8);
    long r = rz_syscall(nr, a1, a2, a3);
    CHECK_EQ(rz_out[0], r);
    CHECK((rz_out[1] & 1) != 0);            /* carry */
    CHECK((rz_out[1] & (1 << 10)) != 0);    /* direction */
    for (int k = 0; k < 6; k++)             /* rbx, rbp, r12 to r15 */
        CHECK_EQ(rz_out[2 + k], rz_in[k]);
    CHECK_EQ(rz_out[8], rz_in[6]);          /* r8 */
    CHECK_EQ(rz_out[9], rz_in[7]);          /* r9 */
    CHECK_EQ(rz_out[10], rz_in[8]);         /* r10 */
    CHECK_EQ(rz_out[11], a1);
    CHECK_EQ(rz_out[12], a2);
    CHECK_EQ(rz_out[13], a3);
    for (int k = 0; k < 16; k++)
        CHECK_EQ(rz_out[16 + k], rz_in[10 + k]);
    return r;
}

static void computed_in_register(void)
{
    raw_contract_rounds(rz);
    /* clone with SIGCHLD alone, as fork: the child returns from the same instruction. */
    fflush(stdout);
    long child = rz(SYS_clone, SIGCHLD, 0, 0);
    if (child == 0)
        _exit(7);
    CHECK(child > 0);
    int status;
    CHECK_EQ(waitpid((pid_t)child, &status, 0), child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7);
}

/* Sites whose number is loaded from memory, and sites with a constant one. */
static volatile long v_getppid = SYS_getppid;
#define LOADED                                                                              \
    do {                                                                                    \
        long r_ = v_getppid;                                                                \
        __asm__ volatile("syscall" : "+a"(r_) : : "rcx", "r11", "memory");                \
        bad += r_ != ppid;                                                                  \
    } while (0);
#define CONSTANT                                                                            \
    do {                                                                                    \
        long r_;                                                                            \
        __asm__ volatile("syscall" : "=a"(r_) : "0"((long)SYS_getpid) : "rcx", "r11", "memory"); \
        bad += r_ != pid;                                                                   \
    } while (0);
#define X8(s) s s s s s s s s
#define X64(s) X8(X8(s))

static __attribute__((noinline)) int loaded_sites(long ppid)
{
    int bad = 0;
    X64(LOADED)
    return bad;
}

static __attribute__((noinline)) int constant_sites(long pid)
{
    int bad = 0;
    X64(X8(CONSTANT))  /* 512 sites of one number */
    return bad;
}

/* The same, for threads that run them at once; their own sites, first run by the race. */
static __attribute__((noinline)) int race_sites(long pid, long ppid)
{
    int bad = 0;
    X8(LOADED CONSTANT LOADED CONSTANT)
    return bad;
}

enum { RACERS = 8, LAPS = 200 };
static atomic_int go, racers_ready;

static void *racer(void *arg)
{
    (void)arg;
    long pid = getpid(), ppid = getppid();
    atomic_fetch_add(&racers_ready, 1);
    while (!atomic_load(&go))
        sched_yield();
    int bad = 0;
    for (int lap = 0; lap < LAPS; lap++)
        bad += race_sites(pid, ppid);
    CHECK_EQ(bad, 0);
    return NULL;
}

int main(void)
{
    computed_in_register();
    for (int round = 0; round < 3; round++) {
        CHECK_EQ(back_to_back(SYS_getpid), getpid());
        CHECK_EQ(loaded_sites(getppid()), 0);
        CHECK_EQ(constant_sites(getpid()), 0);
    }
    pthread_t t[RACERS];
    for (int i = 0; i < RACERS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, racer, NULL), 0);
    while (atomic_load(&racers_ready) < RACERS)
        sleep_ms(1);
    atomic_store(&go, 1);
    for (int i = 0; i < RACERS; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    puts("raw_sites: ok");
    return 0;
}
