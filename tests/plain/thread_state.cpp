// errno, h_errno, the locale set with uselocale and the C++ exception state are each thread's
// own, across blocking calls, in a program that has no thread-local data of its own (under
// libgreen its green threads then share their OS thread's TLS block: hub/tls.h).
#include "thread_state.h"

int main()
{
    test_thread_state();
    return 0;
}
