# ferry: a static sendmail that relays to one smart host over TLS.
# `make` builds ./ferry; `make check` runs every test; `make demo` shows it.
# `make ARCH=aarch64` builds ./ferry-aarch64 (static arm64, musl);
# `make dist` the release tarball with both. `make freebsd
# FREEBSD_SYSROOT=DIR` builds ./ferry-freebsd-amd64 (README "FreeBSD").

VERSION		= 0.1.0
BUILD		?= build
DEPS		= $(BUILD)/deps
TRUST_BUNDLE	?= /etc/ssl/certs/ca-certificates.crt
PREFIX		?= /usr/local
SYSCONFDIR	?= /etc
SPOOLDIR	?= /var/spool/ferry

MUSL_CC		?= musl-gcc
HOST_CC		?= gcc
# Where the release build finds BearSSL and libtomcrypt, and mkanchors.
REL_DEPS	= $(DEPS)/musl
HOST_DEPS	= $(DEPS)/host
DEPS_CMD	= scripts/deps $(BUILD)

# A FreeBSD host (README "FreeBSD"): `gmake` with base cc (clang),
# static against base libc. BearSSL and libtomcrypt come from the same
# pinned archives, built by scripts/deps-src (no apt) into $(DEPS)/cc;
# the trust anchors from ca_root_nss (pkg install ca_root_nss).
UNAME_S		?= $(shell uname -s)
ifeq ($(UNAME_S),FreeBSD)
MUSL_CC		= cc
HOST_CC		= cc
REL_DEPS	= $(DEPS)/cc
HOST_DEPS	= $(DEPS)/cc
DEPS_CMD	= scripts/deps-src -c '$(MUSL_CC)' $(BUILD) && touch $(DEPS)/stamp
EXTRA_WARN	= -Wno-unknown-warning-option
ifeq ($(origin TRUST_BUNDLE),file)
TRUST_BUNDLE	= /usr/local/share/certs/ca-root-nss.crt
endif
endif

# Cutting diagnostic text to fit is intended; paths and commands are checked.
WARN		= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
		  -Wno-format-truncation $(EXTRA_WARN)
STD		= -std=c11 -D_POSIX_C_SOURCE=200809L
DEFS		= -DFERRY_VERSION='"$(VERSION)"' -DBEARSSL_VERSION='"0.6"' \
		  -DSYSCONFDIR='"$(SYSCONFDIR)"' -DSPOOLDIR='"$(SPOOLDIR)"'
# Release flags: size first; sections let the linker drop what is unused.
REL_CFLAGS	= -Os -ffunction-sections -fdata-sections $(STD) $(WARN) $(DEFS) \
		  -I$(REL_DEPS)/include -Isrc
REL_LDFLAGS	= -static -s -Wl,--gc-sections -Wl,--build-id=none
REL_LIBS	= $(REL_DEPS)/lib/libbearssl.a $(REL_DEPS)/lib/libtomcrypt.a
# Tests: glibc, because ASan does not run on musl.
TEST_CFLAGS	= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
		  $(STD) $(WARN) $(DEFS) -I$(DEPS)/host/include -Isrc -Itests/unit
TEST_LIBS	= $(DEPS)/host/lib/libbearssl.a $(DEPS)/host/lib/libtomcrypt.a

MODS		= alias auth bounce cli conf confine dsn ferr log msg net queue secret \
		  serve smtp spool ta tls
SRCS		= $(MODS:%=src/%.c) src/main.c
OBJS		= $(SRCS:src/%.c=$(BUILD)/rel/%.o) $(BUILD)/rel/anchors.o
UNIT_MODS	= alias auth conf confine dsn ferr log msg net secret serve smtp spool \
		  ta tls
UNIT_SRCS	= $(UNIT_MODS:%=src/%.c) tests/unit/main.c \
		  $(filter-out tests/unit/main.c,$(wildcard tests/unit/*_test.c))
HDRS		= $(wildcard src/*.h) tests/unit/t.h

.PHONY: all deps check unit e2e demo bench install uninstall clean distclean fuzz
all: ferry

# src/plat.c is the one platform file (plat.h); every build has it.
MODS		+= plat
UNIT_MODS	+= plat
# src/report.c: the queue as monitoring reads it (mailq -j, -bc, metrics).
MODS		+= report
UNIT_MODS	+= report
# src/limit.c: what a reply says of the smart host's limits (issue 22).
MODS		+= limit
UNIT_MODS	+= limit
# src/relay.c: which smart host, and the failed ones' holds (issue 26).
MODS		+= relay
UNIT_MODS	+= relay
# src/x509.c: the certificate policy over BearSSL's x509_minimal.
MODS		+= x509
UNIT_MODS	+= x509
# src/local.c: the local submission socket, for callers without the group.
MODS		+= local
# Reproducible: no build ID, no path of the tree (scripts/repro).
REL_CFLAGS	+= -ffile-prefix-map=$(CURDIR)/=
# `make ARCH=aarch64` builds ./ferry-aarch64 instead (see below).
ARCH		?=
ifeq ($(ARCH),aarch64)
.DEFAULT_GOAL	:= ferry-aarch64
endif
.PHONY: check-aarch64 clean-aarch64 clang-check repro dist

deps: $(DEPS)/stamp
$(DEPS)/stamp: scripts/deps scripts/deps.sha256
	$(DEPS_CMD)

$(BUILD)/mkanchors: certs/mkanchors.c src/ta.c src/ferr.c src/ta.h $(DEPS)/stamp
	$(HOST_CC) -O1 $(STD) $(WARN) -I$(HOST_DEPS)/include -Isrc \
	    certs/mkanchors.c src/ta.c src/ferr.c \
	    $(HOST_DEPS)/lib/libbearssl.a -o $@

$(BUILD)/anchors.c: $(BUILD)/mkanchors $(TRUST_BUNDLE)
	$(BUILD)/mkanchors $(TRUST_BUNDLE) > $@.tmp && mv $@.tmp $@

$(BUILD)/rel/%.o: src/%.c $(HDRS) $(DEPS)/stamp Makefile
	@mkdir -p $(@D)
	$(MUSL_CC) $(REL_CFLAGS) -c $< -o $@

$(BUILD)/rel/anchors.o: $(BUILD)/anchors.c src/anchors.h
	@mkdir -p $(@D)
	$(MUSL_CC) $(REL_CFLAGS) -c $< -o $@

ferry: $(OBJS) $(REL_LIBS)
	$(MUSL_CC) $(REL_LDFLAGS) $(OBJS) $(REL_LIBS) -o $@

$(REL_LIBS) $(TEST_LIBS): $(DEPS)/stamp

# aarch64: Debian's cross gcc with musl's arm64 libc through a specs
# file, as musl-gcc does natively (scripts/deps). The same sources,
# flags and anchors as ./ferry; only the compiler and libraries differ.
A64		= $(DEPS)/musl-aarch64
A64_CC		= aarch64-linux-gnu-gcc \
		  -specs=$(DEPS)/sysroot-aarch64/musl-gcc.specs
A64_CFLAGS	= $(REL_CFLAGS:-I$(REL_DEPS)/include=-I$(A64)/include)
A64_OBJS	= $(OBJS:$(BUILD)/rel/%=$(BUILD)/rel-aarch64/%)
A64_LIBS	= $(A64)/lib/libbearssl.a $(A64)/lib/libtomcrypt.a
QEMU		= qemu-aarch64-static

$(DEPS)/stamp-aarch64: scripts/deps scripts/deps.sha256 \
    scripts/deps-aarch64.sha256
	scripts/deps $(BUILD) aarch64

$(A64_LIBS): $(DEPS)/stamp-aarch64

$(BUILD)/rel-aarch64/%.o: src/%.c $(HDRS) $(DEPS)/stamp-aarch64 Makefile
	@mkdir -p $(@D)
	$(A64_CC) $(A64_CFLAGS) -c $< -o $@

$(BUILD)/rel-aarch64/anchors.o: $(BUILD)/anchors.c src/anchors.h \
    $(DEPS)/stamp-aarch64
	@mkdir -p $(@D)
	$(A64_CC) $(A64_CFLAGS) -c $< -o $@

ferry-aarch64: $(A64_OBJS) $(A64_LIBS)
	$(A64_CC) $(REL_LDFLAGS) $(A64_OBJS) $(A64_LIBS) -o $@

# No sanitizers: ASan does not run on musl. Static, so qemu-user needs
# no arm64 libraries.
$(BUILD)/unit-aarch64: $(UNIT_SRCS) $(HDRS) $(A64_LIBS)
	$(A64_CC) -O1 -static $(STD) $(WARN) $(DEFS) -I$(A64)/include -Isrc \
	    -Itests/unit $(UNIT_SRCS) $(A64_LIBS) -o $@

# The unit tests, then one delivery to the test Postfix, under qemu.
check-aarch64: ferry-aarch64 $(BUILD)/unit-aarch64
	scripts/need qemu-user-static
	$(QEMU) $(BUILD)/unit-aarch64
	E2E_ONLY=t_96_aarch64 tests/e2e/run

# make check also builds these: scripts/check runs the aarch64 unit
# tests, clang -Werror (scripts/clang-check) and a rebuild elsewhere
# that must give the same bytes (scripts/repro).
check: ferry-aarch64 $(BUILD)/unit-aarch64

clean distclean: clean-aarch64
clean-aarch64:
	rm -rf $(BUILD)/rel-aarch64 $(BUILD)/unit-aarch64 ferry-aarch64

# The release tarball with both binaries; scripts/dist says what is in it.
dist: ferry ferry-aarch64
	VERSION=$(VERSION) scripts/dist .

# Debian packages that replace the MTA (jail/debian, scripts/deb):
# ./ferry_$(VERSION)_amd64.deb and _arm64.deb from the two binaries.
# make check installs them in a debootstrapped Debian 12 and runs
# lintian on them (tests/e2e/t_97_deb.sh).
DEBS		= ferry_$(VERSION)_amd64.deb ferry_$(VERSION)_arm64.deb
DEB_SRCS	= scripts/deb $(wildcard jail/debian/*) jail/systemd/ferry-flush.service \
		  jail/systemd/ferry-flush.timer src/ferry.8 src/ferry.conf.5 \
		  scripts/ferry.conf.sample LICENSE Makefile jail/spooldir.sh \
		  jail/systemd/ferry-submit.socket jail/systemd/ferry-submit@.service
.PHONY: deb clean-deb
deb: $(DEBS)
ferry_$(VERSION)_amd64.deb: ferry $(DEB_SRCS)
	VERSION=$(VERSION) scripts/deb ferry amd64 .
ferry_$(VERSION)_arm64.deb: ferry-aarch64 $(DEB_SRCS)
	VERSION=$(VERSION) scripts/deb ferry-aarch64 arm64 .
check e2e: deb
clean distclean: clean-deb
clean-deb:
	rm -f ferry_*.deb

# The binaries are the same bytes when rebuilt elsewhere (scripts/repro).
repro: ferry ferry-aarch64
	scripts/repro $(BUILD)

clang-check: $(DEPS)/stamp
	scripts/clang-check $(BUILD)

# FreeBSD amd64 from Linux (scripts/freebsd-build, README "FreeBSD"):
# `make freebsd FREEBSD_SYSROOT=DIR [FREEBSD_MAJOR=14]` makes the static
# ./ferry-freebsd-amd64 from a sysroot unpacked from base.txz; with a
# headers-only sysroot it is a compile and link check. The script takes
# ferry's compiler flags from freebsd-flags.
FREEBSD_MAJOR	?= 14
.PHONY: freebsd freebsd-flags
freebsd: $(BUILD)/anchors.c
	@test -n "$(FREEBSD_SYSROOT)" || { echo "FREEBSD_SYSROOT=DIR, please" >&2; exit 64; }
	BUILD=$(BUILD) scripts/freebsd-build $(FREEBSD_SYSROOT) $(FREEBSD_MAJOR)
freebsd-flags:
	$(info $(REL_CFLAGS:-I$(REL_DEPS)/include=))
	@:
# ferry on FreeBSD 15.1 under qemu (scripts/freebsd-vm, README "FreeBSD"):
# `make freebsd-vm FREEBSD_SYSROOT=../shared/freebsd/sysroot` (or
# FREEBSD_VM=DIR) boots the VM and runs tests/freebsd in it.
.PHONY: freebsd-vm
freebsd-vm: ferry
	FREEBSD_SYSROOT=$(FREEBSD_SYSROOT) scripts/freebsd-vm $(BUILD)

$(BUILD)/unit: $(UNIT_SRCS) $(HDRS) $(TEST_LIBS)
	$(HOST_CC) $(TEST_CFLAGS) $(UNIT_SRCS) $(TEST_LIBS) -o $@

# The x509-limbo driver (tests/limbo/run): the certificate check alone.
LIMBO_SRCS	= src/x509.c src/ta.c src/ferr.c tests/limbo/limbo.c
$(BUILD)/limbo: $(LIMBO_SRCS) $(HDRS) $(TEST_LIBS)
	$(HOST_CC) $(TEST_CFLAGS) $(LIMBO_SRCS) $(TEST_LIBS) -o $@

check: $(BUILD)/limbo

unit: $(BUILD)/unit
	$(BUILD)/unit

e2e: ferry
	tests/e2e/run

# Fuzzing (tests/fuzz): libFuzzer targets built by clang with ASan and
# UBSan on the host libraries. `make fuzz` runs each FUZZ_SECONDS.
FUZZ_CC		?= clang
FUZZ_SECONDS	?= 60
FUZZ_NAMES	= alias auth conf msg smtp spool x509 x509path
FUZZ_BINS	= $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_OBJS	= $(UNIT_MODS:%=$(BUILD)/fuzz/obj/%.o)
FUZZ_CFLAGS	= -O1 -g -fsanitize=address,undefined \
		  -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
		  $(STD) $(WARN) -Wno-unknown-warning-option $(DEFS) \
		  -I$(DEPS)/host/include -Isrc

$(BUILD)/fuzz/stamp: scripts/need
	@mkdir -p $(@D)
	scripts/need clang libclang-rt-14-dev
	touch $@

# src with coverage for the fuzzer, but no libFuzzer main
$(BUILD)/fuzz/obj/%.o: src/%.c $(HDRS) $(DEPS)/stamp $(BUILD)/fuzz/stamp
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS) $(TEST_LIBS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJS) \
	    $(TEST_LIBS) -o $@

.SECONDARY: $(FUZZ_OBJS)
fuzz: $(FUZZ_BINS)
	FUZZ_SECONDS=$(FUZZ_SECONDS) BUILD=$(BUILD) tests/fuzz/run

check: ferry $(BUILD)/unit $(FUZZ_BINS)
	scripts/check

demo: ferry
	scripts/demo

# ferry against msmtp on the test smart host; writes bench/results.md.
# Each replaces its own section of bench/results.md (scripts/bench-section).
bench: ferry
	scripts/bench
	scripts/bench-mailq
	CONFINE_WRITE=1 bench/confine.sh

# DESTDIR, PREFIX, SYSCONFDIR, SPOOLDIR, FERRY_GROUP, FORCE: see
# scripts/install; uninstall removes what its manifest lists.
install: ferry
	PREFIX=$(PREFIX) SYSCONFDIR=$(SYSCONFDIR) SPOOLDIR=$(SPOOLDIR) \
	    DESTDIR=$(DESTDIR) FORCE=$(FORCE) scripts/install

uninstall:
	PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) scripts/uninstall

clean:
	rm -rf $(BUILD)/rel $(BUILD)/unit $(BUILD)/fuzz $(BUILD)/mkanchors $(BUILD)/anchors.c ferry
	rm -rf $(BUILD)/freebsd $(BUILD)/freebsd-vm ferry-freebsd-amd64

# Also forgets the downloaded and built libraries.
distclean:
	rm -rf $(BUILD) ferry
