build2/san/shim/mlock.o: shim/mlock.cpp shim/../hub/stack.h shim/shim.h \
 shim/../hub/config.h shim/../hub/env.h shim/../hub/green.h \
 shim/../hub/hub.h shim/../hub/preempt.h shim/../hub/spinlock.h \
 shim/../hub/sys.h shim/../hub/stack.h shim/../hub/tls.h \
 shim/../hub/hub.h shim/real.h
shim/../hub/stack.h:
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
