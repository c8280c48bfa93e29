# cfg-translate refuses bad input with one line naming the file (and key or line), exit 1,
# and leaves no output file; usage errors exit 2; --help and --version.
. "$(dirname "$0")/lib.sh"
G=$FIX/golden
BC=$G/bert/input/bert_config.json
O=$T/out.json

# bad NAME PATTERN MODEL ARGS... — exit 1, one matching line, no output file.
bad() {
	local name=$1 pat=$2; shift 2
	rm -f "$O" "$T/gen.json"
	check_fails "$name" "$pat" "$B/cfg-translate" "$@" -o "$O"
	if [ -e "$O" ] || ls "$T"/out.json.tmp.* >/dev/null 2>&1; then fail "$name: left an output file"; fi
}
w() { printf '%s' "$2" >"$T/$1"; }

w trailing.json '{"vocab_size": 99,}'
bad "JSON syntax error: file, line, column" 'trailing.json: line 1 column 19: ' bert "$T/trailing.json"
w dup.json '{"vocab_size": 99, "vocab_size": 98}'
bad "duplicate key" 'dup.json: line 1 column .*duplicate object key' bert "$T/dup.json"
w array.json '[1, 2]'
bad "not an object" 'array.json: not a JSON object$' bert "$T/array.json"
w empty.json ''
bad "empty file" 'empty.json: line 1 column 0: ' bert "$T/empty.json"
w nan.json '{"hidden_dropout_prob": NaN}'
bad "NaN is not JSON" 'nan.json: line 1' bert "$T/nan.json"
w big.json '{"vocab_size": 99999999999999999999}'
bad "integer too big" 'big.json: line 1 column .*too big integer' bert "$T/big.json"
printf '{"hidden_act": "\xff"}' >"$T/latin1.json"
bad "invalid UTF-8" 'latin1.json: line 1 column 16: unable to decode byte 0xff' bert "$T/latin1.json"
w nul.json '{"hidden_act": "a\u0000b"}'
bad "NUL in a string" 'nul.json: line 1' bert "$T/nul.json"
w type.json '{"hidden_size": "768"}'
bad "string for an integer: file and key" 'type.json: hidden_size: expected a positive integer, got "768"$' bert "$T/type.json"
w zero.json '{"num_attention_heads": 0}'
bad "zero heads" 'zero.json: num_attention_heads: expected a positive integer, got 0' bert "$T/zero.json"
w float.json '{"vocab_size": 99.0}'
bad "float for an integer" 'float.json: vocab_size: expected a positive integer, got 99.0' bert "$T/float.json"
w bool.json '{"use_cache": 1}'
bad "integer for a bool" 'bool.json: use_cache: expected true or false, got 1' bert "$T/bool.json"
w heads.json '{"hidden_size": 30, "num_attention_heads": 4}'
bad "heads do not divide hidden_size" 'heads.json: hidden_size: 30 / 4 is not a whole number' bert "$T/heads.json"
w mt.json '{"model_type": "gpt2"}'
bad "model_type of another model" 'mt.json: model_type is "gpt2", but .*models/bert/config.map makes "bert"' bert "$T/mt.json"
w ctx.json '{"n_ctx": 1024, "n_positions": 512}'
bad "two names for one key disagree" 'ctx.json: n_ctx = 1024, but .*ctx.json: n_positions = 512' gpt2 "$T/ctx.json"
w renamedtype.json '{"n_vocab": "50257"}'
bad "renamed key: type error names the original key" 'renamedtype.json: n_vocab: expected a positive integer' gpt2 "$T/renamedtype.json"
w dhead.json '{"d_model": 32, "n_head": 4, "d_head": 16}'
bad "XLNet d_head disagrees with d_model / n_head" 'dhead.json: d_head = 16, but .*derive d_head = d_model / n_head = 8' xlnet "$T/dhead.json"
T5S='"vocab_size": 99, "d_model": 8, "d_kv": 4, "d_ff": 16, "num_heads": 2, "num_layers": 1'
w ffp.json "{$T5S, \"feed_forward_proj\": \"gated-swish\"}"
bad "unknown feed_forward_proj" 'ffp.json: feed_forward_proj: "gated-swish" is not supported \(known: "relu", ' t5 "$T/ffp.json"
w actfn.json "{$T5S, \"feed_forward_proj\": \"gated-gelu\", \"dense_act_fn\": \"relu\"}"
bad "dense_act_fn contradicts feed_forward_proj" 'actfn.json: dense_act_fn = "relu", but .*table feed_forward_proj = "gelu_new"' t5 "$T/actfn.json"
w lab.json '{"id2label": {"0": "neg", "1": "pos"}, "num_labels": 3}'
bad "id2label and num_labels disagree" 'lab.json: id2label has 2 labels, but .*num_labels = 3' bert "$T/lab.json"
w labk.json '{"id2label": {"zero": "neg"}}'
bad "id2label keys must be integers" 'labk.json: id2label: want integer keys and label names' bert "$T/labk.json"
bad "missing original" 'nosuch.json: No such file' bert "$T/nosuch.json"
bad "unknown task" '--task cola: .*models/bert/config.map knows no such task$' bert "$BC" --task cola
bad "unknown XLNet task lists the known ones" '--task foo: .* \(known: cola, mnli, mrpc, sst-2, sts-b, qqp, qnli, rte, wnli, \*squad\*\)' \
	xlnet "$G/xlnet/input/xlnet_config.json" --task foo
bad "--set with a wrong type" '--set vocab_size: expected a positive integer, got "many"' bert "$BC" --set vocab_size=many
bad "--set without =" '--set vocab_size: want KEY=VALUE' bert "$BC" --set vocab_size

# gin files are read as data: malformed or non-literal values are named by line and key.
w unclosed.gin 'd_model = [512,
d_ff = 2048'
bad "gin: list never closed" 'unclosed.gin: line 1: value of d_model does not end' t5 "$T/unclosed.gin"
w junk.gin 'd_model 512'
bad "gin: not a binding" 'junk.gin: line 1: not a gin binding' t5 "$T/junk.gin"
w ref.gin 'd_model = @some.configurable()'
bad "gin: a configurable reference where a number is needed" 'ref.gin: line 1: d_model: a @configurable reference' t5 "$T/ref.gin"
w cycle.gin 'd_model = %a
a = %b
b = %a'
bad "gin: macro cycle" 'cycle.gin: line .*too many %macro references' t5 "$T/cycle.gin"
w unbound.gin 'd_model = %nowhere'
bad "gin: unbound macro" 'unbound.gin: line 1: d_model: %nowhere is not bound' t5 "$T/unbound.gin"
w ginstr.gin "d_model = 'big'"
bad "gin: wrong type names the binding" "ginstr.gin: d_model: expected a positive integer, got \"big\"" t5 "$T/ginstr.gin"
w ginact.gin "d_model = 8
d_kv = 4
d_ff = 16
num_heads = 2
num_layers = 1
vocab_size = 99
DenseReluDense.activation = 'tanh'"
bad "gin: unknown activation" 'ginact.gin: DenseReluDense.activation: "tanh" is not supported' t5 "$T/ginact.gin"
printf 'd_model = 8\nd_ff = 1\0\n' >"$T/ginnul.gin"
bad "gin: NUL byte" 'ginnul.gin: line 2: NUL byte' t5 "$T/ginnul.gin"
w ginover.gin 'd_model = 99999999999999999999999'
bad "gin: integer overflow" 'ginover.gin: line 1: d_model: integer out of range' t5 "$T/ginover.gin"
$PY -c 'print("d_model = " + "[" * 100 + "]" * 100)' >"$T/deep.gin"
bad "gin: deep nesting refused" 'deep.gin: line 1: brackets nested too deeply' t5 "$T/deep.gin"

# Tensor lists.
printf 'a.weight\tF32\n' >"$T/l1"; bad "list: missing field" 'l1: line 1: not NAME<TAB>DTYPE<TAB>SHAPE' bert "$BC" --tensors "$T/l1"
printf 'a.weight\tF33\t1\n' >"$T/l2"; bad "list: unknown dtype" 'l2: line 1: unknown dtype "F33"' bert "$BC" --tensors "$T/l2"
printf 'a.weight\tF32\t1,x\n' >"$T/l3"; bad "list: bad shape" 'l3: line 1: bad shape' bert "$BC" --tensors "$T/l3"
printf 'a\tF32\t1\na\tF32\t2\n' >"$T/l4"; bad "list: name twice" 'l4: tensor a: listed twice' bert "$BC" --tensors "$T/l4"
printf 'a\tF32\t99999999999999999999\n' >"$T/l5"; bad "list: size overflow" 'l5: line 1: bad shape' bert "$BC" --tensors "$T/l5"
printf 'bert.embeddings.word_embeddings.weight\tF32\t99\n' >"$T/l6"
bad "list: tensor with too few dimensions" 'l6: tensor bert.embeddings.word_embeddings.weight: has 1 dimensions, .* wants dimension 1' bert "$BC" --tensors "$T/l6"

# A broken config map is named by file and line.
mkdir -p "$T/models/m1" "$T/models/m2" "$T/models/m3" "$T/models/m4" "$T/models/m5"
printf 'model_type m\ndefault-arch M\nfield a size "x"\n' >"$T/models/m1/config.map"
bad "map: default of the wrong type" 'm1/config.map: line 3: expected a positive integer, got "x"' m1 "$BC" --models "$T/models"
printf 'model_type m\ndefault-arch M\nfrobnicate a\n' >"$T/models/m2/config.map"
bad "map: unknown directive" 'm2/config.map: line 3: unknown directive frobnicate' m2 "$BC" --models "$T/models"
printf 'model_type m\ndefault-arch M\nderive a = b / 2\n' >"$T/models/m3/config.map"
bad "map: derive of an undeclared key" 'm3/config.map: line 3: a is not declared' m3 "$BC" --models "$T/models"
printf 'model_type m\nfield a int 1\n' >"$T/models/m4/config.map"
bad "map: no default-arch" 'm4/config.map: needs a model_type line and a default-arch line' m4 "$BC" --models "$T/models"

printf 'model_type m\ndefault-arch M\narch MHead head.weight\n' >"$T/models/m5/config.map"
printf 'x\tF32\t1\n' >"$T/l7"
bad "list: no arch line fits" 'l7: the tensors fit none of the arch lines of .*m5/config.map' m5 "$BC" --tensors "$T/l7" --models "$T/models"

# Usage errors exit 2.
check_exit "no arguments: exit 2" 2 "$B/cfg-translate"
check_exit "unknown option: exit 2" 2 "$B/cfg-translate" bert "$BC" --frobnicate
check_exit "unknown model: exit 2" 2 "$B/cfg-translate" nosuchmodel "$BC"
check_exit "option without value: exit 2" 2 "$B/cfg-translate" bert "$BC" --tensors
check_exit "generation config for BERT: exit 2" 2 "$B/cfg-translate" bert "$BC" --generation-config "$T/gen.json"
check "no generation file after the usage error" test ! -e "$T/gen.json"
check_exit "same file twice: exit 2" 2 "$B/cfg-translate" t5 "$G/t5/input/hf_config.json" -o "$T/x.json" --generation-config "$T/x.json"
check_exit "bad --torch-dtype: exit 2" 2 "$B/cfg-translate" bert "$BC" --torch-dtype int8
check "--help" sh -c "'$B/cfg-translate' --help | grep -q 'usage: cfg-translate MODEL'"
check "--version" sh -c "'$B/cfg-translate' --version | grep -q '^cfg-translate (ckptconv) '"
check "model given as a path" "$B/cfg-translate" "$CK_ROOT/models/bert" "$BC" -o "$T/path.json"
check "CKPTCONV_MODELS finds models" env CKPTCONV_MODELS="$CK_ROOT/models" "$B/cfg-translate" bert "$BC" -o "$T/env.json"

# An older HF config's torch_dtype is read as dtype: with a dtype that disagrees, refused.
w dtypes.json '{"vocab_size": 99, "dtype": "float32", "torch_dtype": "bfloat16"}'
bad "dtype and torch_dtype disagree" 'dtypes.json: dtype = "float32", but .*dtypes.json: torch_dtype = "bfloat16"' bert "$T/dtypes.json"
w olddtype.json '{"vocab_size": 99, "torch_dtype": "bfloat16"}'
check "torch_dtype alone is read" "$B/cfg-translate" bert "$T/olddtype.json" -o "$T/olddtype.out"
check_eq "torch_dtype alone: written as dtype, torch_dtype not written" '"bfloat16" False' \
	"$($PY -c 'import json,sys; c=json.load(open(sys.argv[1])); print(json.dumps(c["dtype"]), "torch_dtype" in c)' "$T/olddtype.out")"
