build2/san/hub/steps.o: hub/steps.cpp hub/chaos.h hub/env.h hub/hub.h \
 hub/green.h hub/preempt.h hub/spinlock.h hub/sys.h hub/stack.h hub/tls.h \
 hub/log.h hub/seeded.h
hub/chaos.h:
hub/env.h:
hub/hub.h:
hub/green.h:
hub/preempt.h:
hub/spinlock.h:
hub/sys.h:
hub/stack.h:
hub/tls.h:
hub/log.h:
hub/seeded.h:
