// c-ares on the hub: one channel per hub, its sockets watched by libev, its timeouts by one
// ev_timer; a green thread sends its queries and parks until every answer (or error) is in.
#include "resolver.h"

#include "../hub/fdtable.h"
#include "../hub/green.h"
#include "../hub/hub.h"
#include "../hub/sys.h"

#include <ares.h>
#include <arpa/nameser.h>
#include <ev.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

namespace green::dns {

namespace {

// c-ares's sockets are libgreen's own: created, used and closed by raw system calls, so that
// they never reach the program's wrappers (which would try to park the loop context) and the
// per-fd table never mistakes them for the program's.
long sys_result(long r)
{
    if (r < 0) {
        errno = int(-r);
        return -1;
    }
    return r;
}

constexpr int kBatch = 64;            // datagrams queued at most (see sock_sendv)
constexpr size_t kDatagramMax = 512;  // larger ones are not queued
constexpr int kMaxUdp = 8;            // datagram sockets of a channel tracked

struct Outgoing {
    int fd;
    int len;
    unsigned char data[kDatagramMax];
};

struct Watch {
    ev_io io;
    struct Channel* channel;
    Watch* next;
};

// One green thread's outstanding queries.
struct Pending {
    Green* waiter;
    int remaining;
    struct Result {
        int status;
        Packet packet;
        unsigned notes;
        int err;        // with kTcpFailed
        Packet cut;     // the datagram with TC, for a caller with RES_IGNTC
    } result[2];
};

// One query of a Pending, known by c-ares's ID for it once it is sent (see sock_sendv).
struct Slot {
    Pending* pending;
    int index;
    struct Channel* channel;
    Slot* next_qid = nullptr;  // in its channel's by_qid bucket
    int qid = -1;
    bool truncated = false;    // a datagram answer with TC came for it: c-ares asks over TCP
    Packet cut;                // that datagram (malloc'd)
    bool short_reply = false;  // a datagram shorter than a header came for it
    unsigned char* sent = nullptr;  // a malloc'd copy of the query as c-ares sent it (its
                                    // question stands in for an unreadable one: take_unreadable)
    int sent_len = 0;
};

constexpr int kQidBuckets = 256;
constexpr int kUdpMax = 65536;  // glibc's MAXPACKET: the largest datagram it reads whole

// Queries in flight per channel, at most.  A burst of ten thousand datagrams overflows the
// socket buffers of a server (and ours) and turns into timeouts and retries; a window keeps the
// server busy without loss, as a pipelining client does.
constexpr int kWindow = 256;

// A green thread waiting for room in the window (on its own stack).
struct WindowWait {
    Green* green;
    WindowWait* next;
};

struct Channel {
    ares_channel ares = nullptr;
    Hub* hub = nullptr;
    ev_timer timer;
    double first_try = 0;  // seconds a new query waits for its first answer
    Watch* watches = nullptr;
    int inflight = 0;
    WindowWait* wait_head = nullptr;
    WindowWait* wait_tail = nullptr;
    // Datagrams c-ares has sent, not yet handed to the kernel (see sock_sendv).
    ev_prepare flusher;
    int nout = 0;
    Outgoing out[kBatch];
    int udp[kMaxUdp];        // c-ares's datagram sockets (-1: a free entry)
    int udp_error[kMaxUdp];  // an error the kernel gave for a queued send, not yet reported
    mmsghdr msgs[kBatch];    // send_queued's, here rather than on a green thread's stack
    iovec iov[kBatch];
    // What glibc's transport would have seen, which c-ares does not tell: the queries in
    // flight by c-ares's ID, the one being sent now, the last datagram read (whole: c-ares is
    // given at most udp_cut bytes of it, or another reply in its place: see taken), and the
    // errno of the last TCP read that failed.
    Slot* by_qid[kQidBuckets] = {};
    Slot* sending = nullptr;
    int udp_cut = 512;
    int last_udp_len = 0;
    int tcp_err = 0;
    // The query whose last_udp c-ares was given in another form (take_unreadable), and that
    // form's length; nullptr once anything else is read.
    Slot* taken = nullptr;
    int taken_len = 0;
    unsigned char last_udp[kUdpMax];
};

void forget_qid(Channel* c, Slot* s)
{
    if (s->qid < 0)
        return;
    for (Slot** link = &c->by_qid[s->qid % kQidBuckets]; *link; link = &(*link)->next_qid) {
        if (*link == s) {
            *link = s->next_qid;
            break;
        }
    }
    s->qid = -1;
}

Slot* find_qid(Channel* c, int qid)
{
    for (Slot* s = c->by_qid[qid % kQidBuckets]; s; s = s->next_qid)
        if (s->qid == qid)
            return s;
    return nullptr;
}

// The entry of a datagram socket of c's, or -1.
int udp_entry(const Channel* c, int fd)
{
    for (int i = 0; i < kMaxUdp; i++)
        if (c->udp[i] == fd)
            return i;
    return -1;
}

ares_socket_t sock_open(int domain, int type, int protocol, void* data)
{
    auto* c = static_cast<Channel*>(data);
    long fd = sys_result(raw_syscall(SYS_socket, domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK,
                                     protocol));
    int free_entry = udp_entry(c, -1);
    if (fd >= 0 && type == SOCK_DGRAM && free_entry >= 0) {
        c->udp[free_entry] = int(fd);
        c->udp_error[free_entry] = 0;
    }
    return ares_socket_t(fd);
}

int sock_close(ares_socket_t fd, void* data)
{
    auto* c = static_cast<Channel*>(data);
    int e = udp_entry(c, fd);
    if (e >= 0) {
        c->udp[e] = -1;
        // What is still queued for it goes nowhere: c-ares closes a socket only once none of
        // its queries waits there any more (they ended, or it sends them again elsewhere).
        int kept = 0;
        for (int i = 0; i < c->nout; i++)
            if (c->out[i].fd != fd)
                c->out[kept++] = c->out[i];
        c->nout = kept;
    }
    fd_forget(fd);
    return int(sys_result(raw_syscall(SYS_close, fd)));
}

// Whether the question of reply p (len bytes) is unreadable to glibc whatever the bytes after
// the reply: a label type other than a length or a pointer (0x40, 0x80), a loop of pointers, or
// a name longer than NS_MAXCDNAME, each met before reading past the reply.  glibc's datagram
// transport takes such a reply for the query with its ID (res_queriesmatch cannot read the
// question, and a failure to read counts as a match there); c-ares drops it, and the look-up
// would wait for its timeouts where glibc answers at once.  A name that runs past the end of
// the datagram is left to c-ares: glibc reads on into its own buffer there, past the reply.
bool unreadable_question(const unsigned char* p, long len)
{
    if (len < NS_HFIXEDSZ || p[4] != 0 || p[5] != 1)
        return false;  // glibc wants as many questions as the query has: one
    long i = NS_HFIXEDSZ, jumps = 0;
    int size = 0;  // of the name so far, as ns_name_unpack counts it
    while (i < len) {
        unsigned char b = p[i];
        if ((b & 0xc0) == 0xc0) {
            if (i + 1 >= len)
                return false;
            long to = long(b & 0x3f) << 8 | p[i + 1];
            if (to >= len)
                return false;
            if (++jumps > len)
                return true;  // round and round within the reply
            i = to;
        } else if (b & 0xc0) {
            return true;
        } else if (b == 0) {
            return false;  // readable: c-ares and glibc compare it with the query's
        } else if (size + b + 1 >= NS_MAXCDNAME) {
            return true;
        } else {
            size += b + 1;
            i += 1 + b;
        }
    }
    return false;
}

// A reply whose question glibc cannot read (c->last_udp), for query s with its ID:
// c-ares is given (in buf, size bytes) the same header with the query's own question as c-ares
// sent it, so that it takes it for the answer (and retries, or switches to TCP, on the header
// as glibc would), and on_answer hands over the reply as it came, from c->last_udp.  Returns
// the length given, or 0 if it cannot be done (the reply is then given as it came).
long take_unreadable(Channel* c, Slot* s, unsigned char* buf, size_t size)
{
    if (!s->sent || s->sent_len < NS_HFIXEDSZ || size_t(s->sent_len) > size)
        return 0;
    // The query's question: its section between the header and the EDNS0 record, if any.
    const unsigned char* q = s->sent + NS_HFIXEDSZ;
    int n = dn_skipname(q, s->sent + s->sent_len);
    if (n < 0 || s->sent_len - NS_HFIXEDSZ - n < NS_QFIXEDSZ)
        return 0;
    memcpy(buf, c->last_udp, NS_HFIXEDSZ);
    memcpy(buf + NS_HFIXEDSZ, q, size_t(n + NS_QFIXEDSZ));
    memset(buf + 6, 0, 6);  // no records after it
    c->taken = s;
    c->taken_len = NS_HFIXEDSZ + n + NS_QFIXEDSZ;
    return c->taken_len;
}

ares_ssize_t sock_recvfrom(ares_socket_t fd, void* buf, size_t n, int flags, sockaddr* from,
                           ares_socklen_t* fromlen, void* data)
{
    auto* c = static_cast<Channel*>(data);
    int e = udp_entry(c, fd);
    if (e >= 0 && c->udp_error[e]) {  // a queued send failed: c-ares learns it here
        errno = c->udp_error[e];
        c->udp_error[e] = 0;
        return -1;
    }
    c->taken = nullptr;
    if (e < 0) {
        // A stream: c-ares gives up on the connection after a read that ends or fails, and
        // glibc reports that read's errno (0 when the server closed it).
        c->last_udp_len = 0;
        long r = raw_syscall(SYS_recvfrom, fd, long(buf), long(n), flags, long(from),
                             long(fromlen));
        if (r == 0 || (r < 0 && r != -EAGAIN && r != -EINTR))
            c->tcp_err = int(-r);
        return sys_result(r);
    }
    // A datagram: read whole, as glibc reads it.  c-ares takes one longer than 512 bytes (or
    // its EDNS0 size) without TC for truncated and asks again over TCP, where glibc keeps it:
    // c-ares is given the first udp_cut bytes, and on_answer takes the whole datagram back.
    long r = sys_result(raw_syscall(SYS_recvfrom, fd, long(c->last_udp), long(sizeof c->last_udp),
                                    flags, long(from), long(fromlen)));
    if (r < 0)
        return r;
    c->last_udp_len = int(r);
    if (Slot* s = r >= 2 ? find_qid(c, (c->last_udp[0] << 8) | c->last_udp[1]) : nullptr) {
        const unsigned char* h = c->last_udp;
        bool bare_error = r == NS_HFIXEDSZ && h[4] == 0 && h[5] == 0 &&
                          refused_by_server(h[3] & 0x0f);
        if ((r < NS_HFIXEDSZ || bare_error) && s->sent_len >= NS_HFIXEDSZ &&
            size_t(s->sent_len) <= n) {
            // Replies c-ares drops, and would wait out its timeouts: one shorter than a header
            // (glibc ends the exchange at once, each try alike), and a header alone with
            // SERVFAIL, NOTIMP or REFUSED and no question, which glibc takes for the answer to
            // its query (some resolvers send REFUSED so).  c-ares is given the query itself with
            // QR and that code (SERVFAIL for a short one): it matches.
            s->short_reply = !bare_error;
            c->last_udp_len = 0;
            memcpy(buf, s->sent, size_t(s->sent_len));
            auto* q = static_cast<unsigned char*>(buf);
            q[2] |= 0x80;
            q[3] = (q[3] & 0xf0) | (bare_error ? h[3] & 0x0f : ns_r_servfail);
            return s->sent_len;
        }
        if ((h[2] & 0x82) == 0x82 && !s->truncated) {  // QR and TC
            s->truncated = true;
            s->cut.data = static_cast<unsigned char*>(malloc(size_t(r)));
            if (s->cut.data) {
                memcpy(s->cut.data, h, size_t(r));
                s->cut.len = int(r);
            }
        }
        if (unreadable_question(h, r)) {
            if (long given = take_unreadable(c, s, static_cast<unsigned char*>(buf), n))
                return given;
        }
    }
    size_t give = size_t(r) < n ? size_t(r) : n;
    if (give > size_t(c->udp_cut) && !(c->last_udp[2] & 0x02))
        give = size_t(c->udp_cut);
    memcpy(buf, c->last_udp, give);
    return ares_ssize_t(give);
}

// Hands the queued datagrams to the kernel, a sendmmsg per run of one socket's.  A send the
// kernel refuses is reported to c-ares as the socket's next read error, which is how it learns
// of a refused port on a datagram socket anyway: it then tries the next server, as after a
// failed send of its own.  (A full buffer reads as "try again" there: the query is asked again
// at its timeout, as if the datagram had been lost on the way.)
void send_queued(Channel* c)
{
    int i = 0;
    while (i < c->nout) {
        int fd = c->out[i].fd;
        mmsghdr* msgs = c->msgs;
        iovec* iov = c->iov;
        int k = 0;
        for (; i + k < c->nout && c->out[i + k].fd == fd; k++) {
            iov[k] = {c->out[i + k].data, size_t(c->out[i + k].len)};
            msgs[k] = {};
            msgs[k].msg_hdr.msg_iov = &iov[k];
            msgs[k].msg_hdr.msg_iovlen = 1;
        }
        for (int sent = 0; sent < k;) {
            long r = raw_syscall(SYS_sendmmsg, fd, long(msgs + sent), k - sent, MSG_DONTWAIT);
            if (r > 0) {
                sent += int(r);
                continue;
            }
            int e = udp_entry(c, fd);
            if (e >= 0 && !c->udp_error[e])
                c->udp_error[e] = int(-r);
            sent++;
        }
        i += k;
    }
    c->nout = 0;
}

// Before the hub polls: the queue goes out, and c-ares hears of the sends the kernel refused
// (which may make it send again, to the next server).
void on_prepare(struct ev_loop* loop, ev_prepare* w, int)
{
    auto* c = static_cast<Channel*>(w->data);
    for (int round = 0; round < 8; round++) {
        send_queued(c);
        bool told = false;
        for (int i = 0; i < kMaxUdp; i++) {
            if (c->udp[i] >= 0 && c->udp_error[i]) {
                told = true;
                ares_process_fd(c->ares, c->udp[i], ARES_SOCKET_BAD);
                if (c->udp[i] >= 0)
                    c->udp_error[i] = 0;  // read or not, it is told once
            }
        }
        if (!told)
            break;
    }
    if (c->nout == 0)
        ev_prepare_stop(loop, w);
}

// c-ares sends a query the moment it is asked.  A datagram is queued instead, and the queue
// goes out in sendmmsg calls before the hub next polls (or when it is full): ten thousand
// look-ups started together make a few hundred system calls, not ten thousand.  Streams (TCP)
// and datagrams too large for the queue go at once, after what is queued.  (From here c-ares
// must not be re-entered: refused sends are told to it from on_prepare.)
ares_ssize_t sock_sendv(ares_socket_t fd, const iovec* iov, int n, void* data)
{
    auto* c = static_cast<Channel*>(data);
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    if (Slot* s = c->sending; s && udp_entry(c, fd) >= 0 && total >= 2) {
        // The query exchange() is sending: c-ares's ID for it (its first two bytes).
        unsigned char id[2];
        for (int i = 0, k = 0; i < n && k < 2; i++)
            for (size_t j = 0; j < iov[i].iov_len && k < 2; j++)
                id[k++] = static_cast<const unsigned char*>(iov[i].iov_base)[j];
        s->qid = (id[0] << 8) | id[1];
        s->next_qid = c->by_qid[s->qid % kQidBuckets];
        c->by_qid[s->qid % kQidBuckets] = s;
        c->sending = nullptr;
        s->sent = static_cast<unsigned char*>(malloc(total));
        s->sent_len = s->sent ? int(total) : 0;
        for (int i = 0, k = 0; s->sent && i < n; k += int(iov[i].iov_len), i++)
            memcpy(s->sent + k, iov[i].iov_base, iov[i].iov_len);
    }
    if (total > kDatagramMax || udp_entry(c, fd) < 0) {
        send_queued(c);
        long r = raw_syscall(SYS_writev, fd, long(iov), n);
        if (r < 0 && r != -EAGAIN && r != -EINTR && udp_entry(c, fd) < 0)
            c->tcp_err = int(-r);  // a refused connection shows here: glibc's errno too
        return sys_result(r);
    }
    if (c->nout == kBatch)
        send_queued(c);
    Outgoing& o = c->out[c->nout++];
    o.fd = fd;
    o.len = int(total);
    unsigned char* p = o.data;
    for (int i = 0; i < n; i++) {
        memcpy(p, iov[i].iov_base, iov[i].iov_len);
        p += iov[i].iov_len;
    }
    ev_prepare_start(c->hub->evloop, &c->flusher);  // no-op when active
    return ares_ssize_t(total);
}

int sock_connect(ares_socket_t fd, const sockaddr* addr, ares_socklen_t len, void* data)
{
    auto* c = static_cast<Channel*>(data);
    long r = raw_syscall(SYS_connect, fd, long(addr), len);
    if (r < 0 && r != -EINPROGRESS && udp_entry(c, fd) < 0)
        c->tcp_err = int(-r);  // as glibc's send_vc reports a refused connection
    return int(sys_result(r));
}

const ares_socket_functions kSocketFunctions = {sock_open, sock_close, sock_connect,
                                                sock_recvfrom, sock_sendv};

// c-ares's next deadline.  ares_timeout walks every outstanding query, so it is asked only when
// the timer fires (ten thousand look-ups in flight would otherwise cost it quadratic time); a
// timer that fires early only makes it ask again.
void rearm(Channel* c)
{
    ev_timer_stop(c->hub->evloop, &c->timer);
    timeval tv;
    if (ares_timeout(c->ares, nullptr, &tv)) {
        ev_timer_set(&c->timer, double(tv.tv_sec) + double(tv.tv_usec) / 1e6, 0.);
        ev_timer_start(c->hub->evloop, &c->timer);
    }
}

// A query just sent: its first deadline is first_try from now, which needs the timer sooner
// only if the timer is idle or due later.  (Every later deadline of c-ares's, a retry or a
// TCP retry after truncation, comes after one the timer already covers.)
void note_sent(Channel* c)
{
    struct ev_loop* loop = c->hub->evloop;
    if (ev_is_active(&c->timer) && ev_timer_remaining(loop, &c->timer) <= c->first_try)
        return;
    ev_timer_stop(loop, &c->timer);
    ev_timer_set(&c->timer, c->first_try, 0.);
    ev_timer_start(loop, &c->timer);
}

void on_io(struct ev_loop*, ev_io* io, int revents)
{
    auto* w = static_cast<Watch*>(io->data);
    int fd = io->fd;
    ares_process_fd(w->channel->ares, (revents & EV_READ) ? fd : ARES_SOCKET_BAD,
                    (revents & EV_WRITE) ? fd : ARES_SOCKET_BAD);
}

void on_timer(struct ev_loop*, ev_timer* t, int)
{
    auto* c = static_cast<Channel*>(t->data);
    ares_process_fd(c->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    rearm(c);
}

// c-ares says which of its sockets to watch for what; a socket it no longer wants (both
// false) is about to be closed, so its watcher stops now, before the number can be reused.
void on_sock_state(void* data, ares_socket_t fd, int readable, int writable)
{
    auto* c = static_cast<Channel*>(data);
    Watch** link = &c->watches;
    while (*link && (*link)->io.fd != fd)
        link = &(*link)->next;
    Watch* w = *link;
    if (w)
        ev_io_stop(c->hub->evloop, &w->io);
    if (!readable && !writable) {
        if (w) {
            *link = w->next;
            free(w);
        }
        return;
    }
    if (!w) {
        w = static_cast<Watch*>(calloc(1, sizeof *w));
        if (!w)
            return;  // c-ares's own timeout will end the query
        w->channel = c;
        w->next = c->watches;
        c->watches = w;
        ev_io_init(&w->io, on_io, fd, 0);
        w->io.data = w;
    }
    ev_io_set(&w->io, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
    ev_io_start(c->hub->evloop, &w->io);
}

void forget_channel_in_child()
{
    if (Hub* h = hub_self())
        h->dns_channel = nullptr;
}

Channel* channel()
{
    if (Channel* c = static_cast<Channel*>(hub_self()->dns_channel))
        return c;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, [] {
        ares_library_init(ARES_LIB_INIT_ALL);
        // The child of fork has a fresh hub and loop: it builds a channel of its own.
        pthread_atfork(nullptr, nullptr, forget_channel_in_child);
    });
    const Conf& cf = conf();
    auto* c = new (std::nothrow) Channel;
    if (!c)
        return nullptr;
    for (int& u : c->udp)
        u = -1;  // udp_error is set with each entry
    c->hub = hub_self();
    hub_ensure_loop(c->hub);

    ares_options o = {};
    int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB |
               ARES_OPT_LOOKUPS | (cf.rotate ? ARES_OPT_ROTATE : ARES_OPT_NOROTATE) |
               ARES_OPT_DOMAINS | ARES_OPT_NDOTS;
    // NOCHECKRESP: c-ares would answer a SERVFAIL, NOTIMP or REFUSED response with a bare
    // ECONNREFUSED; query() needs the response code (glibc's search goes on after a SERVFAIL).
    o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP |
              (cf.use_vc ? ARES_FLAG_USEVC : 0) | (cf.edns0 ? ARES_FLAG_EDNS : 0);
    o.timeout = (cf.timeout > 0 ? cf.timeout : 1) * 1000;
    c->first_try = o.timeout / 1000.;
    c->udp_cut = cf.edns0 ? 1200 : NS_PACKETSZ;  // what c-ares takes for a whole datagram
    o.tries = cf.attempts > 0 ? cf.attempts : 1;
    o.sock_state_cb = on_sock_state;
    o.sock_state_cb_data = c;
    o.lookups = const_cast<char*>("b");
    o.ndomains = 0;
    o.ndots = 1;
    if (cf.edns0) {
        mask |= ARES_OPT_EDNSPSZ;
        o.ednspsz = 1200;  // glibc's RESOLV_EDNS_BUFFER_SIZE
    }
    if (ares_init_options(&c->ares, &o, mask) != ARES_SUCCESS) {
        delete c;
        return nullptr;
    }
    ares_set_socket_functions(c->ares, &kSocketFunctions, c);

    ares_addr_port_node nodes[kMaxServers] = {};
    for (int i = 0; i < cf.nservers; i++) {
        const auto* sa = &cf.servers[i];
        nodes[i].family = sa->sin6_family;
        if (sa->sin6_family == AF_INET) {
            const auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
            memcpy(&nodes[i].addr.addr4, &sin->sin_addr, 4);
            nodes[i].udp_port = nodes[i].tcp_port = ntohs(sin->sin_port);
        } else {
            memcpy(&nodes[i].addr.addr6, &sa->sin6_addr, 16);
            nodes[i].udp_port = nodes[i].tcp_port = ntohs(sa->sin6_port);
        }
        nodes[i].next = i + 1 < cf.nservers ? &nodes[i + 1] : nullptr;
    }
    ares_set_servers_ports(c->ares, cf.nservers ? nodes : nullptr);

    ev_timer_init(&c->timer, on_timer, 0., 0.);
    c->timer.data = c;
    ev_prepare_init(&c->flusher, on_prepare);
    c->flusher.data = c;
    hub_self()->dns_channel = c;
    return c;
}

// Room for n more queries: waits its turn, first come first served.
void window_enter(Channel* c, int n)
{
    if (!c->wait_head && c->inflight + n <= kWindow) {
        c->inflight += n;
        return;
    }
    WindowWait me = {green_self(), nullptr};
    (c->wait_tail ? c->wait_tail->next : c->wait_head) = &me;
    c->wait_tail = &me;
    while (c->wait_head != &me || c->inflight + n > kWindow)
        park();
    c->wait_head = me.next;
    if (!c->wait_head)
        c->wait_tail = nullptr;
    c->inflight += n;
    if (c->wait_head && c->inflight < kWindow)
        unpark(c->wait_head->green);  // room for the next one too
}

void window_leave(Channel* c)
{
    c->inflight--;
    if (c->wait_head)
        unpark(c->wait_head->green);
}

void on_answer(void* arg, int status, int, unsigned char* abuf, int alen)
{
    auto* s = static_cast<Slot*>(arg);
    Channel* c = s->channel;
    Pending* p = s->pending;
    auto& r = p->result[s->index];
    forget_qid(c, s);
    bool taken = c->taken == s;  // c-ares was given the reply in another form
    if (taken)
        c->taken = nullptr;
    free(s->sent);
    s->sent = nullptr;
    r.status = status;
    r.notes = s->short_reply ? unsigned(kShortReply) : 0u;
    r.cut = s->cut;
    if (status == ARES_SUCCESS && abuf && alen > 0) {
        // The datagram just read, if this is (the start of) it, or what take_unreadable gave
        // c-ares for it; else it came over TCP.
        bool datagram = c->last_udp_len >= alen && memcmp(c->last_udp, abuf, size_t(alen)) == 0;
        if (taken && alen == c->taken_len)
            datagram = c->last_udp_len > 0;
        int len = datagram ? c->last_udp_len : alen;
        r.packet.data = static_cast<unsigned char*>(malloc(size_t(len)));
        if (r.packet.data) {
            memcpy(r.packet.data, datagram ? c->last_udp : abuf, size_t(len));
            r.packet.len = len;
            r.packet.tcp = !datagram;
        } else {
            r.status = ARES_ENOMEM;
        }
    } else if (status == ARES_ETIMEOUT) {
        r.notes |= kTimedOut;
    } else if (s->truncated) {
        r.notes |= kTcpFailed;
        r.err = c->tcp_err;
    }
    window_leave(s->channel);
    if (--p->remaining == 0 && p->waiter)
        unpark(p->waiter);
}

// c-ares's outcome as glibc's transport would report it in errno.
int status_errno(int status)
{
    switch (status) {
    case ARES_SUCCESS: return 0;
    case ARES_ECONNREFUSED: return ECONNREFUSED;
    case ARES_ENOMEM: return ENOMEM;
    case ARES_EBADQUERY:
    case ARES_EBADNAME: return EINVAL;
    default: return ETIMEDOUT;  // timeouts, and servers that kept failing (SERVFAIL, REFUSED)
    }
}

}  // namespace

bool reserve(int n)
{
    Channel* c = channel();
    if (!c) {
        errno = ENOMEM;
        return false;
    }
    window_enter(c, n);
    return true;
}

void unreserve(int n)
{
    for (int i = 0; i < n; i++)
        window_leave(static_cast<Channel*>(hub_self()->dns_channel));
}

void exchange(int n, const unsigned char* const* queries, const int* lens, unsigned char* buf,
              Packet* answers, int* errs, int* rcodes, unsigned* notes, bool ignore_tc)
{
    auto* c = static_cast<Channel*>(hub_self()->dns_channel);
    Pending p = {};
    p.remaining = n;
    Slot slots[2] = {{&p, 0, c}, {&p, 1, c}};
    for (int i = 0; i < n; i++) {
        c->sending = &slots[i];
        ares_send(c->ares, queries[i], lens[i], on_answer, &slots[i]);
        c->sending = nullptr;
    }
    free(buf);
    note_sent(c);
    p.waiter = green_self();
    while (p.remaining > 0)
        park();
    for (int i = 0; i < n; i++) {
        auto& r = p.result[i];
        if (ignore_tc && r.cut.len > 0) {
            // RES_IGNTC: glibc keeps the datagram with TC (c-ares asked over TCP all the same).
            free(r.packet.data);
            r.packet = r.cut;
            r.notes &= ~unsigned(kTimedOut | kTcpFailed);
        } else {
            free(r.cut.data);
        }
        answers[i] = p.result[i].packet;
        errs[i] = p.result[i].packet.len > 0 ? 0 : status_errno(p.result[i].status);
        rcodes[i] = answers[i].len >= NS_HFIXEDSZ ? answers[i].data[3] & 0x0f : ns_r_noerror;
        notes[i] = p.result[i].notes;
        if (notes[i] & kTcpFailed)
            errs[i] = p.result[i].err;
    }
}

bool refused_by_server(int rcode)
{
    return rcode == ns_r_servfail || rcode == ns_r_notimpl || rcode == ns_r_refused;
}

bool tries_any(int attempts, bool use_vc)
{
    if (attempts > 0)
        return true;
    errno = use_vc ? ETIMEDOUT : ECONNREFUSED;
    return false;
}

int send_raw(const unsigned char* q, int qlen, Packet* answer, bool use_vc, bool ignore_tc)
{
    if (!tries_any(conf().attempts, use_vc))
        return -1;
    int err = ENOMEM, rcode = ns_r_noerror;
    unsigned notes = 0;
    if (reserve(1))
        exchange(1, &q, &qlen, nullptr, answer, &err, &rcode, &notes, ignore_tc);
    if (notes & (kShortReply | kTcpFailed)) {
        // glibc's transport ends the exchange there: a short reply as no answer, a failed TCP
        // retry with that read's errno.
        free(answer->data);
        *answer = Packet{};
        err = notes & kTcpFailed ? err : ETIMEDOUT;
    }
    if (!use_vc && refused_by_server(rcode)) {
        // glibc's datagram transport takes these for no answer; its stream transport returns
        // them.
        free(answer->data);
        *answer = Packet{};
        err = ETIMEDOUT;
    }
    if (answer->len <= 0) {
        errno = err;
        return -1;
    }
    return answer->len;
}

}  // namespace green::dns
