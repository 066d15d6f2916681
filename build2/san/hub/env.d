build2/san/hub/env.o: hub/env.cpp hub/env.h hub/config.h
hub/env.h:
hub/config.h:
