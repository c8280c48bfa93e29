# Corrupted PyTorch, numpy and OpenAI GPT inputs, made at test time from the
# golden and real fixtures (tests/t_hostile_readers.sh has the synthetic
# hostile pickles; this adds the real archive with lying zip records, hostile
# pickles inside it, and sweeps of truncations and bit flips). Every
# refusal: exit 1, one line naming the file and the problem, nothing
# written, bounded time and memory.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/corrupt_lib.sh"

ZIP=$FIX/golden/xlm/input/mlm_tiny_enfr.pth
LEG=$FIX/golden/xlm_legacy/input/checkpoint.pth
C=$T/crafted
if ! "$PY" "$CK_ROOT/tests/py/corrupt.py" pt "$C" "$ZIP" >"$T/gen.log" 2>&1; then
	fail "corrupt.py pt: $(tail -1 "$T/gen.log")"
	exit 0
fi
cat >"$T/X" <<EOF2
#!/bin/sh
exec "$B/ckpt-extract" "\$1" -o "$O/out.safetensors"
EOF2
chmod +x "$T/X"
X=$T/X

while read -r case pattern; do
	[ -n "$case" ] || continue
	refuse "real zip, $case" "$case\.pth: .*$pattern" "$X" "$C/$case.pth"
done <<'LIST'
eocd_count_huge       central directory of 2738 bytes for 1099511627776 records is implausible
cdir_size_huge        central directory \(offset 195986, 1125899906842624 bytes\) outside the archive
cdir_offset_beyond    central directory \(offset 198922, 2738 bytes\) outside the archive
local_offset_beyond   record mlm_tiny_enfr/data\.pkl: local header offset outside the archive
name_len_huge         central directory entry 0 runs past its end
csize_huge            record mlm_tiny_enfr/data\.pkl: local header or data outside the archive
zip64_locator_lies    ZIP64 end record offset outside the archive
duplicate_record      duplicate record mlm_tiny_enfr/data\.pkl
os_system_in_real_zip refusing to call os\.system: not an allowed global
eval_in_real_zip      refusing to call builtins\.eval: not an allowed global
deep_tuples           values nested deeper than 1000 levels
deep_sets             values nested deeper than 1000 levels
deep_newobj_state     values nested deeper than 1000 levels
dup_bomb              more than 8388608 values on the stack
LIST
accept "memo flood (2M memo entries): read in bounded memory" "$X" "$C/memo_flood.pth"
check "nothing ran" test ! -e /tmp/pwned

# Cut anywhere: refused, never a crash.
for src in "$ZIP" "$LEG"; do
	name=$(basename "$src")
	f=$T/$name
	bad=0
	for cut in $(offsets "$(stat -c %s "$src")" 40) 0; do
		head -c "$cut" "$src" >"$f"
		survive "$name cut at $cut" "$name" "$X" "$f" || bad=1
		[ "$rc" -eq 1 ] || { fail "$name cut at $cut: accepted"; bad=1; }
	done
	[ $bad = 0 ] && ok "golden $name truncated at ~65 offsets: refused with one line"
	bad=0
	for off in $(offsets "$(stat -c %s "$src")" 60); do
		cp "$src" "$f"
		flip "$f" "$off" 1
		survive "$name flip at $off" "$name" "$X" "$f" || bad=1
	done
	[ $bad = 0 ] && ok "golden $name with bit flips at ~85 offsets: exit 0 or one clear error"
done

# .npy: the golden GPT pieces and a real 2-D array, cut and flipped.
for src in "$FIX/golden/gpt/input/params_0.npy" "$FIX/real/numpy/vamb_target_latent_float32_73x32.npy"; do
	name=$(basename "$src")
	f=$T/$name
	bad=0
	for cut in $(offsets "$(stat -c %s "$src")" 20 130) 0; do
		head -c "$cut" "$src" >"$f"
		survive "$name cut at $cut" "$name" "$X" "$f" || bad=1
		[ "$rc" -eq 1 ] || { fail "$name cut at $cut: accepted"; bad=1; }
	done
	for off in $(seq 0 127); do
		cp "$src" "$f"
		flip "$f" "$off" 2
		survive "$name flip at $off" "$name" "$X" "$f" || bad=1
	done
	[ $bad = 0 ] && ok "$name: every header byte flipped, cut at ~150 offsets: exit 0 or one clear error"
done

# The OpenAI GPT folder: lying shapes, broken name lists, a short piece.
G=$T/gpt
gfresh() { rm -rf "$G" && cp -r "$FIX/golden/gpt/input" "$G" && chmod -R u+w "$G"; }
gfresh
accept "gpt folder: the control case" "$X" "$G"
echo '[[4611686018427387904, 4]]' >"$G/params_shapes.json"
refuse "gpt: shape whose size overflows" 'params_shapes.json: .*(overflow|total|elements)' "$X" "$G"
gfresh
printf '[[2, 3], [-1]]' >"$G/params_shapes.json"
refuse "gpt: negative dimension" 'params_shapes.json' "$X" "$G"
gfresh
printf '[[2, 3]' >"$G/params_shapes.json"
refuse "gpt: shapes not JSON" 'params_shapes.json' "$X" "$G"
gfresh
printf '{"a": 1}' >"$G/parameters_names.json"
refuse "gpt: names not a list" 'parameters_names.json' "$X" "$G"
gfresh
head -c 500 "$FIX/golden/gpt/input/params_3.npy" >"$G/params_3.npy"
refuse "gpt: a truncated piece" 'params_3.npy' "$X" "$G"
gfresh
head -c 20000000 /dev/zero | tr '\0' '[' >"$G/params_shapes.json"
refuse "gpt: 20 MB of nesting" 'params_shapes.json' "$X" "$G"
