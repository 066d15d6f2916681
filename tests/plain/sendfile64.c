/* sendfile.c built with _FILE_OFFSET_BITS=64, which makes glibc's header call sendfile64 (the
 * name CPython imports): a blocking transfer through that name must let the reader thread run. */
#define _FILE_OFFSET_BITS 64
#include "sendfile.c"
