/* stdio reading from a pipe while the writer is slow: fgets, getline, fgetc, fread and fscanf
 * get every byte, and the program's other threads keep running while the reader waits. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "plain.h"

static int p[2];
static atomic_int ticks, stop;

static void *slow_writer(void *arg)
{
    (void)arg;
    static const char *parts[] = {"line one\n", "line two\n", "x", "0123456789", "42 17\n"};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        usleep(30000);
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
    atomic_store(&stop, 1);
    CHECK_EQ(pthread_join(w, NULL), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    free(line);
    fclose(in);
    return 0;
}
