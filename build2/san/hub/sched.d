build2/san/hub/sched.o: hub/sched.cpp hub/config.h hub/env.h hub/diag.h \
 hub/chaos.h hub/hub.h hub/fdtable.h hub/green.h hub/preempt.h \
 hub/spinlock.h hub/sys.h hub/stack.h hub/tls.h hub/handoff.h hub/log.h \
 hub/signal.h hub/waitq.h hub/workers.h
hub/config.h:
hub/env.h:
hub/diag.h:
hub/chaos.h:
hub/hub.h:
hub/fdtable.h:
hub/green.h:
hub/preempt.h:
hub/spinlock.h:
hub/sys.h:
hub/stack.h:
hub/tls.h:
hub/handoff.h:
hub/log.h:
hub/signal.h:
hub/waitq.h:
hub/workers.h:
