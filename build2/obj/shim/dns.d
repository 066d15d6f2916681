build2/obj/shim/dns.o: shim/dns.cpp shim/../hub/chaos.h shim/../hub/env.h \
 shim/../hub/hub.h shim/../hub/config.h shim/../hub/log.h \
 shim/../hub/waitq.h shim/../resolver/hosts.h shim/../resolver/resolver.h \
 shim/shim.h shim/../hub/green.h shim/../hub/preempt.h \
 shim/../hub/spinlock.h shim/../hub/sys.h shim/../hub/stack.h \
 shim/../hub/tls.h shim/../hub/hub.h shim/real.h
shim/../hub/chaos.h:
shim/../hub/env.h:
shim/../hub/hub.h:
shim/../hub/config.h:
shim/../hub/log.h:
shim/../hub/waitq.h:
shim/../resolver/hosts.h:
shim/../resolver/resolver.h:
shim/shim.h:
shim/../hub/green.h:
shim/../hub/preempt.h:
shim/../hub/spinlock.h:
shim/../hub/sys.h:
shim/../hub/stack.h:
shim/../hub/tls.h:
shim/../hub/hub.h:
shim/real.h:
