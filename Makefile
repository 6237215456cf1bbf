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

.PHONY: all deps check unit e2e demo bench install clean distclean
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

check: ferry $(BUILD)/unit
	scripts/check

demo: ferry
	scripts/demo

# ferry against msmtp on the test smart host; writes bench/results.md.
bench: ferry
	scripts/bench

# DESTDIR, PREFIX, SYSCONFDIR, SPOOLDIR, FERRY_GROUP: see scripts/install.
install: ferry
	PREFIX=$(PREFIX) SYSCONFDIR=$(SYSCONFDIR) SPOOLDIR=$(SPOOLDIR) \
	    DESTDIR=$(DESTDIR) scripts/install

clean:
	rm -rf $(BUILD)/rel $(BUILD)/unit $(BUILD)/mkanchors $(BUILD)/anchors.c ferry

# Also forgets the downloaded and built libraries.
distclean:
	rm -rf $(BUILD) ferry
