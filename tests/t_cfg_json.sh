# cfg-translate writes JSON exactly as Python's json.dumps(indent=2, sort_keys=True): float
# repr, \u escapes, nesting, empty containers, integer-ordered id2label.
. "$(dirname "$0")/lib.sh"
CHK="$PY $CK_ROOT/tests/py/cfgcheck.py"

$PY "$CK_ROOT/tests/py/reprcheck.py" "$TB/pyrepr"

# Keys BertConfig does not know pass through: a harness for every JSON form.
$PY - "$T/in.json" <<'PY'
import json, sys
cfg = {
    "vocab_size": 99, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
    "intermediate_size": 37, "layer_norm_eps": 1e-05, "initializer_range": 0.02,
    "x_floats": [0.1, 1e-12, 1e-06, 0.0001, 1e16, 1e15, 5e-324, 1.7976931348623157e308, -0.0,
                 0.02209708691207961, 1.0, 100.0, 2.5e-07, 123456789012345678.0, 3.0e22, -1.5],
    "x_ints": [0, -1, 9007199254740993, -9223372036854775808, 9223372036854775807],
    "x_text": "caf\u00e9 \u4e2d\u6587 \U0001f600 \u0001\u001f\u007f \"q\" back\\slash /slash\ttab\nnl\r\b\f",
    "x_\u00e9_key": {"z": [], "a": {}, "m": [[1, [2, {"k": None}]], True, False]},
    "x_empty": "", "B_upper": 1, "_under": 2,
}
open(sys.argv[1], 'w', encoding='utf-8').write(json.dumps(cfg, ensure_ascii=False, indent=4))
PY
check "pass-through values translate" "$B/cfg-translate" bert "$T/in.json" -o "$T/out.json"
check "text = Python json.dumps, values unchanged" $CHK "$T/out.json" "$T/in.json"
check "floats in Python repr" grep -q '^    1e-12,$' "$T/out.json"
check "1e-05 written as 1e-05" grep -q '"layer_norm_eps": 1e-05,' "$T/out.json"
check "astral character as a surrogate pair" grep -q 'ud83d\\ude00' "$T/out.json"
check "non-ASCII key escaped" grep -q '"x_\\u00e9_key": {' "$T/out.json"
check "empty containers on one line" grep -q '"a": {},' "$T/out.json"

# id2label holds integers for Hugging Face, so "10" sorts after "9".
printf 'classifier.weight\tF32\t12,32\nclassifier.bias\tF32\t12\n' >"$T/cls.list"
check "12 labels" "$B/cfg-translate" bert "$FIX/golden/bert/input/bert_config.json" --tensors "$T/cls.list" -o "$T/cls.json"
check "12 labels: Python text (integer keys)" $CHK "$T/cls.json" \
	--want 'architectures=["BertForSequenceClassification"]'
check_eq "id2label in integer order" "0 1 2 3 4 5 6 7 8 9 10 11" \
	"$($PY -c 'import sys; t=open(sys.argv[1]).read(); i=t.index("id2label"); print(" ".join(l.split(":")[0].strip().strip("\"") for l in t[i:].split("\n")[1:13]))' "$T/cls.json")"
check "label2id in string order" $PY -c '
import json, sys
t = open(sys.argv[1]).read(); d = json.loads(t)
assert list(d["label2id"]) == sorted("LABEL_%d" % i for i in range(12))
assert d["id2label"] == {str(i): "LABEL_%d" % i for i in range(12)}' "$T/cls.json"
