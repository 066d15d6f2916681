build2/san/hub/diag.o: hub/diag.cpp hub/diag.h hub/chaos.h hub/env.h \
 hub/hub.h hub/config.h hub/green.h hub/preempt.h hub/spinlock.h \
 hub/sys.h hub/stack.h hub/tls.h hub/handoff.h hub/workers.h hub/log.h
hub/diag.h:
hub/chaos.h:
hub/env.h:
hub/hub.h:
hub/config.h:
hub/green.h:
hub/preempt.h:
hub/spinlock.h:
hub/sys.h:
hub/stack.h:
hub/tls.h:
hub/handoff.h:
hub/workers.h:
hub/log.h:
