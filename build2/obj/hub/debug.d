build2/obj/hub/debug.o: hub/debug.cpp hub/debug.h hub/green.h hub/hub.h \
 hub/preempt.h hub/spinlock.h hub/sys.h hub/stack.h hub/tls.h \
 hub/workers.h
hub/debug.h:
hub/green.h:
hub/hub.h:
hub/preempt.h:
hub/spinlock.h:
hub/sys.h:
hub/stack.h:
hub/tls.h:
hub/workers.h:
