build2/san/hub/insn.o: hub/insn.cpp hub/insn.h
hub/insn.h:
