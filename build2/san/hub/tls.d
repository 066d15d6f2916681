build2/san/hub/tls.o: hub/tls.cpp hub/tls.h hub/green.h hub/hub.h \
 hub/preempt.h hub/spinlock.h hub/sys.h hub/stack.h hub/log.h
hub/tls.h:
hub/green.h:
hub/hub.h:
hub/preempt.h:
hub/spinlock.h:
hub/sys.h:
hub/stack.h:
hub/log.h:
