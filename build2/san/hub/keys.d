build2/san/hub/keys.o: hub/keys.cpp hub/keys.h hub/green.h hub/hub.h \
 hub/preempt.h hub/spinlock.h hub/sys.h hub/stack.h hub/tls.h
hub/keys.h:
hub/green.h:
hub/hub.h:
hub/preempt.h:
hub/spinlock.h:
hub/sys.h:
hub/stack.h:
hub/tls.h:
