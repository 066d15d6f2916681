build2/san/resolver/conf.o: resolver/conf.cpp resolver/resolver.h \
 resolver/../hub/config.h resolver/../hub/env.h \
 resolver/../hub/spinlock.h resolver/../hub/sys.h
resolver/resolver.h:
resolver/../hub/config.h:
resolver/../hub/env.h:
resolver/../hub/spinlock.h:
resolver/../hub/sys.h:
