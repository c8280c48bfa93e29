# Dry runs (tensor-remap --list) of the rule files over real released checkpoint
# indexes: every tensor is matched, and every parameter of the Hugging Face class
# is produced with the right shape (tests/py/remap_real.py derives the class's
# parameters from the golden case of the family and the real config).
. "$(dirname "$0")/lib.sh"
R=$FIX/real
G=$FIX/golden
M=$CK_ROOT/models

# real NAME INDEX FAMILY CLASS CONFIG
real() {
	local name=$1 index=$2 family=$3 cls=$4 config=$5
	if ! $B/ckpt-ls "$index" >"$T/$name.tsv" 2>"$T/$name.err" ||
		! $B/tensor-remap "$M/$family/tensors.rules" --list "$T/$name.tsv" >"$T/$name.mapped" 2>>"$T/$name.err"; then
		fail "real $name: dry run failed: $(tail -1 "$T/$name.err")"
		return
	fi
	ok "real $name: every tensor matched by exactly one rule ($(wc -l <"$T/$name.tsv") in, $(wc -l <"$T/$name.mapped") out)"
	$PY "$CK_ROOT/tests/py/remap_real.py" "$T/$name.mapped" "$family" "$cls" "$config" "$G"
}

real bert-base-chinese "$R/bert/google_chinese_L-12_H-768_A-12/bert_model.ckpt.index" bert golden \
	"$R/bert/google_chinese_L-12_H-768_A-12/bert_config.json"
real bert-large-uncased "$R/bert/google_uncased_L-24_H-1024_A-16/bert_model.ckpt.index" bert golden \
	"$R/bert/google_uncased_L-24_H-1024_A-16/bert_config.json"
real covbert-adam "$R/bert/covbert_base_uncased_pretrain_adam/bert_model.ckpt.index" bert golden \
	"$R/bert/covbert_base_uncased_pretrain_adam/bert_config.json"
real bert-chinese-vocab5981 "$R/bert/chinese_base_vocab5981/bert_model.ckpt.index" bert mlm \
	"$R/bert/chinese_base_vocab5981/bert_config.json"
# The run_classifier checkpoint ships without its config: BERT-Base Cased's
# published bert_config.json (cased_L-12_H-768_A-12), written out here.
mkdir -p "$T/cased_L-12_H-768_A-12"
cat >"$T/cased_L-12_H-768_A-12/bert_config.json" <<'JSON'
{"attention_probs_dropout_prob": 0.1, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
 "hidden_size": 768, "initializer_range": 0.02, "intermediate_size": 3072,
 "max_position_embeddings": 512, "num_attention_heads": 12, "num_hidden_layers": 12,
 "type_vocab_size": 2, "vocab_size": 28996}
JSON
real bert-classifier-step0 "$R/bert/cased_base_run_classifier_step0/model.ckpt-0.index" bert classifier \
	"$T/cased_L-12_H-768_A-12/bert_config.json"
real albert-base-zh "$R/albert/google_albert_base_zh/model.ckpt-best.index" albert golden \
	"$R/albert/google_albert_base_zh/albert_config.json"
real albert-base-en "$R/albert/google_albert_base_en/model.ckpt-best.index" albert golden \
	"$R/albert/google_albert_base_en/albert_config.json"
real albert-large-en "$R/albert/google_albert_large_en/model.ckpt-best.index" albert golden \
	"$R/albert/google_albert_large_en/albert_config.json"
real gpt2-117M "$R/gpt2/117M/model.ckpt.index" gpt2 golden "$R/gpt2/117M/hparams.json"

# dropped on purpose: optimizer slots and the step counter only
$B/ckpt-ls "$R/bert/covbert_base_uncased_pretrain_adam/bert_model.ckpt.index" |
	$B/tensor-remap "$M/bert/tensors.rules" --list --verbose 2>"$T/drops.err" >/dev/null
check_eq "covbert: the 413 dropped tensors are Adam slots and global_step" 413 \
	"$(grep -c -E '^tensor-remap: dropped (.*/adam_[mv]|global_step) ' "$T/drops.err")"

# layouts the rules refuse, with the reason
$B/ckpt-ls "$R/albert/brightmart_albert_tiny_zh/albert_model.ckpt.index" >"$T/brightmart.tsv"
check_fails "brightmart albert_tiny_zh is refused with the reason" \
	"brightmart albert_zh layout .*no Hugging Face AlbertModel equivalent \(.*albert/tensors.rules:[0-9]+\)" \
	$B/tensor-remap "$M/albert/tensors.rules" --list "$T/brightmart.tsv"
$B/ckpt-ls "$R/bert/arabic_senti_tf2_keras/bert_model.ckpt.index" >"$T/tf2.tsv"
check_fails "a TF2 Keras BERT checkpoint is refused with the reason" \
	"VARIABLE_VALUE: a TensorFlow 2 object-based checkpoint" \
	$B/tensor-remap "$M/bert/tensors.rules" --list "$T/tf2.tsv"
# an ALBERT TF-Hub export (module/ prefix) maps to the same names
sed 's|^|module/|' "$T/albert-base-zh.tsv" | $B/tensor-remap "$M/albert/tensors.rules" --list >"$T/hub.mapped"
check "ALBERT with the TF-Hub module/ prefix maps the same" cmp "$T/hub.mapped" "$T/albert-base-zh.mapped"
