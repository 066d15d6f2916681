#include "real.h"

#include <dlfcn.h>

#include "../hub/log.h"

namespace green {

RealFunctions real_table;
bool real_resolved = false;

void real_resolve()
{
    if (real_resolved)
        return;
#define GREEN_REAL_RESOLVE(ret, name, params)                                           \
    real_table.name = reinterpret_cast<ret(*) params>(dlsym(RTLD_NEXT, #name));         \
    if (!real_table.name)                                                               \
        fatal("cannot find the real %s: %s", #name, dlerror());
    GREEN_REAL_FUNCTIONS(GREEN_REAL_RESOLVE)
#undef GREEN_REAL_RESOLVE
#define GREEN_REAL_VRESOLVE(ret, name, params, version)                                  \
    real_table.name = reinterpret_cast<ret(*) params>(dlvsym(RTLD_NEXT, #name, version)); \
    if (!real_table.name)                                                               \
        fatal("cannot find the real %s@%s: %s", #name, version, dlerror());
    GREEN_REAL_VERSIONED(GREEN_REAL_VRESOLVE)
#undef GREEN_REAL_VRESOLVE
#define GREEN_REAL_SRESOLVE(ret, name, params, args, fp)                                \
    real_table.name = reinterpret_cast<ret(*) params>(dlsym(RTLD_NEXT, #name));         \
    if (!real_table.name)                                                               \
        fatal("cannot find the real %s: %s", #name, dlerror());
    GREEN_STDIO_INPUT(GREEN_REAL_SRESOLVE)
#undef GREEN_REAL_SRESOLVE
#define GREEN_REAL_GRESOLVE(ret, name, params, args, fp, quick)                         \
    real_table.name = reinterpret_cast<ret(*) params>(dlsym(RTLD_NEXT, #name));         \
    if (!real_table.name)                                                               \
        fatal("cannot find the real %s: %s", #name, dlerror());
    GREEN_STDIO_GLIBC(GREEN_REAL_GRESOLVE)
    GREEN_STDIO_OWN(GREEN_REAL_GRESOLVE)
#undef GREEN_REAL_GRESOLVE
#define GREEN_REAL_WRESOLVE(ret, name, params, args, fp, text, count)                  \
    real_table.name = reinterpret_cast<ret(*) params>(dlsym(RTLD_NEXT, #name));         \
    if (!real_table.name)                                                               \
        fatal("cannot find the real %s: %s", #name, dlerror());
    GREEN_STDIO_WIDE_OUTPUT(GREEN_REAL_WRESOLVE)
#undef GREEN_REAL_WRESOLVE
#define GREEN_REAL_ORESOLVE(ret, name, params, args, fp, data, len, ok, fail)           \
    real_table.name = reinterpret_cast<ret(*) params>(dlsym(RTLD_NEXT, #name));         \
    if (!real_table.name)                                                               \
        fatal("cannot find the real %s: %s", #name, dlerror());
    GREEN_STDIO_OUTPUT(GREEN_REAL_ORESOLVE)
#undef GREEN_REAL_ORESOLVE
    real_resolved = true;
}

}  // namespace green
