#!/bin/sh
# example.sh BIN TESTBIN OUTDIR — the bundled example (`make example`): make a
# tiny BERT checkpoint with real variable names (models/bert/example.spec)
# laid out as Google's releases are, list it, and convert it through
# mk/convert.mk into a Hugging Face folder. Nothing is downloaded.
set -eu
bin=$(cd "${1:?usage: example.sh BIN TESTBIN OUTDIR}" && pwd)
testbin=${2:?usage: example.sh BIN TESTBIN OUTDIR}
out=${3:?usage: example.sh BIN TESTBIN OUTDIR}
root=$(cd "$(dirname "$0")/.." && pwd)
ckpt=$out/ckpt

mkdir -p "$ckpt"
echo "== 1. a tiny BERT checkpoint (TF V2 bundle) in $ckpt"
"$testbin/mkckpt" "$root/models/bert/example.spec" "$ckpt/bert_model.ckpt"
cp "$root/models/bert/example_config.json" "$ckpt/bert_config.json"
printf 'model_checkpoint_path: "bert_model.ckpt"\nall_model_checkpoint_paths: "bert_model.ckpt"\n' \
	>"$ckpt/checkpoint"
# a WordPiece vocabulary of the config's 99 entries
{ printf '[PAD]\n'; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do printf '[unused%d]\n' "$i"; done
  printf '[UNK]\n[CLS]\n[SEP]\n[MASK]\n'
  for w in the of and to in a is was for on as with by he at from his an were are; do printf '%s\n' "$w"; done
  for c in a b c d e f g h i j k l m n o p q r s t u v w x y z; do printf '%s\n##%s\n' "$c" "$c"; done
} | head -n 99 >"$ckpt/vocab.txt"
ls -l "$ckpt"

echo
echo "== 2. ckpt-ls $ckpt   (reads the index only)"
"$bin/ckpt-ls" "$ckpt"

echo
echo "== 3. convert: ckpt-extract | tensor-remap models/bert/tensors.rules | pt-pack, and cfg-translate"
# the way any project uses ckptconv: include mk/convert.mk, declare conversions
cat >"$out/Makefile" <<MK
CKPTCONV_BIN := $bin
include $root/mk/convert.mk
\$(eval \$(call ckptconv,bert,bert,ckpt))
MK
${MAKE:-make} --no-print-directory -C "$out" bert

echo
echo "== 4. the Hugging Face folder $out/bert (from_pretrained loads it)"
ls -l "$out/bert"
