# End to end through Make for the rest of the family: OpenAI GPT (numpy
# folder), XLNet (with fine-tuning tasks), Transformer-XL and XLM (zip and
# legacy .pth) convert with mk/convert.mk and give what the reference gives,
# tensor for tensor, bit for bit; XLNet heads a task needs are converted, and
# a head the checkpoint lacks is a one-line error naming it.
. "$(dirname "$0")/lib.sh"
G=$FIX/golden
P="$PY $CK_ROOT/tests/py"
# Transformer-XL's pos_emb.inv_freq (not in the checkpoint) is made by its
# rule file's `make` line and compared bit for bit with the reference's;
# XLM's n_words is XLMConfig's vocab_size.
FOLDER_OPTS="--renamed n_words=vocab_size"

# XLNet's SentencePiece model is copied under its own name.
mkdir -p "$T/xlnet_vocab" && printf 'a sentencepiece model\n' >"$T/xlnet_vocab/spiece.model"

# Fine-tuned XLNet checkpoints as the original run_classifier / run_squad
# write them (tests/lib.sh).
mkft() { # mkft NAME TASK — a checkpoint folder $T/ft_NAME, its stream $T/ft_NAME.st
	mkdir -p "$T/ft_$1"
	xlnet_finetuned_spec "$2" >"$T/ft_$1.spec"
	"$TB/mkckpt" --expect "$T/ft_$1.st" "$T/ft_$1.spec" "$T/ft_$1/model.ckpt"
	cp "$G/xlnet/input/xlnet_config.json" "$T/ft_$1/" && chmod u+w "$T/ft_$1/xlnet_config.json"
}
mkft stsb sts-b
mkft sst2 sst-2
mkft squad squad

cat >"$T/Makefile" <<MK
CKPTCONV_BIN := $B
include $CK_ROOT/mk/convert.mk
\$(eval \$(call ckptconv,gpt,gpt,$G/gpt/input,CONFIG=$G/gpt/input/hf_config.json))
\$(eval \$(call ckptconv,xlnet,xlnet,$G/xlnet/input/xlnet_model.ckpt,VOCAB=$T/xlnet_vocab))
\$(eval \$(call ckptconv,transfo_xl,transfo_xl,$G/transfo_xl/input/model.ckpt-0,CONFIG=$G/transfo_xl/input/hf_config.json))
\$(eval \$(call ckptconv,transfo_xl_flags,transfo_xl,$G/transfo_xl/input,CONFIG=$G/transfo_xl/input/train_flags.json))
\$(eval \$(call ckptconv,xlm,xlm,$G/xlm/input/mlm_tiny_enfr.pth))
\$(eval \$(call ckptconv,xlm_legacy,xlm,$G/xlm_legacy/input/checkpoint.pth))
\$(eval \$(call ckptconv,stsb,xlnet,$T/ft_stsb,TASK=STS-B FORMAT=safetensors))
\$(eval \$(call ckptconv,sst2,xlnet,$T/ft_sst2,TASK=sst-2 FORMAT=safetensors))
\$(eval \$(call ckptconv,squad,xlnet,$T/ft_squad/model.ckpt,TASK=squad FORMAT=safetensors))
all: \$(CKPTCONV_OUTPUTS)
MK
check "make -j2 converts every case" make -s -C "$T" -j2 all

# ---- the golden cases ------------------------------------------------------------
for c in gpt xlnet transfo_xl xlm xlm_legacy; do
	$P/golden_check.py "$T/$c/model.safetensors" "$G/$c" tensors.rules
	$P/golden_folder.py "$T/$c" "$G/$c" $FOLDER_OPTS
	[ -s "$T/$c/ckptconv-manifest.json" ] && ok "$c: manifest written" || fail "$c: no manifest"
done
check "transfo_xl: the original training flags (train_flags.json) give the same config" \
	$PY -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); a.pop("tgt_len"); a.pop("proj_same_dim"); sys.exit(a != b)' \
	"$T/transfo_xl_flags/config.json" "$T/transfo_xl/config.json"
check "transfo_xl: the same weights from its folder" cmp "$T/transfo_xl_flags/model.safetensors" "$T/transfo_xl/model.safetensors"

cfg() { # cfg DIR EXPR — a Python expression over the config c
	$PY -c 'import json,sys; c=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/$1/config.json" "$2"
}
check_eq "gpt: config sizes from the given config" "openai-gpt OpenAIGPTLMHeadModel 4" \
	"$(cfg gpt 'c["model_type"], c["architectures"][0], c["n_head"]' | tr -d "(),'")"
check_eq "gpt: encoder_bpe_40000.json becomes vocab.json" "$(cat "$G/gpt/input/encoder_bpe_40000.json")" "$(cat "$T/gpt/vocab.json")"
check_eq "gpt: vocab_40000.bpe becomes merges.txt" "$(cat "$G/gpt/input/vocab_40000.bpe")" "$(cat "$T/gpt/merges.txt")"
check_eq "xlnet: spiece.model copied" "a sentencepiece model" "$(cat "$T/xlnet/spiece.model")"
check_eq "xlnet: no task, the LM head model" "XLNetLMHeadModel None" "$(cfg xlnet 'c["architectures"][0], c.get("finetuning_task")' | tr -d "(),'")"
check_eq "transfo_xl: the LM head model, tie_projs from proj_share_all_but_first" "TransfoXLLMHeadModel [False, True, True, True]" \
	"$(cfg transfo_xl 'c["architectures"][0], c["tie_projs"]' | sed "s/^('\([^']*\)', /\1 /; s/)$//")"
for c in xlm xlm_legacy; do
	check "$c: vocab.json byte for byte the reference's" cmp "$T/$c/vocab.json" "$G/$c/expected/vocab.json"
	check_eq "$c: config from the checkpoint's params, loadable by AutoConfig" "xlm XLMWithLMHeadModel 94 True False" \
		"$(cfg $c 'c["model_type"], c["architectures"][0], c["vocab_size"], c["tie_word_embeddings"], "pred_probs" in c or "mask_scores" in c' | tr -d "(),'")"
done
check "xlm: the tied output embedding is one storage in the .bin" $PY -c '
import sys, torch
sd = torch.load(sys.argv[1], weights_only=True)
sys.exit(sd["pred_layer.proj.weight"].data_ptr() != sd["transformer.embeddings.weight"].data_ptr())' "$T/xlm/pytorch_model.bin"

# ---- XLNet tasks -----------------------------------------------------------------
check_eq "sts-b (TASK=STS-B): regression, one label, lower-cased task" \
	"XLNetForSequenceClassification 1 sts-b {'0': 'LABEL_0'}" \
	"$(cfg stsb 'c["architectures"][0], c["num_labels"] if "num_labels" in c else len(c["id2label"]), c["finetuning_task"], c["id2label"]' | sed "s/^('\([^']*\)', \([0-9]*\), '\([^']*\)', /\1 \2 \3 /; s/)$//")"
$P/pairs_check.py "$T/ft_stsb.st" "$T/stsb/model.safetensors" "sts-b: regression head and summary" \
	model/regression_sts-b/logit/kernel=logits_proj.weight:T model/regression_sts-b/logit/bias=logits_proj.bias \
	model/sequnece_summary/summary/kernel=sequence_summary.summary.weight:T \
	model/sequnece_summary/summary/bias=sequence_summary.summary.bias \
	model/transformer/word_embedding/lookup_table=transformer.word_embedding.weight
"$B/ckpt-extract" "$T/ft_sst2" | "$B/tensor-remap" --arg task=sst-2 "$CK_ROOT/models/xlnet/tensors.rules" >"$T/sst2.piped.st"
check "ckpt-extract --remap --arg task=sst-2: the bytes of | tensor-remap --arg" sh -c \
	"'$B/ckpt-extract' '$T/ft_sst2' --remap '$CK_ROOT/models/xlnet/tensors.rules' --arg task=sst-2 | cmp - '$T/sst2.piped.st'"
check "the Make path (pt-pack --checkpoint --arg task=sst-2): the bytes of the pipeline" sh -c \
	"'$B/pt-pack' '$T/sst2.piped.st' -o - --format safetensors | cmp - '$T/sst2/model.safetensors'"
check_eq "sst-2: classification, two labels" "XLNetForSequenceClassification 2 sst-2" \
	"$(cfg sst2 'c["architectures"][0], len(c.get("id2label", {0: 0, 1: 1})), c["finetuning_task"]' | tr -d "(),'")"
$P/pairs_check.py "$T/ft_sst2.st" "$T/sst2/model.safetensors" "sst-2: classification head and summary" \
	model/classification_sst-2/logit/kernel=logits_proj.weight:T model/classification_sst-2/logit/bias=logits_proj.bias \
	model/sequnece_summary/summary/kernel=sequence_summary.summary.weight:T
check_eq "squad: question answering" "XLNetForQuestionAnswering squad" \
	"$(cfg squad 'c["architectures"][0], c["finetuning_task"]' | tr -d "(),'")"
$P/pairs_check.py "$T/ft_squad.st" "$T/squad/model.safetensors" "squad: every QA head" \
	start_logits/dense/kernel=start_logits.dense.weight:T start_logits/dense/bias=start_logits.dense.bias \
	end_logits/dense_0/kernel=end_logits.dense_0.weight:T end_logits/dense_0/bias=end_logits.dense_0.bias \
	end_logits/LayerNorm/gamma=end_logits.LayerNorm.weight end_logits/LayerNorm/beta=end_logits.LayerNorm.bias \
	end_logits/dense_1/kernel=end_logits.dense_1.weight:T end_logits/dense_1/bias=end_logits.dense_1.bias \
	answer_class/dense_0/kernel=answer_class.dense_0.weight:T answer_class/dense_0/bias=answer_class.dense_0.bias \
	answer_class/dense_1/kernel=answer_class.dense_1.weight:T
check_eq "tasks: no LM head, no Adam slots written" "" \
	"$(for c in stsb sst2 squad; do "$B/ckpt-ls" "$T/$c/model.safetensors"; done | grep -i 'lm_loss\|adam' | cut -f1)"

# A head the task needs but the checkpoint lacks, or a head without a task.
R="$B/tensor-remap $CK_ROOT/models/xlnet/tensors.rules"
"$B/ckpt-extract" "$G/xlnet/input/xlnet_model.ckpt" -o "$T/pretrained.st"
check_fails "sst-2 on a checkpoint without the head: names it" \
	"task sst-2 needs its head model/classification_sst-2/logit/kernel, which the checkpoint does not have \(.*tensors.rules:[0-9]+\)$" \
	$R --arg task=sst-2 "$T/pretrained.st"
check_fails "sts-b without the head: names the regression scope" \
	"task sts-b needs its head model/regression_sts-b/logit/kernel" $R --arg task=sts-b "$T/pretrained.st"
check_fails "squad without the QA heads: names the first" \
	"task squad needs the SQuAD head start_logits/dense/kernel, which the checkpoint does not have" \
	$R --arg task=squad "$T/pretrained.st"
grep -v sequnece_summary "$T/ft_sst2.spec" >"$T/nosum.spec"
"$TB/mkckpt" --expect "$T/nosum.st" "$T/nosum.spec" "$T/nosum"
check_fails "a classifier without its sequence summary: names it" \
	"task sst-2 needs the sequence summary model/sequnece_summary/summary/kernel" $R --arg task=sst-2 "$T/nosum.st"
check_fails "a fine-tuned head without TASK: refused with what to do" \
	"tensor model/regression_sts-b/logit/bias: a fine-tuned regression head: convert with TASK=" $R "$T/ft_stsb.st"
check_fails "the wrong task's head is not taken" "tensor model/regression_sts-b/logit/bias: no rule matches it" \
	$R --arg task=sst-2 "$T/ft_stsb.st"
cat >"$T/bad.mk" <<MK
CKPTCONV_BIN := $B
include $CK_ROOT/mk/convert.mk
\$(eval \$(call ckptconv,$T/bad,xlnet,$G/xlnet/input/xlnet_model.ckpt,TASK=mnli))
MK
check_exit "make: a missing head fails the build" 2 make -s -C "$T" -f "$T/bad.mk" "$T/bad"
[ ! -e "$T/bad/ckptconv-manifest.json" ] && [ ! -e "$T/bad/pytorch_model.bin" ] &&
	ok "make: no weights or manifest after the failure" || fail "make: output left after a missing head"

# ---- incremental -------------------------------------------------------------------
check_eq "a second make does nothing" "" "$(make --no-print-directory -C "$T" all 2>&1 | grep -v 'Nothing to be done\|is up to date')"
