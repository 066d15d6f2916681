/* popen() and pclose(): reading a command's output and writing its input, the statuses pclose
 * reports, the modes, the streams of other popen calls closed in each child (POSIX), and, while
 * a thread waits for the command's output, the process's other threads keep running. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "proc_util.h"

static atomic_int started, got_line, done;

/* The command writes its line after a second and exits a second later: the thread waits in
 * fgets, then in pclose. */
static void *read_slow_command(void *arg)
{
    (void)arg;
    FILE *fp = popen("sleep 1; echo hi; sleep 1", "r");
    CHECK(fp != NULL);
    atomic_store(&started, 1);
    char line[16];
    CHECK(fgets(line, sizeof line, fp) != NULL);
    atomic_store(&got_line, 1);
    CHECK(strcmp(line, "hi\n") == 0);
    CHECK_EQ(pclose(fp), 0);
    atomic_store(&done, 1);
    return NULL;
}

static void concurrent(void)
{
    struct roundtrip rt;
    roundtrip_start(&rt);
    double t0 = now_seconds(CLOCK_MONOTONIC);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, read_slow_command, NULL), 0);
    wait_flag(&started);
    sleep_ms(100);
    roundtrip_run(&rt, 200);
    check_os_threads();
    CHECK(!atomic_load(&got_line)); /* the round trips did not wait for the output */
    wait_flag(&got_line);
    sleep_ms(100);
    roundtrip_run(&rt, 200);
    check_os_threads();
    CHECK(!atomic_load(&done)); /* nor for the command's end */
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - t0 >= 1.9);
    roundtrip_stop(&rt);
}

static void statuses(void)
{
    FILE *fp = popen("exit 7", "r");
    CHECK(fp != NULL);
    int st = pclose(fp);
    CHECK_EXITED(st, 7);

    fp = popen("kill -TERM $$", "r");
    CHECK(fp != NULL);
    st = pclose(fp);
    CHECK_KILLED(st, SIGTERM);

    /* fclose of a popen'd stream waits for the command too, and says how it ended (glibc's
     * behaviour, which its headers warn about). */
    fp = popen("exit 5", "r");
    CHECK(fp != NULL);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-dealloc"
    st = fclose(fp);
#pragma GCC diagnostic pop
    CHECK_EXITED(st, 5);

    /* Output read to the end, several lines. */
    fp = popen("for i in 1 2 3; do echo line$i; done", "r");
    CHECK(fp != NULL);
    char line[32];
    for (int i = 1; i <= 3; i++) {
        char want[16];
        snprintf(want, sizeof want, "line%d\n", i);
        CHECK(fgets(line, sizeof line, fp) != NULL);
        CHECK(strcmp(line, want) == 0);
    }
    CHECK(fgets(line, sizeof line, fp) == NULL);
    CHECK_EQ(pclose(fp), 0);
}

static void write_mode(void)
{
    char path[] = P_tmpdir "/proc_popen.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cat > '%s'", path);
    FILE *fp = popen(cmd, "w");
    CHECK(fp != NULL);
    for (int i = 0; i < 1000; i++)
        CHECK(fprintf(fp, "row %d\n", i) > 0);
    CHECK_EQ(pclose(fp), 0);

    FILE *in = fopen(path, "r");
    CHECK(in != NULL);
    char line[32];
    for (int i = 0; i < 1000; i++) {
        char want[32];
        snprintf(want, sizeof want, "row %d\n", i);
        CHECK(fgets(line, sizeof line, in) != NULL);
        CHECK(strcmp(line, want) == 0);
    }
    CHECK(fgets(line, sizeof line, in) == NULL);
    fclose(in);
    unlink(path);
}

static void modes(void)
{
    errno = 0;
    CHECK(popen("true", "rw") == NULL);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(popen("true", "x") == NULL);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(popen("true", "") == NULL);
    CHECK_EQ(errno, EINVAL);

    FILE *plain = popen("true", "r");
    FILE *cloexec = popen("true", "re");
    CHECK(plain != NULL && cloexec != NULL);
    CHECK(!has_cloexec(fileno(plain)));
    CHECK(has_cloexec(fileno(cloexec)));
    CHECK(!has_nonblock(fileno(plain)));
    CHECK_EQ(pclose(plain), 0);
    CHECK_EQ(pclose(cloexec), 0);
}

/* The second command's shell must not hold the first one's pipe: if it did, cat would see no
 * end of file until "sleep 3" ended, and the first pclose would wait that long. */
static void others_closed(void)
{
    FILE *first = popen("cat >/dev/null", "w");
    CHECK(first != NULL);
    CHECK(fputs("data\n", first) >= 0);
    FILE *second = popen("sleep 3", "r");
    CHECK(second != NULL);
    double t0 = now_seconds(CLOCK_MONOTONIC);
    CHECK_EQ(pclose(first), 0);
    CHECK(now_seconds(CLOCK_MONOTONIC) - t0 < 2);
    CHECK_EQ(pclose(second), 0);
}

int main(void)
{
    concurrent();
    statuses();
    write_mode();
    modes();
    others_closed();
    return 0;
}
