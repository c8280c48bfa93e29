# Corrupted safetensors input, for every tool that reads it: ckpt-extract
# (a file read in place), tensor-remap and pt-pack (the stream reader).
# Crafted headers (tests/py/corrupt.py st: huge or short header lengths,
# overlapping, gapped and out-of-range offsets, duplicate names, shapes whose
# product overflows, deep JSON), the golden outputs truncated at many offsets
# and with bit flips in the header. Every refusal: exit 1, one line naming
# the file and the problem, nothing written, bounded time and memory.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/corrupt_lib.sh"

C=$T/crafted
if ! "$PY" "$CK_ROOT/tests/py/corrupt.py" st "$C" >"$T/gen.log" 2>&1; then
	fail "corrupt.py st: $(tail -1 "$T/gen.log")"
	exit 0
fi
echo 'keep **' >"$T/all.rules"
# The three readers, each writing into the empty directory $O.
cat >"$T/extract" <<EOF2
#!/bin/sh
exec "$B/ckpt-extract" "\$1" -o "$O/out.safetensors"
EOF2
cat >"$T/remap" <<EOF2
#!/bin/sh
exec "$B/tensor-remap" "$T/all.rules" "\$1" -o "$O/out.safetensors"
EOF2
cat >"$T/pack" <<EOF2
#!/bin/sh
exec "$B/pt-pack" "\$1" -o "$O/" --format both
EOF2
chmod +x "$T/extract" "$T/remap" "$T/pack"

while read -r case pattern; do
	[ -n "$case" ] || continue
	for tool in extract remap pack; do
		refuse "$case ($tool)" "$case\.safetensors: $pattern" "$T/$tool" "$C/$case.safetensors"
	done
done <<'LIST'
header_len_huge        safetensors header length 9223372036854775808 is out of range
header_len_beyond_file truncated safetensors header
header_len_short       not a safetensors stream \(shorter than 8 bytes\)
header_not_json        header is not valid JSON
header_not_object      header is not a JSON object
header_nul             header is not valid JSON: control character
overlap                tensor b: data_offsets overlap the previous tensor
gap                    tensor b: data_offsets leave a gap after the previous tensor
offsets_reversed       tensor a: bad data_offsets
offsets_huge           header is not valid JSON: too big integer
size_not_shape         tensor a: data_offsets span 8 bytes but the shape needs 12
shape_overflow         tensor a: shape size overflows
shape_overflow_bytes   tensor a: shape size overflows
shape_negative         tensor a: bad shape
shape_float            tensor a: bad shape
shape_too_many_dims    tensor a: 40 dimensions \(at most 16 supported\)
dtype_unknown          tensor a: unsupported dtype F33
duplicate_names        header is not valid JSON: duplicate object key
missing_field          tensor a: malformed header entry
metadata_not_string    __metadata__ value of a is not a string
deep_json              header is not valid JSON: maximum parsing depth
LIST
# Data shorter or longer than the header says: the file reader knows at
# open, the stream readers when the data runs out (or goes on).
for tool in extract remap pack; do
	refuse "offsets_beyond_data ($tool)" "offsets_beyond_data\.safetensors: .*(header describes 77 bytes of file but it has 73|stream ends before its data is complete)" \
		"$T/$tool" "$C/offsets_beyond_data.safetensors"
	refuse "truncated_data ($tool)" "truncated_data\.safetensors: .*(header describes 4194385 bytes|stream ends before its data is complete)" \
		"$T/$tool" "$C/truncated_data.safetensors"
	refuse "trailing_bytes ($tool)" "trailing_bytes\.safetensors: .*(header describes 77 bytes of file but it has 81|trailing bytes after the last tensor)" \
		"$T/$tool" "$C/trailing_bytes.safetensors"
done
refuse "alias to a missing tensor (pack)" "alias_to_missing\.safetensors: tensor b: alias of zz, which is not in the stream" \
	"$T/pack" "$C/alias_to_missing.safetensors"

# Golden outputs cut at many offsets: every cut is refused, by the file
# reader and by the stream reader (tensor-remap reads streams as pt-pack does).
for g in bert t5; do
	src=$FIX/golden/$g/expected/model.safetensors
	f=$T/$g.safetensors
	bad=0
	for cut in $(offsets "$(stat -c %s "$src")" 25) 0; do
		head -c "$cut" "$src" >"$f"
		for tool in extract pack; do
			survive "$g cut at $cut ($tool)" "$g.safetensors" "$T/$tool" "$f" || bad=1
			[ "$rc" -eq 1 ] || { fail "$g cut at $cut ($tool): accepted"; bad=1; }
		done
	done
	[ $bad = 0 ] && ok "golden $g model.safetensors truncated at ~50 offsets: refused by both readers"

	# Bit flips in the header: exit 0 (still a valid header, e.g. a flipped
	# letter of a name) or one clear line; never a crash or partial output.
	hlen=$("$PY" -c 'import struct,sys; print(struct.unpack("<Q", open(sys.argv[1],"rb").read(8))[0])' "$src")
	bad=0
	for off in $(offsets $((hlen + 8)) 40); do
		cp "$src" "$f"
		flip "$f" "$off" 4
		for tool in extract pack; do
			survive "$g header flip at $off ($tool)" "$g.safetensors" "$T/$tool" "$f" || bad=1
		done
	done
	[ $bad = 0 ] && ok "golden $g model.safetensors with header bit flips at ~60 offsets: exit 0 or one clear error"
done
