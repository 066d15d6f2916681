// The "dns" source of glibc's hosts database, reimplemented green (resolver/hosts.cpp).  Same
// signatures and the same results as glibc 2.36's _nss_dns_* functions; shim/dns.cpp exports
// them as libgreen's NSS module and calls them only from green threads.
#ifndef GREEN_RESOLVER_HOSTS_H
#define GREEN_RESOLVER_HOSTS_H

#include <netdb.h>
#include <nss.h>
#include <sys/socket.h>

namespace green::dns {

nss_status gethostbyname4_r(const char* name, gaih_addrtuple** pat, char* buffer, size_t buflen,
                            int* errnop, int* herrnop, int32_t* ttlp);
nss_status gethostbyname3_r(const char* name, int af, hostent* result, char* buffer,
                            size_t buflen, int* errnop, int* herrnop, int32_t* ttlp,
                            char** canonp);
nss_status gethostbyaddr2_r(const void* addr, socklen_t len, int af, hostent* result,
                            char* buffer, size_t buflen, int* errnop, int* herrnop,
                            int32_t* ttlp);

}  // namespace green::dns

#endif
