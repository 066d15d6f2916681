build2/obj/hub/waitq.o: hub/waitq.cpp hub/waitq.h hub/config.h hub/env.h \
 hub/green.h hub/hub.h hub/preempt.h hub/spinlock.h hub/sys.h hub/stack.h \
 hub/tls.h hub/workers.h
hub/waitq.h:
hub/config.h:
hub/env.h:
hub/green.h:
hub/hub.h:
hub/preempt.h:
hub/spinlock.h:
hub/sys.h:
hub/stack.h:
hub/tls.h:
hub/workers.h:
