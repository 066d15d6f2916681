build2/san/hub/fdtable.o: hub/fdtable.cpp hub/fdtable.h hub/hub.h \
 hub/green.h hub/preempt.h hub/spinlock.h hub/sys.h hub/stack.h hub/tls.h \
 hub/workers.h
hub/fdtable.h:
hub/hub.h:
hub/green.h:
hub/preempt.h:
hub/spinlock.h:
hub/sys.h:
hub/stack.h:
hub/tls.h:
hub/workers.h:
