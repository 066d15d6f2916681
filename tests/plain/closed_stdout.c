/* A program that closed its standard output gets EBADF when it writes there, also after its
 * threads have blocked (under libgreen: after its hub has made the descriptors of its event
 * loop, which must not take the number the program freed). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "plain.h"

static void *sleeper(void *arg)
{
    (void)arg;
    sleep_ms(20);
    return NULL;
}

int main(void)
{
    CHECK_EQ(close(1), 0);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, sleeper, NULL), 0);
    sleep_ms(5);
    check_os_threads();
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    errno = 0;
    CHECK_EQ(write(1, "x", 1), -1);
    CHECK_EQ(errno, EBADF);
    CHECK_EQ(fcntl(1, F_GETFD), -1);
    CHECK_EQ(errno, EBADF);
    return 0;
}
