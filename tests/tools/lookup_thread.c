/* lookup_thread: looks each name up from a thread of its own, with the default thread attributes
 * (so, under libgreen, on a green thread's stack of GREEN_STACK_SIZE), and prints the results.
 *
 *   lookup_thread NAME...
 *
 * One line per name: getaddrinfo's IPv4 addresses in order, or its error code; then
 * gethostbyname_r's addresses, or its h_errno; then what res_nsearch returns for an A query on
 * a state of the thread's own (res_ninit), and its h_errno if it failed.  Run under glibc and under libgreen on the same
 * resolv.conf, the outputs must be the same (tests/dns/compare.sh).  Exit status 0 when every
 * thread ran.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static void *look_up(void *arg)
{
    const char *name = arg;
    char line[2048];
    size_t used = 0;
    used += (size_t)snprintf(line + used, sizeof line - used, "%s: getaddrinfo", name);
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    if (rc != 0) {
        used += (size_t)snprintf(line + used, sizeof line - used, " error %d", rc);
    } else {
        for (struct addrinfo *ai = res; ai && used < sizeof line - 32; ai = ai->ai_next) {
            char a[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, a, sizeof a);
            used += (size_t)snprintf(line + used, sizeof line - used, " %s", a);
        }
        freeaddrinfo(res);
    }
    struct hostent he, *hp = NULL;
    char buf[1024];
    int herr = 0;
    rc = gethostbyname_r(name, &he, buf, sizeof buf, &hp, &herr);
    used += (size_t)snprintf(line + used, sizeof line - used, "; gethostbyname_r %d", rc);
    if (hp) {
        for (char **p = hp->h_addr_list; *p && used < sizeof line - 32; p++) {
            char a[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, *p, a, sizeof a);
            used += (size_t)snprintf(line + used, sizeof line - used, " %s", a);
        }
    } else {
        used += (size_t)snprintf(line + used, sizeof line - used, " h_errno %d", herr);
    }
    /* The caller's own resolver state: glibc searches the whole list of resolv.conf while the
     * state's six domains are unchanged. */
    struct __res_state st;
    memset(&st, 0, sizeof st);
    unsigned char answer[512];
    if (res_ninit(&st) != 0) {
        used += (size_t)snprintf(line + used, sizeof line - used, "; res_ninit failed");
    } else {
        rc = res_nsearch(&st, name, ns_c_in, ns_t_a, answer, sizeof answer);
        used += (size_t)snprintf(line + used, sizeof line - used, "; res_nsearch %d", rc);
        if (rc < 0)
            used += (size_t)snprintf(line + used, sizeof line - used, " h_errno %d", st.res_h_errno);
        res_nclose(&st);
    }
    puts(line);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs("usage: lookup_thread NAME...\n", stderr);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, look_up, argv[i]) != 0 || pthread_join(t, NULL) != 0) {
            perror("lookup_thread: pthread");
            return 1;
        }
    }
    return 0;
}
