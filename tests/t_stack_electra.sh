# ELECTRA (google-research/electra pretraining checkpoints: discriminator and
# generator in one checkpoint) through mk/convert.mk with ROLE=: each output
# equals transformers 4.57.6's load_tf_weights_in_electra bit for bit, loads
# in transformers 5 with no missing/unexpected keys and gives the logits of
# the same weights mapped by hand (tests/py/electra_hand.py). Two shapes:
# small (embedding 16 != hidden 32, HF configs given) and base-shaped
# (hidden 768 / generator 256, embedding 768: only the generator projects;
# no config, sizes from the tensors). Wrong or missing ROLE is refused.
. "$(dirname "$0")/lib.sh"
P=$CK_ROOT/tests/py
TF=$CK_STACK_TF
HF=$CK_STACK_HF5

# encoder SCOPE LAYERS HIDDEN INTER — mkckpt lines of a BERT-style encoder
encoder() {
	local s=$1 L=$2 h=$3 f=$4 i q n
	for i in $(seq 0 $((L - 1))); do
		n=$s/encoder/layer_$i
		for q in query key value; do echo "$n/attention/self/$q/kernel F32 $h,$h"; echo "$n/attention/self/$q/bias F32 $h"; done
		echo "$n/attention/output/dense/kernel F32 $h,$h"; echo "$n/attention/output/dense/bias F32 $h"
		echo "$n/attention/output/LayerNorm/gamma F32 $h"; echo "$n/attention/output/LayerNorm/beta F32 $h"
		echo "$n/intermediate/dense/kernel F32 $h,$f"; echo "$n/intermediate/dense/bias F32 $f"
		echo "$n/output/dense/kernel F32 $f,$h"; echo "$n/output/dense/bias F32 $h"
		echo "$n/output/LayerNorm/gamma F32 $h"; echo "$n/output/LayerNorm/beta F32 $h"
	done
	echo "$s/pooler/dense/kernel F32 $h,$h"; echo "$s/pooler/dense/bias F32 $h"
}
# electra_spec V E H L F GH GL GF — the variables run_pretraining.py saves
# (discriminator hidden H, generator hidden GH; tied embeddings of size E),
# Adam slots of two variables and global_step.
electra_spec() {
	local V=$1 E=$2 H=$3 L=$4 F=$5 GH=$6 GL=$7 GF=$8
	echo "electra/embeddings/word_embeddings F32 $V,$E"
	echo "electra/embeddings/position_embeddings F32 64,$E"
	echo "electra/embeddings/token_type_embeddings F32 2,$E"
	echo "electra/embeddings/LayerNorm/gamma F32 $E"; echo "electra/embeddings/LayerNorm/beta F32 $E"
	[ "$E" = "$H" ] || { echo "electra/embeddings_project/kernel F32 $E,$H"; echo "electra/embeddings_project/bias F32 $H"; }
	encoder electra "$L" "$H" "$F"
	echo "discriminator_predictions/dense/kernel F32 $H,$H"; echo "discriminator_predictions/dense/bias F32 $H"
	echo "discriminator_predictions/dense_1/kernel F32 $H,1"; echo "discriminator_predictions/dense_1/bias F32 1"
	[ "$E" = "$GH" ] || { echo "generator/embeddings_project/kernel F32 $E,$GH"; echo "generator/embeddings_project/bias F32 $GH"; }
	encoder generator "$GL" "$GH" "$GF"
	echo "generator_predictions/dense/kernel F32 $GH,$E"; echo "generator_predictions/dense/bias F32 $E"
	echo "generator_predictions/LayerNorm/gamma F32 $E"; echo "generator_predictions/LayerNorm/beta F32 $E"
	echo "generator_predictions/output_bias F32 $V"
	echo "electra/embeddings/word_embeddings/adam_m F32 $V,$E"; echo "electra/embeddings/word_embeddings/adam_v F32 $V,$E"
	echo "generator/encoder/layer_0/output/dense/bias/adam_m F32 $GH"; echo "generator/encoder/layer_0/output/dense/bias/adam_v F32 $GH"
	echo "global_step I64 -"
}
hfcfg() { # hfcfg V E H L HEADS F — an HF ElectraConfig
	printf '{"model_type": "electra", "vocab_size": %s, "embedding_size": %s, "hidden_size": %s, "num_hidden_layers": %s, "num_attention_heads": %s, "intermediate_size": %s, "max_position_embeddings": 64}\n' "$@"
}

mkdir -p "$T/small" "$T/base"
electra_spec 99 16 32 2 37 16 1 24 >"$T/small.spec"
electra_spec 300 768 768 2 3072 256 2 1024 >"$T/base.spec"
"$TB/mkckpt" "$T/small.spec" "$T/small/model.ckpt"
"$TB/mkckpt" "$T/base.spec" "$T/base/model.ckpt"
printf 'x\n' >"$T/small/vocab.txt"
hfcfg 99 16 32 2 4 37 >"$T/small_disc.json"
hfcfg 99 16 16 1 2 24 >"$T/small_gen.json"

cat >"$T/Makefile" <<MK
CKPTCONV_BIN := $B
include $CK_ROOT/mk/convert.mk
\$(eval \$(call ckptconv,small_disc,electra,$T/small/model.ckpt,ROLE=discriminator CONFIG=$T/small_disc.json))
\$(eval \$(call ckptconv,small_gen,electra,$T/small,ROLE=generator CONFIG=$T/small_gen.json))
\$(eval \$(call ckptconv,base_disc,electra,$T/base/model.ckpt,ROLE=discriminator FORMAT=safetensors))
\$(eval \$(call ckptconv,base_gen,electra,$T/base/model.ckpt,ROLE=generator FORMAT=safetensors))
all: \$(CKPTCONV_OUTPUTS)
MK
check "make -j2 converts the four ELECTRA models" make -s -C "$T" -j2 all

cfg() { $PY -c 'import json,sys; c=json.load(open(sys.argv[1])); print(*(c[k] for k in sys.argv[2:]))' "$T/$1/config.json" "${@:2}"; }
K="architectures hidden_size embedding_size num_hidden_layers num_attention_heads intermediate_size vocab_size"
check_eq "small discriminator: ElectraForPreTraining, the given config" "['ElectraForPreTraining'] 32 16 2 4 37 99" "$(cfg small_disc $K)"
check_eq "small generator: ElectraForMaskedLM, the given generator config" "['ElectraForMaskedLM'] 16 16 1 2 24 99" "$(cfg small_gen $K)"
check_eq "base discriminator without config: sizes from the tensors, heads 768 // 64" "['ElectraForPreTraining'] 768 768 2 12 3072 300" "$(cfg base_disc $K)"
check_eq "base generator without config: sizes from the tensors, heads 256 // 64" "['ElectraForMaskedLM'] 256 768 2 4 1024 300" "$(cfg base_gen $K)"
check_eq "the vocabulary is copied" x "$(cat "$T/small_gen/vocab.txt")"

# The reference converter, bit for bit (it needs the config of the model).
role() { case $1 in *gen) echo generator ;; *) echo discriminator ;; esac; }
args=
for m in small_disc small_gen base_disc base_gen; do
	args="$args $T/$m/config.json $T/${m%_*}/model.ckpt $(role $m) $T/$m/model.safetensors"
done
"$TF" "$P/electra_ref.py" $args 2>"$T/ref.err" || { fail "the reference converter failed"; tail -3 "$T/ref.err"; }
check "small generator: pytorch_model.bin holds model.safetensors' tensors, the LM head one storage with the embeddings" "$HF" -c '
import sys, torch
from safetensors.torch import load_file
b, s = torch.load(sys.argv[1], weights_only=True), load_file(sys.argv[2])
assert set(b) == set(s) | {"generator_lm_head.weight"}, sorted(set(b) ^ set(s))
assert all(torch.equal(b[k], s[k]) for k in s)
assert b["generator_lm_head.weight"].data_ptr() == b["electra.embeddings.word_embeddings.weight"].data_ptr()' "$T/small_gen/pytorch_model.bin" "$T/small_gen/model.safetensors"

# transformers 5: loads with no missing/unexpected keys; logits = by hand.
"$TF" "$P/tf_dump.py" "$T/small/model.ckpt" "$T/small.npz" "$T/base/model.ckpt" "$T/base.npz" 2>"$T/dump.err" ||
	{ fail "tf_dump failed"; tail -3 "$T/dump.err"; }
args=
for m in small_disc small_gen base_disc base_gen; do
	args="$args $T/$m $T/${m%_*}.npz $P/electra_hand.py $(role $m) $m(transformers-5)"
done
"$HF" "$P/hf_load_check.py" $args 2>"$T/hf.err" || { fail "hf_load_check failed"; tail -3 "$T/hf.err"; }

# ---- choosing the model -------------------------------------------------------------
$B/ckpt-ls "$T/small/model.ckpt" >"$T/small.tsv"
check_fails "no ROLE with a generator in the checkpoint: refused, saying how to choose" \
	"tensor generator/.*: the checkpoint holds ELECTRA's generator as well as its discriminator: choose which to convert with ROLE=discriminator or ROLE=generator \(.*electra/tensors.rules:[0-9]+\)" \
	$B/tensor-remap "$CK_ROOT/models/electra/tensors.rules" --list "$T/small.tsv"
# make_refuses NAME PATTERN ARGS... — make stops (exit 2) with the message, writing nothing
make_refuses() {
	local name=$1 pat=$2; shift 2
	make -s -C "$T" -f "$CK_ROOT/mk/convert.mk" CKPTCONV_BIN="$B" OUT="$T/x" "$@" >"$T/.out" 2>&1
	local rc=$?
	if [ $rc -eq 2 ] && grep -Eq -- "$pat" "$T/.out" && [ ! -e "$T/x" ]; then ok "$name"; else fail "$name: exit $rc"; tail -2 "$T/.out"; fi
}
make_refuses "ROLE=critic: make says which roles there are" "model type electra has no role 'critic' \(roles: discriminator generator\)" \
	MODEL=electra CKPT="$T/small/model.ckpt" ROLE=critic
make_refuses "ROLE for a model type without roles is refused" "model type bert has no role 'generator' \(roles: none\)" \
	MODEL=bert CKPT="$T/small/model.ckpt" ROLE=generator
grep -v '^generator' "$T/small.tsv" >"$T/disc_only.tsv"
check "a checkpoint with the discriminator alone converts without ROLE" \
	$B/tensor-remap "$CK_ROOT/models/electra/tensors.rules" --list "$T/disc_only.tsv"
grep -v '^generator/encoder/layer_0/attention/self/key/bias' "$T/small.tsv" >"$T/broken.tsv"
check_fails "a generator layer missing a tensor is refused" "required tensor electra.encoder.layer.\{n\}.attention.self.key.bias is not produced for any n" \
	$B/tensor-remap --arg role=generator "$CK_ROOT/models/electra/tensors.rules" --list "$T/broken.tsv"
printf 'generator/embeddings/word_embeddings\tF32\t99,16\n' >>"$T/disc_only.tsv"
check_fails "untied generator embeddings are refused, saying so" "untied generator embeddings" \
	$B/tensor-remap --arg role=generator "$CK_ROOT/models/electra/tensors.rules" --list "$T/disc_only.tsv"
grep -v '^generator_predictions' "$T/small.tsv" >"$T/nohead.tsv"
check_fails "ROLE=generator without the generator's head says which tensor is missing" \
	"ROLE=generator needs the generator's head generator_predictions/output_bias" \
	$B/tensor-remap --arg role=generator "$CK_ROOT/models/electra/tensors.rules" --list "$T/nohead.tsv"

# ckpt-convert: the reference's option name
check "ckpt-convert --model_type electra --discriminator_or_generator generator" \
	$B/ckpt-convert --model_type electra --tf_checkpoint "$T/small/model.ckpt" --config "$T/small_gen.json" \
	--discriminator_or_generator generator --pytorch_dump_output "$T/cli_gen/"
check "ckpt-convert: the same weights as make" cmp "$T/cli_gen/model.safetensors" "$T/small_gen/model.safetensors"

# ---- config from ELECTRA's hparams ---------------------------------------------------
printf '{"model_size": "small", "vocab_size": 99, "embedding_size": 16, "generator_hidden_size": 0.5, "model_hparam_overrides": {}}\n' >"$T/hparams.json"
check "the --hparams JSON of run_pretraining.py is read" \
	$B/cfg-translate electra "$T/hparams.json" --tensors "$T/small_gen/.ckptconv/tensors.list" -o "$T/hp.json"
check_eq "... sizes from the generator's tensors, heads max(1, 16 // 64)" "16 1 16 99" \
	"$($PY -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c["hidden_size"], c["num_attention_heads"], c["embedding_size"], c["vocab_size"])' "$T/hp.json")"
printf '{"model_size": "small", "vocab_size": 98}\n' >"$T/hparams_bad.json"
check_fails "hparams that disagree with the tensors are refused, naming both" "vocab_size.*98.*99|vocab_size.*99.*98" \
	$B/cfg-translate electra "$T/hparams_bad.json" --tensors "$T/small_gen/.ckptconv/tensors.list" -o "$T/hp.json"
printf '{"model_size": "small", "model_hparam_overrides": {"num_attention_heads": 8}}\n' >"$T/hparams_ovr.json"
check_fails "model_hparam_overrides are refused (the heads rule would not hold)" "model_hparam_overrides: .* is not supported" \
	$B/cfg-translate electra "$T/hparams_ovr.json" --tensors "$T/small_gen/.ckptconv/tensors.list" -o "$T/hp.json"
