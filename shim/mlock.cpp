// Locking memory: mlockall, munlockall.
//
// Nothing here blocks.  mlockall(MCL_CURRENT) populates and locks every writable mapping of the
// process, and MCL_FUTURE every later one as it is made: libgreen's stacks, 64 to a mapping,
// would lock 64 stacks' worth of memory for each green thread's.  So the stack allocator is
// told first (hub/stack.h): stacks not in use become inaccessible, and new ones are mapped one
// at a time while the lock lasts, which locks what a real thread's stack would.
#include <sys/mman.h>

#include "../hub/stack.h"
#include "shim.h"

using namespace green;

GREEN_EXPORT int mlockall(int flags)
{
    stack_before_mlockall(flags);
    return REAL(mlockall)(flags);
}

GREEN_EXPORT int munlockall()
{
    int r = REAL(munlockall)();
    if (r == 0)
        stack_after_munlockall();
    return r;
}
