build2/obj/shim/c11threads.o: shim/c11threads.cpp shim/shim.h \
 shim/../hub/config.h shim/../hub/env.h shim/../hub/green.h \
 shim/../hub/hub.h shim/../hub/preempt.h shim/../hub/spinlock.h \
 shim/../hub/sys.h shim/../hub/stack.h shim/../hub/tls.h \
 shim/../hub/hub.h shim/real.h
shim/shim.h:
shim/../hub/config.h:
shim/../hub/env.h:
shim/../hub/green.h:
shim/../hub/hub.h:
shim/../hub/preempt.h:
shim/../hub/spinlock.h:
shim/../hub/sys.h:
shim/../hub/stack.h:
shim/../hub/tls.h:
shim/../hub/hub.h:
shim/real.h:
