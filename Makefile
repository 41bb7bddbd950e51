# SPDX-License-Identifier: BSD-2-Clause
# mitmlab — top-level build.
#
# Targets: deps all test demo bench fuzz lint install clean
# Overridable variables:
#   CC        compiler (default cc; fuzz always uses clang)
#   BUILD     build directory (default build; use another to build in parallel)
#   SAN=1     build with AddressSanitizer + UndefinedBehaviorSanitizer
#   OPT       optimisation flags (default -O2)
#   PREFIX    install prefix (default /usr/local)
#   FUZZ_SECONDS  how long each fuzz harness runs in `make fuzz` (default 60)
#   FUZZ      subset of fuzz harness names for `make fuzz` (default: all)
#   TESTS     subset of unit test names for `make unit` (default: all)
#   INTEG     subset of integration test scripts for `make integ` (default: all)
#   V=1       print every compiler command

CC      ?= cc
BUILD   ?= build
OPT     ?= -O2
PREFIX  ?= /usr/local
FUZZ_SECONDS ?= 60

PKGS = openssl libevent libevent_openssl libevent_pthreads libzmq jansson yajl \
       libcyaml libpcap libnghttp2 libnetfilter_queue libnetfilter_conntrack libmnl

# Debian packages the build, the tests and the demo need (make deps installs the missing ones).
DEB_PKGS = build-essential pkg-config libssl-dev openssl libevent-dev libzmq3-dev \
       libnetfilter-queue-dev libnetfilter-conntrack-dev libmnl-dev libcmocka-dev libjansson-dev libyajl-dev libcyaml-dev libyaml-dev libpcap-dev \
       libnghttp2-dev nghttp2-client nghttp2-server tshark gnuplot-nox python3 python3-zmq \
       iproute2 nftables iptables conntrack curl jq clang libclang-rt-14-dev cppcheck procps strace \
       chromium

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN   = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
         -Wpointer-arith -Wcast-qual -Werror
GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
CFLAGS_BASE = -std=c11 -D_GNU_SOURCE -DMITMLAB_GIT=\"$(GIT_REV)\" $(OPT) -g $(WARN) -MMD -MP -Imitmlab $(PKG_CFLAGS)
LDLIBS_BASE = $(PKG_LIBS) -lpthread -lm

ifeq ($(SAN),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

CFLAGS  += $(CFLAGS_BASE)
LDLIBS  += $(LDLIBS_BASE)

LIB_SRCS  = $(filter-out mitmlab/main.c,$(wildcard mitmlab/*.c))
LIB_OBJS  = $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ  = $(BUILD)/obj/mitmlab/main.o
LIB       = $(BUILD)/libmitmlab.a
BIN       = $(BUILD)/bin/mitmlab

UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# Helpers shared by the unit tests (not test programs: no test_ prefix), linked into each one.
UNIT_HELPER_OBJS = $(BUILD)/obj/tests/unit/testpki.o $(BUILD)/obj/tests/unit/testjson.o
TESTS    ?= $(UNIT_SRCS:tests/unit/%.c=%)

FUZZ_SRCS = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ     ?= $(FUZZ_SRCS:tests/fuzz/%.c=%)
FUZZ_BINS = $(FUZZ:%=$(BUILD)/fuzz/%)

.PHONY: all deps check-deps test unit integ demo bench fuzz fuzz-build lint install clean

all: check-deps $(BIN)

# Fail early with the fix when a library is missing, instead of a wall of compiler errors.
check-deps:
	@pkg-config --exists $(PKGS) || { \
	  echo "mitmlab: missing build libraries: $$(for p in $(PKGS); do pkg-config --exists $$p || printf '%s ' $$p; done)"; \
	  echo "mitmlab: run 'make deps' (as root) to install them from Debian"; exit 1; }

# Install the Debian packages that are not installed yet; idempotent and quiet when nothing is missing.
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "mitmlab: installing Debian packages:" $$missing; \
	  if [ "$$(id -u)" != 0 ]; then echo "mitmlab: 'make deps' must run as root"; exit 1; fi; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

Q = $(if $(V),,@)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(BIN): $(MAIN_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(MAIN_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(UNIT_HELPER_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(UNIT_HELPER_OBJS) $(LIB) $(LDLIBS) $(shell pkg-config --libs cmocka 2>/dev/null)

# the SDK's test compiles the SDK's sources in (they include mitmlab-analyzer.h by name)
$(BUILD)/obj/tests/unit/test_analyzer_sdk.o: CFLAGS += -Ianalyzers -Ianalyzers/lib
$(BUILD)/obj/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(shell pkg-config --cflags cmocka 2>/dev/null) -Wno-missing-prototypes -c -o $@ $<

# Unit tests: one cmocka program per module, run from the repository root (fixtures are relative).
unit: all $(TESTS:%=$(BUILD)/tests/%)
	@fail=0; for t in $(TESTS); do \
	  echo "== unit $$t"; $(BUILD)/tests/$$t || fail=1; done; \
	[ $$fail = 0 ] || { echo "mitmlab: unit tests failed"; exit 1; }

# Integration tests: each script builds its own namespaces and removes them (needs root).
INTEG ?= $(sort $(wildcard tests/integ/test_*.sh))
integ: all
	@fail=0; pass=0; for t in $(INTEG); do \
	  echo "== integ $$t"; if BUILD=$(BUILD) bash $$t; then pass=$$((pass+1)); else fail=$$((fail+1)); echo "FAILED: $$t"; fi; done; \
	echo "integration: $$pass passed, $$fail failed"; [ $$fail = 0 ]

test: deps
	@$(MAKE) --no-print-directory lint unit integ

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash tests/integ/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) QUICK=$(QUICK) OUT=$(OUT) bash tests/bench/run.sh

# Fuzz harnesses (libFuzzer, clang) for every parser of untrusted input; each runs FUZZ_SECONDS.
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -Imitmlab $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined
FUZZ_LIB_SRCS = $(LIB_SRCS)
fuzz-build: check-deps $(FUZZ_BINS)
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRCS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_SRCS) $(LDLIBS_BASE)
fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@for f in $(FUZZ_BINS); do n=$$(basename $$f); mkdir -p $(BUILD)/fuzz/corpus-$$n; \
	  echo "== fuzz $$n ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(BUILD)/fuzz/corpus-$$n tests/fixtures/fuzz/$$n 2>&1 | tail -n 12 || exit 1; done

lint: check-deps
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	  --library=tests/cppcheck.cfg \
	  --suppress=missingIncludeSystem --std=c11 -D_GNU_SOURCE -Imitmlab mitmlab analyzers tests/unit

install: all
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/mitmlab

clean:
	rm -rf $(BUILD)

# ---- analyzers (issue #4) ------------------------------------------------------------------
# The analyzer SDK (analyzers/mitmlab-analyzer.h + analyzers/lib/*.c, plus the pure bus-message,
# util and vantage objects it needs, bgsched for its event loop's background scheduling, and
# pki + log so C analyzers name certificates exactly as client.result does) as
# $(BUILD)/analyzers/lib/libmitmlab-analyzer.a with a pkg-config file,
# and every C analyzer analyzers/<name>/*.c as $(BUILD)/analyzers/<name> (the {bin} directory
# of analyzer manifests). Script analyzers need no build.
AN_LIB_SRCS = $(wildcard analyzers/lib/*.c)
AN_LIB_OBJS = $(AN_LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/mitmlab/busmsg.o \
              $(BUILD)/obj/mitmlab/jsonload.o $(BUILD)/obj/mitmlab/bgsched.o \
              $(BUILD)/obj/mitmlab/util.o $(BUILD)/obj/mitmlab/vantage.o \
              $(BUILD)/obj/mitmlab/pki.o $(BUILD)/obj/mitmlab/log.o
AN_LIB  = $(BUILD)/analyzers/lib/libmitmlab-analyzer.a
AN_PC   = $(BUILD)/analyzers/mitmlab-analyzer.pc
AN_C    = $(sort $(patsubst analyzers/%/,%,$(dir $(filter-out analyzers/lib/%,$(wildcard analyzers/*/*.c)))))
AN_BINS = $(AN_C:%=$(BUILD)/analyzers/%)
AN_LIBS = $(shell pkg-config --libs jansson yajl libzmq libcrypto 2>/dev/null)
AN_VERSION = $(shell sed -n 's/^\#define MITMLAB_VERSION "\(.*\)"/\1/p' mitmlab/version.h)

.PHONY: analyzers install-analyzers
all: analyzers
analyzers: $(AN_LIB) $(AN_PC) $(AN_BINS)

$(BUILD)/obj/analyzers/%.o: CFLAGS += -Ianalyzers -Ianalyzers/lib

$(AN_LIB): $(AN_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(AN_PC): Makefile mitmlab/version.h
	@mkdir -p $(dir $@)
	@printf '%s\n' 'prefix=$(PREFIX)' 'includedir=$${prefix}/include' 'libdir=$${prefix}/lib' '' \
	  'Name: mitmlab-analyzer' 'Description: mitmlab analyzer SDK (event bus client, verdicts)' \
	  'Version: $(AN_VERSION)' 'Requires: jansson yajl libzmq libcrypto' 'Cflags: -I$${includedir}' \
	  'Libs: -L$${libdir} -lmitmlab-analyzer' >$@

# One link rule per C analyzer: its own objects plus the SDK library.
define AN_BIN_RULE
$(BUILD)/analyzers/$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard analyzers/$(1)/*.c)) $(AN_LIB)
	@mkdir -p $$(dir $$@)
	@$$(if $$(V),,echo "  LD      $$@")
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(AN_LIB) $(AN_LIBS)
endef
$(foreach a,$(AN_C),$(eval $(call AN_BIN_RULE,$(a))))

install: install-analyzers
install-analyzers: analyzers
	install -D -m 0644 analyzers/mitmlab-analyzer.h $(DESTDIR)$(PREFIX)/include/mitmlab-analyzer.h
	install -D -m 0644 $(AN_LIB) $(DESTDIR)$(PREFIX)/lib/libmitmlab-analyzer.a
	install -D -m 0644 $(AN_PC) $(DESTDIR)$(PREFIX)/lib/pkgconfig/mitmlab-analyzer.pc
	@for b in $(AN_C); do install -D -m 0755 $(BUILD)/analyzers/$$b \
	  $(DESTDIR)$(PREFIX)/libexec/mitmlab/analyzers/$$b || exit 1; done
	@for d in analyzers/*/analyzer.json; do n=$$(basename $$(dirname $$d)); \
	  for f in analyzers/$$n/*; do case $$f in *.c|*.h) ;; *) install -D -m 0644 $$f \
	    $(DESTDIR)$(PREFIX)/share/mitmlab/analyzers/$$n/$$(basename $$f) || exit 1;; esac; done; done
	install -D -m 0644 analyzers/README.md $(DESTDIR)$(PREFIX)/share/mitmlab/analyzers/README.md
# ---- end of analyzers ----------------------------------------------------------------------

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- VM (issue #8) -----------------------------------------------------------------------------
# `make vm` builds the Debian 12 VM image (vm/build/mitmlab.img; cached base, see vm/README.md);
# `make vm-test` boots it and runs + checks the baseline scenario inside (slow under TCG;
# VM_SCENARIO=kz-2019 for another).
# Host packages the VM path needs are in vm/Makefile's VM_DEB_PKGS (`make -C vm deps`).
# `make test VM=1` adds vm-test to `make test`.
.PHONY: vm vm-test
vm:
	@$(MAKE) --no-print-directory -C vm image
vm-test:
	@$(MAKE) --no-print-directory -C vm test
ifeq ($(VM),1)
test: vm-test
endif
# ---- end VM ------------------------------------------------------------------------------------
