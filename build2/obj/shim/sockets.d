build2/obj/shim/sockets.o: shim/sockets.cpp shim/../hub/signal.h \
 shim/../hub/green.h shim/../hub/hub.h shim/../hub/preempt.h \
 shim/../hub/spinlock.h shim/../hub/sys.h shim/../hub/stack.h \
 shim/../hub/tls.h shim/fdio.h shim/../hub/chaos.h shim/../hub/env.h \
 shim/../hub/fdtable.h shim/shim.h shim/../hub/config.h \
 shim/../hub/green.h shim/../hub/hub.h shim/real.h
shim/../hub/signal.h:
shim/../hub/green.h:
shim/../hub/hub.h:
shim/../hub/preempt.h:
shim/../hub/spinlock.h:
shim/../hub/sys.h:
shim/../hub/stack.h:
shim/../hub/tls.h:
shim/fdio.h:
shim/../hub/chaos.h:
shim/../hub/env.h:
shim/../hub/fdtable.h:
shim/shim.h:
shim/../hub/config.h:
shim/../hub/green.h:
shim/../hub/hub.h:
shim/real.h:
