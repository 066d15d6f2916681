build2/obj/hub/signal.o: hub/signal.cpp hub/signal.h hub/green.h \
 hub/hub.h hub/preempt.h hub/spinlock.h hub/sys.h hub/stack.h hub/tls.h \
 hub/workers.h
hub/signal.h:
hub/green.h:
hub/hub.h:
hub/preempt.h:
hub/spinlock.h:
hub/sys.h:
hub/stack.h:
hub/tls.h:
hub/workers.h:
