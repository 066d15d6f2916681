/* hosts_edit: edits /etc/hosts between look-ups, in one process, and checks that every look-up
 * sees the file as it is at that moment, as glibc (which reads it on every call) does.
 *
 *   hosts_edit      (in a mount namespace where /etc/hosts is a writable test file)
 *
 * The file is rewritten in place (truncated and written: a bind-mounted file cannot be
 * replaced by a rename): an edit of the same size right after a look-up answered from a copy
 * of the file, a second one at once (same second, same size), a longer file, a shorter one, a
 * case change, an empty file; look-ups from the main thread and from a new thread.  Before the
 * first look-up it waits until the file is two seconds old, so that a copy of it can be
 * trusted without re-reading.  Prints each answer; exit status 0 when each was the expected
 * one, 1 otherwise, 2 when /etc/hosts cannot be written.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void put(const char *content)
{
    int fd = open("/etc/hosts", O_WRONLY | O_TRUNC);
    size_t n = strlen(content);
    if (fd < 0 || write(fd, content, n) != (ssize_t)n || close(fd) != 0) {
        perror("hosts_edit: /etc/hosts");
        exit(2);
    }
}

/* The first IPv4 address getaddrinfo gives for name, or "none". */
static void gai_addr(const char *name, char *out, size_t len)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(out, len, "none");
    if (getaddrinfo(name, NULL, &hints, &res) == 0) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, out, len);
        freeaddrinfo(res);
    }
}

/* gethostbyaddr_r's name for addr, or "none". */
static void addr_name(const char *addr, char *out, size_t len)
{
    struct in_addr a;
    struct hostent he, *r = NULL;
    char buf[1024];
    int herr;
    inet_pton(AF_INET, addr, &a);
    snprintf(out, len, "none");
    if (gethostbyaddr_r(&a, sizeof a, AF_INET, &he, buf, sizeof buf, &r, &herr) == 0 && r)
        snprintf(out, len, "%s", r->h_name);
}

struct job {
    const char *name;
    char answer[64];
};

static void *in_thread(void *arg)
{
    struct job *j = arg;
    gai_addr(j->name, j->answer, sizeof j->answer);
    return NULL;
}

static void expect(const char *step, const char *name, const char *want)
{
    char got[64];
    gai_addr(name, got, sizeof got);
    struct hostent *h = gethostbyname(name);
    char ghbn[64] = "none";
    if (h && h->h_addr_list[0])
        inet_ntop(AF_INET, h->h_addr_list[0], ghbn, sizeof ghbn);
    struct job j = {name, ""};
    pthread_t t;
    if (pthread_create(&t, NULL, in_thread, &j) != 0 || pthread_join(t, NULL) != 0)
        snprintf(j.answer, sizeof j.answer, "no-thread");
    int ok = strcmp(got, want) == 0 && strcmp(ghbn, want) == 0 && strcmp(j.answer, want) == 0;
    printf("%s: %s getaddrinfo %s gethostbyname %s thread %s (want %s)%s\n", step, name, got,
           ghbn, j.answer, want, ok ? "" : " WRONG");
    failures += !ok;
}

static void expect_name(const char *step, const char *addr, const char *want)
{
    char got[64];
    addr_name(addr, got, sizeof got);
    int ok = strcmp(got, want) == 0;
    printf("%s: %s gethostbyaddr_r %s (want %s)%s\n", step, addr, got, want, ok ? "" : " WRONG");
    failures += !ok;
}

int main(void)
{
    put("127.0.0.1\tlocalhost\n10.88.0.1\tedit-a\n");
    /* Two seconds old: a copy read now may be trusted until the file changes. */
    sleep(2);
    expect("start", "edit-a", "10.88.0.1");
    expect("start again", "edit-a", "10.88.0.1");
    expect_name("start", "10.88.0.1", "edit-a");

    put("127.0.0.1\tlocalhost\n10.88.0.2\tedit-a\n"); /* same size */
    expect("same size", "edit-a", "10.88.0.2");
    expect_name("same size", "10.88.0.1", "none");
    expect_name("same size", "10.88.0.2", "edit-a");

    put("127.0.0.1\tlocalhost\n10.88.0.3\tedit-a\n"); /* same size, same second */
    expect("same size again", "edit-a", "10.88.0.3");

    put("127.0.0.1\tlocalhost\n10.88.0.3\tedit-a\n10.88.0.4\tedit-b edit-b-alias\n");
    expect("longer", "edit-b", "10.88.0.4");
    expect("longer", "EDIT-B-ALIAS", "10.88.0.4");

    put("10.88.0.4\tedit-b\n");
    expect("shorter", "edit-a", "none");
    expect("shorter", "edit-b", "10.88.0.4");

    put("10.88.0.5\tEDIT-A\n10.88.0.6\tedit-a\n");
    expect("case", "edit-a", "10.88.0.5");
    expect_name("case", "10.88.0.6", "edit-a");

    put("");
    expect("empty", "edit-a", "none");

    /* Old again, then one more edit. */
    put("10.88.0.7\tedit-a\n");
    sleep(2);
    expect("old again", "edit-a", "10.88.0.7");
    put("10.88.0.8\tedit-a\n");
    expect("old again, edited", "edit-a", "10.88.0.8");

    printf("hosts_edit: %d wrong\n", failures);
    return failures ? 1 : 0;
}
