# End to end: ckpt-extract CKPT | tensor-remap models/TYPE/tensors.rules.
# 1. The golden cases: every tensor the reference fills is equal bit for bit
#    (tests/py/golden_check.py; tied copies may be aliases).
# 2. Checkpoints the reference cannot convert, made with mkckpt: T5 v1.1 in
#    bfloat16, a BERT SQuAD fine-tune, a GPT-2 fine-tune with Adam slots.
. "$(dirname "$0")/lib.sh"
G=$FIX/golden
M=$CK_ROOT/models
X="$PY $CK_ROOT/tests/py/st_expect.py"

golden() {
	local case=$1 model=$2 ckpt=$3
	if $B/ckpt-extract "$G/$case/input/$ckpt" | $B/tensor-remap "$M/$model/tensors.rules" -o "$T/$case.st"; then
		$PY "$CK_ROOT/tests/py/golden_check.py" "$T/$case.st" "$G/$case" tensors.rules
	else
		fail "golden $case: conversion failed"
	fi
}
golden bert bert model.ckpt-100000
golden bert_mlm_only bert bert_model.ckpt
golden albert albert model.ckpt-best
golden gpt2 gpt2 model.ckpt
golden t5 t5 model.ckpt-1000000

# ---- T5 v1.1: gated-gelu wi_0/wi_1, untied logits, bfloat16 variables ------------
cat >"$T/t5v11.spec" <<'EOF'
@shards 2
shared/embedding BF16 40,8
shared/embedding_slot_vr F32 40
shared/embedding_slot_vc F32 8
encoder/block_000/layer_000/SelfAttention/q BF16 8,8
encoder/block_000/layer_000/SelfAttention/k BF16 8,8
encoder/block_000/layer_000/SelfAttention/v BF16 8,8
encoder/block_000/layer_000/SelfAttention/o BF16 8,8
encoder/block_000/layer_000/SelfAttention/relative_attention_bias BF16 2,32
encoder/block_000/layer_000/layer_norm/scale BF16 8
encoder/block_000/layer_001/DenseReluDense/wi_0/kernel BF16 8,12 part=1:2
encoder/block_000/layer_001/DenseReluDense/wi_1/kernel BF16 8,12
encoder/block_000/layer_001/DenseReluDense/wo/kernel BF16 12,8
encoder/block_000/layer_001/layer_norm/scale F16 8
encoder/final_layer_norm/scale BF16 8
decoder/block_000/layer_000/SelfAttention/q BF16 8,8
decoder/block_000/layer_000/SelfAttention/k BF16 8,8
decoder/block_000/layer_000/SelfAttention/v BF16 8,8
decoder/block_000/layer_000/SelfAttention/o BF16 8,8
decoder/block_000/layer_000/SelfAttention/relative_attention_bias BF16 2,32
decoder/block_000/layer_000/layer_norm/scale BF16 8
decoder/block_000/layer_001/EncDecAttention/q BF16 8,8
decoder/block_000/layer_001/EncDecAttention/k BF16 8,8
decoder/block_000/layer_001/EncDecAttention/v BF16 8,8
decoder/block_000/layer_001/EncDecAttention/o BF16 8,8
decoder/block_000/layer_001/layer_norm/scale BF16 8
decoder/block_000/layer_002/DenseReluDense/wi_0/kernel BF16 8,12
decoder/block_000/layer_002/DenseReluDense/wi_1/kernel BF16 8,12
decoder/block_000/layer_002/DenseReluDense/wo/kernel BF16 12,8
decoder/block_000/layer_002/DenseReluDense/wo/kernel_slot_vr F32 12
decoder/block_000/layer_002/layer_norm/scale BF16 8
decoder/final_layer_norm/scale BF16 8
decoder/logits/kernel BF16 8,40
global_step I64 -
EOF
if $TB/mkckpt "$T/t5v11.spec" "$T/t5v11.ckpt" && $B/ckpt-extract "$T/t5v11.ckpt" -o "$T/t5v11.raw" &&
	$B/tensor-remap "$M/t5/tensors.rules" "$T/t5v11.raw" -o "$T/t5v11.st"; then
	ok "T5 v1.1 bfloat16 converts"
	$X "$T/t5v11.raw" "$T/t5v11.st" \
		'len(o) == 29 and all(v.dtype == np.float32 for v in o.values())' \
		'same(o["shared.weight"], bf16_to_f32(i["shared/embedding"]))' \
		'same(o["lm_head.weight"], bf16_to_f32(i["decoder/logits/kernel"]).T.copy())' \
		'"ckptconv.alias.lm_head.weight" not in om and om["ckptconv.alias.encoder.embed_tokens.weight"] == "shared.weight"' \
		'same(o["encoder.block.0.layer.1.DenseReluDense.wi_0.weight"], bf16_to_f32(i["encoder/block_000/layer_001/DenseReluDense/wi_0/kernel"]).T.copy())' \
		'same(o["decoder.block.0.layer.2.DenseReluDense.wi_1.weight"], bf16_to_f32(i["decoder/block_000/layer_002/DenseReluDense/wi_1/kernel"]).T.copy())' \
		'same(o["encoder.block.0.layer.1.layer_norm.weight"], i["encoder/block_000/layer_001/layer_norm/scale"].astype(np.float32))' \
		'same(o["decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"], bf16_to_f32(i["decoder/block_000/layer_000/SelfAttention/relative_attention_bias"]).T.copy())' \
		'same(o["decoder.block.0.layer.1.EncDecAttention.o.weight"], bf16_to_f32(i["decoder/block_000/layer_001/EncDecAttention/o"]).T.copy())'
else
	fail "T5 v1.1 bfloat16 converts"
fi

# ---- BERT fine-tuned for SQuAD (run_squad.py), with Adam slots -------------------
{
	tiny_bert_spec
	echo "cls/squad/output_weights F32 2,8"; echo "cls/squad/output_bias F32 2"
	echo "cls/squad/output_weights/adam_m F32 2,8"; echo "cls/squad/output_weights/adam_v F32 2,8"
	echo "global_step I64 -"
} >"$T/squad.spec"
if $TB/mkckpt "$T/squad.spec" "$T/squad.ckpt" && $B/ckpt-extract "$T/squad.ckpt" -o "$T/squad.raw" &&
	$B/tensor-remap "$M/bert/tensors.rules" "$T/squad.raw" -o "$T/squad.st"; then
	ok "BERT SQuAD fine-tune converts"
	$X "$T/squad.raw" "$T/squad.st" \
		'same(o["qa_outputs.weight"], i["cls/squad/output_weights"]) and same(o["qa_outputs.bias"], i["cls/squad/output_bias"])' \
		'len(o) == 23 and not any(k.startswith("ckptconv.alias.") for k in om)' \
		'not any(k.startswith("bert.pooler.") for k in o)  # BertForQuestionAnswering has no pooler' \
		'same(o["bert.encoder.layer.0.output.dense.weight"], i["bert/encoder/layer_0/output/dense/kernel"].T.copy())'
else
	fail "BERT SQuAD fine-tune converts"
fi

# ---- GPT-2 fine-tuned with tf.train.AdamOptimizer ----------------------------------
{
	echo "model/wte F32 50,8"; echo "model/wpe F32 16,8"
	for v in ln_1 ln_2; do echo "model/h0/$v/g F32 8"; echo "model/h0/$v/b F32 8"; done
	echo "model/h0/attn/c_attn/w F32 1,8,24"; echo "model/h0/attn/c_attn/b F32 24"
	echo "model/h0/attn/c_proj/w F32 1,8,8"; echo "model/h0/attn/c_proj/b F32 8"
	echo "model/h0/mlp/c_fc/w F32 1,8,32"; echo "model/h0/mlp/c_fc/b F32 32"
	echo "model/h0/mlp/c_proj/w F32 1,32,8"; echo "model/h0/mlp/c_proj/b F32 8"
	echo "model/ln_f/g F32 8"; echo "model/ln_f/b F32 8"
	echo "model/h0/attn/c_attn/w/Adam F32 1,8,24"; echo "model/h0/attn/c_attn/w/Adam_1 F32 1,8,24"
	echo "beta1_power F32 -"; echo "beta2_power F32 -"; echo "global_step I64 -"
} >"$T/gpt2ft.spec"
if $TB/mkckpt "$T/gpt2ft.spec" "$T/gpt2ft.ckpt" && $B/ckpt-extract "$T/gpt2ft.ckpt" -o "$T/gpt2ft.raw" &&
	$B/tensor-remap "$M/gpt2/tensors.rules" "$T/gpt2ft.raw" -o "$T/gpt2ft.st"; then
	ok "GPT-2 fine-tune with Adam slots converts"
	$X "$T/gpt2ft.raw" "$T/gpt2ft.st" \
		'len(o) == 16 and same(o["h.0.attn.c_attn.weight"], i["model/h0/attn/c_attn/w"].reshape(8, 24))' \
		'same(o["h.0.mlp.c_proj.weight"], i["model/h0/mlp/c_proj/w"].reshape(32, 8))'
else
	fail "GPT-2 fine-tune with Adam slots converts"
fi
