# Checkpoints made by the bundle writer (tests/c/mkckpt.c) with what no real
# fixture has: float16, bfloat16, int32, int8, uint8, bool and the other
# types, partitioned variables (along any axis, explicit or whole-dimension
# extents), many shards, snappy and multi-block indexes. Each is read back
# three ways: ckpt-extract's output must equal, byte for byte, what mkckpt
# computed from its generator; an independent Python reader must verify
# every CRC and agree; ckpt-ls must agree with that reader.
. "$(dirname "$0")/lib.sh"

roundtrip() { # roundtrip NAME SPECFILE
	local name=$1 spec=$2 p=$T/$1/ckpt
	mkdir -p "$T/$name"
	if ! "$TB/mkckpt" --expect "$T/$name/expect.st" "$spec" "$p" 2>"$T/err"; then
		fail "$name: mkckpt: $(cat "$T/err")"; return
	fi
	if "$B/ckpt-extract" "$p" -o "$T/$name/out.st" 2>"$T/err" && cmp -s "$T/$name/expect.st" "$T/$name/out.st"; then
		ok "$name: extract = generator's tensors, byte for byte"
	else
		fail "$name: extract differs from expected: $(head -1 "$T/err")"
	fi
	if "$PY" "$CK_ROOT/tests/py/tfbundle.py" check "$p" "$T/$name/out.st" >"$T/py" 2>&1; then
		ok "$name: independent reader verifies every CRC and agrees ($(cat "$T/py"))"
	else
		fail "$name: $(tail -1 "$T/py")"
	fi
	"$B/ckpt-ls" "$p" >"$T/ls"
	"$PY" "$CK_ROOT/tests/py/tfbundle.py" list "$p" >"$T/pyls"
	check "$name: ckpt-ls = independent listing" cmp "$T/ls" "$T/pyls"
}

cat >"$T/all.spec" <<'SPEC'
# every convertible type, scalars, an empty tensor, strings; 5 shards;
# snappy index split into many small blocks (long shared name suffixes,
# as real variable names have, make snappy worth it)
@shards 5
@snappy
@block_size 200
f32/attention/output/dense/kernel F32 3,4
f64/attention/output/dense/kernel F64 5
f16/attention/output/dense/kernel F16 7,3
bf16/attention/output/dense/kernel BF16 2,3,4
i64/attention/output/dense/kernel I64 -
i32/attention/output/dense/kernel I32 9
i16/attention/output/dense/kernel I16 2,2
i8/attention/output/dense/kernel I8 17
u8/attention/output/dense/kernel U8 4,4,4
u16/attention/output/dense/kernel U16 3
u32/attention/output/dense/kernel U32 3
u64/attention/output/dense/kernel U64 2
flag/attention/output/dense/kernel BOOL 10
empty/attention/output/dense/kernel F32 0,8
strings/attention/output/dense/kernel STRING 2,3
objgraph/attention/output/dense/kernel STRING -
SPEC
roundtrip all_dtypes "$T/all.spec"
"$B/ckpt-ls" --json "$T/all_dtypes/ckpt" >"$T/json"
"$PY" - "$T/json" <<'PYEOF' && ok "all_dtypes: 5 shards, multi-block snappy index" || fail "all_dtypes index layout"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["num_shards"] == 5 and d["index_data_blocks"] > 3, d
assert d["index_block_compression"]["snappy"] > 0, d
assert sorted({t["shard"] for t in d["tensors"]}) == [0, 1, 2, 3, 4]
PYEOF
"$B/ckpt-ls" "$T/all_dtypes/ckpt" | cut -f2 | sort -u | tr '\n' ' ' >"$T/types"
check_eq "all_dtypes: listed dtypes" "BF16 BOOL F16 F32 F64 I16 I32 I64 I8 STRING U16 U32 U64 U8 " "$(cat "$T/types")"

cat >"$T/sliced.spec" <<'SPEC'
# partitioned variables as TF's partitioners save them, across 3 shards
@shards 3
bert/embeddings/word_embeddings F32 1000,24 part=0:7
rows_whole F16 10,6 part=0:3 wholeext
cols I32 5,11 part=1:4
cols_whole BF16 4,9 part=1:2 wholeext
cube F32 3,4,10 part=2:3 shard=2
middle I8 3,8,5 part=1:3 wholeext
one_slice U8 6,2 part=0:1
plain F32 2,2
SPEC
roundtrip sliced "$T/sliced.spec"
"$B/ckpt-ls" --json "$T/sliced/ckpt" >"$T/json"
"$PY" - "$T/json" <<'PYEOF' && ok "sliced: slices listed with start, shape, shard, offset, size, crc32c" || fail "sliced json"
import json, sys
d = {t["name"]: t for t in json.load(open(sys.argv[1]))["tensors"]}
w = d["bert/embeddings/word_embeddings"]["slices"]
assert [s["start"] for s in w] == [[0, 0], [143, 0], [286, 0], [429, 0], [572, 0], [715, 0], [858, 0]], w
assert [s["shape"][0] for s in w] == [143, 143, 143, 143, 143, 143, 142]
assert [s["shard"] for s in w] == [0, 1, 2, 0, 1, 2, 0]
assert all(s["size"] == s["shape"][0] * 24 * 4 for s in w)
assert len(d["cube"]["slices"]) == 3 and d["plain"]["slices"] == []
assert len(d) == 8  # slice entries are not tensors of their own
PYEOF

# Partitioned string variables (TF's partitioners make them): each slice is
# verified as a string tensor, and the tensor skipped like unpartitioned ones.
cat >"$T/strings.spec" <<'SPEC'
@shards 2
words STRING 5,3 part=0:2
words_whole STRING 4,6 part=1:3 wholeext
plain F32 2
SPEC
roundtrip sliced_strings "$T/strings.spec"
check_eq "sliced_strings: both noted as verified and skipped" "words words_whole" \
	"$("$B/ckpt-extract" "$T/sliced_strings/ckpt" -o "$T/sliced_strings/again.st" 2>&1 |
		sed -n 's/.*string tensor \(.*\) verified and skipped$/\1/p' | tr '\n' ' ' | sed 's/ $//')"
off=$("$B/ckpt-ls" --json "$T/sliced_strings/ckpt" | "$PY" -c 'import json,sys
s = [t for t in json.load(sys.stdin)["tensors"] if t["name"] == "words"][0]["slices"][1]
print(s["shard"], s["offset"] + s["size"] - 1)')
printf '\001' | dd of="$T/sliced_strings/ckpt.data-0000${off% *}-of-00002" bs=1 seek="${off#* }" conv=notrunc 2>/dev/null
check_fails "sliced_strings: a flipped byte in a string slice is a checksum mismatch" \
	"tensor words: checksum mismatch" "$B/ckpt-extract" "$T/sliced_strings/ckpt" --verify-only

# Many shards (more than the reader keeps open at once) and large tensors
# read in several chunks, partitioned ones through the scatter path.
{
	echo "@shards 70"
	for i in $(seq 1 90); do echo "t$i F32 $i,3"; done
	echo "big F32 1536,2048"
	echo "big_cols F32 1024,2560 part=1:3"
} >"$T/many.spec"
roundtrip many_shards "$T/many.spec"

# Types that cannot be converted: listed by their TF name, refused by name.
cat >"$T/other.spec" <<'SPEC'
c64 DT_COMPLEX64 2
c128 DT_COMPLEX128 2
q8 DT_QINT8 4
res DT_RESOURCE -
var DT_VARIANT 2
ok F32 2
SPEC
"$TB/mkckpt" "$T/other.spec" "$T/other"
"$B/ckpt-ls" "$T/other" | cut -f1,2 | tr '\t\n' ': ' >"$T/got"
check_eq "unsupported types listed by TF name" \
	"c128:DT_COMPLEX128 c64:DT_COMPLEX64 ok:F32 q8:DT_QINT8 res:DT_RESOURCE var:DT_VARIANT " "$(cat "$T/got")"
check_fails "extract refuses them, naming the first" 'tensor c128: type DT_COMPLEX128 cannot be extracted' \
	"$B/ckpt-extract" "$T/other" -o "$T/other.st"
test ! -e "$T/other.st" && ok "... writing nothing" || fail "output left behind"
check "... and extracts the others when asked" "$B/ckpt-extract" "$T/other" ok -o "$T/other.st"

printf '@big_endian\nx F32 2\n' >"$T/be.spec"
"$TB/mkckpt" "$T/be.spec" "$T/be"
check_fails "a big-endian checkpoint is refused with a clear message" 'big-endian checkpoint.*not supported' \
	"$B/ckpt-ls" "$T/be"

# The generator is deterministic.
"$TB/mkckpt" "$T/all.spec" "$T/again"
check "mkckpt writes the same bytes twice" cmp "$T/again.data-00002-of-00005" "$T/all_dtypes/ckpt.data-00002-of-00005"
printf 'a F32 1\nb Q9 2\n' >"$T/bad.spec"
check_fails "mkckpt reports spec errors with file and line" 'bad.spec:2: unknown dtype Q9' \
	"$TB/mkckpt" "$T/bad.spec" "$T/bad"
