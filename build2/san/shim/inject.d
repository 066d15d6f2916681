build2/san/shim/inject.o: shim/inject.cpp shim/fdio.h shim/../hub/chaos.h \
 shim/../hub/env.h shim/../hub/hub.h shim/../hub/fdtable.h \
 shim/../hub/signal.h shim/../hub/green.h shim/../hub/preempt.h \
 shim/../hub/spinlock.h shim/../hub/sys.h shim/../hub/stack.h \
 shim/../hub/tls.h shim/shim.h shim/../hub/config.h shim/../hub/green.h \
 shim/../hub/hub.h shim/real.h
shim/fdio.h:
shim/../hub/chaos.h:
shim/../hub/env.h:
shim/../hub/hub.h:
shim/../hub/fdtable.h:
shim/../hub/signal.h:
shim/../hub/green.h:
shim/../hub/preempt.h:
shim/../hub/spinlock.h:
shim/../hub/sys.h:
shim/../hub/stack.h:
shim/../hub/tls.h:
shim/shim.h:
shim/../hub/config.h:
shim/../hub/green.h:
shim/../hub/hub.h:
shim/real.h:
