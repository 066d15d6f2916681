/* A library with a system call stub of its own, as liburing and libaio have: the test program
 * raw_dlopen loads it with dlopen after its threads run, and blocks in it. */
long rawstub_call(long nr, long a1, long a2, long a3)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), "d"(a3)
                     : "rcx", "r11", "memory");
    return ret;
}
