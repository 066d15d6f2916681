build2/obj/hub/insn.o: hub/insn.cpp hub/insn.h
hub/insn.h:
