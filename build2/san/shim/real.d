build2/san/shim/real.o: shim/real.cpp shim/real.h shim/../hub/log.h
shim/real.h:
shim/../hub/log.h:
