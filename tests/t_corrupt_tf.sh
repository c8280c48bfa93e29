# Corrupted TensorFlow checkpoints, made at test time from the golden and real
# fixtures and crafted by tests/py/corrupt.py: entries that lie about sizes,
# shapes, shards, offsets and slices (with valid table checksums), truncation
# of the index and data at many offsets, bit flips in index blocks (with and
# without fixing the block checksum) and in data, wrong magic, and broken
# `checkpoint` state files. Every case: exit 1 with one line naming the file
# and the problem, nothing written, bounded time and memory.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/corrupt_lib.sh"

C=$T/crafted
if ! "$PY" "$CK_ROOT/tests/py/corrupt.py" tf "$C" >"$T/gen.log" 2>&1; then
	fail "corrupt.py tf: $(tail -1 "$T/gen.log")"
	exit 0
fi
printf '#!/bin/sh\nexec "%s/ckpt-extract" "$@" -o "%s/out.safetensors"\n' "$B" "$O" >"$T/X"
chmod +x "$T/X"
X=$T/X

accept "crafted: the well-formed control case extracts" "$X" "$C/ok"
accept "crafted: the well-formed partitioned case extracts" "$X" "$C/slice_ok"
while read -r case pattern; do
	[ -n "$case" ] || continue
	refuse "crafted $case" "$case\.(index|data-00000-of-00001): .*$pattern" "$X" "$C/$case"
done <<'LIST'
size_beyond_file     tensor w: data at offset 0 \(4398046511104 bytes\) lies past the end of the file
offset_beyond_file   tensor w: data at offset 1099511627776 .* lies past the end
offset_overflow      tensor w: data at offset 9223372036854775800 .* lies past the end
negative_offset      tensor w: negative offset or size
negative_size        tensor w: negative offset or size
size_not_shape       tensor w: 12 bytes stored, but the shape needs 16
shape_overflow       tensor w: shape size overflows
shape_overflow_bytes tensor w: shape size overflows
negative_dim         tensor w: negative dimension
too_many_dims        tensor w: 40 dimensions \(at most 16 supported\)
unknown_rank         tensor w: shape of unknown rank
bad_shard            tensor w: shard 5, but the checkpoint has 1
negative_shard       tensor w: shard -1, but the checkpoint has 1
shards_huge          bad number of data shards 1073741824
shards_negative      bad number of data shards -3
shards_zero          bad number of data shards 0
big_endian           big-endian checkpoint
entry_crc            tensor w: checksum mismatch
truncated_entry      tensor w: malformed BundleEntryProto
garbage_entry        tensor w: malformed BundleEntryProto
no_header            no bundle header
bad_header           malformed bundle header
keys_out_of_order    key beyond its index entry
duplicate_names      keys out of order
string_lengths_lie   tensor s: string lengths checksum mismatch
slice_outside_shape  tensor p: slice extent 0 out of range
slice_overlap        tensor p: slices 0 and 1 overlap
slice_gap            tensor p: slices cover 6 of 8 elements
slice_missing_entry  tensor p: slice 1 has no data entry
slice_wrong_rank     tensor p: slice has 1 extents for 2 dimensions
slice_negative       tensor p: slice extent 0 out of range
slice_huge_shape     tensor p: data at offset 0 \(4611686018427387904 bytes\) lies past the end
LIST
refuse "crafted unknown_dtype: named, and not extracted" "unknown_dtype: tensor w: type DT_UNKNOWN_99 cannot be extracted" \
	"$X" "$C/unknown_dtype"
check "crafted shards_huge: listing does not allocate per shard either" \
	sh -c "! '$B/ckpt-ls' '$C/shards_huge' 2>/dev/null"

# The golden BERT checkpoint and a real two-shard one, copied writable.
G=$T/g
fresh() {
	rm -rf "$G" && mkdir -p "$G"
	cp "$FIX"/golden/bert/input/model.ckpt-100000.* "$G/"
	cp "$FIX"/real/complete/tf1_estimator_wide_deep_2shards/model.ckpt-2010.* "$G/"
	chmod u+w "$G"/*
}
fresh
P=$G/model.ckpt-100000
R=$G/model.ckpt-2010
cp "$P.index" "$T/index.orig"

# Truncated index: every cut is refused before any output.
bad=0
for cut in $(offsets "$(stat -c %s "$T/index.orig")" 40 50) 0; do
	head -c "$cut" "$T/index.orig" >"$P.index"
	survive "index cut at $cut" model.ckpt-100000.index "$X" "$P" || bad=1
	[ "$rc" -eq 1 ] || { fail "index cut at $cut: accepted"; bad=1; }
done
[ $bad = 0 ] && ok "truncated index at ~140 offsets: refused, one line naming the index, nothing written"
cp "$T/index.orig" "$P.index"

# Truncated data shard: refused before the first byte of output.
D=$P.data-00000-of-00001
cp "$D" "$T/data.orig"
bad=0
for cut in $(offsets "$(stat -c %s "$D")" 30) 0; do
	head -c "$cut" "$T/data.orig" >"$D"
	survive "data cut at $cut" model.ckpt-100000.data-00000-of-00001 "$X" "$P" || bad=1
	[ "$rc" -eq 1 ] || { fail "data cut at $cut: accepted"; bad=1; }
done
[ $bad = 0 ] && ok "truncated data shard at ~50 offsets: refused, the shard named, nothing written"
cp "$T/data.orig" "$D"

# Bit flips in the data: the tensor holding the byte is named.
bad=0
for off in $(offsets "$(stat -c %s "$D")" 25); do
	cp "$T/data.orig" "$D"
	flip "$D" "$off"
	survive "data flip at $off" "model.ckpt-100000.data-00000-of-00001: tensor .*checksum mismatch" "$X" "$P" || bad=1
	[ "$rc" -eq 1 ] && grep -q 'checksum mismatch' "$T/.err" || { fail "data flip at $off: not caught: $(cat "$T/.err")"; bad=1; }
done
[ $bad = 0 ] && ok "bit flips in data at ~45 offsets: each a checksum mismatch naming the tensor"
cp "$T/data.orig" "$D"

# Bit flips in the index: in every block (data, metaindex, index) the block
# checksum catches them...
bad=0
for off in $(offsets "$(stat -c %s "$T/index.orig")" 40 50); do
	cp "$T/index.orig" "$P.index"
	flip "$P.index" "$off"
	survive "index flip at $off" model.ckpt-100000.index "$X" "$P" || bad=1
	# (the footer's padding, between its block handles and the magic, is free)
	[ "$rc" -eq 1 ] || [ "$off" -ge $(($(stat -c %s "$P.index") - 48)) ] ||
		{ fail "index flip at $off: accepted"; bad=1; }
done
[ $bad = 0 ] && ok "bit flips in the index at ~140 offsets: refused with one line (but in the footer padding)"
# ... and with the checksum fixed, the entry, block and footer parsers must
# cope with whatever the flip made (exit 0 is fine when the result is valid).
bad=0
"$PY" "$CK_ROOT/tests/py/corrupt.py" blocks "$T/index.orig" >"$T/blocks"
while read -r boff bsize; do
	for k in 0 1 2 3 5 8 13 21 34 55 89 144 233 377 610 987; do
		[ "$k" -lt "$bsize" ] || continue
		cp "$T/index.orig" "$P.index"
		"$PY" "$CK_ROOT/tests/py/corrupt.py" flipfix "$P.index" $((boff + k))
		survive "index block flip at $((boff + k)), checksum fixed" model.ckpt-100000 "$X" "$P" || bad=1
	done
done <"$T/blocks"
[ $bad = 0 ] && ok "bit flips inside index blocks with valid checksums: exit 0 or one clear error"
cp "$T/index.orig" "$P.index"

flip "$P.index" $(($(stat -c %s "$P.index") - 3))
refuse "wrong magic" 'model.ckpt-100000.index: not a checkpoint index \(bad table magic\)' "$X" "$P"
cp "$T/index.orig" "$P.index"

# The real two-shard checkpoint: a missing and a truncated second shard.
mv "$R.data-00001-of-00002" "$T/shard1"
refuse "real 2-shard checkpoint, missing shard" 'model.ckpt-2010.data-00001-of-00002: cannot open data shard' "$X" "$R"
head -c 7 "$T/shard1" >"$R.data-00001-of-00002"
refuse "real 2-shard checkpoint, truncated shard" 'model.ckpt-2010.data-00001-of-00002: tensor .*past the end' "$X" "$R"
mv "$T/shard1" "$R.data-00001-of-00002"

# A snappy-compressed multi-block index: truncation and flips with fixed
# checksums reach the snappy decoder.
printf '@snappy\n@block_size 128\n' >"$T/spec"
for i in 0 1 2 3 4 5 6 7 8 9; do echo "layer_$i/kernel F32 8,8"; echo "layer_$i/bias F32 8"; done >>"$T/spec"
mkdir -p "$T/s" && "$TB/mkckpt" "$T/spec" "$T/s/m"
accept "snappy index extracts" "$X" "$T/s/m"
cp "$T/s/m.index" "$T/snappy.orig"
bad=0
"$PY" "$CK_ROOT/tests/py/corrupt.py" blocks "$T/snappy.orig" >"$T/blocks"
while read -r boff bsize; do
	for k in 0 1 2 4 7 11 16 22 29 37 46; do
		[ "$k" -lt "$bsize" ] || continue
		cp "$T/snappy.orig" "$T/s/m.index"
		"$PY" "$CK_ROOT/tests/py/corrupt.py" flipfix "$T/s/m.index" $((boff + k))
		survive "snappy block flip at $((boff + k))" m.index "$X" "$T/s/m" || bad=1
	done
done <"$T/blocks"
for cut in $(offsets "$(stat -c %s "$T/snappy.orig")" 20); do
	head -c "$cut" "$T/snappy.orig" >"$T/s/m.index"
	survive "snappy index cut at $cut" m.index "$X" "$T/s/m" || bad=1
	[ "$rc" -eq 1 ] || { fail "snappy index cut at $cut: accepted"; bad=1; }
done
[ $bad = 0 ] && ok "snappy index: flips with fixed checksums and truncations give exit 0 or one clear error"

# `checkpoint` state files: garbage, a NUL, a huge file, a path to nowhere.
S=$T/state
mkdir -p "$S"
cp "$FIX"/golden/bert/input/model.ckpt-100000.* "$S/"
state() { printf "$1" >"$S/checkpoint"; }
state 'model_checkpoint_path: "model.ckpt-100000"\n'
accept "state file: the control case" "$X" "$S"
state 'model_checkpoint_path: "nowhere"\n'
refuse "state file naming a missing prefix" 'checkpoint.*nowhere.*model.ckpt-100000' "$X" "$S"
state 'model_checkpoint_path: "model.ckpt-1\\x00"\n'
refuse "state file: NUL escape" 'checkpoint: NUL byte in model_checkpoint_path' "$X" "$S"
state 'model_checkpoint_path: "unterminated\n'
refuse "state file: unterminated string" 'checkpoint: unterminated model_checkpoint_path' "$X" "$S"
state 'model_checkpoint_path: "a\\q"\n'
refuse "state file: bad escape" 'checkpoint: bad escape' "$X" "$S"
head -c 50000000 /dev/zero | tr '\0' 'x' >"$S/checkpoint"
refuse "state file of 50 MB garbage" "$S/checkpoint" "$X" "$S"
