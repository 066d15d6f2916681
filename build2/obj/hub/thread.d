build2/obj/hub/thread.o: hub/thread.cpp hub/debug.h hub/green.h hub/hub.h \
 hub/preempt.h hub/spinlock.h hub/sys.h hub/stack.h hub/tls.h hub/log.h \
 hub/signal.h hub/waitq.h hub/workers.h
hub/debug.h:
hub/green.h:
hub/hub.h:
hub/preempt.h:
hub/spinlock.h:
hub/sys.h:
hub/stack.h:
hub/tls.h:
hub/log.h:
hub/signal.h:
hub/waitq.h:
hub/workers.h:
