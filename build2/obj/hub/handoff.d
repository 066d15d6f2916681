build2/obj/hub/handoff.o: hub/handoff.cpp hub/handoff.h hub/green.h \
 hub/hub.h hub/preempt.h hub/spinlock.h hub/sys.h hub/stack.h hub/tls.h \
 hub/chaos.h hub/env.h hub/config.h hub/log.h hub/signal.h hub/workers.h
hub/handoff.h:
hub/green.h:
hub/hub.h:
hub/preempt.h:
hub/spinlock.h:
hub/sys.h:
hub/stack.h:
hub/tls.h:
hub/chaos.h:
hub/env.h:
hub/config.h:
hub/log.h:
hub/signal.h:
hub/workers.h:
