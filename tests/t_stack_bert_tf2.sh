# BERT from TF2 object-based checkpoints (models/bert_tf2): checkpoints written
# by real TensorFlow (tf.train.Checkpoint.save) with the object names of
# bert-for-tf2 and of TF Model Garden's BertEncoderV2 (tests/py/tf2_bert_write.py
# says where the names come from) convert through mk/convert.mk; transformers 5
# loads them with no missing/unexpected keys, and every parameter and the
# logits equal those of the original arrays mapped by hand
# (tests/py/bert_tf2_hand.py). The real bert-for-tf2 index
# (arabic_senti_tf2_keras) is mapped from the index alone.
. "$(dirname "$0")/lib.sh"
P=$CK_ROOT/tests/py
M=$CK_ROOT/models/bert_tf2/tensors.rules
TF=$CK_STACK_TF
HF=$CK_STACK_HF5

bert_config() { # V H L HEADS F
	printf '{"vocab_size": %s, "hidden_size": %s, "num_hidden_layers": %s, "num_attention_heads": %s, "intermediate_size": %s, "max_position_embeddings": 32, "type_vocab_size": 2, "hidden_act": "gelu"}\n' "$@"
}
for l in bert_for_tf2 model_garden; do
	mkdir -p "$T/$l"
	"$TF" "$P/tf2_bert_write.py" $l "$T/$l/ckpt" 50 32 2 4 37 >/dev/null 2>"$T/$l.write.err" ||
		{ fail "$l: TensorFlow could not write the checkpoint"; tail -3 "$T/$l.write.err"; }
	bert_config 50 32 2 4 37 >"$T/$l/bert_config.json"
done
check "bert-for-tf2: real TF wrote the object graph and the Keras-style keys" sh -c \
	"'$B/ckpt-ls' '$T/bert_for_tf2' | grep -q '^_CHECKPOINTABLE_OBJECT_GRAPH	STRING' &&
	 '$B/ckpt-ls' '$T/bert_for_tf2' | grep -q '^layer_with_weights-0/encoders_layer/encoder_layers/1/self_attention_layer/attention_layer/query_layer/kernel/.ATTRIBUTES/VARIABLE_VALUE	F32	32,32$'"
check "Model Garden: EinsumDense attention kernels [hidden, heads, head_size]" sh -c \
	"'$B/ckpt-ls' '$T/model_garden' | grep -q '^encoder/_transformer_layers/0/_attention_layer/_query_dense/kernel/.ATTRIBUTES/VARIABLE_VALUE	F32	32,4,8$'"

cat >"$T/Makefile" <<MK
CKPTCONV_BIN := $B
include $CK_ROOT/mk/convert.mk
\$(eval \$(call ckptconv,b4,bert_tf2,$T/bert_for_tf2,ROLE=classifier))
\$(eval \$(call ckptconv,mg,bert_tf2,$T/model_garden/ckpt-1,FORMAT=safetensors))
all: \$(CKPTCONV_OUTPUTS)
MK
check "make converts both" make -s -C "$T" -j2 all
cfg() { $PY -c 'import json,sys; c=json.load(open(sys.argv[1])); print(*(c.get(k) for k in sys.argv[2:]))' "$T/$1/config.json" "${@:2}"; }
check_eq "bert-for-tf2 with ROLE=classifier: BertForSequenceClassification, 2 labels" "['BertForSequenceClassification'] 32 2 2" \
	"$(cfg b4 architectures hidden_size num_hidden_layers) $($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["id2label"]))' "$T/b4/config.json")"
$B/ckpt-ls "$T/bert_for_tf2" | $B/tensor-remap --verbose --arg role=classifier "$M" --list 2>&1 >/dev/null | grep '^tensor-remap: dropped' >"$T/b4.drops"
check_eq "bert-for-tf2: TF's Adam slots, optimizer state and save_counter are what is dropped" "6 2 1" \
	"$(grep -c '/.OPTIMIZER_SLOT/optimizer/[mv]/' "$T/b4.drops") $(grep -c ' optimizer/beta[12]_power/' "$T/b4.drops") $(grep -c ' save_counter/' "$T/b4.drops")"
check_eq "Model Garden encoder: BertModel" "['BertModel'] 32 2" "$(cfg mg architectures hidden_size num_hidden_layers)"

"$TF" "$P/tf_dump.py" "$T/bert_for_tf2/ckpt-1" "$T/b4.npz" "$T/model_garden/ckpt-1" "$T/mg.npz" 2>"$T/dump.err" ||
	{ fail "tf_dump failed"; tail -3 "$T/dump.err"; }
"$HF" "$P/hf_load_check.py" "$T/b4" "$T/b4.npz" "$P/bert_tf2_hand.py" bert_for_tf2 "bert-for-tf2(transformers-5)" \
	"$T/mg" "$T/mg.npz" "$P/bert_tf2_hand.py" model_garden "model-garden(transformers-5)" 2>"$T/hf.err" ||
	{ fail "hf_load_check failed"; tail -3 "$T/hf.err"; }

# ---- refusals ------------------------------------------------------------------------
$B/ckpt-ls "$T/bert_for_tf2" >"$T/b4.tsv"
check_fails "bert-for-tf2 without ROLE: the Keras head is refused, saying what ROLE=classifier assumes" \
	"layer_with_weights-1/.*a user-defined head\): if they are Dense\(hidden, tanh\) on \[CLS\] then Dense\(labels\), convert with ROLE=classifier" \
	$B/tensor-remap "$M" --list "$T/b4.tsv"
grep -v 'token_type_embeddings_layer' "$T/b4.tsv" >"$T/b4_notype.tsv"
check_eq "no token type embeddings: one zero row is made in their place" "bert.embeddings.token_type_embeddings.weight F32 1,$(awk -F'\t' '/word_embeddings_layer\/embeddings\//{split($3, s, ","); print s[2]}' "$T/b4.tsv")" \
	"$($B/tensor-remap --arg role=classifier "$M" --list "$T/b4_notype.tsv" | grep token_type | tr '\t' ' ')"
sed 's|^encoder/_transformer_layers/\([0-9]*\)/|model/layer_with_weights-\1/|' <($B/ckpt-ls "$T/model_garden") >"$T/mg_functional.tsv"
check_fails "Model Garden's functional BertEncoder (numbered layers) is refused with the reason" \
	"functional BertEncoder \(layers numbered layer_with_weights-N" $B/tensor-remap "$M" --list "$T/mg_functional.tsv"
check_fails "models/bert still refuses TF2 checkpoints, pointing nowhere else" "a TensorFlow 2 object-based checkpoint" \
	$B/tensor-remap "$CK_ROOT/models/bert/tensors.rules" --list "$T/b4.tsv"

# ---- the real bert-for-tf2 index ----------------------------------------------------------
R=$FIX/real/bert/arabic_senti_tf2_keras/bert_model.ckpt.index
$B/ckpt-ls "$R" >"$T/arabic.tsv"
# Built without token types: the rules make the one zero row BertEmbeddings
# adds (type_vocab_size 1); every tensor maps, from the index alone, to exactly
# the parameters of BertForSequenceClassification (8 layers, vocab 51647, 2 labels).
$B/tensor-remap --verbose --arg role=classifier "$M" --list "$T/arabic.tsv" >"$T/arabic.mapped" 2>"$T/arabic.err"
check_eq "arabic_senti_tf2_keras: 414 tensors in, 137 out; the 277 dropped are Adam slots and optimizer state, the object graph skipped" "414 137 277 1" \
	"$(wc -l <"$T/arabic.tsv") $(wc -l <"$T/arabic.mapped") $(grep -c -E '^tensor-remap: dropped (.*/\.OPTIMIZER_SLOT/optimizer/[mv]/.*|optimizer/.*) ' "$T/arabic.err") $(grep -c '^tensor-remap: skipped _CHECKPOINTABLE_OBJECT_GRAPH ' "$T/arabic.err")"
check_eq "arabic_senti_tf2_keras: the token type table is made, one row" "bert.embeddings.token_type_embeddings.weight F32 1,768" \
	"$(grep token_type "$T/arabic.mapped" | tr '\t' ' ')"
check "arabic_senti_tf2_keras: the names and shapes of BertForSequenceClassification's parameters, no more, no less" "$HF" -c '
import sys, torch, transformers
c = transformers.BertConfig(vocab_size=51647, num_hidden_layers=8, num_labels=2, type_vocab_size=1)
with torch.device("meta"):
    m = transformers.BertForSequenceClassification(c)
want = {k: list(v.shape) for k, v in m.state_dict().items() if not k.endswith("position_ids")}
got = {}
for line in open(sys.argv[1]):
    n, dt, sh = line.rstrip("\n").split("\t")
    got[n] = [int(x) for x in sh.split(",")] if sh else []
assert want == got, (sorted(set(want) ^ set(got))[:5], [k for k in want if k in got and want[k] != got[k]][:5])' "$T/arabic.mapped"

# ---- the object graph (ckpt-ls --object-names) --------------------------------------------
mkdir -p "$T/og"
"$TF" "$P/objgraph_cases.py" "$T/og" "$T/bert_for_tf2/ckpt-1" "$T/model_garden/ckpt-1" 2>"$T/og.err" ||
	{ fail "objgraph_cases.py failed"; tail -3 "$T/og.err"; }
{ $B/ckpt-ls --object-names "$T/bert_for_tf2" && $B/ckpt-ls --object-names "$T/model_garden/ckpt-1"; } >"$T/og/ours.tsv"
check "--object-names: every saved value with its full name, as TensorFlow's own parser reads the graph" \
	sh -c "cut -f1,2 '$T/og/ours.tsv' | cmp - '$T/og/tf_names.tsv'"
check_eq "--object-names: the walked object path of every value (slots through their optimizer) is its key" "" \
	"$(awk -F'\t' '$1 != $3' "$T/og/ours.tsv" | head -2)"
check_eq "--object-names: Adam's slots found through the optimizer's slot references" "$(grep -c '/.OPTIMIZER_SLOT/optimizer/[mv]/' "$T/b4.tsv")" \
	"$(grep -c '/.OPTIMIZER_SLOT/optimizer/[mv]/.*Adam' "$T/og/ours.tsv")"
check "a cyclic object graph (0 -> 1 -> 0) is walked once" sh -c \
	"[ \"\$('$B/ckpt-ls' --object-names '$T/og/cycle/ckpt')\" = 'x/.ATTRIBUTES/VARIABLE_VALUE	x	x/.ATTRIBUTES/VARIABLE_VALUE' ]"
check_fails "a child reference out of range is refused" "og/dangling/ckpt: object graph: object 1: child back is object 99, of 2" \
	$B/ckpt-ls --object-names "$T/og/dangling/ckpt"
check_fails "a value the checkpoint lacks is refused" "object graph: object 1 names the value 'y/.ATTRIBUTES/VARIABLE_VALUE', which the checkpoint does not have" \
	$B/ckpt-ls --object-names "$T/og/missing/ckpt"
check_fails "a graph that is no protobuf is refused" "object graph: _CHECKPOINTABLE_OBJECT_GRAPH: not a TrackableObjectGraph protobuf" \
	$B/ckpt-ls --object-names "$T/og/garbage/ckpt"
check_fails "a TF1 checkpoint has no object graph" "no _CHECKPOINTABLE_OBJECT_GRAPH tensor: not a TensorFlow 2 object-based checkpoint" \
	$B/ckpt-ls --object-names "$FIX/golden/bert/input"
check_fails "the real index alone: the graph is in the missing data file" "arabic_senti_tf2_keras/bert_model.ckpt: .*data" \
	$B/ckpt-ls --object-names "$R"
# Every byte of the graph flipped in turn (the data file's CRC-32C is
# recomputed by rewriting, so the parser, not the checksum, sees each one):
# exit 0 or 1, one line, never a crash.
"$TF" -c '
import sys, tensorflow as tf
from tensorflow.core.protobuf import trackable_object_graph_pb2 as pb
blob = tf.train.load_checkpoint(sys.argv[1]).get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH")[:400]
for i in range(0, len(blob)):
    b = bytearray(blob); b[i] ^= 0x5a
    tf.raw_ops.SaveV2(prefix=f"{sys.argv[2]}/flip{i}/ckpt", tensor_names=["_CHECKPOINTABLE_OBJECT_GRAPH", "x/.ATTRIBUTES/VARIABLE_VALUE"],
                      shape_and_slices=["", ""], tensors=[tf.constant(bytes(b)), tf.constant([1.0])])
' "$T/og/cycle/ckpt" "$T/og" 2>/dev/null
bad=
for d in "$T"/og/flip*; do
	timeout 10 $B/ckpt-ls --object-names "$d/ckpt" >/dev/null 2>"$T/og/flip.err"; rc=$?
	{ [ $rc -eq 0 ] || { [ $rc -eq 1 ] && [ "$(wc -l <"$T/og/flip.err")" -eq 1 ]; }; } || bad="$bad $(basename "$d"):$rc"
done
check_eq "every flipped byte of a graph: exit 0 or 1 with one line ($(ls -d "$T"/og/flip* | wc -l) graphs)" "" "$bad"
