# ckptconv — build the tools, run the tests, convert checkpoints.
#
#   make                 build every tool into bin/
#   make example         make the bundled example checkpoint and convert it
#   make test            build from clean, run all tests (plain and ASan+UBSan)
#   make deps            install the Debian packages (as root)
#   make SAN=1           build with AddressSanitizer + UBSan into bin-san/
#   make test-large      opt-in slow tests: ZIP64 over 4 GiB, exhaustive casts
#   make bench           time conversions of real-sized checkpoints against cp
#                        (BENCH_LARGE=1 adds T5-3B: 11 GB; see tests/bench/run.sh)

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
CK_LDLIBS := -lprotobuf-c -ljansson -lcrypto -lsnappy -lm

PROTOS := $(wildcard src/proto/*.proto)
PROTO_C := $(patsubst src/proto/%.proto,$(BUILD)/proto/%.pb-c.c,$(PROTOS))
PROTO_H := $(PROTO_C:.c=.h)
LIB_SRC := $(wildcard src/*.c)
LIB_OBJ := $(patsubst src/%.c,$(BUILD)/src/%.o,$(LIB_SRC)) $(PROTO_C:.c=.o)
LIB := $(BUILD)/libckpt.a
TOOLS := $(patsubst tools/%.c,$(BIN)/%,$(wildcard tools/*.c))
TEST_PROGS := $(patsubst tests/c/%.c,$(BUILD)/tests/%,$(wildcard tests/c/*.c))

.PHONY: all check-deps deps test test-plain test-san test-large bench clean example
all: $(TOOLS) $(TEST_PROGS)

check-deps:
	@sh mk/deps.sh check build

# Checked once per build directory (a phony order-only prerequisite would
# re-run the check, four compiler runs, on every make, conversions included).
$(BUILD)/.deps-checked:
	@sh mk/deps.sh check build
	@mkdir -p $(BUILD) && touch $@

deps:
	sh mk/deps.sh install test

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
test:
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
bench: all
	@sh mk/deps.sh ensure bench
	tests/bench/run.sh $(BIN) $(BUILD)/tests

clean:
	rm -rf build build-san bin bin-san tests/tmp

# ---- the bundled example --------------------------------------------------
EXAMPLE_DIR := out/example
example: all
	@sh mk/deps.sh ensure build
	tests/example.sh $(BIN) $(BUILD)/tests $(EXAMPLE_DIR)

# ---- conversions: make MODEL=<type> CKPT=<path> [CONFIG= VOCAB= OUT= FORMAT= DTYPE= SHARD= TASK= HASH=]
ifdef MODEL
OUT ?= out/$(MODEL)
CKPTCONV_TOOLS := $(TOOLS)
CKPTCONV_BIN := $(abspath $(BIN))
include mk/convert.mk
$(eval $(call ckptconv,$(OUT),$(MODEL),$(CKPT),CONFIG=$(CONFIG) VOCAB=$(VOCAB) FORMAT=$(FORMAT) DTYPE=$(DTYPE) SHARD=$(SHARD) TASK=$(TASK) HASH=$(HASH)))
.DEFAULT_GOAL := $(OUT)
endif
