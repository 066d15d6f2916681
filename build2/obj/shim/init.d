build2/obj/shim/init.o: shim/init.cpp shim/../hub/config.h \
 shim/../hub/env.h shim/../hub/diag.h shim/../hub/hub.h shim/../hub/log.h \
 shim/../hub/preempt.h shim/../hub/tls.h shim/../hub/handoff.h \
 shim/../hub/green.h shim/../hub/hub.h shim/../hub/preempt.h \
 shim/../hub/spinlock.h shim/../hub/sys.h shim/../hub/stack.h \
 shim/../hub/tls.h shim/../hub/workers.h shim/real.h shim/shim.h \
 shim/../hub/green.h shim/sync.h shim/../hub/waitq.h
shim/../hub/config.h:
shim/../hub/env.h:
shim/../hub/diag.h:
shim/../hub/hub.h:
shim/../hub/log.h:
shim/../hub/preempt.h:
shim/../hub/tls.h:
shim/../hub/handoff.h:
shim/../hub/green.h:
shim/../hub/hub.h:
shim/../hub/preempt.h:
shim/../hub/spinlock.h:
shim/../hub/sys.h:
shim/../hub/stack.h:
shim/../hub/tls.h:
shim/../hub/workers.h:
shim/real.h:
shim/shim.h:
shim/../hub/green.h:
shim/sync.h:
shim/../hub/waitq.h:
