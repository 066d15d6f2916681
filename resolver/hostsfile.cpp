// /etc/hosts from memory, with glibc 2.36's answers (see hostsfile.h).
//
// glibc reads the file a line at a time with fgets into the caller's buffer (after a 32-byte
// struct hostent_data), drops leading white space, skips blank and comment lines, then parses
// the line in place: the address, the name, and an array of alias pointers placed after the
// line.  The snapshot keeps, for each line the parser sees, the text exactly as the parser
// leaves it, the offsets of its name and aliases, the address as each family parses it, and
// the length of the longest raw line fgets must read to reach it: from these, a look-up
// decides what glibc decides (which line, which family, whether the buffer is large enough)
// without reading or parsing, and writes the matching line where glibc would.
#include "hostsfile.h"

#include "../hub/sys.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

namespace green::hostsfile {

namespace {

// glibc's struct hostent_data (unsigned char host_addr[16]; char* h_addr_ptrs[2]): the line
// buffer starts after it.
constexpr size_t kEntData = 16 + 2 * sizeof(char*);
constexpr size_t kPtr = sizeof(char*);

enum : uint8_t { kPton4 = 1, kPton6 = 2 };

struct Line {
    uint32_t text;      // the line as glibc's parser leaves it, in Snapshot::text
    uint32_t len;       // its length before the parser cut it up (where the alias array goes)
    uint32_t name;      // offset of h_name in the line
    uint32_t alias;     // index of the first alias offset in Snapshot::alias
    uint32_t naliases;
    uint32_t read_max;  // the longest raw line fgets reads to reach this one, skipped ones too
    uint8_t pton;       // kPton4, kPton6: which inet_pton accepted the address
    unsigned char v4[4];
    unsigned char v6[16];
};

// A growable array of trivially copyable elements; failed after an allocation failure.
template <typename T>
struct Grow {
    T* items = nullptr;
    size_t size = 0, cap = 0;
    bool failed = false;
    void add(const T& v)
    {
        if (failed)
            return;
        if (size == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            auto* n = static_cast<T*>(realloc(items, ncap * sizeof(T)));
            if (!n) {
                failed = true;
                return;
            }
            items = n;
            cap = ncap;
        }
        items[size++] = v;
    }
    T* take()
    {
        T* p = items;
        items = nullptr;
        return p;
    }
    ~Grow() { free(items); }
};

// isspace() of every byte value (as a char, as glibc's parser passes it) under the calling
// thread's locale.
struct SpaceMask {
    uint64_t bits[4] = {};
    static SpaceMask current()
    {
        SpaceMask m;
        for (int b = 0; b < 256; b++)
            if (isspace(static_cast<char>(b)))
                m.bits[b >> 6] |= uint64_t(1) << (b & 63);
        return m;
    }
    bool operator==(const SpaceMask& o) const { return memcmp(bits, o.bits, sizeof bits) == 0; }
};

bool same_time(const timespec& a, const timespec& b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

}  // namespace

struct Snapshot {
    std::atomic<int> refs{1};
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtime{}, ctime{};
    bool trusted = false;  // no change after the read can keep this identity
    const unsigned short* ctype = nullptr;  // the locale table the file was split with
    SpaceMask spaces;
    char* text = nullptr;
    Line* lines = nullptr;
    uint32_t* alias = nullptr;
    size_t nlines = 0;
    uint32_t tail_read_max = 0;  // lines read after the last parsed one, to the end

    bool same_file(const struct stat& st) const
    {
        return st.st_dev == dev && st.st_ino == ino && st.st_size == size &&
               same_time(st.st_mtim, mtime) && same_time(st.st_ctim, ctime);
    }
    ~Snapshot()
    {
        free(text);
        free(lines);
        free(alias);
    }
};

namespace {

// Splits and parses the file's bytes as glibc's __nss_readline and the hosts line parser do.
bool parse(Snapshot* s, const char* data, size_t n)
{
    size_t nraw = 1;
    for (const char* p = data; (p = static_cast<const char*>(memchr(p, '\n', data + n - p)));
         p++)
        nraw++;
    s->text = static_cast<char*>(malloc(n + nraw));
    if (!s->text)
        return false;
    Grow<Line> lines;
    Grow<uint32_t> alias;
    size_t used = 0;
    uint32_t read_max = 0;
    for (const char* p = data; p < data + n;) {
        const char* nl = static_cast<const char*>(memchr(p, '\n', data + n - p));
        size_t raw = nl ? size_t(nl - p) + 1 : size_t(data + n - p);
        const char* rawp = p;
        p += raw;
        if (raw > read_max)
            read_max = uint32_t(raw);
        // fgets gives a C string: an embedded NUL ends it.
        size_t len = strnlen(rawp, raw);
        size_t w = 0;
        while (w < len && isspace(rawp[w]))
            w++;
        if (w == len || rawp[w] == '#')
            continue;
        // glibc moves the text over the leading white space without its terminator: the
        // last w characters stay as they were.
        char* t = s->text + used;
        memcpy(t, rawp + w, len - w);
        memcpy(t + len - w, rawp + len - w, w);
        t[len] = '\0';

        Line l{};
        l.text = uint32_t(used);
        l.len = uint32_t(len);
        l.read_max = read_max;
        read_max = 0;
        used += len + 1;

        char* line = t;
        if (char* cut = strpbrk(t, "#\n"))
            *cut = '\0';
        char* addr = line;
        while (*line != '\0' && !isspace(*line))
            ++line;
        if (*line != '\0') {
            *line = '\0';
            do
                ++line;
            while (isspace(*line));
        }
        if (inet_pton(AF_INET, addr, l.v4) > 0)
            l.pton |= kPton4;
        if (inet_pton(AF_INET6, addr, l.v6) > 0)
            l.pton |= kPton6;
        l.name = uint32_t(line - t);
        while (*line != '\0' && !isspace(*line))
            ++line;
        if (*line != '\0') {
            *line = '\0';
            do
                ++line;
            while (isspace(*line));
        }
        l.alias = uint32_t(alias.size);
        while (*line != '\0') {
            while (isspace(*line))
                ++line;
            char* elt = line;
            while (*line != '\0' && !isspace(*line))
                ++line;
            if (line > elt)
                alias.add(uint32_t(elt - t));
            if (*line != '\0')
                *line++ = '\0';
        }
        l.naliases = uint32_t(alias.size - l.alias);
        lines.add(l);
    }
    if (lines.failed || alias.failed)
        return false;
    s->tail_read_max = read_max;
    s->nlines = lines.size;
    s->lines = lines.take();
    s->alias = alias.take();
    return true;
}

void fill_stat(Snapshot* s, const struct stat& st)
{
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->size = st.st_size;
    s->mtime = st.st_mtim;
    s->ctime = st.st_ctim;
}

// Reads and parses the file; null if it cannot be (glibc's own code then answers).
Snapshot* load(const char* path)
{
    timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long fd = raw_syscall(SYS_openat, AT_FDCWD, long(path), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return nullptr;
    struct stat st;
    char* data = nullptr;
    size_t n = 0;
    bool ok = raw_syscall(SYS_fstat, fd, long(&st)) == 0 && S_ISREG(st.st_mode) &&
              size_t(st.st_size) <= kMaxFile;
    if (ok) {
        // Until the end of the file, which may have grown since fstat.
        size_t cap = size_t(st.st_size) + 1;
        data = static_cast<char*>(malloc(cap));
        ok = data != nullptr;
        while (ok) {
            if (n == cap) {
                if (cap > kMaxFile) {
                    ok = false;
                    break;
                }
                char* bigger = static_cast<char*>(realloc(data, cap * 2));
                if (!bigger) {
                    ok = false;
                    break;
                }
                data = bigger;
                cap *= 2;
            }
            long r = raw_syscall(SYS_read, fd, long(data + n), long(cap - n));
            if (r == -EINTR)
                continue;
            if (r < 0)
                ok = false;
            if (r <= 0)
                break;
            n += size_t(r);
        }
    }
    raw_syscall(SYS_close, fd);
    Snapshot* s = ok ? new (std::nothrow) Snapshot : nullptr;
    if (s) {
        fill_stat(s, st);
        s->ctype = *__ctype_b_loc();
        s->spaces = SpaceMask::current();
        // A change in the same timestamp tick as this read could leave the identity as it
        // is: trust the copy only when the file's last change is a second older than the read.
        // And only when anyone may read it: otherwise whether a look-up may read it depends on
        // the caller's credentials at that moment, as the open glibc would make tells.
        s->trusted = (st.st_mode & S_IROTH) &&
                     (st.st_ctim.tv_sec < now.tv_sec - 1 ||
                      (st.st_ctim.tv_sec == now.tv_sec - 1 && st.st_ctim.tv_nsec < now.tv_nsec));
        if (!parse(s, data, n)) {
            delete s;
            s = nullptr;
        }
    }
    free(data);
    return s;
}

// The address as glibc's line parser reads it for family af: false when the line is skipped.
bool address(const Line& l, int af, int* family, const unsigned char** bytes)
{
    static const unsigned char loopback[4] = {127, 0, 0, 1};
    static const unsigned char mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char loopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    switch (af) {
    case AF_INET:
        *family = AF_INET;
        if (l.pton & kPton4)
            *bytes = l.v4;
        else if ((l.pton & kPton6) && memcmp(l.v6, mapped_prefix, 12) == 0)
            *bytes = l.v6 + 12;
        else if ((l.pton & kPton6) && memcmp(l.v6, loopback6, 16) == 0)
            *bytes = loopback;
        else
            return false;
        return true;
    case AF_INET6:
        *family = AF_INET6;
        *bytes = l.v6;
        return (l.pton & kPton6) != 0;
    case AF_UNSPEC:
        if (l.pton & kPton4) {
            *family = AF_INET;
            *bytes = l.v4;
            return true;
        }
        *family = AF_INET6;
        *bytes = l.v6;
        return (l.pton & kPton6) != 0;
    default:
        return false;
    }
}

bool matches(const Snapshot* s, const Line& l, const char* name)
{
    const char* t = s->text + l.text;
    if (strcasecmp(name, t + l.name) == 0)
        return true;
    for (uint32_t i = 0; i < l.naliases; i++)
        if (strcasecmp(name, t + s->alias[l.alias + i]) == 0)
            return true;
    return false;
}

uintptr_t align_up(uintptr_t p, size_t a) { return (p + a - 1) & ~uintptr_t(a - 1); }

enum Next { kFound, kEnd, kRange, kRangeNoErrno };

// Whether glibc's parser, given buflen bytes at buffer, reads line l (raw: the longest raw line
// it reads to get there) and, when parsed is set, has room for its alias array.
bool fits(uintptr_t buffer, size_t buflen, size_t raw, const Line* parsed)
{
    size_t linebuflen = buflen - kEntData;
    if (raw + 2 > linebuflen)
        return false;
    if (!parsed)
        return true;
    uintptr_t end = buffer + buflen;
    uintptr_t list = align_up(buffer + kEntData + parsed->len + 1, kPtr);
    return list <= end && (end - list) / kPtr >= size_t(parsed->naliases) + 2;
}

// glibc's internal_getent from line *pos on, with the caller's buffer: the next line that
// parses for af (*out, and *pos moves past it), the end of the file, or ERANGE where glibc's
// buffer is too small for a line it reads or for the alias array of a line it parses.
// With scratch, glibc reads into a scratch buffer of *scratch bytes that it doubles until the
// line fits (gethostbyname3_multi); *grew is then set.
Next next_line(const Snapshot* s, size_t* pos, const char* buffer, size_t buflen, int af,
               const Line** out, int* family, const unsigned char** bytes,
               size_t* scratch = nullptr, bool* grew = nullptr)
{
    if (!scratch) {
        if (buflen < kEntData + 2)
            return kRangeNoErrno;
        if (buflen - kEntData < 3)
            return kRange;
    }
    // A grown scratch buffer is malloc'd, the first one max_align_t-aligned: both aligned
    // to 16, which is all the parser's arithmetic depends on.
    auto room = [&](size_t raw, const Line* parsed) {
        if (!scratch)
            return fits(uintptr_t(buffer), buflen, raw, parsed);
        while (!fits(0, *scratch, raw, parsed)) {
            *scratch *= 2;
            *grew = true;
        }
        return true;
    };
    for (; *pos < s->nlines; ++*pos) {
        const Line& l = s->lines[*pos];
        if (!room(l.read_max, nullptr))
            return kRange;
        if (!address(l, af, family, bytes))
            continue;
        if (!room(l.read_max, &l))
            return kRange;
        *out = &l;
        ++*pos;
        return kFound;
    }
    if (!room(s->tail_read_max, nullptr))
        return kRange;
    return kEnd;
}

nss_status failed(Next r, int* errnop, int* herrnop)
{
    if (r == kEnd) {
        *herrnop = HOST_NOT_FOUND;
        return NSS_STATUS_NOTFOUND;
    }
    if (r == kRange)
        errno = ERANGE;  // glibc's line reader sets it before its caller copies it
    *errnop = ERANGE;
    *herrnop = NETDB_INTERNAL;
    return NSS_STATUS_TRYAGAIN;
}

// Puts line l into buffer as glibc's parser leaves it (hostent_data, the line, the alias
// array) and points result at it.  Returns the alias array.
char** place(const Snapshot* s, const Line& l, int family, const unsigned char* bytes,
             hostent* result, char* buffer)
{
    int length = family == AF_INET ? 4 : 16;
    memcpy(buffer, bytes, size_t(length));
    char* ptrs[2] = {buffer, nullptr};
    memcpy(buffer + 16, ptrs, sizeof ptrs);
    char* line = buffer + kEntData;
    memcpy(line, s->text + l.text, size_t(l.len) + 1);
    auto** list = reinterpret_cast<char**>(align_up(uintptr_t(line) + l.len + 1, kPtr));
    for (uint32_t i = 0; i < l.naliases; i++)
        list[i] = line + s->alias[l.alias + i];
    list[l.naliases] = nullptr;
    result->h_name = line + l.name;
    result->h_aliases = list;
    result->h_addrtype = family;
    result->h_length = length;
    result->h_addr_list = reinterpret_cast<char**>(buffer + 16);
    return list;
}

// glibc's alloc_buffer: allocations from the front of a region; failed once one does not fit.
struct AllocBuffer {
    uintptr_t cur, end;
    bool failed = false;
    void* alloc(size_t size, size_t align)
    {
        uintptr_t aligned = align_up(cur, align);
        uintptr_t next = aligned + size;
        if (failed || aligned < cur || next < size || next > end) {
            failed = true;
            return nullptr;
        }
        cur = next;
        return reinterpret_cast<void*>(aligned);
    }
    char* copy(const char* str)
    {
        size_t n = strlen(str) + 1;
        auto* d = static_cast<char*>(alloc(n, 1));
        if (d)
            memcpy(d, str, n);
        return d;
    }
};

// glibc's gethostbyname3_multi: every further matching line adds its address, its aliases and
// (when it differs) its name, in the space after the first line's alias array.
nss_status multi(const Snapshot* s, size_t pos, const char* name, int af, hostent* result,
                 char* buffer, size_t buflen, int* errnop, int* herrnop)
{
    Grow<char*> addrs, aliases;
    for (char** a = result->h_addr_list; *a; a++)
        addrs.add(*a);
    for (char** a = result->h_aliases; *a; a++)
        aliases.add(*a);
    AllocBuffer out{uintptr_t(result->h_aliases), uintptr_t(buffer + buflen)};
    nss_status status = NSS_STATUS_NOTFOUND;
    size_t scratch = 1024;  // glibc's scratch_buffer, on the stack at first
    for (;;) {
        const Line* l;
        int family;
        const unsigned char* bytes;
        bool grew = false;
        Next r = next_line(s, &pos, buffer, buflen, af, &l, &family, &bytes, &scratch, &grew);
        if (grew) {
            // glibc's reader reported ERANGE before the scratch buffer grew.
            errno = ERANGE;
            *errnop = ERANGE;
            *herrnop = NETDB_INTERNAL;
        }
        if (r != kFound) {
            *herrnop = HOST_NOT_FOUND;
            break;
        }
        if (!matches(s, *l, name))
            continue;
        size_t length = af == AF_INET ? 4 : 16;
        if (void* target = out.alloc(length, alignof(in_addr))) {
            memcpy(target, bytes, length);
            addrs.add(static_cast<char*>(target));
        }
        const char* t = s->text + l->text;
        for (uint32_t i = 0; i < l->naliases; i++)
            aliases.add(out.copy(t + s->alias[l->alias + i]));
        if (strcmp(result->h_name, t + l->name) != 0)
            aliases.add(out.copy(t + l->name));
        if (addrs.failed || aliases.failed) {
            *errnop = ENOMEM;
            *herrnop = NETDB_INTERNAL;
            return NSS_STATUS_UNAVAIL;
        }
        if (out.failed) {
            status = NSS_STATUS_TRYAGAIN;
            break;
        }
    }
    if (status != NSS_STATUS_TRYAGAIN) {
        auto** out_addrs = static_cast<char**>(out.alloc((addrs.size + 1) * kPtr, kPtr));
        auto** out_aliases = static_cast<char**>(out.alloc((aliases.size + 1) * kPtr, kPtr));
        if (out_addrs && out_aliases) {
            if (addrs.size)
                memcpy(out_addrs, addrs.items, addrs.size * kPtr);
            out_addrs[addrs.size] = nullptr;
            if (aliases.size)
                memcpy(out_aliases, aliases.items, aliases.size * kPtr);
            out_aliases[aliases.size] = nullptr;
            result->h_addr_list = out_addrs;
            result->h_aliases = out_aliases;
            return NSS_STATUS_SUCCESS;
        }
    }
    *errnop = ERANGE;
    *herrnop = NETDB_INTERNAL;
    return NSS_STATUS_TRYAGAIN;
}

Cache etc_hosts_cache("/etc/hosts");

}  // namespace

Cache& etc_hosts() { return etc_hosts_cache; }

void Cache::release(Snapshot* s)
{
    if (s && s->refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
        delete s;
}

Snapshot* Cache::acquire()
{
    int saved = errno;
    struct stat st;
    if (raw_syscall(SYS_newfstatat, AT_FDCWD, long(path_), long(&st), 0) != 0)
        return nullptr;
    Snapshot* s = nullptr;
    {
        SpinGuard g(lock_);
        if (current_ && current_->trusted && current_->same_file(st)) {
            s = current_;
            s->refs.fetch_add(1, std::memory_order_relaxed);
        }
    }
    if (!s) {
        s = load(path_);
        if (!s) {
            errno = saved;
            return nullptr;
        }
        loads_.fetch_add(1, std::memory_order_relaxed);
        s->refs.store(2, std::memory_order_relaxed);  // the cache's and the caller's
        Snapshot* old;
        {
            SpinGuard g(lock_);
            old = current_;
            current_ = s;
        }
        release(old);
    }
    // The file was split at white space as the loading thread's locale defines it; glibc
    // splits with the caller's.
    const unsigned short* table = *__ctype_b_loc();
    if (table != s->ctype && !(SpaceMask::current() == s->spaces)) {
        release(s);
        s = nullptr;
    }
    errno = saved;
    return s;
}

nss_status gethostbyname3_r(const Snapshot* s, bool multi_on, const char* name, int af,
                            hostent* result, char* buffer, size_t buflen, int* errnop,
                            int* herrnop, char** canonp)
{
    uintptr_t pad = -uintptr_t(buffer) % kPtr;
    buffer += pad;
    buflen = buflen > pad ? buflen - pad : 0;
    size_t pos = 0;
    nss_status status;
    for (;;) {
        const Line* l;
        int family;
        const unsigned char* bytes;
        Next r = next_line(s, &pos, buffer, buflen, af, &l, &family, &bytes);
        if (r != kFound) {
            status = failed(r, errnop, herrnop);
            break;
        }
        if (matches(s, *l, name)) {
            place(s, *l, family, bytes, result, buffer);
            status = NSS_STATUS_SUCCESS;
            break;
        }
    }
    if (status == NSS_STATUS_SUCCESS && multi_on)
        status = multi(s, pos, name, af, result, buffer, buflen, errnop, herrnop);
    if (canonp && status == NSS_STATUS_SUCCESS)
        *canonp = result->h_name;
    return status;
}

nss_status gethostbyname4_r(const Snapshot* s, bool multi_on, const char* name,
                            gaih_addrtuple** pat, char* buffer, size_t buflen, int* errnop,
                            int* herrnop)
{
    bool any = false, got_canon = false;
    size_t pos = 0;
    nss_status status;
    for (;;) {
        uintptr_t pad = -uintptr_t(buffer) % kPtr;
        buffer += pad;
        buflen = buflen > pad ? buflen - pad : 0;
        const Line* l;
        int family;
        const unsigned char* bytes;
        Next r = next_line(s, &pos, buffer, buflen, AF_UNSPEC, &l, &family, &bytes);
        if (r != kFound) {
            status = failed(r, errnop, herrnop);
            break;
        }
        status = NSS_STATUS_SUCCESS;
        if (!matches(s, *l, name))
            continue;
        hostent h;
        char** list = place(s, *l, family, bytes, &h, buffer);
        char* bufferend = reinterpret_cast<char*>(list + l->naliases + 1);
        buflen -= size_t(bufferend - buffer);
        buffer = bufferend;
        any = true;
        if (*pat == nullptr) {
            uintptr_t tpad = -uintptr_t(buffer) % alignof(gaih_addrtuple);
            buffer += tpad;
            buflen = buflen > tpad ? buflen - tpad : 0;
            if (buflen < sizeof(gaih_addrtuple)) {
                *errnop = ERANGE;
                *herrnop = NETDB_INTERNAL;
                status = NSS_STATUS_TRYAGAIN;
                break;
            }
            *pat = reinterpret_cast<gaih_addrtuple*>(buffer);
            buffer += sizeof(gaih_addrtuple);
            buflen -= sizeof(gaih_addrtuple);
        }
        (*pat)->next = nullptr;
        (*pat)->name = got_canon ? nullptr : h.h_name;
        got_canon = true;
        (*pat)->family = h.h_addrtype;
        memcpy((*pat)->addr, h.h_addr_list[0], size_t(h.h_length));
        (*pat)->scopeid = 0;
        pat = &(*pat)->next;
        if (!multi_on)
            break;
    }
    if (status == NSS_STATUS_NOTFOUND && any)
        status = NSS_STATUS_SUCCESS;
    return status;
}

nss_status gethostbyaddr_r(const Snapshot* s, const void* addr, socklen_t len, int af,
                           hostent* result, char* buffer, size_t buflen, int* errnop,
                           int* herrnop)
{
    size_t pos = 0;
    for (;;) {
        const Line* l;
        int family;
        const unsigned char* bytes;
        Next r = next_line(s, &pos, buffer, buflen, af, &l, &family, &bytes);
        if (r != kFound)
            return failed(r, errnop, herrnop);
        socklen_t length = family == AF_INET ? 4 : 16;
        if (length == len && memcmp(addr, bytes, len) == 0) {
            place(s, *l, family, bytes, result, buffer);
            return NSS_STATUS_SUCCESS;
        }
    }
}

}  // namespace green::hostsfile
