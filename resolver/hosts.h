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

// What the look-ups make of one response, without sending a query; exposed for unit tests.
// parse_ptr: gethostbyaddr2_r's reading of a PTR answer (*name: the host name, in buffer).
// parse_addresses: gethostbyname4_r's reading of an A answer and an AAAA answer (len2 0: none).
nss_status parse_ptr(const unsigned char* answer, int len, char* buffer, size_t buflen,
                     char** name, int* errnop, int* herrnop);
nss_status parse_addresses(const unsigned char* a1, int len1, const unsigned char* a2, int len2,
                           gaih_addrtuple** pat, char* buffer, size_t buflen, int* errnop,
                           int* herrnop);

}  // namespace green::dns

#endif
