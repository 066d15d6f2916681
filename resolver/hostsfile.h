// The "files" source of glibc's hosts database, answered from memory (resolver/hostsfile.cpp).
//
// glibc's libnss_files opens, reads and parses /etc/hosts on every look-up: about a third of a
// getaddrinfo under libgreen.  libgreen keeps one parsed copy of the file and checks on every
// call, with one stat, that the file is still the one it read (device, inode, size, mtime and
// ctime to the nanosecond); an edited file is read again at once.  A copy read while the file
// could still change within the same timestamp (its ctime less than a second before the read),
// or that not everyone may read, is used for that call only, so an edit is never missed.
//
// The answers are glibc 2.36's (nss/nss_files/files-hosts.c), to the byte where a caller can
// see it: the same line matches (case-insensitive name or alias in the caller's locale), the
// same lines are skipped (comments, blank lines, bad addresses), the same results in the same
// places of the caller's buffer, and ERANGE (NSS_STATUS_TRYAGAIN, NETDB_INTERNAL) for exactly
// the buffer sizes where glibc's parser runs out of room, with the same errno and h_errno.
// "multi on" (/etc/host.conf, RESOLV_MULTI) is the caller's to pass, as glibc reads it.
//
// When the copy cannot be used (no file, not a regular file, unreadable, over kMaxFile, a
// locale whose white space differs from the one the file was split with, an address family
// glibc's parser does not handle), acquire() returns null and the caller asks glibc's own
// _nss_files_* functions, which then give whatever glibc gives.
//
// Thread-safe: any OS thread may call; a snapshot in use stays valid until released.
#ifndef GREEN_RESOLVER_HOSTSFILE_H
#define GREEN_RESOLVER_HOSTSFILE_H

#include <netdb.h>
#include <nss.h>
#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

#include "../hub/spinlock.h"

namespace green::hostsfile {

constexpr size_t kMaxFile = 64u << 20;  // larger files are left to glibc

struct Snapshot;

class Cache {
public:
    explicit constexpr Cache(const char* path) : path_(path) {}
    // The parsed file if it can answer for the calling thread now, else null.  The caller
    // must release() it.  errno is left as it was.
    Snapshot* acquire();
    static void release(Snapshot* s);
    // Reads done so far (tests: whether a look-up was answered from memory).
    unsigned long loads() const { return loads_.load(std::memory_order_relaxed); }
    // In the child of a fork: the lock may have been held by a thread that is gone.
    void reset_after_fork() { new (&lock_) SpinLock(); }

private:
    const char* path_;
    SpinLock lock_;
    Snapshot* current_ = nullptr;
    std::atomic<unsigned long> loads_{0};
};

// /etc/hosts.
Cache& etc_hosts();

// glibc's _nss_files_gethostbyname3_r; af must be AF_INET or AF_INET6.
nss_status gethostbyname3_r(const Snapshot* s, bool multi, const char* name, int af,
                            hostent* result, char* buffer, size_t buflen, int* errnop,
                            int* herrnop, char** canonp);
// glibc's _nss_files_gethostbyname4_r.
nss_status gethostbyname4_r(const Snapshot* s, bool multi, const char* name,
                            gaih_addrtuple** pat, char* buffer, size_t buflen, int* errnop,
                            int* herrnop);
// glibc's _nss_files_gethostbyaddr_r; af must be AF_INET or AF_INET6.
nss_status gethostbyaddr_r(const Snapshot* s, const void* addr, socklen_t len, int af,
                           hostent* result, char* buffer, size_t buflen, int* errnop,
                           int* herrnop);

}  // namespace green::hostsfile

#endif
