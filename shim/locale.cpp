// The locale of a thread: uselocale.
//
// A green thread that shares its OS thread's TLS block (hub/tls.h) has its words of that block
// saved and restored at every switch; the four that hold the locale uselocale set join them only
// once a thread sets one.  Until then every thread's are the global locale's, and switches need
// not move them.
#include "../hub/tls.h"
#include "real.h"
#include "shim.h"

GREEN_EXPORT locale_t uselocale(locale_t loc)
{
    if (loc)
        green::tls_locale_in_use();
    return REAL(uselocale)(loc);
}
