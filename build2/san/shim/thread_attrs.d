build2/san/shim/thread_attrs.o: shim/thread_attrs.cpp \
 shim/../hub/signal.h shim/../hub/green.h shim/../hub/hub.h \
 shim/../hub/preempt.h shim/../hub/spinlock.h shim/../hub/sys.h \
 shim/../hub/stack.h shim/../hub/tls.h shim/shim.h shim/../hub/config.h \
 shim/../hub/env.h shim/../hub/green.h shim/../hub/hub.h shim/real.h
shim/../hub/signal.h:
shim/../hub/green.h:
shim/../hub/hub.h:
shim/../hub/preempt.h:
shim/../hub/spinlock.h:
shim/../hub/sys.h:
shim/../hub/stack.h:
shim/../hub/tls.h:
shim/shim.h:
shim/../hub/config.h:
shim/../hub/env.h:
shim/../hub/green.h:
shim/../hub/hub.h:
shim/real.h:
