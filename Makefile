# libgreen: one build for the library, its tests, benchmarks, demo and installation.
#
#   make            build build/libgreen.so
#   make test       install missing Debian packages, build, run every test (tests/run.sh)
#   make bench      install their packages, run the benchmarks (scripts/bench.sh, then
#                   scripts/bench_echo.sh, scripts/bench_diag.sh, scripts/bench_dns.sh,
#                   scripts/bench_gdb.sh, scripts/bench_slice.sh, scripts/bench_memcached.sh,
#                   scripts/bench_stdio.sh and scripts/bench_redis.sh);
#                   results go in BENCHMARKS.md
#   make demo       install missing packages, build, run the demo (scripts/demo.sh)
#   make compat     install their packages, build, run the compatibility suite
#                   (tests/compat/run.sh: real programs and CPython's test suites; see COMPAT.md)
#   make fuzz       install clang, build the fuzz harnesses of tests/fuzz with libFuzzer and
#                   ASan/UBSan, run each for FUZZ_SECONDS (default 600; scripts/fuzz.sh)
#   make tsan       the ThreadSanitizer build of the library and of tests/plain/mn_stress
#                   (build/tsan; make test runs it)
#   make install    PREFIX=/usr/local DESTDIR=  library, greenrun (and its helper), man pages,
#                   the gdb extension (in GDB_AUTOLOAD, gdb's own auto-load directory)
#   make uninstall  the same paths, removed
#   make deb        the Debian package build/libgreen_VERSION_ARCH.deb (debian/, dpkg-buildpackage
#                   in a copy of the tree under build/deb; installs debhelper and lintian first)
#   make clean

PREFIX  ?= /usr/local
DESTDIR ?=
LIBDIR  ?= $(PREFIX)/lib
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
# gdb loads DIR/<the library's path>-gdb.py for every library it reads, DIR being its auto-load
# directory: Debian's gdb looks in /usr/share/gdb/auto-load, whatever the library's prefix.
GDB_AUTOLOAD ?= /usr/share/gdb/auto-load

CXX      ?= g++
CC       ?= gcc
B        := build

WARN     := -Wall -Wextra -Wno-missing-field-initializers
CXXFLAGS ?= -O2 -g
# -fno-plt: calls to libev, Boost.Context and libc go through the GOT directly, which saves a
# jump on every context switch.
# GREEN_NSS_STUB: the library shim/hostsfile.cpp embeds (see NSS_STUB below).
LIB_CXXFLAGS := $(CXXFLAGS) -std=c++17 -fPIC -fno-plt -fvisibility=hidden $(WARN) -MMD -MP \
                -DGREEN_NSS_STUB='"$(B)/nss/libnss_greenfiles.so.2"'
LIB_LDLIBS   := -lev -lboost_context -lcares -ldl
# The SONAME makes libgreen, once preloaded, the NSS module "green" glibc's dlopen asks for
# (see shim/dns.cpp).
SONAME       := -Wl,-soname,libnss_green.so.2
# The NSS module "greenfiles" (the hosts database's files source, answered by libgreen): an
# empty library whose SONAME is the one glibc's dlopen asks for and whose one dependency is
# libgreen (by its SONAME, recorded from an empty library that bears it).  libgreen embeds it
# and loads it from memory (shim/hostsfile.cpp).
NSS_STUB     := $(B)/nss/libnss_greenfiles.so.2
SAN_FLAGS    := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# ThreadSanitizer: the library and the programs it checks (TSan's runtime must be a dependency of
# the program itself, after the preloaded library, so that libgreen's pthread_create wins).
TSAN_FLAGS   := -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan

HUB_SRC  := $(wildcard hub/*.cpp)
RES_SRC  := $(wildcard resolver/*.cpp)
SHIM_SRC := $(wildcard shim/*.cpp)
LIB_SRC  := $(HUB_SRC) $(RES_SRC) $(SHIM_SRC)
LIB_OBJ  := $(LIB_SRC:%.cpp=$(B)/obj/%.o)
SAN_OBJ  := $(LIB_SRC:%.cpp=$(B)/san/%.o)
TSAN_OBJ := $(LIB_SRC:%.cpp=$(B)/tsan/%.o)
# What runs under the TSan build (tests/run.sh): the M:N stress program.
TSAN_BIN := $(B)/tsan/libgreen.so $(B)/tsan/mn_stress
HUB_OBJ  := $(HUB_SRC:%.cpp=$(B)/obj/%.o)
RES_OBJ  := $(RES_SRC:%.cpp=$(B)/obj/%.o)

# greenrun's judge of GREEN_* values: the library's own grammar (hub/env.cpp) as a small program,
# so that greenrun refuses exactly what the library warns about.  Installed in LIBDIR/libgreen.
ENV_HELPER := $(B)/libgreen/greenrun-env
# The loop behind greenrun --explore (scripts/greenrun-explore.cpp), installed beside it.
EXPLORE_HELPER := $(B)/libgreen/greenrun-explore

# Plain test programs: every C or C++ file in tests/plain is one program.
PLAIN_SRC  := $(wildcard tests/plain/*.c tests/plain/*.cpp)
PLAIN_BIN  := $(patsubst tests/plain/%,$(B)/plain/%,$(basename $(PLAIN_SRC)))
UNIT_SRC   := $(wildcard tests/unit/*.cpp)
UNIT_BIN   := $(patsubst tests/unit/%.cpp,$(B)/unit/%,$(UNIT_SRC))
TOOL_SRC   := $(wildcard tests/tools/*.c)
TOOL_BIN   := $(patsubst tests/tools/%.c,$(B)/tools/%,$(TOOL_SRC))
# The corpus of deliberately buggy programs (tests/bugs): not plain programs (they fail).
BUGS_SRC   := $(wildcard tests/bugs/*.c)
BUGS_BIN   := $(patsubst tests/bugs/%.c,$(B)/bugs/%,$(BUGS_SRC))
BENCH_SRC  := $(wildcard tests/bench/*.c tests/bench/*.cpp)
BENCH_BIN  := $(patsubst tests/bench/%,$(B)/bench/%,$(basename $(BENCH_SRC)))
# What scripts/bench_dns.sh runs: the test DNS server, its load client, the look-up flood.
DNS_BENCH_TOOLS := $(B)/tools/dns_server $(B)/tools/dns_pipeline $(B)/tools/dns_flood

# Fuzz harnesses: every tests/fuzz/NAME.cpp but the replay driver defines LLVMFuzzerTestOneInput
# over the hub's and the resolver's objects.  make test links each with tests/fuzz/replay.cpp
# (g++, ASan+UBSan) and replays its committed corpus, tests/fuzz/corpus/NAME; make fuzz builds
# them with clang's libFuzzer (objects of their own under build/fuzz/obj) and fuzzes.
FUZZ_SRC    := $(filter-out tests/fuzz/replay.cpp,$(wildcard tests/fuzz/*.cpp))
FUZZ_REPLAY := $(patsubst tests/fuzz/%.cpp,$(B)/fuzz/replay/%,$(FUZZ_SRC))
FUZZ_BIN    := $(patsubst tests/fuzz/%.cpp,$(B)/fuzz/bin/%,$(FUZZ_SRC))
SAN_CORE    := $(HUB_SRC:%.cpp=$(B)/san/%.o) $(RES_SRC:%.cpp=$(B)/san/%.o)
FUZZ_OBJ    := $(HUB_SRC:%.cpp=$(B)/fuzz/obj/%.o) $(RES_SRC:%.cpp=$(B)/fuzz/obj/%.o)
FUZZ_CXX    ?= clang++
FUZZ_FLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined

PLAIN_CFLAGS   := -O2 -g -Wall -Wextra -pthread
PLAIN_CXXFLAGS := -O2 -g -Wall -Wextra -std=c++20 -pthread

.PHONY: all lib san tsan tests test bench demo compat fuzz fuzz-build deps install uninstall deb clean

all: lib
# The gdb extension beside the library: gdb loads it from there by itself once the build
# directory is an auto-load safe path (or: source build/libgreen.so-gdb.py).
GDB_EXT := $(B)/libgreen.so-gdb.py
lib: $(B)/libgreen.so $(ENV_HELPER) $(EXPLORE_HELPER) $(GDB_EXT)
san: $(B)/san/libgreen.so
tsan: $(TSAN_BIN)
tests: lib san tsan $(PLAIN_BIN) $(UNIT_BIN) $(BENCH_BIN) $(TOOL_BIN) $(FUZZ_REPLAY) $(BUGS_BIN)

$(B)/libgreen.so: $(LIB_OBJ)
	$(CXX) -shared $(LDFLAGS) -o $@ $^ -Wl,--no-undefined -Wl,-z,now $(SONAME) $(LIB_LDLIBS)

$(GDB_EXT): scripts/libgreen-gdb.py
	@mkdir -p $(dir $@)
	cp $< $@

$(B)/san/libgreen.so: $(SAN_OBJ)
	$(CXX) -shared $(SAN_FLAGS) -o $@ $^ $(SONAME) $(LIB_LDLIBS)

$(B)/tsan/libgreen.so: $(TSAN_OBJ)
	$(CXX) -shared $(TSAN_FLAGS) -o $@ $^ $(SONAME) $(LIB_LDLIBS)

$(B)/tsan/mn_stress: tests/plain/mn_stress.c $(wildcard tests/plain/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(PLAIN_CFLAGS) $(TSAN_FLAGS) -o $@ $<

# No exceptions, no RTTI, libstdc++ only if needed: it starts in a millisecond.
$(ENV_HELPER): scripts/greenrun-env.cpp hub/env.cpp hub/env.h hub/config.h
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -std=c++17 $(WARN) -fno-exceptions -fno-rtti -Wl,--as-needed \
	    -o $@ scripts/greenrun-env.cpp hub/env.cpp

$(EXPLORE_HELPER): scripts/greenrun-explore.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -std=c++17 $(WARN) -o $@ $<

$(B)/nss/libnss_green.so.2:
	@mkdir -p $(dir $@)
	$(CC) -shared -nostdlib -o $@ -Wl,-soname,libnss_green.so.2 -x c /dev/null

$(NSS_STUB): $(B)/nss/libnss_green.so.2
	$(CC) -shared -nostdlib -s -o $@ -Wl,-soname,libnss_greenfiles.so.2 -Wl,--no-as-needed $<

$(B)/obj/shim/hostsfile.o $(B)/san/shim/hostsfile.o $(B)/tsan/shim/hostsfile.o: $(NSS_STUB)

$(B)/obj/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(LIB_CXXFLAGS) -c -o $@ $<

$(B)/san/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(LIB_CXXFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(B)/tsan/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(LIB_CXXFLAGS) $(TSAN_FLAGS) -c -o $@ $<

# The table of real functions is filled when ThreadSanitizer's own start-up first calls a
# wrapper (pthread_key_create), before it can record anything: not instrumented.
$(B)/tsan/shim/real.o: shim/real.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(LIB_CXXFLAGS) -fno-omit-frame-pointer -c -o $@ $<

# Not instrumented: the ASan runtime looks its functions up with dlsym (libgreen's, preloaded
# before it) while it starts, before its shadow memory exists.
$(B)/san/shim/dlsym.o: shim/dlsym.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(LIB_CXXFLAGS) -c -o $@ $<

# Nor in the TSan build, whose runtime does the same.
$(B)/tsan/shim/dlsym.o: shim/dlsym.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(LIB_CXXFLAGS) -fno-omit-frame-pointer -c -o $@ $<

$(B)/plain/%: tests/plain/%.c $(wildcard tests/plain/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(PLAIN_CFLAGS) -o $@ $<

$(B)/plain/%: tests/plain/%.cpp $(wildcard tests/plain/*.h)
	@mkdir -p $(dir $@)
	$(CXX) $(PLAIN_CXXFLAGS) -o $@ $<

# A library of a plain program's own (tests/plain/lib/NAME.c), loaded after anything preloaded:
# build/plain-lib/libNAME.so, outside build/plain, which holds only programs.
$(B)/plain-lib/lib%.so: tests/plain/lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(PLAIN_CFLAGS) -shared -fPIC -o $@ $<

$(B)/plain/dlsym_lookup: tests/plain/dlsym_lookup.c tests/plain/plain.h $(B)/plain-lib/libdlnext.so
	@mkdir -p $(dir $@)
	$(CC) $(PLAIN_CFLAGS) -o $@ $< -L$(B)/plain-lib -ldlnext -Wl,-rpath,'$$ORIGIN/../plain-lib' -ldl

$(B)/plain/raw_dlopen: tests/plain/raw_dlopen.c $(wildcard tests/plain/*.h) $(B)/plain-lib/librawstub.so
	@mkdir -p $(dir $@)
	$(CC) $(PLAIN_CFLAGS) -o $@ $< -ldl

$(B)/plain/uring_echo: tests/plain/uring_echo.c tests/plain/plain.h
	@mkdir -p $(dir $@)
	$(CC) $(PLAIN_CFLAGS) -o $@ $< -luring

# Unit tests link the hub's and the resolver's objects directly: no preloading, no shim.
$(B)/unit/%: tests/unit/%.cpp $(HUB_OBJ) $(RES_OBJ)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -std=c++17 $(WARN) -o $@ $< $(HUB_OBJ) $(RES_OBJ) $(LIB_LDLIBS) -lcmocka

$(B)/fuzz/replay/%: tests/fuzz/%.cpp tests/fuzz/replay.cpp $(SAN_CORE)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -std=c++17 $(WARN) $(SAN_FLAGS) -o $@ $< tests/fuzz/replay.cpp $(SAN_CORE) \
	    $(LIB_LDLIBS)

$(B)/fuzz/obj/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(filter-out -O2 -fno-plt,$(LIB_CXXFLAGS)) $(FUZZ_FLAGS) \
	    -fsanitize=fuzzer-no-link -c -o $@ $<

# Kept: make would otherwise delete them as intermediate files after each link.
.SECONDARY: $(FUZZ_OBJ)

$(B)/fuzz/bin/%: tests/fuzz/%.cpp $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) -std=c++17 $(WARN) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LIB_LDLIBS)

$(B)/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(PLAIN_CFLAGS) -o $@ $<

$(B)/bugs/%: tests/bugs/%.c
	@mkdir -p $(dir $@)
	$(CC) $(PLAIN_CFLAGS) -o $@ $<

$(B)/bench/%: tests/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(PLAIN_CFLAGS) -o $@ $<

$(B)/bench/%: tests/bench/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(PLAIN_CXXFLAGS) -o $@ $<

deps:
	@scripts/install-deps.sh

# --deb: make test builds and installs the package too (tests/run.sh, package).
test:
	@scripts/install-deps.sh --deb
	@$(MAKE) --no-print-directory tests
	@tests/run.sh

bench:
	@scripts/install-deps.sh --bench
	@$(MAKE) --no-print-directory lib $(BENCH_BIN) $(DNS_BENCH_TOOLS)
	@scripts/bench.sh
	@echo
	@scripts/bench_echo.sh
	@echo
	@scripts/bench_diag.sh
	@echo
	@scripts/bench_dns.sh
	@echo
	@scripts/bench_gdb.sh
	@echo
	@scripts/bench_slice.sh
	@echo
	@scripts/bench_memcached.sh
	@echo
	@scripts/bench_stdio.sh
	@echo
	@scripts/bench_redis.sh

# san: tests/fuzz/dns_answers.sh runs look-ups under the ASan+UBSan build of the library too.
fuzz-build: lib san $(TOOL_BIN) $(FUZZ_BIN)

fuzz:
	@scripts/install-deps.sh --fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@scripts/fuzz.sh

compat:
	@scripts/install-deps.sh --compat
	@$(MAKE) --no-print-directory lib
	@tests/compat/run.sh

demo: deps
	@$(MAKE) --no-print-directory lib $(B)/plain/sleepers $(B)/plain/echo_server $(B)/tools/echo_load
	@scripts/demo.sh

install: lib
	install -d $(DESTDIR)$(LIBDIR)/libgreen $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(B)/libgreen.so $(DESTDIR)$(LIBDIR)/libgreen.so
	install -m 755 $(ENV_HELPER) $(DESTDIR)$(LIBDIR)/libgreen/greenrun-env
	install -m 755 $(EXPLORE_HELPER) $(DESTDIR)$(LIBDIR)/libgreen/greenrun-explore
	sed 's|@LIBDIR@|$(LIBDIR)|' scripts/greenrun > $(DESTDIR)$(BINDIR)/greenrun
	chmod 755 $(DESTDIR)$(BINDIR)/greenrun
	install -m 644 man/greenrun.1 $(DESTDIR)$(MANDIR)/man1/greenrun.1
	install -m 644 man/libgreen.7 $(DESTDIR)$(MANDIR)/man7/libgreen.7
	install -d $(DESTDIR)$(GDB_AUTOLOAD)$(LIBDIR)
	install -m 644 scripts/libgreen-gdb.py $(DESTDIR)$(GDB_AUTOLOAD)$(LIBDIR)/libgreen.so-gdb.py

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libgreen.so $(DESTDIR)$(LIBDIR)/libgreen/greenrun-env \
	      $(DESTDIR)$(LIBDIR)/libgreen/greenrun-explore \
	      $(DESTDIR)$(BINDIR)/greenrun \
	      $(DESTDIR)$(MANDIR)/man1/greenrun.1 $(DESTDIR)$(MANDIR)/man7/libgreen.7 \
	      $(DESTDIR)$(GDB_AUTOLOAD)$(LIBDIR)/libgreen.so-gdb.py
	-rmdir $(DESTDIR)$(LIBDIR)/libgreen 2>/dev/null

# dpkg-buildpackage writes its results beside the source tree and cleans the tree (make clean)
# first: it works on a copy under build/deb, and the package is then moved to build/.
DEB_VERSION = $(shell sed -n '1s/.*(\(.*\)).*/\1/p' debian/changelog)
DEB_ARCH    = $(shell dpkg --print-architecture)
deb:
	@scripts/install-deps.sh --deb
	rm -rf $(B)/deb
	mkdir -p $(B)/deb/libgreen-$(DEB_VERSION)
	tar -c --exclude=./$(B) --exclude=./.git . | tar -x -C $(B)/deb/libgreen-$(DEB_VERSION)
	cd $(B)/deb/libgreen-$(DEB_VERSION) && DEB_BUILD_OPTIONS=parallel=2 dpkg-buildpackage -b -us -uc
	mv $(B)/deb/libgreen_$(DEB_VERSION)_$(DEB_ARCH).deb \
	   $(B)/deb/libgreen-dbgsym_$(DEB_VERSION)_$(DEB_ARCH).deb $(B)/
	lintian --fail-on error $(B)/libgreen_$(DEB_VERSION)_$(DEB_ARCH).deb

clean:
	rm -rf $(B)

-include $(LIB_OBJ:.o=.d) $(SAN_OBJ:.o=.d) $(TSAN_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d)
