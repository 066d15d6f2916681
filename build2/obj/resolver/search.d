build2/obj/resolver/search.o: resolver/search.cpp resolver/resolver.h
resolver/resolver.h:
