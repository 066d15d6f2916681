build2/san/resolver/hosts.o: resolver/hosts.cpp resolver/hosts.h \
 resolver/resolver.h resolver/../hub/green.h resolver/../hub/hub.h \
 resolver/../hub/preempt.h resolver/../hub/spinlock.h \
 resolver/../hub/sys.h resolver/../hub/stack.h resolver/../hub/tls.h
resolver/hosts.h:
resolver/resolver.h:
resolver/../hub/green.h:
resolver/../hub/hub.h:
resolver/../hub/preempt.h:
resolver/../hub/spinlock.h:
resolver/../hub/sys.h:
resolver/../hub/stack.h:
resolver/../hub/tls.h:
