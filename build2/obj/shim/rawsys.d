build2/obj/shim/rawsys.o: shim/rawsys.cpp shim/../hub/config.h \
 shim/../hub/env.h shim/../hub/insn.h shim/../hub/log.h \
 shim/../hub/signal.h shim/../hub/green.h shim/../hub/hub.h \
 shim/../hub/preempt.h shim/../hub/spinlock.h shim/../hub/sys.h \
 shim/../hub/stack.h shim/../hub/tls.h shim/../hub/spinlock.h \
 shim/../hub/sys.h shim/../hub/workers.h shim/shim.h shim/../hub/green.h \
 shim/../hub/hub.h shim/real.h
shim/../hub/config.h:
shim/../hub/env.h:
shim/../hub/insn.h:
shim/../hub/log.h:
shim/../hub/signal.h:
shim/../hub/green.h:
shim/../hub/hub.h:
shim/../hub/preempt.h:
shim/../hub/spinlock.h:
shim/../hub/sys.h:
shim/../hub/stack.h:
shim/../hub/tls.h:
shim/../hub/spinlock.h:
shim/../hub/sys.h:
shim/../hub/workers.h:
shim/shim.h:
shim/../hub/green.h:
shim/../hub/hub.h:
shim/real.h:
