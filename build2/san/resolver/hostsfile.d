build2/san/resolver/hostsfile.o: resolver/hostsfile.cpp \
 resolver/hostsfile.h resolver/../hub/spinlock.h resolver/../hub/sys.h \
 resolver/../hub/sys.h
resolver/hostsfile.h:
resolver/../hub/spinlock.h:
resolver/../hub/sys.h:
resolver/../hub/sys.h:
