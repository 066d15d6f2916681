// Standard input and output functions on pipes, sockets, FIFOs and ttys.
//
// Input: fgets, getline, getdelim, fread, fgetc, getc, getchar, the C99 scanf family (fscanf,
// scanf), their _unlocked and fortified forms, and __uflow (the refill of the inline
// getc_unlocked).  glibc's stdio reads with its own internal read, which no wrapper sees.  So
// before glibc would have to refill an empty buffer from a pollable descriptor, the green thread
// waits until the descriptor is readable, and lets the others run meanwhile; then glibc reads,
// and one read does not block once data is there.  fgets, getline, getdelim and fread may need
// several refills (a line that arrives in pieces), so they are libgreen's own, written as glibc
// 2.36 writes them, with that wait before each refill.  fgetc takes one refill at most; fscanf
// may need several, and still waits green only for the first (libgreen(7)).  stdio never sees
// EAGAIN (the descriptor stays blocking), so no byte is lost.
#include <stdio.h>

#include <climits>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <cwchar>
#include <gconv.h>

#include <algorithm>
#include <atomic>
#include <new>

#include "../hub/spinlock.h"
#include "../hub/waitq.h"
#include "fdio.h"

extern "C" int __underflow(FILE*);
// glibc's list of open streams and its lock (exported, in libio.h only).
extern "C" FILE* _IO_list_all;
extern "C" void _IO_list_lock(void);
extern "C" void _IO_list_unlock(void);
extern "C" void __chk_fail(void) __attribute__((noreturn));

namespace {

using namespace green;

// Waits, when fp's buffer is empty and its descriptor is one a green read would wait on.
void before_read(FILE* fp)
{
    // In the pushback area of ungetc, the refill only goes back to the main buffer.
    if (!green_in(kStdio) || fp->_IO_read_ptr < fp->_IO_read_end || (fp->_flags & 0x0100))
        return;
    int fd = fp->_fileno;
    FdRecord* r = green_fd(fd);
    if (!r)
        return;
    pollfd p = {fd, POLLIN, 0};
    if (REAL(poll)(&p, 1, 0) == 0)  // nothing there yet: park instead of blocking in glibc
        wait_fd(fd, EV_READ, kForever, true);
}

}  // namespace

using namespace green;

#define GREEN_STDIO_WRAPPER(ret, name, params, args, fp) \
    GREEN_EXPORT ret name params                         \
    {                                                    \
        before_read(fp);                                 \
        return REAL(name) args;                          \
    }
GREEN_STDIO_INPUT(GREEN_STDIO_WRAPPER)
#undef GREEN_STDIO_WRAPPER

// The variadic scanf forms.  Programs built as C99 or later (and C++) call the __isoc99_
// names; the headers redirect fscanf and scanf to them, so those are the ones to define.
GREEN_EXPORT int __isoc99_fscanf(FILE* fp, const char* format, ...)
{
    va_list ap;
    va_start(ap, format);
    int r = __isoc99_vfscanf(fp, format, ap);
    va_end(ap);
    return r;
}

GREEN_EXPORT int __isoc99_scanf(const char* format, ...)
{
    va_list ap;
    va_start(ap, format);
    int r = __isoc99_vfscanf(stdin, format, ap);
    va_end(ap);
    return r;
}

// ---- output ----
//
// glibc writes a stream's buffer out (a flush) with its own internal write, which no wrapper
// sees and which blocks the whole OS thread while a pipe, socket, FIFO or tty is full.  Making
// that write non-blocking is not an option: stdio would see EAGAIN, set the error flag and drop
// the buffered bytes.  So the output functions let glibc flush only when the descriptor has
// room: from the stream's own pointers (no system call) they tell whether the call may flush;
// if it may, the green thread waits for POLLOUT first (one poll(0) when there is room), and a
// call with more data than the buffer holds is fed to glibc in pieces that each flush at most
// one buffer.  POLLOUT on a pipe means one free page (4096 bytes, the buffer glibc gives a
// pipe), on a socket that its send buffer is a third (TCP) or three quarters (UNIX) free.
// What can still block once per flush: a buffer larger than the free room (setvbuf with a
// larger buffer, or a full one on a TCP socket whose free space is smaller than the buffer),
// and an unbuffered stream on a socket, which writes what it is given in one piece (a datagram
// socket keeps its message boundaries).  The printf family formats into memory first (so the
// length is known) and writes the result as fwrite does.
//
// What those waits cannot make safe runs in a glibc scope (shim/shim.h): syscall user dispatch
// then sends glibc's own reads and writes of the calling thread through libgreen, where they go
// green (a write takes what fits and parks for the rest).  That is a flush of more than a
// page (a buffer set larger with setvbuf), fflush(NULL) and exit's flush (libgreen flushes each
// green stream with output pending itself first, held, outside glibc's list lock, so that no
// park happens under it), fclose, the wide-character functions (whose flushes convert and write
// inside one glibc call, input included) and perror.  A scope costs two prctl calls, and each
// system call inside it a trap (1 to 2 us): only for those calls, only on green streams, and
// not for a wide call that surely stays in the stream's buffers (most of them) or whose flush
// writes at most a page of ASCII text, nor for a perror that writes at most a page (they wait
// for room as the narrow calls do).
// Without dispatch (GREEN_SYSCALL_DISPATCH=off, valgrind, an old kernel) they block as glibc's
// calls do.
//
// While a green thread waits in the middle of an output call (or of fgets, getline, fread
// below), it holds the stream: another green thread of the same OS thread would otherwise get
// glibc's recursive stream lock, which belongs to the OS thread, and write or read in the middle
// of it.  Such holds are few and short: a small table of them, which the fast path of an output
// call looks at only when it is not empty.

namespace {

// glibc's stream flags (libio.h, not in the public headers).
constexpr int kUnbuffered = 0x0002;
constexpr int kLineBuffered = 0x0200;
constexpr int kPutting = 0x0800;

// Pieces written to an unbuffered pipe or tty: PIPE_BUF, which POLLOUT promises on a pipe.
constexpr size_t kPiece = 4096;

struct Hold {
    FILE* fp;
    Green* owner;
    int depth;
    uint32_t seq;    // futex word: bumped at release
    bool contended;  // someone waits: the release wakes them
};
constexpr int kHolds = 64;
Hold holds[kHolds];
SpinLock holds_lock;
std::atomic<int> holds_used{0};

// In a child of fork only the forking green thread lives, and it holds no stream then (fork
// is not called from inside these functions): the holds of the others go.
void holds_after_fork()
{
    new (&holds_lock) SpinLock();
    for (Hold& h : holds)
        h = Hold{nullptr, nullptr, 0, h.seq + 1, false};
    holds_used.store(0, std::memory_order_relaxed);
}

// Takes a hold of fp for the running green thread (a depth more if it has one), waiting until
// no other green thread holds it; nullptr when the table is full (it then holds nothing, and
// writes may interleave) or, with try_only, when another holds it (busy set).
Hold* hold_take(FILE* fp, bool try_only = false, bool* busy = nullptr)
{
    static std::atomic<bool> atfork{false};
    if (!atfork.load(std::memory_order_relaxed) && !atfork.exchange(true))
        pthread_atfork(nullptr, nullptr, holds_after_fork);
    Green* self = green_self();
    for (;;) {
        uint32_t* word = nullptr;
        uint32_t seen = 0;
        {
            SpinGuard g(holds_lock);
            Hold* free_slot = nullptr;
            for (Hold& h : holds) {
                if (h.fp == fp) {
                    if (h.owner == self) {
                        h.depth++;
                        return &h;
                    }
                    word = &h.seq;
                    seen = h.seq;
                    h.contended = !try_only || h.contended;
                    break;
                }
                if (!h.fp && !free_slot)
                    free_slot = &h;
            }
            if (!word) {
                if (free_slot) {
                    *free_slot = Hold{fp, self, 1, free_slot->seq, false};
                    holds_used.fetch_add(1, std::memory_order_relaxed);
                }
                return free_slot;
            }
        }
        if (try_only) {
            *busy = true;
            return nullptr;
        }
        futex_wait(word, seen, kForever, false, "stdio stream");
    }
}

// One depth of a hold less; the last lets the next green thread in.
void hold_drop(Hold* held)
{
    bool contended;
    {
        SpinGuard g(holds_lock);
        if (--held->depth > 0)
            return;
        held->fp = nullptr;
        held->owner = nullptr;
        held->seq++;
        contended = held->contended;
        held->contended = false;
        holds_used.fetch_sub(1, std::memory_order_relaxed);
    }
    if (contended)
        futex_wake(&held->seq, INT32_MAX);
}

// The running green thread's hold of fp, or nullptr.
Hold* hold_of_self(FILE* fp)
{
    if (holds_used.load(std::memory_order_relaxed) == 0)
        return nullptr;
    Green* self = green_self();
    SpinGuard g(holds_lock);
    for (Hold& h : holds)
        if (h.fp == fp && h.owner == self)
            return &h;
    return nullptr;
}

// Holds fp for the running green thread while it lives (hold_take).  Constructed with lazy
// set, it takes the hold only at acquire(), before the first wait: until the green thread
// waits, no other can have started on the stream, provided none held it at the start (which
// the constructor checks).
class StreamHold {
public:
    explicit StreamHold(FILE* fp, bool lazy = false) : fp_(fp)
    {
        if (!lazy || holds_used.load(std::memory_order_relaxed) != 0)
            acquire();
    }
    void acquire()
    {
        if (tried_)
            return;
        tried_ = true;
        held_ = hold_take(fp_);
    }
    ~StreamHold()
    {
        if (held_)
            hold_drop(held_);
    }
    StreamHold(const StreamHold&) = delete;
    StreamHold& operator=(const StreamHold&) = delete;

private:
    FILE* fp_;
    bool tried_ = false;
    Hold* held_ = nullptr;
};

// Whether another green thread holds fp now (then the caller must take its turn).
bool held_by_other(FILE* fp)
{
    if (holds_used.load(std::memory_order_relaxed) == 0)
        return false;
    Green* self = green_self();
    SpinGuard g(holds_lock);
    for (const Hold& h : holds)
        if (h.fp == fp)
            return h.owner != self;
    return false;
}

}  // namespace

// flockfile and friends in a green thread.  glibc records a stream lock's owner as the OS
// thread (THREAD_SELF), which several green threads share: alone, its lock would let a second
// green thread of the same OS thread in (recursively) while the first holds it, and a holder
// moved to another OS thread would wait for itself.  So a green thread first takes libgreen's
// hold of the stream (one green thread at a time, process-wide; the others wait green), then
// glibc's lock, and is pinned to its OS thread (hub/green.h) until it lets go.
GREEN_EXPORT void flockfile(FILE* fp)
{
    Green* self = green_self();
    if (self && green_in(kStdio))
        hold_take(fp);
    REAL(flockfile)(fp);
    pin(self);
}

GREEN_EXPORT int ftrylockfile(FILE* fp)
{
    Green* self = green_self();
    bool busy = false;
    Hold* held = self && green_in(kStdio) ? hold_take(fp, true, &busy) : nullptr;
    if (busy)
        return -1;  // glibc's answer for a lock another thread holds
    int r = REAL(ftrylockfile)(fp);
    if (r != 0) {
        if (held)
            hold_drop(held);
        return r;
    }
    pin(self);
    return 0;
}

GREEN_EXPORT void funlockfile(FILE* fp)
{
    Green* self = green_self();
    REAL(funlockfile)(fp);
    if (Hold* held = self ? hold_of_self(fp) : nullptr)
        hold_drop(held);
    unpin(self);
}

namespace {

// Holds fp for the running green thread if nobody does (a free slot, no waiting): the hold, or
// null.  Safe under glibc's list lock.
Hold* try_hold(FILE* fp)
{
    Green* self = green_self();
    SpinGuard g(holds_lock);
    Hold* free_slot = nullptr;
    for (Hold& h : holds) {
        if (h.fp == fp)
            return nullptr;
        if (!h.fp && !free_slot)
            free_slot = &h;
    }
    if (free_slot) {
        *free_slot = Hold{fp, self, 1, free_slot->seq, false};
        holds_used.fetch_add(1, std::memory_order_relaxed);
    }
    return free_slot;
}

// glibc's stream lock for a scope (a cancellation unwinding through the scope releases it), or
// nothing for the _unlocked forms.  Not for a stream the program locks itself
// (__fsetlocking FSETLOCKING_BYCALLER): glibc's own functions leave those unlocked too.
class StreamLock {
public:
    explicit StreamLock(FILE* fp, bool lock = true)
        : fp_(lock && !(fp->_flags & _IO_USER_LOCK) ? fp : nullptr)
    {
        if (fp_)
            flockfile(fp_);
    }
    ~StreamLock()
    {
        if (fp_)
            funlockfile(fp_);
    }
    StreamLock(const StreamLock&) = delete;
    StreamLock& operator=(const StreamLock&) = delete;

private:
    FILE* fp_;
};

// The descriptor of a byte stream whose writes should not block the OS thread, or -1.
int green_out_fd(FILE* fp)
{
    if (!green_in(kStdio) || !fp || fp->_mode > 0)
        return -1;
    int fd = fp->_fileno;
    return green_fd(fd) ? fd : -1;
}

// Whether fp is a stream on a descriptor libgreen manages, of either orientation.
bool green_stream(FILE* fp)
{
    return green_in(kStdio) && fp && fp->_fileno >= 0 && green_fd(fp->_fileno);
}

// Room left in fp's buffer before glibc must flush (0: no buffer yet, or not writing).
size_t put_room(FILE* fp)
{
    if (!(fp->_flags & kPutting) || !fp->_IO_write_ptr || (fp->_flags & kUnbuffered))
        return 0;
    return size_t(fp->_IO_buf_end - fp->_IO_write_ptr);
}

bool pending_output(FILE* fp)
{
    return (fp->_flags & kPutting) && fp->_IO_write_ptr > fp->_IO_write_base;
}

// The first fields of glibc's struct _IO_wide_data (libio.h, not in the public headers): a wide
// stream's own buffer, before conversion.
struct WideBuffer {
    wchar_t* read_ptr;
    wchar_t* read_end;
    wchar_t* read_base;
    wchar_t* write_base;
    wchar_t* write_ptr;
    wchar_t* write_end;
    wchar_t* buf_base;
    wchar_t* buf_end;
};

const WideBuffer* wide_buffer(FILE* fp)
{
    return fp->_mode > 0 ? reinterpret_cast<const WideBuffer*>(fp->_wide_data) : nullptr;
}

// How many wide characters glibc stores in fp's wide buffer before it must flush (0: not a
// wide stream that is writing, or unbuffered).  A line-buffered stream keeps write_end at
// write_ptr, so that every character goes through the overflow, which flushes only for a
// newline or a full buffer: its room runs to the end of the buffer (glibc 2.36, wfileops.c).
size_t wide_room(FILE* fp)
{
    const WideBuffer* w = wide_buffer(fp);
    if (!w || !w->write_base || !w->write_ptr || !(fp->_flags & kPutting) ||
        (fp->_flags & kUnbuffered))
        return 0;
    const wchar_t* end = (fp->_flags & kLineBuffered) ? w->buf_end : w->write_end;
    return end > w->write_ptr ? size_t(end - w->write_ptr) : 0;
}

// Whether putting n characters of s on fp only stores them in the wide buffer: they fit with
// room to spare (a full buffer flushes at the next character), and no newline on a
// line-buffered stream.
bool wide_fits(FILE* fp, const wchar_t* s, size_t n)
{
    return n < wide_room(fp) && !((fp->_flags & kLineBuffered) && wmemchr(s, L'\n', n));
}

// Whether getting a character from fp takes it from the wide buffer.
bool wide_get_buffered(FILE* fp)
{
    const WideBuffer* w = wide_buffer(fp);
    return w && w->read_ptr < w->read_end;
}

// Whether fgetws(s, n, fp) finds its whole line in the wide buffer: n - 1 characters, or a
// newline among them (glibc's _IO_getwline refills only when the buffer runs out first).
bool wide_line_buffered(FILE* fp, int n)
{
    const WideBuffer* w = wide_buffer(fp);
    if (!w || n <= 1 || !w->read_ptr || w->read_ptr >= w->read_end)
        return false;
    size_t have = size_t(w->read_end - w->read_ptr);
    return have >= size_t(n - 1) || wmemchr(w->read_ptr, L'\n', have);
}

// glibc's struct _IO_codecvt (libio.h, not in the public headers): a wide stream's conversions,
// chosen from the locale when the stream took its orientation.
struct Codecvt {
    struct Conversion {
        __gconv_step* step;
        __gconv_step_data step_data;
    };
    Conversion in;
    Conversion out;
};

bool all_ascii(const wchar_t* s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (uint32_t(s[i]) >= 0x80)
            return false;
    return true;
}

// Whether a wide output call that puts the n characters of s on fp writes at most a page in
// all, the room POLLOUT promises (see the top of this section): then a wait for room before
// the call keeps its writes from blocking, and it needs no glibc scope.  glibc writes a wide
// flush in pieces of 16 bytes (wfileops.c converts into a 16-byte array while its byte buffer
// is empty), one system call each: in a scope, a trap each.  What the call writes: the byte
// buffer's pending output, and of the wide characters (the pending ones, then s) those up to
// the last newline on a line-buffered stream, everything on an unbuffered one, and whole
// buffers on a fully buffered one; each takes one byte when it is ASCII and the stream's
// conversion keeps no shift state and writes one byte at least per character (every locale's
// character set but the stateful ones).  Anything else (other characters, a stream that is
// not writing yet) is not counted: no.  With flush, for an fflush of fp: everything pending.
bool wide_small_flush(FILE* fp, const wchar_t* s, size_t n, bool flush = false)
{
    const WideBuffer* w = wide_buffer(fp);
    auto* cv = reinterpret_cast<const Codecvt*>(fp->_codecvt);
    const __gconv_step* step = cv ? cv->out.step : nullptr;
    if (!w || !step || step->__stateful || step->__min_needed_to != 1 || !w->buf_base ||
        w->buf_end <= w->buf_base || !(fp->_flags & kPutting) || !w->write_ptr ||
        w->write_base != w->buf_base)
        return false;
    size_t pending = size_t(w->write_ptr - w->write_base);
    size_t out = pending + n;
    if (!flush && !(fp->_flags & (kUnbuffered | kLineBuffered)))
        out -= out % size_t(w->buf_end - w->buf_base);
    size_t bytes = pending_output(fp) ? size_t(fp->_IO_write_ptr - fp->_IO_write_base) : 0;
    return bytes + out <= kPiece && all_ascii(s, n) && all_ascii(w->write_base, pending);
}

// Whether a wide stream has characters waiting in its wide buffer.
bool wide_pending(FILE* fp)
{
    const WideBuffer* w = wide_buffer(fp);
    return w && (fp->_flags & kPutting) && w->write_ptr > w->write_base;
}

// Whether flushing fp now may write more than a page, which a pipe with room (POLLOUT) need not
// take at once: then the flush runs in a glibc scope.
bool big_flush(FILE* fp)
{
    if (fp->_mode > 0)
        return !wide_small_flush(fp, nullptr, 0, true);
    return pending_output(fp) && size_t(fp->_IO_write_ptr - fp->_IO_write_base) > kPiece;
}

// Whether fp's buffer is larger than a page: a flush of it may not fit the room POLLOUT
// promises.
bool big_buffer(FILE* fp)
{
    return size_t(fp->_IO_buf_end - fp->_IO_buf_base) > kPiece;
}

// Whether writing n bytes of p to fp can make glibc write to its descriptor.
bool may_flush(FILE* fp, const char* p, size_t n)
{
    return n >= put_room(fp) || ((fp->_flags & kLineBuffered) && memchr(p, '\n', n));
}

// Waits until fd has room for a flush.
void wait_room(int fd)
{
    pollfd p = {fd, POLLOUT, 0};
    if (REAL(poll)(&p, 1, 0) == 0)
        wait_fd(fd, EV_WRITE, kForever, true);
}

// Before glibc flushes fp, a green stream, by itself: waits for room if the flush will write,
// and says whether the flush needs a glibc scope.
bool prepare_flush(FILE* fp)
{
    if (pending_output(fp) || (fp->_flags & kUnbuffered) || wide_pending(fp))
        wait_room(fp->_fileno);
    return big_flush(fp);
}

// Writes n bytes of p to fp (a stream on descriptor fd) through glibc, flushing only when fd
// has room; returns how many bytes glibc took (fewer after a write error, which glibc reports
// on the stream as usual).
size_t green_put(FILE* fp, int fd, const char* p, size_t n)
{
    StreamHold hold(fp);
    StreamLock lock(fp);
    bool socket = fd_get(fd) && fd_get(fd)->kind == FdKind::Socket;
    size_t done = 0;
    while (done < n) {
        size_t left = n - done;
        size_t piece;
        if (fp->_flags & kUnbuffered) {
            piece = socket ? left : std::min(left, kPiece);
        } else {
            size_t room = put_room(fp);
            if (room == 0 && pending_output(fp)) {  // a full buffer: flush it alone
                wait_room(fd);
                GlibcScope scope(big_flush(fp));
                if (REAL(fflush_unlocked)(fp) == EOF)
                    break;
                continue;
            }
            // Up to the end of the buffer (no flush), or with no buffer yet one buffer's worth
            // (at most one flush).
            piece = std::min(left, room ? room : kPiece);
        }
        bool flush = may_flush(fp, p + done, piece);
        if (flush)
            wait_room(fd);
        GlibcScope scope(flush && big_buffer(fp));
        size_t k = REAL(fwrite_unlocked)(p + done, 1, piece, fp);
        done += k;
        if (k < piece)
            break;
    }
    return done;
}

// The green path of an output call: false when the call should simply go to glibc (not a
// green stream, or it cannot flush and nobody holds the stream).
bool output_goes_green(FILE* fp, const char* p, size_t n, int* fd)
{
    if (n == 0)
        return false;
    bool flush = may_flush(fp, p, n);  // the stream's pointers first: no look-up at all
    if (!flush && holds_used.load(std::memory_order_relaxed) == 0)
        return false;
    *fd = green_out_fd(fp);
    return *fd >= 0 && (flush || held_by_other(fp));
}

// Waits for room before glibc flushes fp's pending output by itself (fflush, fclose, the
// __overflow of an inline putc).
template <class Call>
auto flush_green(FILE* fp, Call call) -> decltype(call())
{
    if (!green_stream(fp))
        return call();
    StreamHold hold(fp);
    bool big = prepare_flush(fp);
    GlibcScope scope(big);
    return call();
}

// Before glibc flushes every stream by itself (fflush(NULL), exit): flushes each green stream
// with output pending (any wide one) first, so that glibc finds nothing left to write on them.
// The streams are taken under glibc's list lock, each held (StreamHold: fclose waits for the
// hold, so the stream outlives it), and flushed after the list lock is released (no park holds
// it).  A stream another green thread holds is busy writing: it is left to glibc's flush.
void flush_all_green()
{
    if (!green_in(kStdio))
        return;
    Hold* held[64];
    FILE* fps[64];
    int n = 0;
    _IO_list_lock();
    for (FILE* fp = _IO_list_all; fp && n < 64; fp = fp->_chain) {
        if ((fp->_mode > 0 || pending_output(fp)) && green_stream(fp) && (held[n] = try_hold(fp)))
            fps[n++] = fp;
    }
    _IO_list_unlock();
    for (int i = 0; i < n; i++) {
        {
            bool big = prepare_flush(fps[i]);
            GlibcScope scope(big);
            REAL(fflush)(fps[i]);
        }
        hold_drop(held[i]);
    }
}

}  // namespace

#define GREEN_STDIO_OUTPUT_WRAPPER(ret, name, params, args, fp, data, len, ok, fail) \
    GREEN_EXPORT ret name params                                                     \
    {                                                                                \
        char ch;                                                                     \
        (void)ch;                                                                    \
        const char* d = static_cast<const char*>(static_cast<const void*>(data));    \
        size_t total = len;                                                          \
        int fd;                                                                      \
        if (!output_goes_green(fp, d, total, &fd))                                   \
            return REAL(name) args;                                                  \
        size_t done = green_put(fp, fd, d, total);                                   \
        return done == total ? ret(ok) : ret(fail);                                  \
    }
GREEN_STDIO_OUTPUT(GREEN_STDIO_OUTPUT_WRAPPER)
#undef GREEN_STDIO_OUTPUT_WRAPPER

// puts writes the string and a newline under one lock; it returns a non-negative number (the
// bytes written, at most INT_MAX) or EOF.
GREEN_EXPORT int puts(const char* s)
{
    FILE* fp = stdout;
    size_t n = strlen(s);
    int fd;
    if (!output_goes_green(fp, "\n", 1, &fd) && !output_goes_green(fp, s, n + 1, &fd))
        return REAL(puts)(s);
    StreamHold hold(fp);
    StreamLock lock(fp);
    if (green_put(fp, fd, s, n) != n || green_put(fp, fd, "\n", 1) != 1)
        return EOF;
    return n + 1 > INT_MAX ? INT_MAX : int(n + 1);
}

GREEN_EXPORT int fflush(FILE* fp)
{
    if (!fp) {
        flush_all_green();
        return REAL(fflush)(fp);
    }
    return flush_green(fp, [&] { return REAL(fflush)(fp); });
}

GREEN_EXPORT int fflush_unlocked(FILE* fp)
{
    if (!fp) {
        flush_all_green();
        return REAL(fflush_unlocked)(fp);
    }
    return flush_green(fp, [&] { return REAL(fflush_unlocked)(fp); });
}

// Called by the inline putc_unlocked and putchar_unlocked of <stdio.h> when the buffer is full,
// and for every character on a line-buffered or unbuffered stream: it flushes only for a full
// buffer, a newline on a line-buffered stream, or EOF (a flush request).
GREEN_EXPORT int __overflow(FILE* fp, int c)
{
    char ch = char(c);
    int fd;
    if (c != EOF && !output_goes_green(fp, &ch, 1, &fd))
        return REAL(__overflow)(fp, c);
    return flush_green(fp, [&] { return REAL(__overflow)(fp, c); });
}

namespace {

// Whether a call that surely stays in fp's buffers may go straight to glibc: no other green
// thread holds the stream (one that parked inside a call on it would otherwise see its buffer
// change under it).  The state is read without glibc's lock: a green thread of another worker
// that writes at the same moment can make the call flush after all, which then blocks this OS
// thread for that write, as glibc's call does without libgreen; no byte is lost or reordered.
bool stays_buffered(FILE* fp, bool quick) { return quick && !held_by_other(fp); }

// A wide output call, call(), that puts the n characters of s on fp, a green stream: straight
// to glibc when they stay in the buffer; after a wait for room when its writes fit the room;
// else in a glibc scope.
template <class Call>
auto wide_put(FILE* fp, const wchar_t* s, size_t n, Call call) -> decltype(call())
{
    if (stays_buffered(fp, wide_fits(fp, s, n)))
        return call();
    StreamHold hold(fp);
    if (wide_fits(fp, s, n))  // after another green thread's turn, which flushed
        return call();
    bool small = wide_small_flush(fp, s, n);
    if (small)
        wait_room(fp->_fileno);
    GlibcScope scope(!small);
    return call();
}

// The wide printf forms: formatted into memory first (format(buf, size) is a vswprintf, which
// fails when the text needs more than size - 1 characters), so that the checks above know the
// text, which then goes to fputws; longer text, a null character in it or an encoding error
// go to glibc's own call in a glibc scope.
template <class Format, class Real>
int wprint_green(FILE* fp, Format format, Real real)
{
    if (!green_stream(fp))
        return real();
    wchar_t text[256];
    int saved_errno = errno;  // for %m, and vswprintf's own errors are not the call's
    int n = format(text, sizeof text / sizeof *text);
    errno = saved_errno;
    if (n >= 0 && !wmemchr(text, L'\0', size_t(n)))
        return wide_put(fp, text, size_t(n), [&] { return REAL(fputws)(text, fp) == EOF ? -1 : n; });
    StreamHold hold(fp);
    GlibcScope scope;
    return real();
}

}  // namespace

#define GREEN_STDIO_WIDE_OUTPUT_WRAPPER(ret, name, params, args, fp, text, count) \
    GREEN_EXPORT ret name params                                                  \
    {                                                                             \
        FILE* stream = fp;                                                        \
        if (!green_stream(stream))                                                \
            return REAL(name) args;                                               \
        return wide_put(stream, text, count, [&] { return REAL(name) args; });    \
    }
GREEN_STDIO_WIDE_OUTPUT(GREEN_STDIO_WIDE_OUTPUT_WRAPPER)
#undef GREEN_STDIO_WIDE_OUTPUT_WRAPPER

// The wide-character input functions: their reads happen inside glibc, in a glibc scope when
// the stream is a green one (see the top of this section), unless the call surely takes what it
// needs from the stream's buffer.
#define GREEN_STDIO_GLIBC_WRAPPER(ret, name, params, args, fp, quick) \
    GREEN_EXPORT ret name params                                      \
    {                                                                 \
        FILE* stream = fp;                                            \
        if (!green_stream(stream) || stays_buffered(stream, quick))   \
            return REAL(name) args;                                   \
        StreamHold hold(stream);                                      \
        GlibcScope scope;                                             \
        return REAL(name) args;                                       \
    }
GREEN_STDIO_GLIBC(GREEN_STDIO_GLIBC_WRAPPER)
#undef GREEN_STDIO_GLIBC_WRAPPER

extern "C" int __vswprintf_chk(wchar_t*, size_t, int, size_t, const wchar_t*, va_list);

GREEN_EXPORT int vfwprintf(FILE* fp, const wchar_t* f, va_list ap)
{
    return wprint_green(
        fp,
        [&](wchar_t* b, size_t size) {
            va_list c;
            va_copy(c, ap);
            int n = vswprintf(b, size, f, c);
            va_end(c);
            return n;
        },
        [&] { return REAL(vfwprintf)(fp, f, ap); });
}

GREEN_EXPORT int __vfwprintf_chk(FILE* fp, int flag, const wchar_t* f, va_list ap)
{
    return wprint_green(
        fp,
        [&](wchar_t* b, size_t size) {
            va_list c;
            va_copy(c, ap);
            int n = __vswprintf_chk(b, size, flag, size, f, c);
            va_end(c);
            return n;
        },
        [&] { return REAL(__vfwprintf_chk)(fp, flag, f, ap); });
}

GREEN_EXPORT int vwprintf(const wchar_t* f, va_list ap) { return vfwprintf(stdout, f, ap); }

GREEN_EXPORT int __vwprintf_chk(int flag, const wchar_t* f, va_list ap)
{
    return __vfwprintf_chk(stdout, flag, f, ap);
}

// perror writes "s: message\n" to stderr with glibc's own write: one, when the stream is
// unbuffered (glibc formats into a buffer of its own first); on a buffered stream the message
// joins the pending output and may flush it.  When that is at most a page, a wait for room
// keeps the write from blocking (no message is longer than 256 bytes); else a glibc scope.
GREEN_EXPORT void perror(const char* s)
{
    FILE* fp = stderr;
    if (!green_stream(fp))
        return REAL(perror)(s);
    int saved_errno = errno;  // what perror reports
    StreamHold hold(fp);
    size_t pending = pending_output(fp) ? size_t(fp->_IO_write_ptr - fp->_IO_write_base) : 0;
    size_t most = pending + (s ? strlen(s) : 0) + 2 + 256;
    bool small = fp->_mode <= 0 && most <= kPiece && ((fp->_flags & kUnbuffered) || !big_buffer(fp));
    if (small)
        wait_room(fp->_fileno);
    GlibcScope scope(!small);
    errno = saved_errno;
    REAL(perror)(s);
}

// The variadic forms, through the va_list ones above.
GREEN_EXPORT int fwprintf(FILE* fp, const wchar_t* format, ...)
{
    va_list ap;
    va_start(ap, format);
    int r = vfwprintf(fp, format, ap);
    va_end(ap);
    return r;
}

GREEN_EXPORT int wprintf(const wchar_t* format, ...)
{
    va_list ap;
    va_start(ap, format);
    int r = vwprintf(format, ap);
    va_end(ap);
    return r;
}

GREEN_EXPORT int __fwprintf_chk(FILE* fp, int flag, const wchar_t* format, ...)
{
    va_list ap;
    va_start(ap, format);
    int r = __vfwprintf_chk(fp, flag, format, ap);
    va_end(ap);
    return r;
}

GREEN_EXPORT int __wprintf_chk(int flag, const wchar_t* format, ...)
{
    va_list ap;
    va_start(ap, format);
    int r = __vwprintf_chk(flag, format, ap);
    va_end(ap);
    return r;
}

GREEN_EXPORT int __isoc99_fwscanf(FILE* fp, const wchar_t* format, ...)
{
    va_list ap;
    va_start(ap, format);
    int r = __isoc99_vfwscanf(fp, format, ap);
    va_end(ap);
    return r;
}

GREEN_EXPORT int __isoc99_wscanf(const wchar_t* format, ...)
{
    va_list ap;
    va_start(ap, format);
    int r = __isoc99_vwscanf(format, ap);
    va_end(ap);
    return r;
}

namespace green {

// exit flushes every stream after the handlers atexit registered, which run in the reverse
// order: registered at start-up, before the program's, this one runs last.
void stdio_setup()
{
    atexit(flush_all_green);
}

// fclose flushes with glibc's internal write and closes with its internal close (shim/process.cpp
// calls this first): wait for room, and forget the descriptor before it goes.
void stdio_closing(FILE* fp)
{
    if (green_stream(fp)) {
        StreamHold hold(fp);
        if (prepare_flush(fp)) {  // fclose would write it all at once: flushed here, green
            GlibcScope scope;
            REAL(fflush)(fp);
        }
    }
    if (green_in(kStdio) && fp && fp->_fileno >= 0)
        fd_forget(fp->_fileno);
}

}  // namespace green

// ---- the printf family ----

namespace {

// Formats into memory, then writes as fwrite does; format(buf, size) is a vsnprintf.
template <class Format, class Real>
int print_green(FILE* fp, Format format, Real real)
{
    int fd = green_out_fd(fp);
    if (fd < 0)
        return real();
    char local[1024];
    int saved_errno = errno;  // for a second formatting of %m
    int n = format(local, sizeof local);
    if (n < 0) {  // an encoding error: glibc writes what came before it; let it
        StreamHold hold(fp);
        wait_room(fd);
        errno = saved_errno;
        return real();
    }
    char* buf = local;
    if (size_t(n) >= sizeof local) {
        buf = static_cast<char*>(malloc(size_t(n) + 1));
        if (!buf) {
            errno = ENOMEM;
            return -1;
        }
        errno = saved_errno;
        format(buf, size_t(n) + 1);
    }
    int result = n;
    if (n > 0 && (may_flush(fp, buf, size_t(n)) || held_by_other(fp))) {
        if (green_put(fp, fd, buf, size_t(n)) != size_t(n))
            result = -1;
    } else if (n > 0 && REAL(fwrite)(buf, 1, size_t(n), fp) != size_t(n)) {
        result = -1;
    }
    if (buf != local)
        free(buf);
    return result;
}

// dprintf and vdprintf write to a descriptor through a stream of glibc's own: format into
// memory and write with the green write.
template <class Format, class Real>
int dprint_green(int fd, Format format, Real real)
{
    if (!green_fd(fd))
        return real();
    char local[1024];
    int saved_errno = errno;
    int n = format(local, sizeof local);
    if (n < 0) {
        errno = saved_errno;
        return real();
    }
    char* buf = local;
    if (size_t(n) >= sizeof local) {
        buf = static_cast<char*>(malloc(size_t(n) + 1));
        if (!buf) {
            errno = ENOMEM;
            return -1;
        }
        errno = saved_errno;
        format(buf, size_t(n) + 1);
    }
    ssize_t w = n > 0 ? write(fd, buf, size_t(n)) : 0;
    if (buf != local)
        free(buf);
    return w == n ? n : -1;
}

}  // namespace

extern "C" int __vsnprintf_chk(char*, size_t, int, size_t, const char*, va_list);

GREEN_EXPORT int vfprintf(FILE* fp, const char* f, va_list ap)
{
    return print_green(
        fp,
        [&](char* b, size_t size) {
            va_list c;
            va_copy(c, ap);
            int n = vsnprintf(b, size, f, c);
            va_end(c);
            return n;
        },
        [&] { return REAL(vfprintf)(fp, f, ap); });
}

GREEN_EXPORT int __vfprintf_chk(FILE* fp, int flag, const char* f, va_list ap)
{
    return print_green(
        fp,
        [&](char* b, size_t size) {
            va_list c;
            va_copy(c, ap);
            int n = __vsnprintf_chk(b, size, flag, size, f, c);
            va_end(c);
            return n;
        },
        [&] { return REAL(__vfprintf_chk)(fp, flag, f, ap); });
}

GREEN_EXPORT int vprintf(const char* f, va_list ap) { return vfprintf(stdout, f, ap); }

GREEN_EXPORT int __vprintf_chk(int flag, const char* f, va_list ap)
{
    return __vfprintf_chk(stdout, flag, f, ap);
}

GREEN_EXPORT int fprintf(FILE* fp, const char* f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vfprintf(fp, f, ap);
    va_end(ap);
    return n;
}

GREEN_EXPORT int printf(const char* f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vfprintf(stdout, f, ap);
    va_end(ap);
    return n;
}

GREEN_EXPORT int __fprintf_chk(FILE* fp, int flag, const char* f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = __vfprintf_chk(fp, flag, f, ap);
    va_end(ap);
    return n;
}

GREEN_EXPORT int __printf_chk(int flag, const char* f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = __vfprintf_chk(stdout, flag, f, ap);
    va_end(ap);
    return n;
}

GREEN_EXPORT int vdprintf(int fd, const char* f, va_list ap)
{
    return dprint_green(
        fd,
        [&](char* b, size_t size) {
            va_list c;
            va_copy(c, ap);
            int n = vsnprintf(b, size, f, c);
            va_end(c);
            return n;
        },
        [&] { return REAL(vdprintf)(fd, f, ap); });
}

GREEN_EXPORT int __vdprintf_chk(int fd, int flag, const char* f, va_list ap)
{
    return dprint_green(
        fd,
        [&](char* b, size_t size) {
            va_list c;
            va_copy(c, ap);
            int n = __vsnprintf_chk(b, size, flag, size, f, c);
            va_end(c);
            return n;
        },
        [&] { return REAL(__vdprintf_chk)(fd, flag, f, ap); });
}

GREEN_EXPORT int dprintf(int fd, const char* f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vdprintf(fd, f, ap);
    va_end(ap);
    return n;
}

GREEN_EXPORT int __dprintf_chk(int fd, int flag, const char* f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = __vdprintf_chk(fd, flag, f, ap);
    va_end(ap);
    return n;
}

// ---- input that may take several refills: fgets, getline, getdelim, fread ----
//
// As glibc 2.36 does them (libio/iogets.c, iogetline.c, iogetdelim.c, fileops.c), reading the
// buffer through the public pointers that the inline getc_unlocked uses too, and waiting green
// before each refill.  Streams in another state (writing, wide, in ungetc's pushback area at
// the start) go to glibc, after the one wait.

namespace {

constexpr int kNoReads = 0x0004;

// The descriptor of a byte stream read green, or -1.
int green_in_fd(FILE* fp)
{
    if (!green_in(kStdio) || !fp || fp->_mode > 0 || (fp->_flags & (kPutting | kNoReads)))
        return -1;
    int fd = fp->_fileno;
    return green_fd(fd) ? fd : -1;
}

// __underflow with a green wait first (holding the stream from then on): the next byte, left
// in the buffer, or EOF.
int refill(FILE* fp, StreamHold& hold)
{
    hold.acquire();
    before_read(fp);
    return __underflow(fp);
}

// fgets: at most limit bytes, up to and including a newline.  Returns the count; -1 when
// glibc's fgets returns NULL for an error.
char* green_fgets(char* buf, size_t limit, FILE* fp, bool lock, size_t* count)
{
    StreamHold hold(fp, true);
    StreamLock l(fp, lock);
    int old_error = fp->_flags & _IO_ERR_SEEN;
    fp->_flags &= ~_IO_ERR_SEEN;
    char* p = buf;
    size_t left = limit;
    while (left > 0) {
        ssize_t have = fp->_IO_read_end - fp->_IO_read_ptr;
        if (have <= 0) {
            if (refill(fp, hold) == EOF)
                break;
            continue;
        }
        size_t k = std::min(size_t(have), left);
        auto* nl = static_cast<char*>(memchr(fp->_IO_read_ptr, '\n', k));
        if (nl)
            k = size_t(nl - fp->_IO_read_ptr) + 1;
        memcpy(p, fp->_IO_read_ptr, k);
        fp->_IO_read_ptr += k;
        p += k;
        left -= k;
        if (nl)
            break;
    }
    *count = size_t(p - buf);
    char* result;
    if (*count == 0 || ((fp->_flags & _IO_ERR_SEEN) && errno != EAGAIN)) {
        result = nullptr;
    } else {
        buf[*count] = '\0';
        result = buf;
    }
    fp->_flags |= old_error;
    return result;
}

char* do_fgets(char* buf, int n, FILE* fp, bool lock)
{
    if (green_in_fd(fp) < 0 || n <= 1) {
        before_read(fp);
        return lock ? REAL(fgets)(buf, n, fp) : REAL(fgets_unlocked)(buf, n, fp);
    }
    size_t count;
    return green_fgets(buf, size_t(n) - 1, fp, lock, &count);
}

ssize_t do_getdelim(char** lineptr, size_t* n, int delim, FILE* fp)
{
    if (green_in_fd(fp) < 0 || !lineptr || !n) {
        before_read(fp);
        return REAL(getdelim)(lineptr, n, delim, fp);
    }
    StreamHold hold(fp, true);
    StreamLock l(fp);
    if (*lineptr == nullptr || *n == 0) {
        *n = 120;
        *lineptr = static_cast<char*>(malloc(*n));
        if (*lineptr == nullptr)
            return -1;
    }
    ssize_t len = fp->_IO_read_end - fp->_IO_read_ptr;
    if (len <= 0) {
        if (refill(fp, hold) == EOF)
            return -1;
        len = fp->_IO_read_end - fp->_IO_read_ptr;
    }
    size_t cur_len = 0;
    for (;;) {
        auto* t = static_cast<char*>(memchr(fp->_IO_read_ptr, delim, size_t(len)));
        if (t)
            len = t - fp->_IO_read_ptr + 1;
        if (size_t(len) >= size_t(SSIZE_MAX) - cur_len) {
            errno = EOVERFLOW;
            return -1;
        }
        size_t needed = cur_len + size_t(len) + 1;
        if (needed > *n) {
            if (needed < 2 * *n)
                needed = 2 * *n;
            auto* bigger = static_cast<char*>(realloc(*lineptr, needed));
            if (!bigger) {
                fp->_flags |= _IO_ERR_SEEN;
                return -1;
            }
            *lineptr = bigger;
            *n = needed;
        }
        memcpy(*lineptr + cur_len, fp->_IO_read_ptr, size_t(len));
        fp->_IO_read_ptr += len;
        cur_len += size_t(len);
        if (t || refill(fp, hold) == EOF)
            break;
        len = fp->_IO_read_end - fp->_IO_read_ptr;
    }
    (*lineptr)[cur_len] = '\0';
    return ssize_t(cur_len);
}

// fread: from the buffer, refilling it green; a request of a buffer's size or more is read
// straight into the caller's memory once the buffer is empty, as glibc does.
size_t do_fread(void* buf, size_t size, size_t count, FILE* fp, bool lock)
{
    size_t requested = size * count;
    int fd = green_in_fd(fp);
    if (fd < 0 || requested == 0) {
        before_read(fp);
        return lock ? REAL(fread)(buf, size, count, fp) : REAL(fread_unlocked)(buf, size, count, fp);
    }
    StreamHold hold(fp, true);
    StreamLock l(fp, lock);
    char* s = static_cast<char*>(buf);
    size_t want = requested;
    while (want > 0) {
        ssize_t have = fp->_IO_read_end - fp->_IO_read_ptr;
        if (have > 0) {
            size_t k = std::min(size_t(have), want);
            memcpy(s, fp->_IO_read_ptr, k);
            fp->_IO_read_ptr += k;
            s += k;
            want -= k;
            continue;
        }
        size_t block = size_t(fp->_IO_buf_end - fp->_IO_buf_base);
        if (!fp->_IO_buf_base || (fp->_flags & 0x0100) || want < block) {
            if (refill(fp, hold) == EOF)
                break;
            continue;
        }
        // glibc's direct read: the buffer emptied, whole blocks into the caller's memory.
        size_t n = block >= 128 ? want - want % block : want;
        fp->_IO_read_base = fp->_IO_read_ptr = fp->_IO_read_end = fp->_IO_buf_base;
        fp->_IO_write_base = fp->_IO_write_ptr = fp->_IO_buf_base;
        hold.acquire();
        before_read(fp);
        ssize_t got = REAL(read)(fd, s, n);
        if (got <= 0) {
            fp->_flags |= got == 0 ? _IO_EOF_SEEN : _IO_ERR_SEEN;
            break;
        }
        if (fp->_offset != -1)
            fp->_offset += got;
        s += got;
        want -= size_t(got);
    }
    size_t done = requested - want;
    return done == requested ? count : done / size;
}

}  // namespace

GREEN_EXPORT char* fgets(char* buf, int n, FILE* fp) { return do_fgets(buf, n, fp, true); }

GREEN_EXPORT char* fgets_unlocked(char* buf, int n, FILE* fp) { return do_fgets(buf, n, fp, false); }

GREEN_EXPORT char* __fgets_chk(char* buf, size_t size, int n, FILE* fp)
{
    if (green_in_fd(fp) < 0 || n <= 1) {
        before_read(fp);
        return REAL(__fgets_chk)(buf, size, n, fp);
    }
    size_t count;
    char* result = green_fgets(buf, std::min(size_t(n) - 1, size), fp, true, &count);
    if (result && count >= size)
        __chk_fail();
    return result;
}

GREEN_EXPORT ssize_t getline(char** lineptr, size_t* n, FILE* fp)
{
    return do_getdelim(lineptr, n, '\n', fp);
}

GREEN_EXPORT ssize_t getdelim(char** lineptr, size_t* n, int delim, FILE* fp)
{
    return do_getdelim(lineptr, n, delim, fp);
}

GREEN_EXPORT ssize_t __getdelim(char** lineptr, size_t* n, int delim, FILE* fp)
{
    return do_getdelim(lineptr, n, delim, fp);
}

GREEN_EXPORT size_t fread(void* buf, size_t size, size_t n, FILE* fp)
{
    return do_fread(buf, size, n, fp, true);
}

GREEN_EXPORT size_t fread_unlocked(void* buf, size_t size, size_t n, FILE* fp)
{
    return do_fread(buf, size, n, fp, false);
}

GREEN_EXPORT size_t __fread_chk(void* buf, size_t buflen, size_t size, size_t n, FILE* fp)
{
    size_t requested = size * n;
    if ((n | size) >= (size_t(1) << (8 * sizeof(size_t) / 2)) && size != 0 && requested / size != n)
        __chk_fail();
    if (requested > buflen)
        __chk_fail();
    return do_fread(buf, size, n, fp, true);
}
