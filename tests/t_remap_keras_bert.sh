# BERTs pretrained with tf.keras layers inside Google's scopes: Keras's own
# layer names (layer_normalization_K, dense_K) map to the same Hugging Face
# names as LayerNorm/dense where the scope leaves one choice, and are refused,
# naming them, where only Keras's number would tell layers apart.
. "$(dirname "$0")/lib.sh"
R=$CK_ROOT/models/bert/tensors.rules
L=bert/encoder/layer_0

{ tiny_bert_spec; echo "cls/predictions/transform/dense/kernel F32 8,8"; echo "cls/predictions/transform/dense/bias F32 8"
  echo "cls/predictions/transform/LayerNorm/gamma F32 8"; echo "cls/predictions/transform/LayerNorm/beta F32 8"
  echo "cls/predictions/output_bias F32 30"; } >"$T/google.spec"
sed -e "s|^bert/embeddings/LayerNorm/|bert/embeddings/layer_normalization/|" \
	-e "s|^$L/attention/output/LayerNorm/|$L/attention/output/layer_normalization_1/|" \
	-e "s|^$L/output/LayerNorm/|$L/output/layer_normalization_2/|" \
	-e "s|^$L/attention/output/dense/|$L/attention/output/dense_3/|" \
	-e "s|^$L/intermediate/dense/|$L/intermediate/dense_4/|" -e "s|^$L/output/dense/|$L/output/dense_5/|" \
	-e "s|^bert/pooler/dense/|bert/pooler/dense_6/|" -e "s|^cls/predictions/transform/dense/|cls/predictions/transform/dense_7/|" \
	-e "s|^cls/predictions/transform/LayerNorm/|cls/predictions/transform/layer_normalization_3/|" "$T/google.spec" >"$T/keras.spec"
check_eq "the Keras-named spec renames 18 of its 28 tensors" 18 "$(diff "$T/google.spec" "$T/keras.spec" | grep -c '^>')"
spec_tsv() { awk '{ print $1 "\t" $2 "\t" ($3 == "-" ? "" : $3) }' "$1"; }
spec_tsv "$T/google.spec" | $B/tensor-remap "$R" --list | sort >"$T/google.mapped"
spec_tsv "$T/keras.spec" | $B/tensor-remap "$R" --list 2>"$T/keras.err" | sort >"$T/keras.mapped"
check "Keras names: the same Hugging Face names and shapes as Google's" cmp "$T/google.mapped" "$T/keras.mapped"
check_eq "... all 30 of them (28 + the 2 tied decoder names)" 30 "$(wc -l <"$T/keras.mapped")"

mkdir -p "$T/keras"
"$TB/mkckpt" --expect "$T/keras.st" "$T/keras.spec" "$T/keras/model.ckpt"
"$B/ckpt-extract" "$T/keras/model.ckpt" --remap "$R" -o "$T/keras.out.st"
$PY "$CK_ROOT/tests/py/pairs_check.py" "$T/keras.st" "$T/keras.out.st" "Keras names: the data, transposed where a kernel" \
	"$L/output/layer_normalization_2/gamma=bert.encoder.layer.0.output.LayerNorm.weight" \
	"$L/intermediate/dense_4/kernel=bert.encoder.layer.0.intermediate.dense.weight:T" \
	"bert/pooler/dense_6/bias=bert.pooler.dense.bias" \
	"cls/predictions/transform/layer_normalization_3/beta=cls.predictions.transform.LayerNorm.bias"

# ---- ambiguous: refused with the names -----------------------------------------------
{ cat "$T/keras.spec"; echo "$L/output/layer_normalization_9/gamma F32 8"; } | spec_tsv /dev/stdin >"$T/two.tsv"
check_fails "two LayerNormalizations in one scope: both named" \
	"tensors $L/output/layer_normalization_2/gamma and $L/output/layer_normalization_9/gamma both become bert.encoder.layer.0.output.LayerNorm.weight" \
	$B/tensor-remap "$R" --list "$T/two.tsv"
sed "s|^$L/attention/self/query/|$L/attention/self/dense_8/|" "$T/keras.spec" | spec_tsv /dev/stdin >"$T/qkv.tsv"
check_fails "numbered Dense layers for query/key/value: refused, naming one" \
	"tensor $L/attention/self/dense_8/kernel: Keras-numbered Dense layers in attention/self: which one is the query, the key or the value is not in the names" \
	$B/tensor-remap "$R" --list "$T/qkv.tsv"
{ cat "$T/keras.spec"; echo "dense_11/kernel F32 8,2"; } | spec_tsv /dev/stdin >"$T/root.tsv"
check_fails "a Keras layer outside BERT's scopes: refused, naming it" \
	"tensor dense_11/kernel: a Keras layer outside BERT's scopes" $B/tensor-remap "$R" --list "$T/root.tsv"
