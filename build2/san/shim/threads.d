build2/san/shim/threads.o: shim/threads.cpp shim/../hub/chaos.h \
 shim/../hub/env.h shim/../hub/hub.h shim/../hub/config.h shim/shim.h \
 shim/../hub/green.h shim/../hub/preempt.h shim/../hub/spinlock.h \
 shim/../hub/sys.h shim/../hub/stack.h shim/../hub/tls.h \
 shim/../hub/hub.h shim/real.h
shim/../hub/chaos.h:
shim/../hub/env.h:
shim/../hub/hub.h:
shim/../hub/config.h:
shim/shim.h:
shim/../hub/green.h:
shim/../hub/preempt.h:
shim/../hub/spinlock.h:
shim/../hub/sys.h:
shim/../hub/stack.h:
shim/../hub/tls.h:
shim/../hub/hub.h:
shim/real.h:
