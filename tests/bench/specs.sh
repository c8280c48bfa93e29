#!/bin/sh
# specs.sh KIND — print a tests/c/mkckpt spec (format at the top of
# tests/c/mkckpt.c) for a checkpoint shaped like a real release, and
# `specs.sh KIND config` its original config. Values are synthetic; names,
# dtypes, shapes, optimizer slots and shard counts are those of the real thing.
#   bert-base-adam   BERT-Base (L-12 H-768 A-12) as run_pretraining.py saves it:
#                    every variable with its adam_m and adam_v slots (1.3 GB of
#                    data, 440 MB kept)
#   bert-large       BERT-Large (L-24 H-1024 A-16) as Google released it (1.34 GB)
#   t5-3b            T5 v1.0 3B (d_model 1024, d_ff 16384, 24+24 blocks, 32 heads
#                    x 128) with Adafactor slots, over 16 data shards (11.4 GB)
set -eu
kind=${1:?usage: specs.sh KIND [config]}
what=${2:-spec}

# bert H LAYERS INTERMEDIATE VOCAB ADAM(0|1) HEADS
bert() {
	if [ "$what" = config ]; then
		printf '{\n  "attention_probs_dropout_prob": 0.1,\n  "hidden_act": "gelu",\n'
		printf '  "hidden_dropout_prob": 0.1,\n  "hidden_size": %d,\n' "$1"
		printf '  "initializer_range": 0.02,\n  "intermediate_size": %d,\n' "$3"
		printf '  "max_position_embeddings": 512,\n  "num_attention_heads": %d,\n' "$6"
		printf '  "num_hidden_layers": %d,\n  "type_vocab_size": 2,\n  "vocab_size": %d\n}\n' "$2" "$4"
		return
	fi
	awk -v H="$1" -v L="$2" -v I="$3" -v V="$4" -v ADAM="$5" '
	function v(name, shape) {
		print name, "F32", shape
		if (ADAM) { print name "/adam_m", "F32", shape; print name "/adam_v", "F32", shape }
	}
	BEGIN {
		print "# BERT H=" H " L=" L " I=" I " V=" V (ADAM ? " with Adam slots" : "")
		v("bert/embeddings/word_embeddings", V "," H)
		v("bert/embeddings/token_type_embeddings", "2," H)
		v("bert/embeddings/position_embeddings", "512," H)
		v("bert/embeddings/LayerNorm/gamma", H); v("bert/embeddings/LayerNorm/beta", H)
		for (l = 0; l < L; l++) {
			p = "bert/encoder/layer_" l "/"
			split("query key value", q, " ")
			for (k = 1; k <= 3; k++) {
				v(p "attention/self/" q[k] "/kernel", H "," H)
				v(p "attention/self/" q[k] "/bias", H)
			}
			v(p "attention/output/dense/kernel", H "," H); v(p "attention/output/dense/bias", H)
			v(p "attention/output/LayerNorm/gamma", H); v(p "attention/output/LayerNorm/beta", H)
			v(p "intermediate/dense/kernel", H "," I); v(p "intermediate/dense/bias", I)
			v(p "output/dense/kernel", I "," H); v(p "output/dense/bias", H)
			v(p "output/LayerNorm/gamma", H); v(p "output/LayerNorm/beta", H)
		}
		v("bert/pooler/dense/kernel", H "," H); v("bert/pooler/dense/bias", H)
		v("cls/predictions/transform/dense/kernel", H "," H)
		v("cls/predictions/transform/dense/bias", H)
		v("cls/predictions/transform/LayerNorm/gamma", H)
		v("cls/predictions/transform/LayerNorm/beta", H)
		v("cls/predictions/output_bias", V)
		v("cls/seq_relationship/output_weights", "2," H)
		v("cls/seq_relationship/output_bias", 2)
		print "global_step", "I64", "-"
	}'
}

# t5 D_MODEL D_FF LAYERS HEADS D_KV VOCAB SHARDS — Mesh TF names; Adafactor
# factors the second moment of matrices with both dims >= 128 (_slot_vr
# over rows, _slot_vc over columns), keeps a full _slot_v otherwise.
t5() {
	if [ "$what" = config ]; then
		printf '# T5 %s: the operative_config.gin values cfg-translate reads\n' "$kind"
		printf 'd_model = %d\nd_ff = %d\nd_kv = %d\nnum_heads = %d\nnum_layers = %d\nvocab_size = %d\n' \
			"$1" "$2" "$5" "$4" "$3" "$6"
		return
	fi
	awk -v D="$1" -v F="$2" -v L="$3" -v NH="$4" -v KV="$5" -v V="$6" -v S="$7" '
	function v(name, r, c) {
		if (c == "") { print name, "F32", r; print name "_slot_v", "F32", r; return }
		print name, "F32", r "," c
		if (r >= 128 && c >= 128) { print name "_slot_vr", "F32", r; print name "_slot_vc", "F32", c }
		else print name "_slot_v", "F32", r "," c
	}
	function attn(p) {
		v(p "q", D, NH * KV); v(p "k", D, NH * KV); v(p "v", D, NH * KV); v(p "o", NH * KV, D)
	}
	BEGIN {
		print "# T5 d_model=" D " d_ff=" F " layers=" L " heads=" NH "x" KV " vocab=" V
		print "@shards " S
		v("shared/embedding", V, D)
		split("encoder decoder", st, " ")
		for (s = 1; s <= 2; s++)
			for (b = 0; b < L; b++) {
				p = sprintf("%s/block_%03d/", st[s], b)
				attn(p "layer_000/SelfAttention/")
				if (b == 0) v(p "layer_000/SelfAttention/relative_attention_bias", NH, 32)
				v(p "layer_000/layer_norm/scale", D)
				ff = "layer_001"
				if (st[s] == "decoder") {
					attn(p "layer_001/EncDecAttention/")
					v(p "layer_001/layer_norm/scale", D)
					ff = "layer_002"
				}
				v(p ff "/DenseReluDense/wi/kernel", D, F); v(p ff "/DenseReluDense/wo/kernel", F, D)
				v(p ff "/layer_norm/scale", D)
			}
		v("encoder/final_layer_norm/scale", D); v("decoder/final_layer_norm/scale", D)
		print "global_step", "I64", "-"
	}'
}

case $kind in
bert-base-adam) bert 768 12 3072 30522 1 12 ;;
bert-large) bert 1024 24 4096 30522 0 16 ;;
t5-3b) t5 1024 16384 24 32 128 32128 16 ;;
*) echo "specs.sh: unknown kind $kind (bert-base-adam, bert-large, t5-3b)" >&2; exit 2 ;;
esac
