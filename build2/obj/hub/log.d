build2/obj/hub/log.o: hub/log.cpp hub/log.h hub/sys.h
hub/log.h:
hub/sys.h:
