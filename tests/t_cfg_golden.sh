# cfg-translate on the golden cases: config.json agrees with the reference's on every key
# of expected/config.json (but transformers_version), in Python's exact JSON text; T5's
# generation_config.json too. Then the same with the tensors the reference's model holds.
. "$(dirname "$0")/lib.sh"
G=$FIX/golden
CHK="$PY $CK_ROOT/tests/py/cfgcheck.py"
LIST="$PY $CK_ROOT/tests/py/stlist.py"

# golden CASE MODEL INPUT [cfgcheck options...]
golden() {
	local case=$1 model=$2 input=$3; shift 3
	local out=$T/$case-$(basename "$input").json
	check "$case: $(basename "$input") translates" "$B/cfg-translate" "$model" "$G/$case/input/$input" -o "$out"
	check "$case: $(basename "$input") = expected config.json" $CHK "$out" "$G/$case/expected/config.json" "$@"
}
golden bert bert bert_config.json --want 'architectures=["BertForPreTraining"]'
golden bert_mlm_only bert bert_config.json
golden albert albert albert_config.json --want 'architectures=["AlbertForPreTraining"]'
golden gpt2 gpt2 hparams.json --absent n_vocab --absent n_ctx --want 'architectures=["GPT2LMHeadModel"]'
golden gpt2 gpt2 hf_config.json
golden gpt gpt hf_config.json --want 'architectures=["OpenAIGPTLMHeadModel"]'
golden t5 t5 hf_config.json
golden t5 t5 operative_config.gin
golden xlnet xlnet xlnet_config.json --absent n_token --want 'architectures=["XLNetLMHeadModel"]'
golden transfo_xl transfo_xl hf_config.json --absent proj_share_all_but_first
golden transfo_xl transfo_xl train_flags.json --absent n_token --absent proj_share_all_but_first
# XLM: the reference writes the raw params; ours read through XLMConfig's alias agree.
check "xlm: params translate" "$B/cfg-translate" xlm "$G/xlm/expected/config.json" -o "$T/xlm.json"
check "xlm: params = expected (n_words is vocab_size)" $CHK "$T/xlm.json" "$G/xlm/expected/config.json" \
	--alias n_words=vocab_size --want model_type='"xlm"' --want 'architectures=["XLMWithLMHeadModel"]'

# T5 generation_config.json, from the HF config and from the gin file.
for input in hf_config.json operative_config.gin; do
	check "t5: $input with generation config" "$B/cfg-translate" t5 "$G/t5/input/$input" \
		-o "$T/t5c-$input.json" --generation-config "$T/t5g-$input.json"
	check "t5: $input generation_config.json = expected" $PY -c '
import json, sys
ours = open(sys.argv[1]).read(); o = json.loads(ours)
exp = json.load(open(sys.argv[2])); exp.pop("transformers_version")
assert o == exp and all(type(o[k]) is type(exp[k]) for k in exp), (o, exp)
assert ours == json.dumps(o, indent=2, sort_keys=True) + "\n"' "$T/t5g-$input.json" "$G/t5/expected/generation_config.json"
done
check_eq "t5: config.json the same with or without --generation-config" \
	"$(cat "$T/t5-hf_config.json.json")" "$(cat "$T/t5c-hf_config.json.json")"

# With the tensors of the reference's model (the converted names), the class follows what
# the checkpoint holds and every size agrees.
tensors() { $LIST "$G/$1/expected/model.safetensors" "${@:2}" >"$T/$1.list"; }
# withlist CASE MODEL INPUT CLASS [cfgcheck options...]
withlist() {
	local case=$1 model=$2 input=$3 class=$4; shift 4
	local out=$T/$case-list.json
	if [ "$input" = - ]; then check "$case: from --tensors alone (+ n_head)" "$B/cfg-translate" "$model" --tensors "$T/$case.list" --set n_head=4 -o "$out"
	else check "$case: with --tensors" "$B/cfg-translate" "$model" "$G/$case/input/$input" --tensors "$T/$case.list" -o "$out"; fi
	check "$case: with --tensors = expected, $class" $CHK "$out" "$G/$case/expected/config.json" \
		--want "architectures=[\"$class\"]" --want 'dtype="float32"' "$@"
}
tensors bert; withlist bert bert bert_config.json BertForPreTraining
unfilled=$($PY -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["unfilled_keys"]))' "$G/bert_mlm_only/case.json")
tensors bert_mlm_only $unfilled; withlist bert_mlm_only bert bert_config.json BertForMaskedLM
tensors albert; withlist albert albert albert_config.json AlbertForPreTraining
tensors gpt2; withlist gpt2 gpt2 hparams.json GPT2LMHeadModel
tensors gpt; withlist gpt gpt - OpenAIGPTLMHeadModel
tensors t5; withlist t5 t5 operative_config.gin T5ForConditionalGeneration
tensors xlnet; withlist xlnet xlnet xlnet_config.json XLNetLMHeadModel
tensors transfo_xl; withlist transfo_xl transfo_xl train_flags.json TransfoXLLMHeadModel
tensors xlm
check "xlm: with --tensors" "$B/cfg-translate" xlm "$G/xlm/expected/config.json" --tensors "$T/xlm.list" -o "$T/xlm-list.json"
check "xlm: with --tensors = expected" $CHK "$T/xlm-list.json" "$G/xlm/expected/config.json" --alias n_words=vocab_size

# Deterministic: the same bytes every run.
"$B/cfg-translate" t5 "$G/t5/input/operative_config.gin" --tensors "$T/t5.list" >"$T/again1.json"
"$B/cfg-translate" t5 "$G/t5/input/operative_config.gin" --tensors "$T/t5.list" >"$T/again2.json"
check "output is byte-identical across runs" cmp "$T/again1.json" "$T/again2.json"
