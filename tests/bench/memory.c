/* Memory of many parked threads, as a plain program.
 *
 *   memory N     starts N threads that each sleep 3 s, and while they all sleep prints
 *                "rss_kib_per_thread <v> memavail_kib_per_thread <v> os_threads <n>"
 *
 * RSS is this process's VmRSS growth over the start; MemAvailable is the system's drop, which
 * also counts what the kernel spends (kernel stacks, page tables).  Default attributes: glibc's
 * default stack size for both kinds of thread. */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long field_kib(const char *path, const char *name)
{
    FILE *f = fopen(path, "r");
    char line[256];
    long v = -1;
    size_t n = strlen(name);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, name, n) == 0)
            v = atol(line + n);
    if (f)
        fclose(f);
    return v;
}

static int os_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void *sleeper(void *arg)
{
    (void)arg;
    sleep(3);
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    pthread_t *t = calloc(n, sizeof *t);
    long rss0 = field_kib("/proc/self/status", "VmRSS:");
    long avail0 = field_kib("/proc/meminfo", "MemAvailable:");
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, sleeper, NULL) != 0) {
            fprintf(stderr, "pthread_create failed at %d\n", i);
            return 1;
        }
    usleep(1000000);
    long rss1 = field_kib("/proc/self/status", "VmRSS:");
    long avail1 = field_kib("/proc/meminfo", "MemAvailable:");
    int threads = os_threads();
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    printf("rss_kib_per_thread %.2f memavail_kib_per_thread %.2f os_threads %d\n",
           (double)(rss1 - rss0) / n, (double)(avail0 - avail1) / n, threads);
    return 0;
}
