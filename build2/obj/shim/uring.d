build2/obj/shim/uring.o: shim/uring.cpp shim/../hub/fdtable.h \
 shim/../hub/hub.h shim/../hub/signal.h shim/../hub/green.h \
 shim/../hub/preempt.h shim/../hub/spinlock.h shim/../hub/sys.h \
 shim/../hub/stack.h shim/../hub/tls.h shim/../hub/sys.h shim/shim.h \
 shim/../hub/config.h shim/../hub/env.h shim/../hub/green.h \
 shim/../hub/hub.h shim/real.h
shim/../hub/fdtable.h:
shim/../hub/hub.h:
shim/../hub/signal.h:
shim/../hub/green.h:
shim/../hub/preempt.h:
shim/../hub/spinlock.h:
shim/../hub/sys.h:
shim/../hub/stack.h:
shim/../hub/tls.h:
shim/../hub/sys.h:
shim/shim.h:
shim/../hub/config.h:
shim/../hub/env.h:
shim/../hub/green.h:
shim/../hub/hub.h:
shim/real.h:
