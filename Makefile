# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# Sluice: one non-recursive GNU Makefile.
#   make            build build/sluice-tx and build/sluice-rx
#   make check      unit + end-to-end tests   (SANITIZE=address,undefined for sanitizers)
#   make demo       keys, rx and tx on loopback, real video over a lossy link
#   make bench      ceilings and goodput on this machine
#   make fuzz       libFuzzer targets (clang) over their seed corpora
#   make install    PREFIX=/usr/local DESTDIR=  (units in SYSTEMDUNITDIR, configs in SYSCONFDIR/sluice)
#   make deb        a Debian package in build/deb/ (debian/, dpkg-buildpackage)
#   make sbom       build/sluice.spdx.json: the Debian packages of every library the binaries link
#   make dist       build/sluice-VERSION.tar.gz of the tracked files, the same bytes every time

PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DOCDIR   ?= $(PREFIX)/share/doc/sluice
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
CC       ?= cc
OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
SANITIZE ?=
FUZZ_SECONDS ?= 60
V        ?= 0

ifeq ($(V),0)
Q := @
msg = @printf '  %-6s %s\n' $(1) $(2)
else
Q :=
msg = @true
endif

ifneq ($(SANITIZE),)
BUILD ?= build/san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD ?= build
SANFLAGS :=
endif

PKGS := libuv libzstd libxxhash libsodium yaml-0.1 libisal jansson libseccomp libcrypto libgcrypt libsystemd
TEST_PKGS := cmocka
X86_PKGS := $(if $(filter x86_64,$(shell uname -m)),libipsec-mb-dev)
# Debian 12 packages that provide everything above, plus what tests and the demo use.
DEB_PKGS := build-essential pkg-config libuv1-dev libzstd-dev libxxhash-dev libsodium-dev \
            libyaml-dev libisal-dev libjansson-dev libseccomp-dev libssl-dev libgcrypt20-dev libcmocka-dev libsystemd-dev \
            iproute2 clang libclang-rt-14-dev python3 bsdutils curl openssl scdoc \
            systemd debhelper fakeroot lintian prometheus reuse $(X86_PKGS)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter \
        -Wformat=2 -Wvla $(if $(CI),-Werror,)
# Intel's multi-buffer crypto library carries AES-256-GCM on x86-64 (common/session.c); it has
# no pkg-config file, so its header is looked for: once, at first use (after deps), then kept.
IPSEC_MB = $(eval IPSEC_MB := $(shell printf '\043include <intel-ipsec-mb.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 && echo 1))$(IPSEC_MB)
DEPCFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(if $(IPSEC_MB),-DSLUICE_IPSEC_MB)
DEPLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) $(if $(IPSEC_MB),-lIPSec_MB) -lpthread -lm
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -I. $(WARN) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) $(DEPCFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

LIB_SRC := $(sort $(wildcard common/*.c common/*/*.c fec/*.c hw/*.c))
TX_SRC  := $(sort $(wildcard tx/*.c tx/*/*.c))
RX_SRC  := $(sort $(wildcard rx/*.c rx/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
TX_OBJ  := $(TX_SRC:%.c=$(BUILD)/obj/%.o)
RX_OBJ  := $(RX_SRC:%.c=$(BUILD)/obj/%.o)
# tx/main.c and rx/main.c hold main(); everything else of tx/ and rx/ is testable.
TX_LIB_OBJ := $(filter-out $(BUILD)/obj/tx/main.o,$(TX_OBJ))
RX_LIB_OBJ := $(filter-out $(BUILD)/obj/rx/main.o,$(RX_OBJ))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/%)
SHIMS := $(BUILD)/libfakeclock.so $(BUILD)/libsealfail.so
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)

DEPS_OK := $(BUILD)/.deps-ok

.PHONY: all deps check unit e2e demo bench fuzz fuzz-check install man deb sbom dist clean
all: $(BUILD)/sluice-tx $(BUILD)/sluice-rx $(TOOL_BIN) $(SHIMS)

# Missing Debian packages are installed when run as root, else the exact command is printed.
deps: $(DEPS_OK)
$(DEPS_OK):
	$(Q)missing=; for p in $(PKGS) $(TEST_PKGS); do pkg-config --exists $$p || missing="$$missing $$p"; done; \
	for c in ip:iproute2 curl:curl openssl:openssl python3:python3 clang:clang scdoc:scdoc \
	  systemd-analyze:systemd dh:debhelper fakeroot:fakeroot lintian:lintian promtool:prometheus reuse:reuse; do \
	  command -v $${c%%:*} >/dev/null || missing="$$missing $${c#*:}"; done; \
	ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || missing="$$missing libclang-rt-dev"; \
	[ -z "$(X86_PKGS)" ] || [ -f /usr/include/intel-ipsec-mb.h ] || missing="$$missing $(X86_PKGS)"; \
	if [ -n "$$missing" ]; then \
	  echo "sluice: missing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "sluice: installing Debian packages"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEB_PKGS) >/dev/null || exit 1; \
	  else \
	    echo "sluice: run as root:  apt-get install -y $(DEB_PKGS)"; exit 1; \
	  fi; \
	fi
	$(Q)mkdir -p $(@D) && touch $@

$(BUILD)/obj/%.o: %.c | $(DEPS_OK)
	$(call msg,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libsluice.a: $(LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/sluice-tx: $(TX_OBJ) $(BUILD)/libsluice.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DEPLIBS)

$(BUILD)/sluice-rx: $(RX_OBJ) $(BUILD)/libsluice.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DEPLIBS)

$(BUILD)/%: $(BUILD)/obj/tests/tools/%.o $(BUILD)/libsluice.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DEPLIBS)

# LD_PRELOAD shims (no sanitizer: they are preloaded): a process's wall clock stepped
# (fakeclock), its cipher made to fail (sealfail).
$(BUILD)/libfakeclock.so: tests/tools/fakeclock/fakeclock.c
$(BUILD)/libsealfail.so: tests/tools/sealfail/sealfail.c
$(SHIMS):
	$(call msg,LD,$@)
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -fPIC -shared -o $@ $< -ldl

# Unit tests that make one allocation fail wrap it (not interpose it: under ASan the
# sanitizer's allocator must stay the one called).
$(BUILD)/tests/test_files: ALL_LDFLAGS += -Wl,--wrap=calloc
$(BUILD)/tests/test_outstanding: ALL_LDFLAGS += -Wl,--wrap=realloc
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TX_LIB_OBJ) $(RX_LIB_OBJ) $(BUILD)/libsluice.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DEPLIBS) $(shell pkg-config --libs cmocka 2>/dev/null)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(TX_LIB_OBJ) $(RX_LIB_OBJ) $(BUILD)/libsluice.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DEPLIBS)

unit: $(UNIT_BIN)
	$(Q)SLUICE_UNIT_ONLY=1 tests/run.sh $(UNIT_BIN)

e2e: all
	$(Q)SLUICE_BUILD=$(BUILD) tests/e2e/run.sh

# The README's test command: every test, with one closing line "N passed, N failed".
check: all $(UNIT_BIN)
	$(Q)SLUICE_BUILD=$(BUILD) tests/run.sh $(UNIT_BIN)

demo: all
	$(Q)SLUICE_BUILD=$(BUILD) tests/demo.sh

bench: all $(BENCH_BIN)
	$(Q)SLUICE_BUILD=$(BUILD) bench/run.sh

# libFuzzer targets: clang, ASan+UBSan, linked against the library sources directly.
FUZZ_CFLAGS = -std=gnu11 -D_GNU_SOURCE -I. -g -O1 -fsanitize=fuzzer,address,undefined $(DEPCFLAGS)
# The sources every target links are compiled once (build/fuzz/obj), not once per target.
FUZZ_LINK = $(LIB_SRC) $(filter-out rx/main.c,$(RX_SRC)) $(filter-out tx/main.c,$(TX_SRC))
FUZZ_OBJ = $(FUZZ_LINK:%.c=build/fuzz/obj/%.o)
.SECONDARY: $(FUZZ_OBJ)
build/fuzz/obj/%.o: %.c | $(DEPS_OK)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<
build/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ) | $(DEPS_OK)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) -MMD -MP -MF $@.d -MT $@ -o $@ $< $(FUZZ_OBJ) $(DEPLIBS)

# The same targets without ASan and UBSan (libFuzzer's coverage only, -O2): 1.7 to 4.4 times
# the executions per second (README), for long campaigns on few cores. What such a run keeps is merged
# into the committed corpus through the sanitizer build above, which runs every input again.
FUZZ_FAST_CFLAGS = -std=gnu11 -D_GNU_SOURCE -I. -g -O2 -fsanitize=fuzzer $(DEPCFLAGS)
FUZZ_FAST_OBJ = $(FUZZ_LINK:%.c=build/fuzz-fast/obj/%.o)
.SECONDARY: $(FUZZ_FAST_OBJ)
build/fuzz-fast/obj/%.o: %.c | $(DEPS_OK)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(FUZZ_FAST_CFLAGS) -MMD -MP -c -o $@ $<
build/fuzz-fast/%: tests/fuzz/%.c $(FUZZ_FAST_OBJ) | $(DEPS_OK)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(FUZZ_FAST_CFLAGS) -MMD -MP -MF $@.d -MT $@ -o $@ $< $(FUZZ_FAST_OBJ) $(DEPLIBS)

fuzz: $(FUZZ_BIN)
	$(Q)for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p build/fuzz/corpus-$$n; \
	  echo "  FUZZ   $$n ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 build/fuzz/corpus-$$n tests/fuzz/corpus/$$n 2>&1 | tail -n 2 || exit 1; done

# Every fuzz target over its committed corpus and known crashers: a regression check, no fuzzing.
fuzz-check: $(FUZZ_BIN)
	$(Q)pass=0; fail=0; for f in $(FUZZ_BIN); do n=$$(basename $$f); \
	  dirs=tests/fuzz/corpus/$$n; [ -d tests/fuzz/crashes ] && [ "$$n" = fuzz_linkrole ] && dirs="$$dirs tests/fuzz/crashes"; \
	  if $$f -runs=0 $$(ls -d $$dirs) >build/fuzz/$$n.log 2>&1; then pass=$$((pass+1)); echo "PASS fuzz/$$n"; \
	  else fail=$$((fail+1)); echo "FAIL fuzz/$$n"; tail -n 30 build/fuzz/$$n.log; fi; done; \
	echo "fuzz: $$pass passed, $$fail failed"; [ $$fail -eq 0 ]

# Man pages from scdoc sources (dist/man/).
MAN_PAGES := $(patsubst dist/man/%.scd,$(BUILD)/man/%,$(wildcard dist/man/*.scd))
man: $(MAN_PAGES)
$(BUILD)/man/%: dist/man/%.scd | $(DEPS_OK)
	$(call msg,SCDOC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)scdoc <$< >$@

# A site's /etc/sluice/*.yaml is never overwritten: the new example goes beside it as
# *.yaml.example. Units name BINDIR and SYSCONFDIR as installed.
install: $(BUILD)/sluice-tx $(BUILD)/sluice-rx man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	  $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(SYSCONFDIR)/sluice $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0755 $(BUILD)/sluice-tx $(BUILD)/sluice-rx $(DESTDIR)$(BINDIR)/
	install -m 0644 $(BUILD)/man/sluice-tx.8 $(BUILD)/man/sluice-rx.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(BUILD)/man/sluice.yaml.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 dist/examples/tx.yaml dist/examples/rx.yaml $(DESTDIR)$(DOCDIR)/examples/
	for f in tx rx; do t=$(DESTDIR)$(SYSCONFDIR)/sluice/$$f.yaml; \
	  if [ -e $$t ]; then echo "sluice: keeping $$t; the example goes to $$t.example"; t=$$t.example; fi; \
	  install -m 0644 dist/examples/$$f.yaml $$t; \
	  sed 's|@BINDIR@|$(BINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' dist/systemd/sluice-$$f.service.in \
	    >$(DESTDIR)$(SYSTEMDUNITDIR)/sluice-$$f.service; \
	  chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/sluice-$$f.service; done

# The package is built from a copy of the sources in build/deb/ (dpkg-buildpackage cleans
# its tree); the .deb lands in build/deb/.
deb: | $(DEPS_OK)
	$(Q)rm -rf build/deb && mkdir -p build/deb/src
	$(Q)tar -c --exclude=./build --exclude=./.git . | tar -x -C build/deb/src
	$(Q)cd build/deb/src && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE -u CC -u BUILD dpkg-buildpackage -us -uc -b >../build.log 2>&1 || \
	  { tail -n 40 ../build.log; exit 1; }
	$(Q)ls build/deb/*.deb

VERSION := $(shell sed -n 's/^\#define SLUICE_VERSION "\(.*\)"/\1/p' common/version.h)

# SPDX 2.3 JSON: each library the binaries map (ldd), the Debian package that installed it and
# that package's installed version (dpkg -S, dpkg-query). See dist/sbom.py. Written every
# time: an upgraded library changes it without touching any file make sees.
sbom: $(BUILD)/sluice-tx $(BUILD)/sluice-rx
	$(call msg,SBOM,$(BUILD)/sluice.spdx.json)
	$(Q)python3 dist/sbom.py $(VERSION) $(BUILD)/sluice.spdx.json $(BUILD)/sluice-tx $(BUILD)/sluice-rx

# The tracked files (git ls-files, as in the work tree) under sluice-VERSION/, stamped with the
# last commit's time: names sorted, owners, modes and times normalised, gzip without a name or
# time, so two builds of one commit give the same bytes. DISTDIR says where it goes.
DISTDIR ?= $(BUILD)
dist:
	$(Q)git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo "sluice: make dist needs the git work tree"; exit 1; }
	$(Q)[ -z "$$(git status --porcelain --untracked-files=no)" ] || \
	  echo "sluice: warning: uncommitted changes go into the tarball, under the last commit's time"
	$(Q)mkdir -p $(DISTDIR)
	$(call msg,DIST,$(DISTDIR)/sluice-$(VERSION).tar.gz)
	$(Q)t=$(DISTDIR)/sluice-$(VERSION).tar; export SOURCE_DATE_EPOCH=$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct)}; \
	git ls-files -z | LC_ALL=C sort -z >$$t.list && \
	LC_ALL=C tar --create --file=$$t.tmp --format=posix --no-recursion --sort=name \
	  --mtime=@$$SOURCE_DATE_EPOCH --owner=0 --group=0 --numeric-owner \
	  --mode='u+rw,go=rX,go-w' --transform='s,^,sluice-$(VERSION)/,' \
	  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
	  --null --files-from=$$t.list && \
	gzip -9n <$$t.tmp >$$t.gz.tmp && mv $$t.gz.tmp $$t.gz && rm -f $$t.tmp $$t.list || \
	{ rm -f $$t.tmp $$t.list $$t.gz.tmp; exit 1; }
	$(Q)cd $(DISTDIR) && sha256sum sluice-$(VERSION).tar.gz >sluice-$(VERSION).tar.gz.sha256

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
