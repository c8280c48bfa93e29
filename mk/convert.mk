# mk/convert.mk — convert original checkpoints into Hugging Face folders.
#
# Include it from any Makefile and declare one conversion per line:
#
#   include path/to/ckptconv/mk/convert.mk
#   $(eval $(call ckptconv,out/bert-base,bert,ckpts/uncased_L-12_H-768_A-12/bert_model.ckpt))
#   $(eval $(call ckptconv,out/gpt2,gpt2,ckpts/117M,FORMAT=safetensors DTYPE=f16))
#   all: $(CKPTCONV_OUTPUTS)
#
# ckptconv OUT,MODEL,CKPT[,OPTIONS] makes the folder OUT (also a phony target
# of that name) from the checkpoint CKPT (a prefix, an index or data file, a
# directory with a `checkpoint` file, a .pth/.npy/.safetensors file or folder)
# of model type MODEL (a folder of models/). OPTIONS, space-separated:
#   CONFIG=FILE     original config (default: the model's conventional names
#                   next to the checkpoint)
#   VOCAB=DIR       where the vocabulary files are (default: next to CKPT)
#   FORMAT=both|safetensors|pt   weight files to write (default both)
#   DTYPE=f32|f16|bf16           cast floating tensors (default: as stored)
#   SHARD=SIZE      Hugging Face shard size, e.g. 10GB (default: one file)
#   TASK=NAME       fine-tuning task (XLNet GLUE/SQuAD heads)
#
# Content-hash stamps (SHA-256) under OUT/.ckptconv/ decide what re-runs:
# unchanged inputs do nothing even after `touch`; a changed config rewrites
# only config.json; a changed checkpoint, rule file or option reconverts the
# weights. Every file appears complete or not at all; safe under make -j.
#
# The tools are found in CKPTCONV_BIN and the model data in CKPTCONV_MODELS,
# by default relative to this file (set them to use an installed copy).

CKPTCONV_MK := $(abspath $(lastword $(MAKEFILE_LIST)))
CKPTCONV_ROOT := $(patsubst %/mk/convert.mk,%,$(CKPTCONV_MK))
CKPTCONV_BIN ?= $(CKPTCONV_ROOT)/bin
CKPTCONV_MODELS ?= $(CKPTCONV_ROOT)/models
# Prerequisites every conversion waits for (the top-level Makefile puts the
# tools it builds here).
CKPTCONV_TOOLS ?=
CKPTCONV_OUTPUTS :=
CKPTCONV_TYPES :=

.DELETE_ON_ERROR:
.PHONY: ckptconv-always

# ---- per model type --------------------------------------------------------
# A models/<type>/<type>.mk sets a few variables and calls this macro:
#   <type>_RULES   tensor rule file, relative to the model folder
#   <type>_CONFIG  conventional config file names next to a checkpoint, in
#                  order of preference
#   <type>_CONFIG_OPTIONAL  yes when the model has usable defaults without one
#   <type>_VOCAB   vocabulary files as SOURCE=NAME_IN_OUTPUT_FOLDER (several
#                  sources for one name: the first that exists is used)
#   <type>_GENERATION_CONFIG  yes when Hugging Face writes a generation_config.json
define ckptconv-model
CKPTCONV_TYPES += $(1)
$(1)_DIR := $(CKPTCONV_MODELS)/$(1)
endef

include $(sort $(wildcard $(CKPTCONV_MODELS)/*/*.mk))

# ---- one conversion ---------------------------------------------------------
ckptconv-opt = $(patsubst $(1)=%,%,$(filter $(1)=%,$(2)))
ckptconv-ckpt-dir = $(patsubst %/,%,$(if $(wildcard $(1)/.),$(1),$(dir $(1))))
ckptconv-first = $(firstword $(wildcard $(addprefix $(1)/,$(2))))
# The SOURCE=NAME pairs whose SOURCE exists in directory $(1); when several
# sources give the same NAME, the first one listed that exists wins.
ckptconv-pair-src = $(firstword $(subst =, ,$(1)))
ckptconv-pair-dst = $(lastword $(subst =, ,$(1)))
ckptconv-vocab-pairs = $(foreach d,$(sort $(foreach p,$(2),$(call ckptconv-pair-dst,$(p)))),$(firstword $(foreach p,$(2),$(if $(filter $(d),$(call ckptconv-pair-dst,$(p))),$(if $(wildcard $(1)/$(call ckptconv-pair-src,$(p))),$(p))))))
# Write a key file only when its content changes, so that Make sees it as new
# exactly when an input really changed.
ckptconv-update = if cmp -s $(1).new $(1); then rm -f $(1).new; else mv -f $(1).new $(1); fi

define ckptconv
$(if $(filter $(2),$(CKPTCONV_TYPES)),,$(error ckptconv: unknown model type '$(2)' (known: $(CKPTCONV_TYPES))))
$(if $(3),,$(error ckptconv: no checkpoint given for $(1)))
CKPTCONV_OUTPUTS += $(1)
$(1)_MODEL := $(2)
$(1)_CKPT := $(3)
$(1)_STATE := $(1)/.ckptconv
$(1)_SRCDIR := $$(call ckptconv-ckpt-dir,$(3))
$(1)_CONFIG := $$(or $$(call ckptconv-opt,CONFIG,$(4)),$$(call ckptconv-first,$$($(1)_SRCDIR),$$($(2)_CONFIG)))
$(1)_VOCABDIR := $$(or $$(call ckptconv-opt,VOCAB,$(4)),$$($(1)_SRCDIR))
$(1)_FORMAT := $$(or $$(call ckptconv-opt,FORMAT,$(4)),both)
$(1)_DTYPE := $$(call ckptconv-opt,DTYPE,$(4))
$(1)_SHARD := $$(call ckptconv-opt,SHARD,$(4))
$(1)_TASK := $$(call ckptconv-opt,TASK,$(4))
$(1)_RULES := $$($(2)_DIR)/$$($(2)_RULES)
$(1)_VOCAB_PAIRS := $$(call ckptconv-vocab-pairs,$$($(1)_VOCABDIR),$$($(2)_VOCAB))
$(1)_VOCAB_OUT := $$(foreach p,$$($(1)_VOCAB_PAIRS),$(1)/$$(call ckptconv-pair-dst,$$(p)))
$(1)_VOCAB_IN := $$(foreach p,$$($(1)_VOCAB_PAIRS),$$($(1)_VOCABDIR)/$$(call ckptconv-pair-src,$$(p)))
$(1)_DIGEST := $(CKPTCONV_BIN)/ckpt-digest --cache $(1)/.ckptconv/digest.cache

.PHONY: $(1)
$(1): $(1)/ckptconv-manifest.json

# The files that make up the checkpoint, and their hashes with every option
# that changes the weights.
$(1)/.ckptconv/weights.key: ckptconv-always $(CKPTCONV_TOOLS)
	@mkdir -p $$(@D)
	@$(CKPTCONV_BIN)/ckpt-ls --files $$($(1)_CKPT) > $$@.files.new
	@$$(call ckptconv-update,$$@.files)
	@{ echo "ckptconv $$$$($(CKPTCONV_BIN)/ckpt-ls --version)"; \
	  $$($(1)_DIGEST) --files-from $$@.files $$($(1)_RULES); \
	  echo "format=$$($(1)_FORMAT) dtype=$$($(1)_DTYPE) shard=$$($(1)_SHARD)"; } > $$@.new
	@$$(call ckptconv-update,$$@)

$(1)/.ckptconv/config.key: ckptconv-always $(CKPTCONV_TOOLS)
	@mkdir -p $$(@D)
	@$$(if $$($(1)_CONFIG)$$($(2)_CONFIG_OPTIONAL),,echo "ckptconv: $(1): no config for model type $(2): none of '$$($(2)_CONFIG)' is next to $$($(1)_CKPT); give CONFIG=FILE" >&2; exit 1)
	@{ echo "ckptconv $$$$($(CKPTCONV_BIN)/cfg-translate --version) task=$$($(1)_TASK)"; \
	  $$($(1)_DIGEST) $$($(1)_CONFIG) $$(sort $$(wildcard $$($(2)_DIR)/*)); } > $$@.new
	@$$(call ckptconv-update,$$@)

# The converted tensor list (names, dtypes, shapes), from the index alone:
# cfg-translate reads it to choose the architecture.
$(1)/.ckptconv/tensors.list: $(1)/.ckptconv/weights.key
	$(CKPTCONV_BIN)/ckpt-ls $$($(1)_CKPT) | $(CKPTCONV_BIN)/tensor-remap --list $$($(1)_RULES) > $$@.new
	@$$(call ckptconv-update,$$@)

$(1)/.ckptconv/weights.done: SHELL := /bin/bash
$(1)/.ckptconv/weights.done: .SHELLFLAGS := -o pipefail -ec
$(1)/.ckptconv/weights.done: $(1)/.ckptconv/weights.key
	$(CKPTCONV_BIN)/ckpt-extract $$($(1)_CKPT) \
	  | $(CKPTCONV_BIN)/tensor-remap $$($(1)_RULES) \
	  | $(CKPTCONV_BIN)/pt-pack --format $$($(1)_FORMAT) \
	    $$(if $$($(1)_DTYPE),--dtype $$($(1)_DTYPE)) \
	    $$(if $$($(1)_SHARD),--max-shard-size $$($(1)_SHARD)) -o $(1)/
	@cd $(1) && ls -1 pytorch_model*.bin pytorch_model.bin.index.json model*.safetensors \
	  model.safetensors.index.json 2>/dev/null | LC_ALL=C sort > .ckptconv/weights.done.new
	@# drop weight files of an earlier run that this one did not write
	@if [ -f $$@ ]; then cd $(1) && LC_ALL=C comm -23 .ckptconv/weights.done .ckptconv/weights.done.new | xargs -r rm -f --; fi
	@mv -f $$@.new $$@

$(1)/config.json: $(1)/.ckptconv/config.key $(1)/.ckptconv/tensors.list
	$(CKPTCONV_BIN)/cfg-translate $$($(2)_DIR) $$($(1)_CONFIG) \
	  --tensors $(1)/.ckptconv/tensors.list $$(if $$($(1)_TASK),--task $$($(1)_TASK)) \
	  $$(if $$($(2)_GENERATION_CONFIG),--generation-config $(1)/generation_config.json) -o $$@

$$(foreach p,$$($(1)_VOCAB_PAIRS),$$(eval $$(call ckptconv-vocab,$(1),$$($(1)_VOCABDIR)/$$(call ckptconv-pair-src,$$(p)),$$(call ckptconv-pair-dst,$$(p)))))

$(1)/ckptconv-manifest.json: $(1)/.ckptconv/weights.done $(1)/config.json $$($(1)_VOCAB_OUT)
	@cat $(1)/.ckptconv/weights.key.files > $(1)/.ckptconv/inputs
	@printf '%s\n' $$($(1)_CONFIG) $$($(1)_VOCAB_IN) $$($(1)_RULES) >> $(1)/.ckptconv/inputs
	$$($(1)_DIGEST) --manifest $(1) --files-from $(1)/.ckptconv/inputs -o $$@
endef

# A vocabulary file copied under its Hugging Face name; re-copied only when
# its content changes.
define ckptconv-vocab
$(1)/.ckptconv/vocab-$(3).key: ckptconv-always $(CKPTCONV_TOOLS)
	@mkdir -p $$(@D)
	@$$($(1)_DIGEST) $(2) > $$@.new
	@$$(call ckptconv-update,$$@)
$(1)/$(3): $(1)/.ckptconv/vocab-$(3).key
	cp $(2) $$@.tmp && mv -f $$@.tmp $$@
endef
