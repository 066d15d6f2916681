build2/san/resolver/search.o: resolver/search.cpp resolver/resolver.h
resolver/resolver.h:
