build2/san/resolver/channel.o: resolver/channel.cpp resolver/resolver.h \
 resolver/../hub/fdtable.h resolver/../hub/hub.h resolver/../hub/green.h \
 resolver/../hub/preempt.h resolver/../hub/spinlock.h \
 resolver/../hub/sys.h resolver/../hub/stack.h resolver/../hub/tls.h \
 resolver/../hub/hub.h resolver/../hub/sys.h
resolver/resolver.h:
resolver/../hub/fdtable.h:
resolver/../hub/hub.h:
resolver/../hub/green.h:
resolver/../hub/preempt.h:
resolver/../hub/spinlock.h:
resolver/../hub/sys.h:
resolver/../hub/stack.h:
resolver/../hub/tls.h:
resolver/../hub/hub.h:
resolver/../hub/sys.h:
