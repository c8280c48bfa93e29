# Today's loaders load what we write. Every model type and variant is converted
# through Make (a Makefile including mk/convert.mk), in every weight format
# (both, safetensors, pt, sharded), and loaded with transformers 5.18 (hf5 env;
# Transformer-XL, gone from 5.x, with 4.57.6 of the tf env): AutoConfig,
# safe_open / torch.load(weights_only=True, mmap=True) of every file,
# CLASS.from_pretrained with no missing/unexpected/mismatched key and no
# warning, outputs on fixed ids equal to those of the reference weights in the
# same class, T5 generate() equal to the reference's (tests/py/stack_load.py).
# The reference is the golden case's expected/ (transformers 4.33's
# conversion) or, for variants no golden case has, weights mapped by hand in
# Python from the checkpoint's own tensors (tests/py/stack_refmap.py).
# Transformer-XL's computed inv_freq is compared with torch's for many sizes.
. "$(dirname "$0")/lib.sh"
G=$FIX/golden

# ---- checkpoints no golden case covers (tests/c/mkckpt) -----------------------------
mkdir -p "$T/bert_cls" "$T/bert_squad" "$T/t5v11" "$T/xlnet_vocab"
BERT_CONFIG='{"hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16,
 "max_position_embeddings": 16, "type_vocab_size": 2, "vocab_size": 30, "hidden_act": "gelu"}'
{ tiny_bert_spec; echo "output_weights F32 3,8"; echo "output_bias F32 3"
  echo "output_weights/adam_m F32 3,8"; echo "global_step I64 -"; } >"$T/bert_cls.spec"
{ tiny_bert_spec; echo "cls/squad/output_weights F32 2,8"; echo "cls/squad/output_bias F32 2"
  echo "cls/squad/output_bias/adam_v F32 2"; } >"$T/bert_squad.spec"
for c in bert_cls bert_squad; do
	"$TB/mkckpt" "$T/$c.spec" "$T/$c/model.ckpt-0" >/dev/null
	printf '%s\n' "$BERT_CONFIG" >"$T/$c/bert_config.json"
done

# T5 v1.1: gated GELU, untied decoder/logits, Adafactor slots.
{
	echo "shared/embedding F32 40,8"; echo "shared/embedding_slot_vr F32 40"
	for side in encoder decoder; do
		echo "$side/final_layer_norm/scale F32 8"
		L=$side/block_000/layer_000
		for p in q k v o; do echo "$L/SelfAttention/$p F32 8,8"; done
		echo "$L/SelfAttention/relative_attention_bias F32 2,32"; echo "$L/layer_norm/scale F32 8"
	done
	for p in q k v o; do echo "decoder/block_000/layer_001/EncDecAttention/$p F32 8,8"; done
	echo "decoder/block_000/layer_001/layer_norm/scale F32 8"
	for L in encoder/block_000/layer_001 decoder/block_000/layer_002; do
		echo "$L/DenseReluDense/wi_0/kernel F32 8,12"; echo "$L/DenseReluDense/wi_1/kernel F32 8,12"
		echo "$L/DenseReluDense/wo/kernel F32 12,8"; echo "$L/layer_norm/scale F32 8"
	done
	echo "decoder/logits/kernel F32 8,40"; echo "global_step I64 -"
} >"$T/t5v11.spec"
"$TB/mkckpt" "$T/t5v11.spec" "$T/t5v11/model.ckpt-0" >/dev/null
cat >"$T/t5v11/config.json" <<'JSON'
{"model_type": "t5", "vocab_size": 40, "d_model": 8, "d_kv": 4, "d_ff": 12, "num_layers": 1,
 "num_decoder_layers": 1, "num_heads": 2, "feed_forward_proj": "gated-gelu",
 "tie_word_embeddings": false, "decoder_start_token_id": 0}
JSON

# Fine-tuned XLNet, as t_convert_family makes them (tests/lib.sh).
printf 'a sentencepiece model\n' >"$T/xlnet_vocab/spiece.model"
for task in sts-b sst-2 squad; do
	c=xlnet_$(echo "$task" | tr -d -)
	mkdir -p "$T/$c"
	xlnet_finetuned_spec "$task" >"$T/$c.spec"
	"$TB/mkckpt" "$T/$c.spec" "$T/$c/model.ckpt" >/dev/null
	cp "$G/xlnet/input/xlnet_config.json" "$T/$c/" && chmod u+w "$T/$c/xlnet_config.json"
done
# The hand-made references read the original tensors as the checkpoint holds them.
for c in bert_cls bert_squad t5v11 xlnet_stsb xlnet_sst2 xlnet_squad; do
	"$B/ckpt-extract" "$T/$c" -o "$T/$c.raw.st" 2>/dev/null
done

# ---- every conversion, through Make ---------------------------------------------------
O=$T/out
cat >"$T/Makefile" <<MK
CKPTCONV_BIN := $B
include $CK_ROOT/mk/convert.mk
\$(eval \$(call ckptconv,$O/bert,bert,$G/bert/input/model.ckpt-100000))
\$(eval \$(call ckptconv,$O/bert_st,bert,$G/bert/input/model.ckpt-100000,FORMAT=safetensors))
\$(eval \$(call ckptconv,$O/bert_pt,bert,$G/bert/input/model.ckpt-100000,FORMAT=pt))
\$(eval \$(call ckptconv,$O/bert_mlm_only,bert,$G/bert_mlm_only/input))
\$(eval \$(call ckptconv,$O/bert_cls,bert,$T/bert_cls/model.ckpt-0))
\$(eval \$(call ckptconv,$O/bert_squad,bert,$T/bert_squad/model.ckpt-0,FORMAT=pt))
\$(eval \$(call ckptconv,$O/albert,albert,$G/albert/input/model.ckpt-best.index))
\$(eval \$(call ckptconv,$O/gpt,gpt,$G/gpt/input,CONFIG=$G/gpt/input/hf_config.json))
\$(eval \$(call ckptconv,$O/gpt2,gpt2,$G/gpt2/input/model.ckpt,CONFIG=$G/gpt2/input/hf_config.json))
\$(eval \$(call ckptconv,$O/gpt2_shard,gpt2,$G/gpt2/input/model.ckpt,CONFIG=$G/gpt2/input/hf_config.json SHARD=40KB))
\$(eval \$(call ckptconv,$O/t5,t5,$G/t5/input/model.ckpt-1000000,CONFIG=$G/t5/input/hf_config.json))
\$(eval \$(call ckptconv,$O/t5_gin_shard,t5,$G/t5/input/model.ckpt-1000000,CONFIG=$G/t5/input/operative_config.gin SHARD=80KB FORMAT=safetensors))
\$(eval \$(call ckptconv,$O/t5v11,t5,$T/t5v11/model.ckpt-0))
\$(eval \$(call ckptconv,$O/xlnet,xlnet,$G/xlnet/input/xlnet_model.ckpt,VOCAB=$T/xlnet_vocab))
\$(eval \$(call ckptconv,$O/xlnet_stsb,xlnet,$T/xlnet_stsb,TASK=sts-b))
\$(eval \$(call ckptconv,$O/xlnet_sst2,xlnet,$T/xlnet_sst2,TASK=SST-2 FORMAT=pt))
\$(eval \$(call ckptconv,$O/xlnet_squad,xlnet,$T/xlnet_squad/model.ckpt,TASK=squad FORMAT=safetensors))
\$(eval \$(call ckptconv,$O/xlm,xlm,$G/xlm/input/mlm_tiny_enfr.pth))
\$(eval \$(call ckptconv,$O/xlm_legacy,xlm,$G/xlm_legacy/input/checkpoint.pth,SHARD=60KB))
\$(eval \$(call ckptconv,$O/transfo_xl,transfo_xl,$G/transfo_xl/input/model.ckpt-0,CONFIG=$G/transfo_xl/input/hf_config.json))
\$(eval \$(call ckptconv,$O/transfo_xl_pt,transfo_xl,$G/transfo_xl/input,CONFIG=$G/transfo_xl/input/train_flags.json FORMAT=pt))
all: \$(CKPTCONV_OUTPUTS)
MK
check "make -j2 converts every case" sh -c "make -s -C '$T' -j2 all 2>'$T/make.err'"
note=$(sed -n 's/^ckptconv: \(.*\): note: //p' "$T/make.err" | sort -u)
check_eq "make: Transformer-XL's note (models/transfo_xl/transfo_xl.mk), once per folder" \
	"Transformer-XL folders need transformers < 5 (5.0 removed TransfoXL; 4.57.6 loads them) 2" \
	"$note $(grep -c ': note: ' "$T/make.err")"
check_eq "ckpt-convert: the same note" "ckptconv: $T/cc_txl: note: Transformer-XL folders need transformers < 5 (5.0 removed TransfoXL; 4.57.6 loads them)" \
	"$("$B/ckpt-convert" --model_type transfo_xl --tf_checkpoint "$G/transfo_xl/input/model.ckpt-0" \
		--config "$G/transfo_xl/input/hf_config.json" --pytorch_dump_output "$T/cc_txl" 2>&1 | grep ': note: ')"
check "sharded cases are sharded" sh -c "ls '$O/gpt2_shard'/model-00001-of-*.safetensors '$O/gpt2_shard'/pytorch_model-00001-of-*.bin \
	'$O/gpt2_shard/model.safetensors.index.json' '$O/t5_gin_shard'/model-00002-of-*.safetensors '$O/xlm_legacy'/pytorch_model-00002-of-*.bin"

# ---- config.json as 5.x expects it, still right for 4.x --------------------------------
check "config.json: dtype, never torch_dtype; T5's tie_word_embeddings explicit; no generation parameter where a generation_config.json is written" \
	"$CK_STACK_HF5" -c '
import json, sys, os
from transformers import GenerationConfig
# use_cache is in the 5.18 list, yet a T5Config field, and save_pretrained of 5.18 writes it
gen = set(GenerationConfig._get_default_generation_params()) - {"use_cache"}
bad = []
for d in sys.argv[1:]:
    c = json.load(open(os.path.join(d, "config.json")))
    if "torch_dtype" in c or c.get("dtype") != "float32":
        bad.append("%s: dtype %r torch_dtype %r" % (d, c.get("dtype"), c.get("torch_dtype")))
    if os.path.exists(os.path.join(d, "generation_config.json")) and gen & set(c):
        bad.append("%s: generation parameters %s" % (d, sorted(gen & set(c))))
    if c["model_type"] == "t5" and not isinstance(c.get("tie_word_embeddings"), bool):
        bad.append("%s: no tie_word_embeddings" % d)
assert not bad, bad' "$O"/*
check_eq "T5: v1.0 tied, v1.1 untied" "true true false" \
	"$(for c in t5 t5_gin_shard t5v11; do $PY -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["tie_word_embeddings"]))' "$O/$c/config.json"; done | tr '\n' ' ' | sed 's/ $//')"

# ---- load everything --------------------------------------------------------------------
case_json() { # case_json NAME CLASS REF [REF_MAP] [generate]
	printf '{"name": "%s", "dir": "%s", "class": "%s", "ref": "%s", "ref_map": %s, "generate": %s}' \
		"$1" "$O/$1" "$2" "$3" "$( [ -n "${4:-}" ] && echo "\"$4\"" || echo null)" \
		"$( [ "${5:-}" = generate ] && echo true || echo false)"
}
{
	echo "["
	case_json bert BertForPreTraining "$G/bert/expected"; echo ,
	case_json bert_st BertForPreTraining "$G/bert/expected"; echo ,
	case_json bert_pt BertForPreTraining "$G/bert/expected"; echo ,
	case_json bert_mlm_only BertForMaskedLM "$G/bert_mlm_only/expected"; echo ,
	case_json bert_cls BertForSequenceClassification "$T/bert_cls.raw.st" bert; echo ,
	case_json bert_squad BertForQuestionAnswering "$T/bert_squad.raw.st" bert; echo ,
	case_json albert AlbertForPreTraining "$G/albert/expected"; echo ,
	case_json gpt OpenAIGPTLMHeadModel "$G/gpt/expected"; echo ,
	case_json gpt2 GPT2LMHeadModel "$G/gpt2/expected"; echo ,
	case_json gpt2_shard GPT2LMHeadModel "$G/gpt2/expected"; echo ,
	case_json t5 T5ForConditionalGeneration "$G/t5/expected" "" generate; echo ,
	case_json t5_gin_shard T5ForConditionalGeneration "$G/t5/expected" "" generate; echo ,
	case_json t5v11 T5ForConditionalGeneration "$T/t5v11.raw.st" t5 generate; echo ,
	case_json xlnet XLNetLMHeadModel "$G/xlnet/expected"; echo ,
	case_json xlnet_stsb XLNetForSequenceClassification "$T/xlnet_stsb.raw.st" xlnet; echo ,
	case_json xlnet_sst2 XLNetForSequenceClassification "$T/xlnet_sst2.raw.st" xlnet; echo ,
	case_json xlnet_squad XLNetForQuestionAnswering "$T/xlnet_squad.raw.st" xlnet; echo ,
	case_json xlm XLMWithLMHeadModel "$G/xlm/expected"; echo ,
	case_json xlm_legacy XLMWithLMHeadModel "$G/xlm_legacy/expected"
	echo "]"
} >"$T/hf5.json"
{
	echo "["
	case_json transfo_xl TransfoXLLMHeadModel "$G/transfo_xl/expected"; echo ,
	case_json transfo_xl_pt TransfoXLLMHeadModel "$G/transfo_xl/expected"
	echo "]"
} >"$T/tf.json"
export PYTHONPATH=$CK_ROOT/tests/py
"$CK_STACK_HF5" "$CK_ROOT/tests/py/stack_load.py" "$T/hf5.json" 2>"$T/hf5.err" || fail "stack_load.py (hf5) exited $?: $(tail -3 "$T/hf5.err")"
"$CK_STACK_TF" "$CK_ROOT/tests/py/stack_load.py" "$T/tf.json" 2>"$T/tf.err" || fail "stack_load.py (tf) exited $?: $(tail -3 "$T/tf.err")"

# ---- make ... inv_freq against torch 2.13 ---------------------------------------------------
# One stream of computed tensors for many sizes (all of 1..300: every remainder of the
# blocks of 16; and real models' d_model), compared bit for bit with torch's.
dims="$(seq 1 300) 410 512 768 1000 1024 1536 2048 4096 8192 12345 65536"
# (one input tensor of each size gives DIM: d$d:0)
{ echo "keep **"; for d in $dims; do echo "make inv_freq.$d inv_freq 10000 d$d:0"; done; } >"$T/invfreq.rules"
"$TB/st_make" $(for d in $dims; do printf 'd%s:F32:%s ' "$d" "$d"; done) >"$T/x.st"
check "tensor-remap: inv_freq for $(echo $dims | wc -w) sizes" "$B/tensor-remap" "$T/invfreq.rules" "$T/x.st" -o "$T/invfreq.st"
check "make inv_freq: bit for bit torch 2.13's 1 / (10000 ** (torch.arange(0.0, d, 2.0) / d)) on this CPU" \
	"$CK_STACK_TF" -c '
import sys, torch
from safetensors import safe_open
cap = torch.backends.cpu.get_cpu_capability()
bad = []
with safe_open(sys.argv[1], framework="pt") as f:
    for d in map(int, sys.argv[2:]):
        want = 1 / (10000 ** (torch.arange(0.0, d, 2.0) / d))
        got = f.get_tensor("inv_freq.%d" % d)
        if not torch.equal(got.view(torch.int32), want.view(torch.int32)):
            bad.append((d, (got != want).nonzero().flatten().tolist()[:8]))
assert cap == "AVX2", "torch runs %s kernels here, not the AVX2 ones this value follows: differing %s" % (cap, bad[:5])
assert not bad, bad' "$T/invfreq.st" $dims
