# ferry: a static sendmail that relays to one smart host over TLS.
# `make` builds ./ferry; `make check` runs every test; `make demo` shows it.

VERSION		= 0.1.0
BUILD		?= build
DEPS		= $(BUILD)/deps
TRUST_BUNDLE	?= /etc/ssl/certs/ca-certificates.crt
PREFIX		?= /usr/local
SYSCONFDIR	?= /etc
SPOOLDIR	?= /var/spool/ferry

MUSL_CC		?= musl-gcc
HOST_CC		?= gcc

# Cutting diagnostic text to fit is intended; paths and commands are checked.
WARN		= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
		  -Wno-format-truncation
STD		= -std=c11 -D_DEFAULT_SOURCE
DEFS		= -DFERRY_VERSION='"$(VERSION)"' -DBEARSSL_VERSION='"0.6"' \
		  -DSYSCONFDIR='"$(SYSCONFDIR)"' -DSPOOLDIR='"$(SPOOLDIR)"'
# Release flags: size first; sections let the linker drop what is unused.
REL_CFLAGS	= -Os -ffunction-sections -fdata-sections $(STD) $(WARN) $(DEFS) \
		  -I$(DEPS)/musl/include -Isrc
REL_LDFLAGS	= -static -s -Wl,--gc-sections -Wl,--build-id=none
REL_LIBS	= $(DEPS)/musl/lib/libbearssl.a $(DEPS)/musl/lib/libtomcrypt.a
# Tests: glibc, because ASan does not run on musl.
TEST_CFLAGS	= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
		  $(STD) $(WARN) $(DEFS) -I$(DEPS)/host/include -Isrc -Itests/unit
TEST_LIBS	= $(DEPS)/host/lib/libbearssl.a $(DEPS)/host/lib/libtomcrypt.a

MODS		= alias auth cli conf dsn ferr log msg net queue serve smtp spool ta tls
SRCS		= $(MODS:%=src/%.c) src/main.c
OBJS		= $(SRCS:src/%.c=$(BUILD)/rel/%.o) $(BUILD)/rel/anchors.o
UNIT_MODS	= alias auth conf dsn ferr msg net serve smtp spool ta tls
UNIT_SRCS	= $(UNIT_MODS:%=src/%.c) tests/unit/main.c \
		  $(filter-out tests/unit/main.c,$(wildcard tests/unit/*_test.c))
HDRS		= $(wildcard src/*.h) tests/unit/t.h

.PHONY: all deps check unit e2e demo install clean distclean fuzz
all: ferry

deps: $(DEPS)/stamp
$(DEPS)/stamp: scripts/deps scripts/deps.sha256
	scripts/deps $(BUILD)

$(BUILD)/mkanchors: certs/mkanchors.c src/ta.c src/ferr.c src/ta.h $(DEPS)/stamp
	$(HOST_CC) -O1 $(STD) $(WARN) -I$(DEPS)/host/include -Isrc \
	    certs/mkanchors.c src/ta.c src/ferr.c \
	    $(DEPS)/host/lib/libbearssl.a -o $@

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

$(BUILD)/unit: $(UNIT_SRCS) $(HDRS) $(TEST_LIBS)
	$(HOST_CC) $(TEST_CFLAGS) $(UNIT_SRCS) $(TEST_LIBS) -o $@

unit: $(BUILD)/unit
	$(BUILD)/unit

e2e: ferry
	tests/e2e/run

# Fuzzing (tests/fuzz): libFuzzer targets built by clang with ASan and
# UBSan on the host libraries. `make fuzz` runs each FUZZ_SECONDS.
FUZZ_CC		?= clang
FUZZ_SECONDS	?= 60
FUZZ_NAMES	= alias auth conf msg smtp spool
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

# DESTDIR, PREFIX, SYSCONFDIR, SPOOLDIR, FERRY_GROUP: see scripts/install.
install: ferry
	PREFIX=$(PREFIX) SYSCONFDIR=$(SYSCONFDIR) SPOOLDIR=$(SPOOLDIR) \
	    DESTDIR=$(DESTDIR) scripts/install

clean:
	rm -rf $(BUILD)/rel $(BUILD)/unit $(BUILD)/fuzz $(BUILD)/mkanchors $(BUILD)/anchors.c ferry

# Also forgets the downloaded and built libraries.
distclean:
	rm -rf $(BUILD) ferry
