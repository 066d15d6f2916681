build2/obj/hub/chaos.o: hub/chaos.cpp hub/chaos.h hub/env.h hub/hub.h \
 hub/config.h hub/green.h hub/preempt.h hub/spinlock.h hub/sys.h \
 hub/stack.h hub/tls.h hub/log.h hub/seeded.h
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
hub/log.h:
hub/seeded.h:
