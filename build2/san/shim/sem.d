build2/san/shim/sem.o: shim/sem.cpp shim/../hub/chaos.h shim/../hub/env.h \
 shim/../hub/hub.h shim/../hub/signal.h shim/../hub/green.h \
 shim/../hub/preempt.h shim/../hub/spinlock.h shim/../hub/sys.h \
 shim/../hub/stack.h shim/../hub/tls.h shim/sync.h shim/../hub/waitq.h \
 shim/shim.h shim/../hub/config.h shim/../hub/green.h shim/../hub/hub.h \
 shim/real.h
shim/../hub/chaos.h:
shim/../hub/env.h:
shim/../hub/hub.h:
shim/../hub/signal.h:
shim/../hub/green.h:
shim/../hub/preempt.h:
shim/../hub/spinlock.h:
shim/../hub/sys.h:
shim/../hub/stack.h:
shim/../hub/tls.h:
shim/sync.h:
shim/../hub/waitq.h:
shim/shim.h:
shim/../hub/config.h:
shim/../hub/green.h:
shim/../hub/hub.h:
shim/real.h:
