# sluice build.
#
#   make            build/sluice (optimised, warnings as errors)
#   make asan       build/asan/sluice (AddressSanitizer + UBSan), used by the tests
#   make unit       build and run the C unit tests (under the sanitizers)
#   make test       install what the suite needs, then unit + end-to-end tests
#   make run        install what the server needs, build, run on ./data
#   make bench      sluice's own scenarios, then side by side with RabbitMQ, Redis,
#                   NATS and SQS emulators, into bench/results/latest.md (~30 min)
#   make bench-sluice   sluice's own scenarios only (~2 min, bench/README.md)
#   make bench-compare  the side-by-side table only (bench/results/compare.md)
#   make torture    SIGKILL under load, 50 times, with a ledger check
#   make fuzz       libFuzzer targets: replay tests/regress/, then short runs (fuzz/README.md)
#   make valgrind   the end-to-end suites with the server under valgrind memcheck
#
# Sources are discovered: every src/**/*.c except src/main.c goes into a
# static library that the server, the unit tests and the fuzzers link.

CC      ?= cc
# Build directory: side-by-side builds can each use their own (make B=/tmp/b asan).
B       ?= build
PKGS    := libevent libevent_pthreads libevent_openssl jansson libcjson sqlite3 libcrypto libssl libcurl jemalloc
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter -Wpointer-arith -Wformat=2
STD     := -std=c17 -D_GNU_SOURCE
OPT     ?= -O2 -g

# Fail early, naming the Debian package that is missing.  The goals that
# install their own dependencies first (and then build in a sub-make, which
# checks again) are let through.
SELF_INSTALLING := deps help clean test run bench bench-sluice bench-compare torture fuzz valgrind
PKG_OK := $(shell pkg-config --exists $(PKGS) && echo yes)
ifneq ($(PKG_OK),yes)
ifeq ($(filter $(SELF_INSTALLING),$(MAKECMDGOALS)),)
$(info missing build libraries: $(foreach p,$(PKGS),$(if $(shell pkg-config --exists $(p) && echo y),,$(p))))
$(info install them with: scripts/install-deps.sh build   (Debian: libevent-dev libjansson-dev libcjson-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev libjemalloc-dev))
$(error missing build libraries)
endif
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
# The sanitizer builds keep glibc's malloc (ASan replaces it); the server
# links jemalloc, which cut its CPU per message by about a third on the batch
# path (glibc's malloc was a third of the event loop's time, see bench/).
SAN_LIBS   := $(filter-out -ljemalloc,$(PKG_LIBS))

CFLAGS_ALL  = $(STD) $(WARN) $(OPT) -Isrc $(PKG_CFLAGS) $(CFLAGS)
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

LIB_SRC   := $(shell find src -name '*.c' ! -path src/main.c | sort)
UNIT_SRC  := $(shell find tests/unit -name 'test_*.c' 2>/dev/null | sort)
HEADERS   := $(shell find src tests/unit -name '*.h')

LIB_OBJ      := $(LIB_SRC:%.c=$(B)/obj/%.o)
LIB_OBJ_ASAN := $(LIB_SRC:%.c=$(B)/asan/obj/%.o)
UNIT_BIN     := $(UNIT_SRC:tests/unit/%.c=$(B)/asan/tests/%)

.PHONY: all asan unit test e2e run deps clean bench bench-sluice bench-compare torture fuzz fuzz-replay help fmt \
        valgrind
all: $(B)/sluice

help:
	@sed -n '3,13p' Makefile

$(B)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "CC $<"; $(CC) $(CFLAGS_ALL) -c $< -o $@

$(B)/asan/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "CC [asan] $<"; $(CC) $(CFLAGS_ALL) $(ASAN_FLAGS) -O1 -c $< -o $@

$(B)/libsluice.a: $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(B)/asan/libsluice.a: $(LIB_OBJ_ASAN)
	@rm -f $@
	@ar rcs $@ $^

$(B)/sluice: $(B)/obj/src/main.o $(B)/libsluice.a
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

$(B)/asan/sluice: $(B)/asan/obj/src/main.o $(B)/asan/libsluice.a
	$(CC) $(CFLAGS_ALL) $(ASAN_FLAGS) -O1 -o $@ $^ $(SAN_LIBS)

# The server for valgrind: optimised objects, glibc's malloc (memcheck
# cannot follow jemalloc).
$(B)/vg/sluice: $(B)/obj/src/main.o $(B)/libsluice.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(SAN_LIBS)

$(B)/asan/tests/%: tests/unit/%.c $(B)/asan/libsluice.a tests/unit/check.h
	@mkdir -p $(dir $@)
	@echo "CC [test] $<"; $(CC) $(CFLAGS_ALL) $(ASAN_FLAGS) -O1 -Itests/unit -o $@ $< $(B)/asan/libsluice.a $(SAN_LIBS)

asan: $(B)/asan/sluice

unit: $(UNIT_BIN)
	@scripts/run-unit.sh $(UNIT_BIN)

deps:
	scripts/install-deps.sh all

e2e: $(B)/sluice $(B)/asan/sluice
	scripts/run-e2e.sh

test:
	scripts/install-deps.sh all
	$(MAKE) --no-print-directory all asan
	$(MAKE) --no-print-directory unit
	fuzz/run.sh
	TORTURE_SHORT=1 SKIP_BUILD=1 tests/torture/run.sh
	scripts/run-e2e.sh

# make run ARGS="--port 4700 --data-dir /tmp/sluice" passes flags to serve.
run:
	scripts/install-deps.sh build
	$(MAKE) --no-print-directory all
	$(B)/sluice serve $(ARGS)

bench:
	scripts/install-deps.sh all
	$(MAKE) --no-print-directory all
	SKIP_BUILD=1 SLUICE=$(B)/sluice bench/run.sh
	APPEND_TO=bench/results/latest.md SLUICE=$(B)/sluice bench/compare/run.sh

bench-sluice:
	scripts/install-deps.sh all
	$(MAKE) --no-print-directory all
	SKIP_BUILD=1 SLUICE=$(B)/sluice bench/run.sh

bench-compare:
	scripts/install-deps.sh all
	$(MAKE) --no-print-directory all
	SLUICE=$(B)/sluice bench/compare/run.sh

torture:
	scripts/install-deps.sh all
	$(MAKE) --no-print-directory all
	tests/torture/run.sh

fuzz:
	scripts/install-deps.sh all
	fuzz/run.sh $(FUZZ_SECONDS)

# The e2e suites with the server under valgrind (about 20 minutes here).
valgrind:
	scripts/install-deps.sh all
	scripts/valgrind-e2e.sh

fuzz-replay:
	fuzz/run.sh --replay

fmt:
	clang-format -i $(shell find src tests/unit bench -name '*.[ch]')

clean:
	rm -rf $(B)
