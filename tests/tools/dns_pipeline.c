/* Pipelining UDP load client for the test DNS server (dns_server): measures its capacity.
 *
 *   dns_pipeline ADDR PORT COUNT [WINDOW]
 *
 * Sends COUNT (1..65536) A queries for hN.load.green.test, N = 0..COUNT-1, query ID N, to the
 * numeric address ADDR, keeping WINDOW (default 256) of them outstanding; a query unanswered
 * after 200 ms is sent again (at most 20 times).  Every answer is checked: matching ID and
 * question, NOERROR, and an A record 10.54.N/256.N%256.  Prints one line
 *
 *   queries COUNT seconds S qps Q
 *
 * and exits 0 only when every query got a correct answer; otherwise 1, with the reason on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RETRY_NS 200000000LL
#define MAX_SENDS 20
#define BATCH 64

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The query for N: header, question hN.load.green.test A IN.  Returns its length. */
static size_t make_query(unsigned n, uint8_t *q)
{
    char label[8];
    int l = snprintf(label, sizeof label, "h%u", n);
    uint8_t hdr[12] = {n >> 8, n, 0x01, 0, 0, 1};  /* RD, QDCOUNT 1 */
    memcpy(q, hdr, 12);
    q[12] = l;
    memcpy(q + 13, label, l);
    memcpy(q + 13 + l, "\4load\5green\4test\0\0\1\0\1", 21);
    return 13 + l + 21;
}

/* Checks an answer; returns N (its ID) when correct, -1 when it is not ours to judge (too short
 * to have an ID), or -2 - N when it is wrong. */
static long check_answer(const uint8_t *r, size_t len, long count)
{
    uint8_t q[64];
    if (len < 12)
        return -1;
    long n = r[0] << 8 | r[1];
    if (n >= count)
        return -1;
    size_t qlen = make_query(n, q);
    /* QR, NOERROR, one question, at least one answer, and the question echoed (case aside). */
    if (len < qlen || !(r[2] & 0x80) || (r[3] & 15) || r[4] || r[5] != 1 || !(r[6] | r[7]) ||
        strncasecmp((char *)r + 12, (char *)q + 12, qlen - 12 - 4) || memcmp(r + qlen - 4, q + qlen - 4, 4))
        return -2 - n;
    /* The first answer record: owner (a pointer or labels), then type, class, TTL, length. */
    size_t i = qlen;
    while (i < len && r[i] && (r[i] & 0xc0) != 0xc0)
        i += r[i] + 1;
    i += i < len && r[i] ? 2 : 1;
    uint8_t want[4] = {10, 54, n / 256, n % 256};
    if (i + 14 > len || r[i] || r[i + 1] != 1 || r[i + 2] || r[i + 3] != 1 || r[i + 8] || r[i + 9] != 4 ||
        memcmp(r + i + 10, want, 4))
        return -2 - n;
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: dns_pipeline ADDR PORT COUNT [WINDOW]\n");
        return 2;
    }
    long count = atol(argv[3]), window = argc > 4 ? atol(argv[4]) : 256;
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    socklen_t slen;
    if (inet_pton(AF_INET, argv[1], &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(atoi(argv[2]));
        slen = sizeof *a4;
    } else if (inet_pton(AF_INET6, argv[1], &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(atoi(argv[2]));
        slen = sizeof *a6;
    } else {
        fprintf(stderr, "dns_pipeline: ADDR must be a numeric address\n");
        return 2;
    }
    if (count < 1 || count > 65536 || window < 1) {
        fprintf(stderr, "dns_pipeline: COUNT must be 1..65536, WINDOW at least 1\n");
        return 2;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), bufsize = 4 << 20;
    if (fd < 0 || connect(fd, (struct sockaddr *)&ss, slen) < 0) {
        perror("dns_pipeline: socket");
        return 1;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);

    /* sent_at[N]: time of the last send, 0 = not sent yet, -1 = answered.  The send log is a
     * FIFO of (N, time) in send order; an entry whose time is no longer sent_at[N] is stale. */
    long long *sent_at = calloc(count, sizeof *sent_at);
    unsigned char *sends = calloc(count, 1);
    size_t logcap = count * 2, loghead = 0, logtail = 0;
    struct { long n; long long t; } *sendlog = malloc(logcap * sizeof *sendlog);
    if (!sent_at || !sends || !sendlog)
        return perror("dns_pipeline"), 1;
    long next = 0, answered = 0, outstanding = 0, wrong = 0;
    static uint8_t qbuf[BATCH][64], rbuf[BATCH][4096];
    static struct mmsghdr qmsg[BATCH], rmsg[BATCH];
    static struct iovec qiov[BATCH], riov[BATCH];
    long retry[BATCH];
    long long start = now_ns(), last_progress = start;

    while (answered + wrong < count) {
        long long now = now_ns();
        /* Queries due again go first, then new ones while the window has room. */
        int nq = 0;
        while (nq < BATCH && loghead < logtail) {
            long n = sendlog[loghead].n;
            if (sent_at[n] != sendlog[loghead].t) {
                loghead++;  /* answered or sent again since */
                continue;
            }
            if (now - sendlog[loghead].t < RETRY_NS)
                break;
            loghead++;
            if (sends[n] >= MAX_SENDS) {
                fprintf(stderr, "dns_pipeline: no answer for h%ld after %d sends\n", n, MAX_SENDS);
                return 1;
            }
            retry[nq++] = n;
        }
        while (nq < BATCH && outstanding < window && next < count) {
            retry[nq++] = next++;
            outstanding++;
        }
        for (int i = 0; i < nq; i++) {
            qiov[i] = (struct iovec){qbuf[i], make_query(retry[i], qbuf[i])};
            qmsg[i].msg_hdr = (struct msghdr){.msg_iov = &qiov[i], .msg_iovlen = 1};
            if (logtail == logcap) {  /* compact the FIFO, or grow it */
                memmove(sendlog, sendlog + loghead, (logtail - loghead) * sizeof *sendlog);
                logtail -= loghead;
                loghead = 0;
                if (logtail > logcap / 2 && !(sendlog = realloc(sendlog, (logcap *= 2) * sizeof *sendlog)))
                    return perror("dns_pipeline"), 1;
            }
            sent_at[retry[i]] = now;
            sends[retry[i]]++;
            sendlog[logtail].n = retry[i];
            sendlog[logtail++].t = now;
        }
        for (int done = 0; done < nq;) {  /* a full socket buffer loses them: they come again */
            int k = sendmmsg(fd, qmsg + done, nq - done, MSG_DONTWAIT);
            done += k > 0 ? k : nq - done;
        }

        /* Wait for answers until the oldest outstanding query is due again. */
        int timeout = 0;
        if (nq == 0) {
            timeout = 10;
            if (loghead < logtail)
                timeout = (int)((sendlog[loghead].t + RETRY_NS - now) / 1000000) + 1;
            if (timeout < 0)
                timeout = 0;
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, timeout) <= 0)
            continue;
        for (int i = 0; i < BATCH; i++) {
            riov[i] = (struct iovec){rbuf[i], sizeof rbuf[i]};
            rmsg[i].msg_hdr = (struct msghdr){.msg_iov = &riov[i], .msg_iovlen = 1};
        }
        int nr = recvmmsg(fd, rmsg, BATCH, MSG_DONTWAIT, NULL);
        for (int i = 0; i < nr; i++) {
            long n = check_answer(rbuf[i], rmsg[i].msg_len, count);
            if (n == -1 || (n >= 0 ? sent_at[n] : sent_at[-2 - n]) == -1)
                continue;  /* not ours, or a late duplicate of an answered query */
            if (n < -1) {
                n = -2 - n;
                if (!wrong++)
                    fprintf(stderr, "dns_pipeline: wrong answer for h%ld\n", n);
            } else {
                answered++;
            }
            sent_at[n] = -1;
            outstanding--;
            last_progress = now_ns();
        }
        if (now_ns() - last_progress > 10000000000LL) {
            fprintf(stderr, "dns_pipeline: no answer for 10 s (%ld of %ld answered)\n", answered, count);
            return 1;
        }
    }
    double s = (now_ns() - start) / 1e9;
    printf("queries %ld seconds %.3f qps %.0f\n", count, s, count / s);
    if (wrong)
        fprintf(stderr, "dns_pipeline: %ld wrong answers\n", wrong);
    return wrong ? 1 : 0;
}
