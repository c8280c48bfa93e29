# End to end through Make: every golden case converts with mk/convert.mk
# (included from a Makefile of another project) and gives what the reference
# gives; re-runs are incremental by content; outputs are reproducible.
. "$(dirname "$0")/lib.sh"
G=$FIX/golden
P="$PY $CK_ROOT/tests/py"

# A user's project that includes the fragment and declares conversions.
cat >"$T/Makefile" <<MK
CKPTCONV_BIN := $B
include $CK_ROOT/mk/convert.mk
\$(eval \$(call ckptconv,bert,bert,$G/bert/input/model.ckpt-100000))
\$(eval \$(call ckptconv,bert_mlm_only,bert,$G/bert_mlm_only/input))
\$(eval \$(call ckptconv,albert,albert,$G/albert/input/model.ckpt-best.index))
\$(eval \$(call ckptconv,gpt2,gpt2,$G/gpt2/input/model.ckpt,CONFIG=$G/gpt2/input/hf_config.json))
\$(eval \$(call ckptconv,t5,t5,$G/t5/input/model.ckpt-1000000,CONFIG=$G/t5/input/hf_config.json))
all: \$(CKPTCONV_OUTPUTS)
MK
check "make -j2 converts every golden case" make -s -C "$T" -j2 all
for c in bert bert_mlm_only albert gpt2 t5; do
	$P/golden_check.py "$T/$c/model.safetensors" "$G/$c" tensors.rules
	$P/golden_folder.py "$T/$c" "$G/$c"
	[ -s "$T/$c/ckptconv-manifest.json" ] && ok "$c: manifest written" || fail "$c: no manifest"
done
check_eq "bert: vocab.txt copied" "$(cat "$G/bert/input/vocab.txt")" "$(cat "$T/bert/vocab.txt")"
check_eq "gpt2: encoder.json becomes vocab.json" "$(cat "$G/gpt2/input/encoder.json")" "$(cat "$T/gpt2/vocab.json")"
check_eq "gpt2: vocab.bpe becomes merges.txt" "$(cat "$G/gpt2/input/vocab.bpe")" "$(cat "$T/gpt2/merges.txt")"
check_eq "bert_mlm_only: no NSP head, so BertForMaskedLM" '["BertForMaskedLM"]' \
	"$($PY -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["architectures"]))' "$T/bert_mlm_only/config.json")"

# Incremental by content: nothing re-runs on an unchanged input, even touched.
W=$T/work
mkdir -p "$W/in" && cp "$G/bert/input/"* "$W/in/" && chmod u+w "$W/in/"*
M="make -s --no-print-directory -C $T -f $T/inc.mk"
MV="make --no-print-directory -C $T -f $T/inc.mk"  # echoes what it runs
cat >"$T/inc.mk" <<MK
CKPTCONV_BIN := $B
include $CK_ROOT/mk/convert.mk
\$(eval \$(call ckptconv,$W/out,bert,$W/in/model.ckpt-100000))
MK
check "incremental: first conversion" $M "$W/out"
snap() { (cd "$W/out" && ls --full-time -1 --time-style=+%s.%N . | sort); }
before=$(snap)
touch "$W/in/"*
check_eq "incremental: touched inputs re-run nothing" "" "$($M "$W/out" 2>&1)"
check_eq "incremental: no output file was rewritten" "$before" "$(snap)"
sleep 0.01
sed -i 's/"hidden_dropout_prob": 0.1/"hidden_dropout_prob": 0.2/' "$W/in/bert_config.json"
ran=$($MV "$W/out" 2>&1)
case $ran in *cfg-translate*) ok "incremental: a changed config re-runs cfg-translate" ;; *) fail "incremental: config change did not re-run cfg-translate" ;; esac
case $ran in *pt-pack*) fail "incremental: a changed config re-ran the weights" ;; *) ok "incremental: a changed config leaves the weights alone" ;; esac
check_eq "incremental: the new config value is written" 0.2 \
	"$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["hidden_dropout_prob"])' "$W/out/config.json")"
cat >"$T/inc.mk" <<MK
CKPTCONV_BIN := $B
include $CK_ROOT/mk/convert.mk
\$(eval \$(call ckptconv,$W/out,bert,$W/in/model.ckpt-100000,FORMAT=safetensors))
MK
ran=$($MV "$W/out" 2>&1)
case $ran in *pt-pack*) ok "incremental: a changed option reconverts" ;; *) fail "incremental: FORMAT change did not reconvert" ;; esac
[ ! -e "$W/out/pytorch_model.bin" ] && ok "incremental: weight files of the old format are removed" \
	|| fail "incremental: stale pytorch_model.bin left behind"
check_eq "incremental: after an option change, the next run does nothing" "" "$($M "$W/out" 2>&1)"

# Reproducible: two conversions of the same input are byte-identical.
cat >"$T/rep.mk" <<MK
CKPTCONV_BIN := $B
include $CK_ROOT/mk/convert.mk
\$(eval \$(call ckptconv,$T/rep1,t5,$G/t5/input/model.ckpt-1000000,CONFIG=$G/t5/input/hf_config.json))
\$(eval \$(call ckptconv,$T/rep2,t5,$G/t5/input/model.ckpt-1000000,CONFIG=$G/t5/input/hf_config.json))
all: \$(CKPTCONV_OUTPUTS)
MK
check "reproducible: two conversions" make -s -C "$T" -f "$T/rep.mk" -j2 all
check "reproducible: identical folders" diff -r -x .ckptconv "$T/rep1" "$T/rep2"

# A failed conversion leaves no weights and fails the build.
mkdir -p "$W/bad" && cp "$G/bert/input/"* "$W/bad/" && chmod u+w "$W/bad/"*
printf '\001' | dd of="$W/bad/model.ckpt-100000.data-00000-of-00001" bs=1 seek=100 conv=notrunc 2>/dev/null
cat >"$T/bad.mk" <<MK
CKPTCONV_BIN := $B
include $CK_ROOT/mk/convert.mk
\$(eval \$(call ckptconv,$W/badout,bert,$W/bad/model.ckpt-100000))
MK
check_exit "corrupt data: the build fails" 2 make -s -C "$T" -f "$T/bad.mk" "$W/badout"
left=$(ls "$W/badout" 2>/dev/null | grep -v '^config.json$\|^vocab.txt$' | tr '\n' ' ')
check_eq "corrupt data: no weight file or manifest is left" "" "$left"

# Beyond the reference, through Make: a run_classifier fine-tune (3 labels, a
# root output_weights/output_bias head, Adam slots) becomes a complete
# BertForSequenceClassification folder.
F=$T/finetune
mkdir -p "$F/in"
{
	tiny_bert_spec
	echo "output_weights F32 3,8"; echo "output_bias F32 3"
	echo "output_weights/adam_m F32 3,8"; echo "output_weights/adam_v F32 3,8"
	echo "global_step I64 -"
} >"$F/spec"
$TB/mkckpt "$F/spec" "$F/in/model.ckpt-0" >/dev/null
cat >"$F/in/bert_config.json" <<'JSON'
{"hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16,
 "max_position_embeddings": 16, "type_vocab_size": 2, "vocab_size": 30, "hidden_act": "gelu"}
JSON
check "fine-tuned classifier: make MODEL=bert (top-level Makefile)" \
	make -s -C "$CK_ROOT" MODEL=bert CKPT="$F/in/model.ckpt-0" OUT="$F/out" FORMAT=pt \
	$( [ "$(basename "$B")" = bin-san ] && echo SAN=1 )
check_eq "fine-tuned classifier: BertForSequenceClassification, 3 labels" \
	'["BertForSequenceClassification"] 3' \
	"$($PY -c 'import json,sys; c=json.load(open(sys.argv[1])); print(json.dumps(c["architectures"]), len(c["id2label"]))' "$F/out/config.json")"
check "fine-tuned classifier: the .bin loads and holds classifier.weight [3,8], no optimizer slots" \
	$PY -c 'import sys, torch
sd = torch.load(sys.argv[1], weights_only=True)
assert tuple(sd["classifier.weight"].shape) == (3, 8), sd["classifier.weight"].shape
assert not any("adam" in k or "global_step" in k for k in sd), list(sd)' "$F/out/pytorch_model.bin"
