# cfg-translate on every real original config in fixtures/real: Google BERT (with pooler_* and
# directionality), Google and brightmart ALBERT, OpenAI GPT-2 hparams.json, the T5 operative
# config (gin), XLNet; values checked against what each file says.
. "$(dirname "$0")/lib.sh"
R=$FIX/real
CHK="$PY $CK_ROOT/tests/py/cfgcheck.py"

# real NAME MODEL FILE [cfg-translate options --] [cfgcheck options]
real() {
	local name=$1 model=$2 file=$3; shift 3
	local opts=()
	if [ "${1:-}" = --opts ]; then shift; while [ "$1" != -- ]; do opts+=("$1"); shift; done; shift; fi
	check "$name translates" "$B/cfg-translate" "$model" "$file" "${opts[@]}" -o "$T/$name.json"
	check "$name values" $CHK "$T/$name.json" "$@"
}
# Every key of a BERT/ALBERT original is its config class's name or passes through.
for f in "$R"/bert/*/bert_config.json; do
	d=$(basename "$(dirname "$f")")
	real "bert $d" bert "$f" "$f" --want 'architectures=["BertForPreTraining"]' --want layer_norm_eps=1e-12
done
check "bert: pooler_* and directionality pass through" grep -q '"pooler_num_fc_layers": 3' "$T/bert google_chinese_L-12_H-768_A-12.json"
for f in "$R"/albert/*/*config*.json "$R"/albert/configs/*.json; do
	d=$(basename "$(dirname "$f")")-$(basename "$f" .json)
	real "albert $d" albert "$f" "$f" --want 'architectures=["AlbertForPreTraining"]' \
		--want num_hidden_groups=1 --want inner_group_num=1 --want classifier_dropout_prob=0.1
done
check "albert brightmart: ln_type passes through" grep -q '"ln_type": "postln"' "$T/albert brightmart_albert_tiny_zh-albert_config_tiny.json"
check "albert base zh: relu and layers_to_keep" $CHK "$T/albert google_albert_base_zh-albert_config.json" \
	--want hidden_act='"relu"' --want 'layers_to_keep=[]'

real "gpt2 117M hparams" gpt2 "$R/gpt2/117M/hparams.json" --want vocab_size=50257 --want n_positions=1024 \
	--want n_embd=768 --want n_head=12 --want n_layer=12 --absent n_vocab --absent n_ctx \
	--want 'architectures=["GPT2LMHeadModel"]' --want layer_norm_epsilon=1e-05

real "xlnet base" xlnet "$R"/xlnet/*/xlnet_config.json --want vocab_size=32000 --want d_head=64 \
	--want d_model=768 --want n_layer=12 --want untie_r=true --absent n_token \
	--want 'architectures=["XLNetLMHeadModel"]'
real "xlnet sts-b" xlnet "$R"/xlnet/*/xlnet_config.json --opts --task STS-B -- \
	--want finetuning_task='"sts-b"' --want 'id2label={"0": "LABEL_0"}' --want 'label2id={"LABEL_0": 0}' \
	--want 'architectures=["XLNetForSequenceClassification"]'
real "xlnet mnli" xlnet "$R"/xlnet/*/xlnet_config.json --opts --task mnli -- \
	--want 'id2label={"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"}'
real "xlnet squad" xlnet "$R"/xlnet/*/xlnet_config.json --opts --task squad2.0 -- \
	--want finetuning_task='"squad2.0"' --want 'architectures=["XLNetForQuestionAnswering"]' --absent id2label

# T5 small's operative_config.gin has no vocab_size: it must be given, and the message says so.
G5=$R/t5/small/operative_config.gin
check_fails "t5 gin: missing vocab_size is named" 'operative_config.gin: not found: vocab_size; give it with --set' \
	"$B/cfg-translate" t5 "$G5" -o "$T/t5-none.json"
check "t5 gin: no output after the error" test ! -e "$T/t5-none.json"
real "t5 small gin + --set" t5 "$G5" --opts --set vocab_size=32128 -- --want vocab_size=32128 --want d_model=512 \
	--want d_ff=2048 --want d_kv=64 --want num_heads=8 --want num_layers=6 --want num_decoder_layers=6 \
	--want feed_forward_proj='"relu"' --want dense_act_fn='"relu"' --want is_gated_act=false \
	--want tie_word_embeddings=true --want layer_norm_epsilon=1e-06 --want dropout_rate=0.1 \
	--want relative_attention_num_buckets=32 --want 'architectures=["T5ForConditionalGeneration"]'
# The shapes of t5-small's converted tensors fill vocab_size in.
cat >"$T/t5small.list" <<'L'
shared.weight	F32	32128,512
encoder.block.0.layer.0.SelfAttention.q.weight	F32	512,512
encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight	F32	32,8
encoder.block.0.layer.1.DenseReluDense.wi.weight	F32	2048,512
decoder.block.0.layer.0.SelfAttention.q.weight	F32	512,512
L
for i in 1 2 3 4 5; do
	printf 'encoder.block.%d.layer.0.SelfAttention.q.weight\tF32\t512,512\ndecoder.block.%d.layer.0.SelfAttention.q.weight\tF32\t512,512\n' $i $i >>"$T/t5small.list"
done
real "t5 small gin + tensors" t5 "$G5" --opts --tensors "$T/t5small.list" -- --want vocab_size=32128 \
	--want num_layers=6 --want num_decoder_layers=6 --want dtype='"float32"'

# A T5 v1.1-style gin (gated GELU, untied, a list over two lines, a macro chain, comments).
cat >"$T/v11.gin" <<'GIN'
from __gin__ import dynamic_registration
import t5.models.mesh_transformer
include 'models/t5.1.1.base.gin'
# Macros:
d_ff = 2048  # inner size
d_kv = 64
d_model = %model_size
model_size = 768
num_heads = 12
num_layers = 12
vocab_size = 32128
encoder/LayerStack.norm_epsilon = 1e-06
DenseReluDense.activation = ['gelu',
                             "linear"]
decoder/Unitransformer.shared_embedding_and_softmax_weights = False
encoder/make_layer_stack.layers = \
    [@mesh_tensorflow.transformer.transformer_layers.SelfAttention,
     @mesh_tensorflow.transformer.transformer_layers.DenseReluDense]
GIN
real "t5 v1.1 gin" t5 "$T/v11.gin" --want feed_forward_proj='"gated-gelu"' --want dense_act_fn='"gelu_new"' \
	--want is_gated_act=true --want tie_word_embeddings=false --want d_model=768 --want num_decoder_layers=12
