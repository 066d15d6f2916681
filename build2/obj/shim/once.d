build2/obj/shim/once.o: shim/once.cpp shim/sync.h shim/../hub/waitq.h \
 shim/shim.h shim/../hub/config.h shim/../hub/env.h shim/../hub/green.h \
 shim/../hub/hub.h shim/../hub/preempt.h shim/../hub/spinlock.h \
 shim/../hub/sys.h shim/../hub/stack.h shim/../hub/tls.h \
 shim/../hub/hub.h shim/real.h
shim/sync.h:
shim/../hub/waitq.h:
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
