// Per-descriptor records and waits on descriptors.
//
// A record says what libgreen knows of one fd number: what kind of file it is (which decides
// how a call can be tried without blocking), what the program believes of it (its own
// O_NONBLOCK, its SO_RCVTIMEO/SO_SNDTIMEO), whether libgreen itself set O_NONBLOCK on the file
// description (hidden from the program), and which green threads wait on it.  Records live in
// a table indexed by fd, allocated in chunks on first use, never freed.
//
// Life of a record: a wrapper that creates a descriptor (socket, accept, pipe, dup, open, ...)
// resets it; a record never reset is learned on first use (fstat and F_GETFL, once); close and
// dup2 first wake every green thread waiting on the number (they get EBADF, as gevent does),
// and bump the generation.
//
// Waits.  Each hub has an epoll set of its own (its PollSet), watched by one ev_io of the hub's
// libev loop.  The first wait on an fd on a hub registers the fd there once, edge-triggered for
// reading and writing, with the record's generation beside the fd number in the event's data;
// it stays registered while the fd lives, so a steady wait costs no epoll_ctl at all (libev
// would send a failing EPOLL_CTL_ADD at every watcher start).  A registration names the open
// file description, not the number, so one can outlive the number (a close with a dup left, a
// green thread that moved to another hub): an event whose generation is no longer the
// record's is dropped.  An event for a hub where nobody waits on the fd costs a look and nothing
// else while the fd's latest wait was on that hub (with one hub, an event that comes while the
// fd's thread runs); when it was on another hub, the waiting thread moved (work sharing) and
// the registration it left behind is dropped then (EPOLL_CTL_DEL, by the hub that owns the set:
// --stats counts them), once, instead of bringing every later event of the fd for nothing.
// Edge-triggered events come only at changes, so every wait must follow an attempt (or a
// check) that found the fd not ready, made on the hub where it then parks: io_loop does.
//
// Green threads that wait on an fd may run on any worker; the list of waits of a record is
// shared (a striped lock when there are several workers), and a waiter is woken by its own
// hub's set, or with EBADF by a close on any worker.
#ifndef GREEN_FDTABLE_H
#define GREEN_FDTABLE_H

#include <ev.h>

#include <cstdint>

#include "hub.h"

namespace green {

enum class FdKind : uint8_t {
    Unknown,   // not learned yet
    Socket,    // tried with MSG_DONTWAIT
    Pipe,      // pipes and FIFOs: tried with RWF_NOWAIT
    Other,     // ttys, eventfd, timerfd, ...: RWF_NOWAIT where it works, else readiness first
    Passive,   // regular files, block devices, directories, bad fds: passed through untouched
};

// One green thread's wait on one fd, linked into the fd's record while it lasts.
struct FdWait {
    Green* green;     // the waiter
    Hub* hub;         // the hub whose poll set wakes it (where it parked)
    FdWait* prev;     // links in the record's list
    FdWait* next;
    uint32_t seq;     // the waiter's park_seq for its current park (a later park is not woken)
    uint8_t events;   // EV_READ and/or EV_WRITE
    bool linked;      // in the list (fd_closing unlinks it)
    bool* closed;     // set by fd_closing: the fd went away under the waiter
};

struct FdRecord {
    FdKind kind;              // see FdKind
    bool user_nonblock;       // O_NONBLOCK as the program set it (F_SETFL, FIONBIO, SOCK_NONBLOCK)
    bool internal_nonblock;   // libgreen set O_NONBLOCK on the description; F_GETFL hides it
    bool nowait_read_unsupported;   // preadv2(RWF_NOWAIT) gave EOPNOTSUPP: poll first
    bool nowait_write_unsupported;  // pwritev2(RWF_NOWAIT) gave EOPNOTSUPP: poll first
    bool dup_shared;          // another fd number refers to the same description (dup)
    bool stream;              // a TCP or Unix stream socket: a short read leaves it empty
    uint32_t gen;             // bumped by close and reuse
    uint32_t desc;            // identifies the open file description: copied by dup
    int64_t rcvtimeo;         // SO_RCVTIMEO in ns, 0 for none
    int64_t sndtimeo;         // SO_SNDTIMEO in ns, 0 for none
    FdWait* waits;            // green threads waiting on this fd
    Hub* wait_hub;            // the hub of the latest wait on it: another hub's registration
                              //   is left over from a thread that moved (see Waits, above)
    char pad[16];             // to 64 bytes: a record is one cache line (chunks are aligned),
                              //   and its address a shift of the fd (one instruction fewer)
};
static_assert(sizeof(FdRecord) == 64, "FdRecord: one cache line");

// The record of fd, learning its kind if needed (one fstat and one F_GETFL, the first time);
// nullptr for a negative or huge fd.  Call only from a green thread.
FdRecord* fd_get(int fd);

// A new descriptor of a known kind (its creator's flags given; stream: see FdRecord).
void fd_created(int fd, FdKind kind, bool user_nonblock, bool stream = false);

// Whether a socket of this domain, type and protocol is a stream that a short read empties.
bool stream_socket(int domain, int type, int protocol);

// fd was created by a call that says nothing of its kind: learn it on first use.
void fd_forget(int fd);

// newfd now refers to the same file description as oldfd (dup and friends).
void fd_copied(int oldfd, int newfd);

// The program set or cleared O_NONBLOCK through fd: record it for every fd number that shares
// the file description (the flag belongs to the description, not to the number).
void fd_set_user_nonblock(int fd, bool on);

// fd is about to be closed (or replaced by dup2): wake its waiters with EBADF.  Cheap when
// nobody waits.
void fd_closing(int fd);

// In the child of fork: the waits of green threads that exist only in the parent are forgotten
// (a close in the child must not wake them: their hub's loop is gone), and every hub's poll
// set is dropped (the epoll instance is the parent's too).
void fd_after_fork_child();

// Before another program gets the descriptors (exec, posix_spawn): clear the O_NONBLOCK that
// libgreen set on every description the new program inherits (not close-on-exec), so that it
// sees the flags the program set and nothing else (DESIGN rule 3).  fd_restore_internal puts
// them back when the exec failed or the spawned child has its own copy.
void fd_release_internal();
void fd_restore_internal();

// Reads that need not be made.  A stream socket read on a hub that registered it is known
// empty from a read that found nothing (EAGAIN) or less than it asked for, until the hub's
// set reports it readable again: edge-triggered, any data that comes later is such an event.
// fd_read_found_empty records such a read by the calling green thread; fd_known_empty says
// whether its next read would find nothing (then it waits at once).  Both false, and no-ops,
// for a descriptor the calling hub has not registered for the record's generation.  r is fd's
// record.
bool fd_known_empty(int fd, FdRecord* r);
void fd_read_found_empty(int fd, FdRecord* r);

// Waits until fd is ready for events (EV_READ and/or EV_WRITE) or the deadline.  Returns the
// ready events (> 0), -ETIMEDOUT, or -EBADF when the fd was closed meanwhile.  A cancellation
// point when cancellable.
int wait_fd(int fd, int events, int64_t deadline, bool cancellable);

// Waits on several descriptors at once (poll, select): the first to be ready (or the
// deadline, or a close: -EBADF) ends the wait.
struct FdWatch {
    int fd;
    int events;     // EV_READ | EV_WRITE
    FdWait wait;    // its entry in the record's list
};
int wait_fds(FdWatch* watches, int n, int64_t deadline, bool cancellable);

}  // namespace green

#endif
