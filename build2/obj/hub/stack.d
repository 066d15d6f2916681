build2/obj/hub/stack.o: hub/stack.cpp hub/stack.h hub/spinlock.h \
 hub/sys.h
hub/stack.h:
hub/spinlock.h:
hub/sys.h:
