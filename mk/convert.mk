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
#   TASK=NAME       fine-tuning task (XLNet GLUE/SQuAD heads): given,
#                   lower-cased, to cfg-translate --task and to the rule
#                   file's `arg task` (tensor-remap --arg task=NAME)
#   ROLE=NAME       which model of a checkpoint that holds several
#                   (ELECTRA: discriminator or generator): one of the
#                   type's <type>_ROLES, given to the rule file's `arg role`
#                   (tensor-remap --arg role=NAME)
#   HASH=full|pinned  what the manifest hashes of the checkpoint (default
#                   $(CKPTCONV_HASH), itself full by default): full = every
#                   file, TF data shards while the conversion runs; pinned =
#                   the files that pin the content (TF: the .index, which
#                   holds every tensor's CRC-32C), the others by size only,
#                   so that no byte the conversion does not need is read
#
# Content-hash stamps (SHA-256) under OUT/.ckptconv/ decide what re-runs:
# unchanged inputs do nothing even after `touch`; a changed config rewrites
# only config.json; a changed checkpoint, rule file or option reconverts the
# weights. A checkpoint is known by the SHA-256 of its key files (ckpt-ls
# --key-files: TF the .index, whose CRC-32Cs every read is checked against;
# other formats all their files), so a TF data shard is never read just to
# decide; a data shard changed behind its index's back (which TF never does,
# and which the next conversion refuses as corrupt) is not noticed. Output
# files are hashed while pt-pack writes them. Every file appears complete or
# not at all; safe under make -j.
#
# The tools are found in CKPTCONV_BIN and the model data in CKPTCONV_MODELS,
# by default relative to this file: in the source tree bin/ and models/
# beside mk/; installed (make install), PREFIX/bin and
# PREFIX/share/ckptconv/models.
#
# Used directly, it converts one checkpoint named on the command line:
#   make -f path/to/mk/convert.mk MODEL=bert CKPT=ckpts/bert/bert_model.ckpt \
#        [OUT=DIR] [CONFIG=FILE VOCAB=DIR FORMAT= DTYPE= SHARD= TASK= ROLE= HASH=]
# (OUT defaults to out/MODEL), as `make MODEL=... CKPT=...` does in the
# source tree.

CKPTCONV_MK := $(abspath $(lastword $(MAKEFILE_LIST)))
CKPTCONV_ROOT := $(patsubst %/mk/convert.mk,%,$(CKPTCONV_MK))
CKPTCONV_BIN ?= $(CKPTCONV_ROOT)/bin
CKPTCONV_MODELS ?= $(CKPTCONV_ROOT)/models
# Prerequisites every conversion waits for (the top-level Makefile puts the
# tools it builds here).
CKPTCONV_TOOLS ?=
CKPTCONV_HASH ?= full
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
#   <type>_CONFIG_IN_CKPT  the config is inside the checkpoint: this member
#                  (a/b) of its values (ckpt-ls --values), read with
#                  cfg-translate --at when no config file is given or found
#   <type>_VOCAB   vocabulary files as SOURCE=NAME_IN_OUTPUT_FOLDER (several
#                  sources for one name: the first that exists is used)
#   <type>_VOCAB_MAPS  vocabulary files made from the checkpoint's values, as
#                  MAP=NAME_IN_OUTPUT_FOLDER: vocab-translate with the model
#                  folder's vocabulary map MAP (docs/vocab-map.md)
#   <type>_GENERATION_CONFIG  yes when Hugging Face writes a generation_config.json
#   <type>_TASKS   yes when TASK= picks a fine-tuned head (the rule file's
#                  `arg task`)
#   <type>_ROLES   the models ROLE= may choose (the rule file's `arg role`)
#   <type>_NOTE    one line printed (on stderr) whenever a folder of the type is
#                  made: what a user must know to load it
#   <type>_DUMP_OUTPUT  file when the reference CLI's --pytorch_dump_output
#                  names the weights file itself (BERT, ALBERT), not a
#                  folder; read by ckpt-convert
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
# The weight files a conversion writes (and removes when left over from an
# earlier format or shard size).
CKPTCONV_WEIGHT_FILES := pytorch_model*.bin pytorch_model.bin.index.json model*.safetensors \
  model.safetensors.index.json
# Write a key file only when its content changes, so that Make sees it as new
# exactly when an input really changed.
ckptconv-update = if cmp -s $(1).new $(1); then rm -f $(1).new; else mv -f $(1).new $(1); fi
ckptconv-lc = $(subst A,a,$(subst B,b,$(subst C,c,$(subst D,d,$(subst E,e,$(subst F,f,$(subst G,g,$(subst H,h,$(subst I,i,$(subst J,j,$(subst K,k,$(subst L,l,$(subst M,m,$(subst N,n,$(subst O,o,$(subst P,p,$(subst Q,q,$(subst R,r,$(subst S,s,$(subst T,t,$(subst U,u,$(subst V,v,$(subst W,w,$(subst X,x,$(subst Y,y,$(subst Z,z,$(1)))))))))))))))))))))))))))

define ckptconv
$(if $(filter $(2),$(CKPTCONV_TYPES)),,$(error ckptconv: unknown model type '$(2)' (known: $(CKPTCONV_TYPES))))
$(if $(3),,$(error ckptconv: no checkpoint given for $(1)))
$(if $(filter-out full pinned,$(or $(call ckptconv-opt,HASH,$(4)),$(CKPTCONV_HASH))),$(error ckptconv: $(1): HASH must be full or pinned))
CKPTCONV_OUTPUTS += $(1)
ckptconv.$(1).MODEL := $(2)
ckptconv.$(1).CKPT := $(3)
ckptconv.$(1).STATE := $(1)/.ckptconv
ckptconv.$(1).SRCDIR := $$(call ckptconv-ckpt-dir,$(3))
ckptconv.$(1).CONFIG_FILE := $$(or $$(call ckptconv-opt,CONFIG,$(4)),$$(call ckptconv-first,$$(ckptconv.$(1).SRCDIR),$$($(2)_CONFIG)))
ckptconv.$(1).CONFIG_AT := $$(if $$(ckptconv.$(1).CONFIG_FILE),,$$($(2)_CONFIG_IN_CKPT))
ckptconv.$(1).VALUES := $$(if $$(ckptconv.$(1).CONFIG_AT)$$($(2)_VOCAB_MAPS),$(1)/.ckptconv/values.json)
ckptconv.$(1).CONFIG := $$(or $$(ckptconv.$(1).CONFIG_FILE),$$(if $$(ckptconv.$(1).CONFIG_AT),$$(ckptconv.$(1).VALUES)))
ckptconv.$(1).VOCABDIR := $$(or $$(call ckptconv-opt,VOCAB,$(4)),$$(ckptconv.$(1).SRCDIR))
ckptconv.$(1).FORMAT := $$(or $$(call ckptconv-opt,FORMAT,$(4)),both)
ckptconv.$(1).DTYPE := $$(call ckptconv-opt,DTYPE,$(4))
ckptconv.$(1).SHARD := $$(call ckptconv-opt,SHARD,$(4))
ckptconv.$(1).TASK := $$(call ckptconv-lc,$$(call ckptconv-opt,TASK,$(4)))
$$(if $$(ckptconv.$(1).TASK),$$(if $$($(2)_TASKS),,$$(error ckptconv: $(1): model type $(2) has no fine-tuning tasks (TASK=$$(ckptconv.$(1).TASK)))))
ckptconv.$(1).ROLE := $$(call ckptconv-opt,ROLE,$(4))
$$(if $$(ckptconv.$(1).ROLE),$$(if $$(filter $$(ckptconv.$(1).ROLE),$$($(2)_ROLES)),,$$(error ckptconv: $(1): model type $(2) has no role '$$(ckptconv.$(1).ROLE)' (roles: $$(or $$($(2)_ROLES),none)))))
ckptconv.$(1).RULE_ARGS := $$(if $$(ckptconv.$(1).TASK),--arg task=$$(ckptconv.$(1).TASK)) $$(if $$(ckptconv.$(1).ROLE),--arg role=$$(ckptconv.$(1).ROLE))
ckptconv.$(1).HASH := $$(or $$(call ckptconv-opt,HASH,$(4)),$(CKPTCONV_HASH))
ckptconv.$(1).RULES := $$($(2)_DIR)/$$($(2)_RULES)
ckptconv.$(1).VOCAB_PAIRS := $$(call ckptconv-vocab-pairs,$$(ckptconv.$(1).VOCABDIR),$$($(2)_VOCAB))
ckptconv.$(1).VOCAB_OUT := $$(foreach p,$$(ckptconv.$(1).VOCAB_PAIRS) $$($(2)_VOCAB_MAPS),$(1)/$$(call ckptconv-pair-dst,$$(p)))
ckptconv.$(1).VOCAB_MAPS := $$(foreach p,$$($(2)_VOCAB_MAPS),$$($(2)_DIR)/$$(call ckptconv-pair-src,$$(p)))
ckptconv.$(1).VOCAB_IN := $$(foreach p,$$(ckptconv.$(1).VOCAB_PAIRS),$$(ckptconv.$(1).VOCABDIR)/$$(call ckptconv-pair-src,$$(p)))
ckptconv.$(1).DIGEST := $(CKPTCONV_BIN)/ckpt-digest --cache $(1)/.ckptconv/digest.cache

.PHONY: $(1)
$(1): $(1)/ckptconv-manifest.json

# The files that make up the checkpoint, the hashes of its key files and of
# the rules, with every option that changes the weights.
$(1)/.ckptconv/weights.key: ckptconv-always $(CKPTCONV_TOOLS)
	@mkdir -p $$(@D)
	@$(CKPTCONV_BIN)/ckpt-ls --files $$(ckptconv.$(1).CKPT) > $$@.files.new
	@$$(call ckptconv-update,$$@.files)
	@$(CKPTCONV_BIN)/ckpt-ls --key-files $$(ckptconv.$(1).CKPT) > $$@.keyfiles.new
	@$$(call ckptconv-update,$$@.keyfiles)
	@{ echo "ckptconv $$$$($(CKPTCONV_BIN)/ckpt-ls --version)"; \
	  $$(ckptconv.$(1).DIGEST) --files-from $$@.keyfiles $$(ckptconv.$(1).RULES); \
	  cat $$@.files; \
	  echo "format=$$(ckptconv.$(1).FORMAT) dtype=$$(ckptconv.$(1).DTYPE) shard=$$(ckptconv.$(1).SHARD) task=$$(ckptconv.$(1).TASK) role=$$(ckptconv.$(1).ROLE)"; } > $$@.new
	@$$(call ckptconv-update,$$@)

$(1)/.ckptconv/config.key: ckptconv-always $(CKPTCONV_TOOLS) $$(if $$(ckptconv.$(1).CONFIG_AT),$$(ckptconv.$(1).VALUES))
	@mkdir -p $$(@D)
	@$$(if $$(ckptconv.$(1).CONFIG)$$($(2)_CONFIG_OPTIONAL),,echo "ckptconv: $(1): no config for model type $(2): none of '$$($(2)_CONFIG)' is next to $$(ckptconv.$(1).CKPT); give CONFIG=FILE" >&2; exit 1)
	@{ echo "ckptconv $$$$($(CKPTCONV_BIN)/cfg-translate --version) task=$$(ckptconv.$(1).TASK)"; \
	  $$(ckptconv.$(1).DIGEST) $$(ckptconv.$(1).CONFIG) $$(sort $$(wildcard $$($(2)_DIR)/*)); } > $$@.new
	@$$(call ckptconv-update,$$@)

# The converted tensor list (names, dtypes, shapes), from the index alone:
# cfg-translate reads it to choose the architecture, and the checkpoint's own
# list for the config map's rank lines. Made through a stamp so
# that an unchanged list stays old and config.json is not redone.
$(1)/.ckptconv/tensors.list.stamp: $(1)/.ckptconv/weights.key
	$(CKPTCONV_BIN)/ckpt-ls $$(ckptconv.$(1).CKPT) > $(1)/.ckptconv/checkpoint.list.new
	$(CKPTCONV_BIN)/tensor-remap --list $$(ckptconv.$(1).RULE_ARGS) $$(ckptconv.$(1).RULES) $(1)/.ckptconv/checkpoint.list.new > $(1)/.ckptconv/tensors.list.new
	@$$(call ckptconv-update,$(1)/.ckptconv/checkpoint.list)
	@$$(call ckptconv-update,$(1)/.ckptconv/tensors.list)
	@touch $$@
$(1)/.ckptconv/tensors.list: $(1)/.ckptconv/tensors.list.stamp ;
$(1)/.ckptconv/checkpoint.list: $(1)/.ckptconv/tensors.list.stamp ;

# The weights: pt-pack --checkpoint --remap writes what `ckpt-extract |
# tensor-remap | pt-pack` would, in one process (two threads, no pipe), and
# reads only the tensors the rules keep (optimizer slots, often two thirds of
# the data, are never read).
$(1)/.ckptconv/weights.done: SHELL := /bin/sh
$(1)/.ckptconv/weights.done: .SHELLFLAGS := -ec
$(1)/.ckptconv/weights.done: $(1)/.ckptconv/weights.key
	@# temporary files of a run killed with SIGKILL (other signals remove them)
	@rm -f $(1)/model*.tmp.* $(1)/pytorch_model*.tmp.*
	@touch $$@.start
	@# HASH=full: the checkpoint's files are hashed for the manifest while
	@# the conversion reads them (into the digest cache)
	$$(if $$(filter full,$$(ckptconv.$(1).HASH)),$$(ckptconv.$(1).DIGEST) --files-from $$<.files > /dev/null & hashing=$$$$!;) \
	$(CKPTCONV_BIN)/pt-pack --checkpoint $$(ckptconv.$(1).CKPT) --remap $$(ckptconv.$(1).RULES) $$(ckptconv.$(1).RULE_ARGS) \
	    --format $$(ckptconv.$(1).FORMAT) \
	    $$(if $$(ckptconv.$(1).DTYPE),--dtype $$(ckptconv.$(1).DTYPE)) \
	    $$(if $$(ckptconv.$(1).SHARD),--max-shard-size $$(ckptconv.$(1).SHARD)) \
	    --digest-cache $(1)/.ckptconv/digest.cache -o $(1)/ \
	  $$(if $$(filter full,$$(ckptconv.$(1).HASH)),; wait $$$$hashing)
	@# the weight files this run wrote are newer than the start mark; the
	@# others are left over from an earlier format or shard size
	@cd $(1) && for f in $(CKPTCONV_WEIGHT_FILES); do if [ -e "$$$$f" ]; then \
	  if [ "$$$$f" -nt .ckptconv/weights.done.start ]; then echo "$$$$f"; else rm -f -- "$$$$f"; fi; \
	  fi; done | LC_ALL=C sort -u > .ckptconv/weights.done.new
	@rm -f $$@.start
	@mv -f $$@.new $$@

$(1)/config.json: $(1)/.ckptconv/config.key $(1)/.ckptconv/tensors.list $(1)/.ckptconv/checkpoint.list
	@rm -f $(1)/config.json.tmp.* $(1)/generation_config.json.tmp.*
	$(CKPTCONV_BIN)/cfg-translate $$($(2)_DIR) $$(ckptconv.$(1).CONFIG) $$(if $$(ckptconv.$(1).CONFIG_AT),--at $$(ckptconv.$(1).CONFIG_AT)) \
	  --tensors $(1)/.ckptconv/tensors.list --checkpoint-tensors $(1)/.ckptconv/checkpoint.list $$(if $$(ckptconv.$(1).TASK),--task $$(ckptconv.$(1).TASK)) \
	  $$(if $$($(2)_GENERATION_CONFIG),--generation-config $(1)/generation_config.json) -o $$@

$$(foreach p,$$(ckptconv.$(1).VOCAB_PAIRS),$$(eval $$(call ckptconv-vocab,$(1),$$(ckptconv.$(1).VOCABDIR)/$$(call ckptconv-pair-src,$$(p)),$$(call ckptconv-pair-dst,$$(p)))))
$$(foreach p,$$($(2)_VOCAB_MAPS),$$(eval $$(call ckptconv-vocab-map,$(1),$$($(2)_DIR)/$$(call ckptconv-pair-src,$$(p)),$$(call ckptconv-pair-dst,$$(p)))))

# The checkpoint's non-tensor values (config, dictionary), when the model
# reads them.
$(1)/.ckptconv/values.json.stamp: $(1)/.ckptconv/weights.key
	$(CKPTCONV_BIN)/ckpt-ls --values $$(ckptconv.$(1).CKPT) > $(1)/.ckptconv/values.json.new
	@$$(call ckptconv-update,$(1)/.ckptconv/values.json)
	@touch $$@
$(1)/.ckptconv/values.json: $(1)/.ckptconv/values.json.stamp ;

$(1)/ckptconv-manifest.json: $(1)/.ckptconv/weights.done $(1)/config.json $$(ckptconv.$(1).VOCAB_OUT)
	@rm -f $$@.tmp.*
	@$$(if $$(filter full,$$(ckptconv.$(1).HASH)),cat $(1)/.ckptconv/weights.key.files,cat $(1)/.ckptconv/weights.key.keyfiles) > $(1)/.ckptconv/inputs
	@printf '%s\n' $$(ckptconv.$(1).CONFIG_FILE) $$(ckptconv.$(1).VOCAB_IN) $$(ckptconv.$(1).RULES) $$(ckptconv.$(1).VOCAB_MAPS) >> $(1)/.ckptconv/inputs
	@$$(if $$(filter full,$$(ckptconv.$(1).HASH)),: > $(1)/.ckptconv/inputs.sized,grep -vxF -f $(1)/.ckptconv/weights.key.keyfiles $(1)/.ckptconv/weights.key.files > $(1)/.ckptconv/inputs.sized || true)
	$$(ckptconv.$(1).DIGEST) --manifest $(1) --files-from $(1)/.ckptconv/inputs --sizes-from $(1)/.ckptconv/inputs.sized -o $$@
	$$(if $$($(2)_NOTE),@echo 'ckptconv: $(1): note: $$($(2)_NOTE)' >&2)
endef

# A vocabulary file copied under its Hugging Face name; re-copied only when
# its content changes. Converting into the checkpoint's own folder, the file
# may already be there under that name: it is then left as it is.
define ckptconv-vocab
ifneq ($(abspath $(2)),$(abspath $(1)/$(3)))
$(1)/.ckptconv/vocab-$(3).key: ckptconv-always $(CKPTCONV_TOOLS)
	@mkdir -p $$(@D)
	@$$(ckptconv.$(1).DIGEST) $(2) > $$@.new
	@$$(call ckptconv-update,$$@)
$(1)/$(3): $(1)/.ckptconv/vocab-$(3).key
	cat $(2) > $$@.tmp && mv -f $$@.tmp $$@
endif
endef

# A vocabulary file made from the checkpoint's values by the map $(2).
define ckptconv-vocab-map
$(1)/.ckptconv/vocab-$(3).key: ckptconv-always $(CKPTCONV_TOOLS)
	@mkdir -p $$(@D)
	@{ echo "ckptconv $$$$($(CKPTCONV_BIN)/vocab-translate --version)"; $$(ckptconv.$(1).DIGEST) $(2); } > $$@.new
	@$$(call ckptconv-update,$$@)
$(1)/$(3): $(1)/.ckptconv/vocab-$(3).key $(1)/.ckptconv/values.json
	$(CKPTCONV_BIN)/vocab-translate $(2) $(1)/.ckptconv/values.json -o $$@
endef

# ---- used directly: make -f convert.mk MODEL=TYPE CKPT=PATH ... ------------
ifeq ($(abspath $(firstword $(MAKEFILE_LIST))),$(CKPTCONV_MK))
ifndef MODEL
$(error usage: make -f $(CKPTCONV_MK) MODEL=TYPE CKPT=PATH [OUT=DIR] [CONFIG=FILE] [VOCAB=DIR] [FORMAT=both|safetensors|pt] [DTYPE=f32|f16|bf16] [SHARD=SIZE] [TASK=NAME] [ROLE=NAME]; TYPE is one of: $(CKPTCONV_TYPES))
endif
OUT ?= out/$(MODEL)
$(eval $(call ckptconv,$(OUT),$(MODEL),$(CKPT),CONFIG=$(CONFIG) VOCAB=$(VOCAB) FORMAT=$(FORMAT) DTYPE=$(DTYPE) SHARD=$(SHARD) TASK=$(TASK) ROLE=$(ROLE)))
.DEFAULT_GOAL := $(OUT)

# What the conversion writes into OUT, for front ends (ckpt-convert) that
# check a folder before writing into it: "dump-output file|dir", then one
# "writes NAME [SOURCE]" line per file (SOURCE: the file it is a copy of)
# and one "removes GLOB" line per pattern of files replaced or removed.
.PHONY: ckptconv-outputs
ckptconv-outputs:
	@echo "dump-output $(or $($(MODEL)_DUMP_OUTPUT),dir)"
	@echo "tasks $(or $($(MODEL)_TASKS),no)"
	@echo "roles $(or $($(MODEL)_ROLES),none)"
	@printf 'writes %s\n' config.json $(if $($(MODEL)_GENERATION_CONFIG),generation_config.json) \
	  ckptconv-manifest.json
	@$(foreach p,$(ckptconv.$(OUT).VOCAB_PAIRS),echo 'writes $(call ckptconv-pair-dst,$(p)) $(ckptconv.$(OUT).VOCABDIR)/$(call ckptconv-pair-src,$(p))';)
	@$(foreach p,$($(MODEL)_VOCAB_MAPS),echo 'writes $(call ckptconv-pair-dst,$(p))';)
	@printf 'removes %s\n' $(CKPTCONV_WEIGHT_FILES)
endif
