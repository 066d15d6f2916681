build2/obj/shim/cond.o: shim/cond.cpp shim/../hub/chaos.h \
 shim/../hub/env.h shim/../hub/hub.h shim/sync.h shim/../hub/waitq.h \
 shim/shim.h shim/../hub/config.h shim/../hub/green.h \
 shim/../hub/preempt.h shim/../hub/spinlock.h shim/../hub/sys.h \
 shim/../hub/stack.h shim/../hub/tls.h shim/../hub/hub.h shim/real.h
shim/../hub/chaos.h:
shim/../hub/env.h:
shim/../hub/hub.h:
shim/sync.h:
shim/../hub/waitq.h:
shim/shim.h:
shim/../hub/config.h:
shim/../hub/green.h:
shim/../hub/preempt.h:
shim/../hub/spinlock.h:
shim/../hub/sys.h:
shim/../hub/stack.h:
shim/../hub/tls.h:
shim/../hub/hub.h:
shim/real.h:
