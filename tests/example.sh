#!/bin/sh
# example.sh BIN TESTBIN OUTDIR — the bundled example (`make example`): make
# a tiny BERT checkpoint with real variable names (models/bert/example.spec)
# laid out as Google's releases are, list it, and extract it to a
# safetensors file. Nothing is downloaded.
set -eu
bin=${1:?usage: example.sh BIN TESTBIN OUTDIR}
testbin=${2:?usage: example.sh BIN TESTBIN OUTDIR}
out=${3:?usage: example.sh BIN TESTBIN OUTDIR}
root=$(cd "$(dirname "$0")/.." && pwd)
ckpt=$out/ckpt

rm -rf "$ckpt"
mkdir -p "$ckpt"
echo "== 1. a tiny BERT checkpoint (TF V2 bundle) in $ckpt"
"$testbin/mkckpt" "$root/models/bert/example.spec" "$ckpt/bert_model.ckpt"
cp "$root/models/bert/example_config.json" "$ckpt/bert_config.json"
printf 'model_checkpoint_path: "bert_model.ckpt"\nall_model_checkpoint_paths: "bert_model.ckpt"\n' \
	>"$ckpt/checkpoint"
ls -l "$ckpt"

echo
echo "== 2. ckpt-ls $ckpt   (reads the index only)"
"$bin/ckpt-ls" "$ckpt"

echo
echo "== 3. ckpt-extract $ckpt -o $out/bert_example.safetensors   (every CRC verified)"
"$bin/ckpt-extract" "$ckpt" -o "$out/bert_example.safetensors"
n=$("$bin/ckpt-ls" "$ckpt" | wc -l)
size=$(wc -c <"$out/bert_example.safetensors")
echo "wrote $out/bert_example.safetensors: $n tensors, $size bytes"
