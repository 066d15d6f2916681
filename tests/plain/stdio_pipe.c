/* stdio reading from a pipe while the writer is slow: fgets, getline, fgetc, fread and fscanf
 * get every byte, and the program's other threads keep running while the reader waits, also
 * while a line (or fread's block) arrives in pieces. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "plain.h"

static int p[2];
static atomic_int ticks, stop;

/* Waits until the ticker has ticked n times more than at base, or 10 s.  The writers below
 * wait so, instead of for a time, before the data a reader waits for: the ticker then
 * ticks while the reader waits however slow a loaded machine makes it, and a reader that
 * stopped every thread would stop the writers too (alarm ends the program). */
static void ticks_after(int base, int n)
{
    double end = now_seconds(CLOCK_MONOTONIC) + 10;
    while (atomic_load(&ticks) - base < n && now_seconds(CLOCK_MONOTONIC) < end)
        usleep(1000);
}

static void *slow_writer(void *arg)
{
    (void)arg;
    static const char *parts[] = {"line one\n", "line two\n", "x", "0123456789", "42 17\n"};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        usleep(30000);
        if (i == 0)
            ticks_after(0, 1);
        CHECK(write(p[1], parts[i], strlen(parts[i])) == (ssize_t)strlen(parts[i]));
    }
    close(p[1]);
    return NULL;
}

static void *ticker(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        usleep(2000);
        atomic_fetch_add(&ticks, 1);
    }
    return NULL;
}

static int q[2];
static atomic_int first_piece_sent;
static atomic_int reading = -1, ticks_then;  /* the unit the reader waits for; ticks then */

/* Each unit arrives in two pieces, the second 50 ms after the first, and once the ticker has
 * ticked 5 times since the reader began to wait for the unit. */
static void *piecewise_writer(void *arg)
{
    (void)arg;
    static const char *parts[] = {"piece one, ", "piece two\n", "get", "line\n",
                                  "0123", "456789", "tail"};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        if (i > 0)
            usleep(50000);
        if (i % 2 == 1) {
            while (atomic_load(&reading) < (int)i / 2)
                usleep(1000);
            ticks_after(atomic_load(&ticks_then), 5);
        }
        CHECK(write(q[1], parts[i], strlen(parts[i])) == (ssize_t)strlen(parts[i]));
        if (i == 0)
            atomic_store(&first_piece_sent, 1);
    }
    close(q[1]);
    return NULL;
}

/* Tells the writer that the reader now waits for unit u; the ticks then. */
static int announce(int u)
{
    int now = atomic_load(&ticks);
    atomic_store(&ticks_then, now);
    atomic_store(&reading, u);
    return now;
}

/* The reader already has the first piece of each unit, and needs the second: the other threads
 * run meanwhile. */
static void test_pieces(void)
{
    CHECK_EQ(pipe(q), 0);
    FILE *in = fdopen(q[0], "r");
    CHECK(in != NULL);
    pthread_t w;
    CHECK_EQ(pthread_create(&w, NULL, piecewise_writer, NULL), 0);
    while (!atomic_load(&first_piece_sent))
        usleep(1000);
    usleep(10000);
    char buf[64];
    int before = announce(0);
    CHECK(fgets(buf, sizeof buf, in) != NULL);
    CHECK(strcmp(buf, "piece one, piece two\n") == 0);
    CHECK(atomic_load(&ticks) - before >= 5);
    char *line = NULL;
    size_t cap = 0;
    announce(1);
    CHECK_EQ(getline(&line, &cap, in), 8);
    CHECK(strcmp(line, "getline\n") == 0);
    before = announce(2);
    CHECK_EQ(fread(buf, 1, 10, in), 10);
    CHECK(memcmp(buf, "0123456789", 10) == 0);
    CHECK(atomic_load(&ticks) - before >= 5);
    /* The last unit ends at EOF: fgets returns what came, getline then reports the end. */
    CHECK(fgets(buf, sizeof buf, in) != NULL);
    CHECK(strcmp(buf, "tail") == 0);
    CHECK_EQ(getline(&line, &cap, in), -1);
    CHECK(feof(in) && !ferror(in));
    CHECK_EQ(pthread_join(w, NULL), 0);
    free(line);
    fclose(in);
}

int main(void)
{
    alarm(20);
    CHECK_EQ(pipe(p), 0);
    FILE *in = fdopen(p[0], "r");
    CHECK(in != NULL);
    pthread_t w, t;
    CHECK_EQ(pthread_create(&t, NULL, ticker, NULL), 0);
    CHECK_EQ(pthread_create(&w, NULL, slow_writer, NULL), 0);

    char buf[64];
    CHECK(fgets(buf, sizeof buf, in) != NULL);
    CHECK(strcmp(buf, "line one\n") == 0);
    check_os_threads();
    int during_first = atomic_load(&ticks);
    CHECK(during_first > 0); /* the ticker ran while fgets waited */
    char *line = NULL;
    size_t cap = 0;
    CHECK_EQ(getline(&line, &cap, in), 9);
    CHECK(strcmp(line, "line two\n") == 0);
    CHECK_EQ(fgetc(in), 'x');
    CHECK_EQ(fread(buf, 1, 10, in), 10);
    CHECK(memcmp(buf, "0123456789", 10) == 0);
    int a = 0, b = 0;
    CHECK_EQ(fscanf(in, "%d %d", &a, &b), 2);
    CHECK_EQ(a, 42);
    CHECK_EQ(b, 17);
    CHECK_EQ(fgetc(in), '\n');
    CHECK_EQ(fgetc(in), EOF);
    CHECK(feof(in) && !ferror(in));
    test_pieces();
    atomic_store(&stop, 1);
    CHECK_EQ(pthread_join(w, NULL), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    free(line);
    fclose(in);
    return 0;
}
