build2/obj/shim/process.o: shim/process.cpp shim/../hub/fdtable.h \
 shim/../hub/hub.h shim/../hub/spinlock.h shim/../hub/sys.h \
 shim/../hub/sys.h shim/../hub/signal.h shim/../hub/green.h \
 shim/../hub/preempt.h shim/../hub/spinlock.h shim/../hub/stack.h \
 shim/../hub/tls.h shim/../hub/preempt.h shim/shim.h shim/../hub/config.h \
 shim/../hub/env.h shim/../hub/green.h shim/../hub/hub.h shim/real.h
shim/../hub/fdtable.h:
shim/../hub/hub.h:
shim/../hub/spinlock.h:
shim/../hub/sys.h:
shim/../hub/sys.h:
shim/../hub/signal.h:
shim/../hub/green.h:
shim/../hub/preempt.h:
shim/../hub/spinlock.h:
shim/../hub/stack.h:
shim/../hub/tls.h:
shim/../hub/preempt.h:
shim/shim.h:
shim/../hub/config.h:
shim/../hub/env.h:
shim/../hub/green.h:
shim/../hub/hub.h:
shim/real.h:
