/* A library the test program dlsym_lookup links: loaded after anything preloaded, it looks
 * functions up as libraries do that wrap or find them at run time (libjemalloc finds
 * pthread_create this way). */
#define _GNU_SOURCE
#include <dlfcn.h>

void *dlnext_lookup(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

void *dlnext_vlookup(const char *name, const char *version)
{
    return dlvsym(RTLD_NEXT, name, version);
}
