# ckptconv — build the tools, run the tests, convert checkpoints.
# (`make help` prints the lines of this block that start with "#   ".)
#
#   make                 build every tool into bin/
#   make example         make the bundled example checkpoint and convert it
#   make test            build from clean, run all tests (plain and ASan+UBSan)
#   make check           the same as make test
#   make MODEL=T CKPT=P  convert a checkpoint into out/T (README: CONFIG= VOCAB=
#                        OUT= FORMAT= DTYPE= SHARD= TASK= ROLE= HASH=)
#   make deps            install every Debian package the tests need (as root)
#   make SAN=1           build with AddressSanitizer + UBSan into bin-san/
#   make test-large      opt-in slow tests: ZIP64 over 4 GiB, exhaustive casts
#   make fuzz            libFuzzer targets (tests/fuzz/), each run FUZZ_SECONDS (600)
#   make fuzz-smoke      the same, 30 s each
#   make bench           time conversions of real-sized checkpoints against cp
#                        (BENCH_LARGE=1 adds T5-3B: 11 GB; see tests/bench/run.sh)
#   make shared          build/libckpt.so.X.Y.Z only
#   make install         PREFIX=/usr/local, DESTDIR= for staging
#   make uninstall       remove exactly what install recorded
#   make clean           remove the build directories
#   make help            this list
# Each target that compiles or runs tests first checks the Debian packages it
# needs (mk/deps.sh): run as root it installs what is missing, otherwise it
# prints the apt-get line and stops.

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:

ifeq ($(SAN),1)
BUILD := build-san
BIN := bin-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
BUILD := build
BIN := bin
SANFLAGS :=
endif

CC ?= cc
CFLAGS ?= -O2 -g
PROTOC_C ?= protoc-c
CK_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc -I$(BUILD)/proto $(SANFLAGS)
CK_LDLIBS := -lprotobuf-c -ljansson -lcrypto -lsnappy -lm -pthread

PROTOS := $(wildcard src/proto/*.proto)
PROTO_C := $(patsubst src/proto/%.proto,$(BUILD)/proto/%.pb-c.c,$(PROTOS))
PROTO_H := $(PROTO_C:.c=.h)
LIB_SRC := $(wildcard src/*.c)
LIB_OBJ := $(patsubst src/%.c,$(BUILD)/src/%.o,$(LIB_SRC)) $(PROTO_C:.c=.o)
LIB := $(BUILD)/libckpt.a
TOOLS := $(patsubst tools/%.c,$(BIN)/%,$(wildcard tools/*.c))
TEST_PROGS := $(patsubst tests/c/%.c,$(BUILD)/tests/%,$(wildcard tests/c/*.c))

.PHONY: all deps help test check test-plain test-san test-large bench clean example fuzz fuzz-smoke fuzz-build
all: $(TOOLS) $(TEST_PROGS)

# Every entry point that compiles passes through this stamp, so a missing
# package is reported (or, as root, installed) before the first compiler run.
# Checked once per build directory: a phony prerequisite would re-run the
# check, four compiler runs, on every make, conversions included.
$(BUILD)/.deps-checked:
	@sh mk/deps.sh ensure build
	@mkdir -p $(BUILD) && touch $@

deps:
	sh mk/deps.sh install test

help:
	@sed -n '/^#   /s/^# //p' Makefile

$(BUILD)/proto/%.pb-c.c $(BUILD)/proto/%.pb-c.h: src/proto/%.proto | $(BUILD)/.deps-checked
	@mkdir -p $(BUILD)/proto
	$(PROTOC_C) --proto_path=src/proto --c_out=$(BUILD)/proto $<

$(BUILD)/proto/%.pb-c.o: $(BUILD)/proto/%.pb-c.c $(PROTO_H)
	$(CC) $(CK_CFLAGS) $(CFLAGS) -Wno-unused-parameter -c -o $@ $<

$(BUILD)/src/%.o: src/%.c $(PROTO_H) | $(BUILD)/.deps-checked
	@mkdir -p $(dir $@)
	$(CC) $(CK_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tools/%.o: tools/%.c $(PROTO_H) | $(BUILD)/.deps-checked
	@mkdir -p $(dir $@)
	$(CC) $(CK_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%.o: tests/c/%.c $(PROTO_H) | $(BUILD)/.deps-checked
	@mkdir -p $(dir $@)
	$(CC) $(CK_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BIN)/%: $(BUILD)/tools/%.o $(LIB)
	@mkdir -p $(BIN)
	$(CC) $(SANFLAGS) $(LDFLAGS) -o $@ $^ $(CK_LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIB)
	$(CC) $(SANFLAGS) $(LDFLAGS) -o $@ $^ $(CK_LDLIBS)

-include $(wildcard $(BUILD)/*/*.d)

# ---- tests ----------------------------------------------------------------
# The README's test command. Builds from clean, then runs the whole suite with
# the plain build and again with AddressSanitizer + UBSan.
test check:
	@sh mk/deps.sh ensure test
	$(MAKE) clean
	$(MAKE) test-plain
	$(MAKE) test-san

test-plain: all
	tests/run.sh $(BIN) $(BUILD)/tests

test-san:
	$(MAKE) SAN=1 all
	tests/run.sh bin-san build-san/tests

# Opt-in: files over 4 GiB (ZIP64) and all 2^32 F32 casts; ~25 GB of disk.
test-large: all
	tests/large/run.sh $(BIN) $(BUILD)/tests

# Opt-in: synthetic BERT-Base (with Adam slots) and BERT-Large checkpoints,
# and with BENCH_LARGE=1 a T5-3B-shaped one, converted through mk/convert.mk
# and compared with cp; timings are printed, never asserted (docs/PERFORMANCE.md).
bench:
	@sh mk/deps.sh ensure bench
	$(MAKE) all
	tests/bench/run.sh $(BIN) $(BUILD)/tests

clean:
	rm -rf build build-san bin bin-san tests/tmp

# ---- the bundled example --------------------------------------------------
EXAMPLE_DIR := out/example
example: all
	tests/example.sh $(BIN) $(BUILD)/tests $(EXAMPLE_DIR)

# ---- conversions: make MODEL=<type> CKPT=<path> [CONFIG= VOCAB= OUT= FORMAT= DTYPE= SHARD= TASK= ROLE= HASH=]
ifdef MODEL
OUT ?= out/$(MODEL)
CKPTCONV_TOOLS := $(TOOLS)
CKPTCONV_BIN := $(abspath $(BIN))
include mk/convert.mk
$(eval $(call ckptconv,$(OUT),$(MODEL),$(CKPT),CONFIG=$(CONFIG) VOCAB=$(VOCAB) FORMAT=$(FORMAT) DTYPE=$(DTYPE) SHARD=$(SHARD) TASK=$(TASK) ROLE=$(ROLE) HASH=$(HASH)))
.DEFAULT_GOAL := $(OUT)
endif

# ---- front end, shared library, install ------------------------------------
# make shared builds build/libckpt.so.X.Y.Z (position-independent objects in
# build/pic/); make install takes PREFIX, DESTDIR and BINDIR LIBDIR INCLUDEDIR
# DATADIR MANDIR. Installed: the tools and ckpt-convert in BINDIR; mk/convert.mk and models/
# in DATADIR/ckptconv; man pages; libckpt.a, libckpt.so (soname
# libckpt.so.$(CK_SOVERSION)), ckptconv/ckptconv.h and ckptconv.pc.

CK_VERSION := $(shell sed -n 's/^\#define CK_VERSION "\(.*\)"$$/\1/p' src/util.h)
CK_SOVERSION := 0
SHLIB := $(BUILD)/libckpt.so.$(CK_VERSION)
PIC_OBJ := $(patsubst $(BUILD)/%,$(BUILD)/pic/%,$(LIB_OBJ))

.PHONY: shared install uninstall
all: $(BIN)/ckpt-convert
shared: $(SHLIB)

$(BIN)/ckpt-convert: tools/ckpt-convert.sh
	@mkdir -p $(BIN)
	cp $< $@.tmp && chmod 755 $@.tmp && mv -f $@.tmp $@

$(BUILD)/pic/src/%.o: src/%.c $(PROTO_H) | $(BUILD)/.deps-checked
	@mkdir -p $(dir $@)
	$(CC) $(CK_CFLAGS) $(CFLAGS) -fPIC -MMD -MP -c -o $@ $<

$(BUILD)/pic/proto/%.pb-c.o: $(BUILD)/proto/%.pb-c.c $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(CK_CFLAGS) $(CFLAGS) -fPIC -Wno-unused-parameter -c -o $@ $<

# Only the ckpt_* functions of ckptconv.h are exported (src/ckptconv.map).
$(SHLIB): $(PIC_OBJ) src/ckptconv.map
	$(CC) -shared $(SANFLAGS) $(LDFLAGS) -Wl,-soname,libckpt.so.$(CK_SOVERSION) \
	  -Wl,--version-script=src/ckptconv.map -Wl,-z,defs -o $@ $(PIC_OBJ) $(CK_LDLIBS)

-include $(wildcard $(BUILD)/pic/src/*.d)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
PKGDATADIR = $(DATADIR)/ckptconv
INSTALL_LOG = $(PKGDATADIR)/installed-files
INST := $(BUILD)/install
MAN_PAGES := $(wildcard man/*.[157])
MODEL_FILES := $(shell find models -type f | LC_ALL=C sort)

# The installed copies whose text names the installation's directories:
# convert.mk and ckpt-convert find each other relative to themselves, so an
# installed tree can be moved (DESTDIR staging works as is).
rel = $(shell realpath -m --relative-to=$(1) $(2))
INSTALL_SUBST = sed -e 's|@PKGDATADIR@|$(PKGDATADIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
  -e 's|@VERSION@|$(CK_VERSION)|g'

$(INST)/dirs: ck-install-always
	@mkdir -p $(@D)
	@$(if $(filter-out /%,$(PREFIX) $(BINDIR) $(LIBDIR) $(INCLUDEDIR) $(DATADIR) $(MANDIR)),echo "install: PREFIX and the *DIR variables must be absolute paths" >&2; exit 1,:)
	@printf '%s\n' $(PREFIX) $(BINDIR) $(LIBDIR) $(INCLUDEDIR) $(DATADIR) $(MANDIR) > $@.new
	@cmp -s $@.new $@ && rm -f $@.new || mv -f $@.new $@

$(INST)/convert.mk: mk/convert.mk $(INST)/dirs
	sed 's|^CKPTCONV_BIN ?= $$(CKPTCONV_ROOT)/bin$$|CKPTCONV_BIN ?= $$(abspath $$(CKPTCONV_ROOT)/$(call rel,$(PKGDATADIR),$(BINDIR)))|' $< > $@.tmp
	@grep -q '^CKPTCONV_BIN ?= $$(abspath ' $@.tmp || { echo "install: $<: no default CKPTCONV_BIN line to rewrite" >&2; exit 1; }
	mv -f $@.tmp $@

$(INST)/ckpt-convert: tools/ckpt-convert.sh $(INST)/dirs
	sed 's|^share=\.\.$$|share=$(call rel,$(BINDIR),$(PKGDATADIR))|' $< > $@.tmp
	@grep -q '^share=$(call rel,$(BINDIR),$(PKGDATADIR))$$' $@.tmp || { echo "install: $<: no share= line to rewrite" >&2; exit 1; }
	mv -f $@.tmp $@

$(INST)/ckptconv.pc: mk/ckptconv.pc.in $(INST)/dirs
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|' \
	  -e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))|' -e 's|@VERSION@|$(CK_VERSION)|' $< > $@

$(INST)/man/%: man/% $(INST)/dirs
	@mkdir -p $(@D)
	$(INSTALL_SUBST) $< > $@

INSTALL_GEN := $(INST)/convert.mk $(INST)/ckpt-convert $(INST)/ckptconv.pc $(MAN_PAGES:man/%=$(INST)/man/%)

# What install puts where: "file MODE SOURCE DEST", "link - TARGET DEST".
install-list = \
  $(foreach t,$(TOOLS),file 755 $(t) $(BINDIR)/$(notdir $(t))) \
  file 755 $(INST)/ckpt-convert $(BINDIR)/ckpt-convert \
  file 644 $(INST)/convert.mk $(PKGDATADIR)/mk/convert.mk \
  $(foreach f,$(MODEL_FILES),file 644 $(f) $(PKGDATADIR)/$(f)) \
  $(foreach m,$(MAN_PAGES),file 644 $(INST)/$(m) $(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m))) \
  file 644 $(LIB) $(LIBDIR)/libckpt.a \
  file 755 $(SHLIB) $(LIBDIR)/$(notdir $(SHLIB)) \
  link - $(notdir $(SHLIB)) $(LIBDIR)/libckpt.so.$(CK_SOVERSION) \
  link - libckpt.so.$(CK_SOVERSION) $(LIBDIR)/libckpt.so \
  file 644 src/ckptconv.h $(INCLUDEDIR)/ckptconv/ckptconv.h \
  file 644 $(INST)/ckptconv.pc $(LIBDIR)/pkgconfig/ckptconv.pc

install: $(TOOLS) $(LIB) $(SHLIB) $(INSTALL_GEN)
	@printf '%s %s %s %s\n' $(install-list) | sh mk/install.sh install $(INSTALL_LOG)

uninstall:
	@sh mk/install.sh uninstall $(INSTALL_LOG)

.PHONY: ck-install-always
ck-install-always:
# ---- fuzzing (tests/fuzz/README.md) ----------------------------------------
# The library is built with clang into build-fuzz/ (ASan + UBSan + libFuzzer
# coverage); each tests/fuzz/fuzz_X.c becomes build-fuzz/fuzz/fuzz_X. Corpora
# are made from the fixtures (tests/fuzz/seeds.sh), never committed.
FUZZ_CC ?= $(shell sh mk/deps.sh fuzz-cc)
FUZZ_SECONDS ?= 600
FUZZ_JOBS ?= 2
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,build-fuzz/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

fuzz-build:
	@sh mk/deps.sh ensure fuzz
	$(MAKE) BUILD=build-fuzz BIN=bin-fuzz CC=$(FUZZ_CC) SANFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" build-fuzz/libckpt.a
	$(MAKE) $(FUZZ_TARGETS) build-fuzz/seed_bundle

build-fuzz/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h build-fuzz/libckpt.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CK_CFLAGS) -Ibuild-fuzz/proto $(CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< build-fuzz/libckpt.a $(CK_LDLIBS)

build-fuzz/seed_bundle: tests/fuzz/seed_bundle.c build-fuzz/libckpt.a
	$(FUZZ_CC) $(CK_CFLAGS) -Ibuild-fuzz/proto $(CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -o $@ $< build-fuzz/libckpt.a $(CK_LDLIBS)

fuzz: fuzz-build all
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_JOBS) $(BIN)

fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=30
