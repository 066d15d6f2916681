build2/san/hub/config.o: hub/config.cpp hub/config.h hub/env.h \
 hub/chaos.h hub/hub.h hub/log.h
hub/config.h:
hub/env.h:
hub/chaos.h:
hub/hub.h:
hub/log.h:
