# TensorFlow writes, we read; we write, TensorFlow reads (pinned tensorflow-cpu,
# $CK_STACK_TF). The golden TF checkpoints are re-saved by TensorFlow itself:
# by the TF1 Saver sharded over three devices, also with partitioned
# variables (parts on different devices), and object-based by
# tf.train.Checkpoint; a checkpoint of every dtype TF saves is written the
# same three ways. For each, ckpt-ls equals
# tf.train.list_variables and ckpt-extract equals get_tensor, bit for bit;
# converting a TF-written copy gives the bytes converting the original gives.
# Checkpoints of our bundle writer (mkckpt) read back in TF as generated.
. "$(dirname "$0")/lib.sh"
G=$FIX/golden
W=$T/tf
TFPY=$CK_STACK_TF
CASES="bert bert_mlm_only albert gpt2 t5 xlnet transfo_xl"

mkdir -p "$W"
if ! "$TFPY" "$CK_ROOT/tests/py/stack_tf_write.py" "$G" "$W" >"$W/written" 2>"$W/write.err"; then
	fail "TensorFlow writes the checkpoints: $(grep -v '^[IW]0000\|^WARNING\|^To enable' "$W/write.err" | tail -3)"
	exit 0
fi
ok "TensorFlow writes $(wc -l <"$W/written") checkpoints"
prefix() { awk -F'\t' -v c="$1" -v v="$2" '$1 == c && $2 == v { print $3 }' "$W/written"; }
golden() { # golden CASE — the golden original's checkpoint
	echo "$G/$1/input/$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["checkpoint"])' "$G/$1/case.json")"
}

# What TF made is what the checks below are about.
for c in $CASES dtypes; do
	for v in saver part; do
		n=$(ls "$(prefix $c $v)".data-* | wc -l)
		[ "$n" -gt 1 ] && ok "$c ($v): TF's sharded Saver wrote $n data shards" || fail "$c ($v): the sharded Saver wrote $n data shard"
	done
	check_eq "$c (part): TF partitioned variables, the parts of some in several shards" yes \
		"$("$B/ckpt-ls" --json "$(prefix $c part)" | $PY -c 'import json,sys
t = json.load(sys.stdin)["tensors"]
print("yes" if any(len({s["shard"] for s in e["slices"]}) > 1 for e in t) else "no")')"
done
check_eq "dtypes: TF wrote every dtype (ckpt-ls)" "BF16 BOOL F16 F32 F64 I16 I32 I64 I8 STRING U8 " \
	"$("$B/ckpt-ls" "$(prefix dtypes part)" | cut -f2 | sort -u | tr '\n' ' ')"
check_eq "dtypes: the partitioned ones include float16, bfloat16, int32, bool and string" \
	"bf16/kernel f16/kernel flags/mask i32/table vocab/tokens" \
	"$("$B/ckpt-ls" --json "$(prefix dtypes part)" | $PY -c 'import json,sys
print(" ".join(t["name"] for t in json.load(sys.stdin)["tensors"] if t.get("slices") and t["name"] in
    ("f16/kernel", "bf16/kernel", "i32/table", "flags/mask", "vocab/tokens")))')"

# ---- our readers against TF's ------------------------------------------------------
# Every golden original, every TF-written copy, and mkckpt's checkpoints.
: >"$W/list"
n=0
add() { # add LABEL PREFIX KIND [EXPECT.st] — KIND: tf, mkckpt or index (see stack_tf_read.py)
	n=$((n + 1))
	"$B/ckpt-ls" "$2" >"$W/$n.ls" 2>"$W/$n.lserr" || fail "$1: ckpt-ls: $(head -1 "$W/$n.lserr")"
	"$B/ckpt-ls" --json "$2" >"$W/$n.json" 2>"$W/$n.lserr" || fail "$1: ckpt-ls --json: $(head -1 "$W/$n.lserr")"
	if [ "$3" != tf ]; then
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$W/$n.ls" "$W/$n.json" "${4:--}" "$3" >>"$W/list"
		return
	fi
	"$B/ckpt-extract" "$2" -o "$W/$n.st" 2>"$W/$n.err" || fail "$1: ckpt-extract: $(grep -v ': note: ' "$W/$n.err" | head -1)"
	printf '%s\t%s\t%s\t%s\t%s\ttf\n' "$1" "$2" "$W/$n.ls" "$W/$n.json" "$W/$n.st" >>"$W/list"
	# one note per string tensor TF lists, naming it
	local want got
	want=$(awk -F'\t' '$2 == "STRING" { print $1 }' "$W/$n.ls")
	got=$(sed -n 's/^ckpt-extract: note: .*: string tensor \(.*\) verified and skipped$/\1/p' "$W/$n.err")
	[ -z "$want" ] || check_eq "$1: ckpt-extract notes each string tensor as verified and skipped" "$want" "$got"
}
for c in $CASES; do
	add "$c (golden original)" "$(golden $c)" tf
done
while IFS="$(printf '\t')" read -r c v p; do add "$c ($v, TF-written)" "$p" tf; done <"$W/written"
# The real releases' indexes (tests/fixtures/real); the complete ones have their data.
for i in $(find "$FIX/real" -name '*.index' | sort); do
	case $i in "$FIX"/real/complete/*) k=tf ;; *) k=index ;; esac
	add "real ${i#"$FIX"/real/}" "${i%.index}" $k
done

mkdir -p "$W/mk"
cat >"$W/mk/all.spec" <<'SPEC'
# every type our writer makes, strings, scalars, an empty tensor; 4 shards,
# a snappy index of many blocks
@shards 4
@snappy
@block_size 300
bert/embeddings/word_embeddings F32 30,8
f64/kernel F64 5
f16/kernel F16 7,3
bf16/kernel BF16 2,3,4
global_step I64 -
i32/kernel I32 9
i16/kernel I16 2,2
i8/kernel I8 17
u8/kernel U8 4,4,4
flag/kernel BOOL 10
empty/kernel F32 0,8
strings/tokens STRING 2,3
strings/scalar STRING -
SPEC
cat >"$W/mk/sliced.spec" <<'SPEC'
# partitioned variables as TF's partitioners save them, over 3 shards
@shards 3
bert/embeddings/word_embeddings F32 100,24 part=0:7
rows_whole F16 10,6 part=0:3 wholeext
cols I32 5,11 part=1:4
cols_whole BF16 4,9 part=1:2 wholeext
cube F32 3,4,10 part=2:3 shard=2
middle I8 3,8,5 part=1:3 wholeext
flags BOOL 7,2 part=0:2
words STRING 5,3 part=0:2
words_whole STRING 4,6 part=1:3 wholeext
one_slice U8 6,2 part=0:1
plain F32 2,2
SPEC
for s in all sliced; do
	if "$TB/mkckpt" --expect "$W/mk/$s.st" "$W/mk/$s.spec" "$W/mk/$s" 2>"$W/mk/err"; then
		add "mkckpt $s" "$W/mk/$s" mkckpt "$W/mk/$s.st"
	else
		fail "mkckpt $s: $(cat "$W/mk/err")"
	fi
done
"$TFPY" "$CK_ROOT/tests/py/stack_tf_read.py" "$W/list" 2>"$W/read.err" || {
	fail "TF's reads: $(grep -v '^[IW]0000\|^WARNING\|^To enable' "$W/read.err" | tail -3)"
}

# Regression: a partitioned string tensor (TF writes them) was refused, which
# failed the whole extraction; now its slices are verified and it is skipped.
# A flipped byte in one of its slices is still caught.
D=$(prefix dtypes part)
cp -r "$(dirname "$D")" "$W/flip" && F=$W/flip/$(basename "$D")
off=$("$B/ckpt-ls" --json "$F" | $PY -c 'import json,sys
t = [t for t in json.load(sys.stdin)["tensors"] if t["name"] == "vocab/tokens"][0]
s = t["slices"][-1]; print("%05d" % s["shard"], s["offset"] + s["size"] - 1)')
printf '\001' | dd of="$(echo "$F".data-${off% *}-of-*)" bs=1 seek="${off#* }" conv=notrunc 2>/dev/null
check_fails "regression: a flipped byte in a partitioned string tensor's slice: checksum mismatch" \
	"tensor vocab/tokens: checksum mismatch" "$B/ckpt-extract" "$F" --verify-only

# ---- conversions: a TF-written copy converts to the original's bytes ----------------
mkdir -p "$T/xlnet_vocab" && printf 'a sentencepiece model\n' >"$T/xlnet_vocab/spiece.model"
opts() { # opts CASE DIR — the conversion's options for a folder of that case
	case $1 in
	gpt2 | t5 | transfo_xl) echo "CONFIG=$2/hf_config.json" ;;
	xlnet) echo "VOCAB=$T/xlnet_vocab" ;;
	esac
}
model() { case $1 in bert_mlm_only) echo bert ;; *) echo "$1" ;; esac; }
{
	echo "CKPTCONV_BIN := $B"
	echo "include $CK_ROOT/mk/convert.mk"
	for c in $CASES; do
		echo "\$(eval \$(call ckptconv,$T/out/$c/golden,$(model $c),$(golden $c),$(opts $c "$G/$c/input")))"
		for v in saver part; do
			echo "\$(eval \$(call ckptconv,$T/out/$c/$v,$(model $c),$(prefix $c $v),$(opts $c "$W/$c/$v")))"
		done
	done
	echo "\$(eval \$(call ckptconv,$T/out/t5/bf16,t5,$(prefix t5 bf16),$(opts t5 "$W/t5/bf16")))"
	echo "\$(eval \$(call ckptconv,$T/out/gpt/golden,gpt,$G/gpt/input,CONFIG=$G/gpt/input/hf_config.json))"
	for c in xlm xlm_legacy; do
		echo "\$(eval \$(call ckptconv,$T/out/$c/golden,xlm,$G/$c/input/$(ls "$G/$c/input")))"
	done
	echo "all: \$(CKPTCONV_OUTPUTS)"
} >"$T/Makefile"
check "make -j2 converts the originals and the TF-written copies" make -s -C "$T" -j2 all

# model.safetensors carries the SHA-256 of the checkpoint's index in its
# metadata (ckptconv.sha256.PREFIX.index), and TF's index is not the original's
# bytes: those 64 hex digits must be each one's own index hash, and with them
# swapped the files must be identical. The manifest lists every input's hash,
# so it differs too; every other file must be byte for byte the original's.
for c in $CASES; do
	for v in saver part; do
		O=$T/out/$c
		check "$c ($v): the folder is the original's but for model.safetensors and the manifest" \
			diff -r -x .ckptconv -x ckptconv-manifest.json -x model.safetensors "$O/golden" "$O/$v"
		check "$c ($v): model.safetensors is the original's but for the index hash" \
			$PY "$CK_ROOT/tests/py/stack_same_weights.py" "$O/golden/model.safetensors" "$(golden $c).index" \
			"$O/$v/model.safetensors" "$(prefix $c $v).index"
	done
done

# Object-based checkpoints are refused by BERT's rules with the reason.
check_fails "bert (object, TF-written): refused as a TF2 object-based checkpoint" \
	"a TensorFlow 2 object-based checkpoint" \
	"$B/ckpt-extract" "$(prefix bert object)" --remap "$CK_ROOT/models/bert/tensors.rules" -o "$T/object.st"

# ---- transformers 4.57.6's own loaders, run with TensorFlow on these checkpoints -----
{
	for c in $CASES; do
		for v in golden saver part; do
			[ $v = golden ] && p=$(golden $c) || p=$(prefix $c $v)
			printf '%s\t%s\t%s\t%s\n' "$c ($v)" "$G/$c" "$p" "$T/out/$c/golden/model.safetensors"
		done
	done
	printf '%s\t%s\t%s\t%s\n' "t5 (bf16, TF-written)" "$G/t5" "$(prefix t5 bf16)" "$T/out/t5/bf16/model.safetensors"
	printf '%s\t%s\t%s\t%s\n' "gpt (golden)" "$G/gpt" "$G/gpt/input" "$T/out/gpt/golden/model.safetensors"
	for c in xlm xlm_legacy; do
		printf '%s\t%s\t%s\t%s\n' "$c (golden)" "$G/$c" "$G/$c/input/$(ls "$G/$c/input")" "$T/out/$c/golden"
	done
} >"$T/reference.list"
"$TFPY" "$CK_ROOT/tests/py/stack_reference.py" "$T/reference.list" 2>"$T/reference.err" || {
	fail "the reference loaders: $(grep -v '^[IW]0000\|^WARNING\|^To enable' "$T/reference.err" | tail -3)"
}
