# Hostile and corrupt inputs for the pickle, zip, PyTorch, npy readers (written
# by tests/py/torchread.py gen-hostile): each one exits 1 (never a signal) with
# one clear line, in bounded time and memory, and leaves no output file.
. "$(dirname "$0")/lib.sh"

# Plain builds also run under a 2 GiB address-space limit (sanitizer builds
# reserve huge shadow mappings, so they get the time limit only).
bounded() {
	case $B in
	*-san) timeout 60 "$@" ;;
	*) (ulimit -v 2097152 && exec timeout 60 "$@") ;;
	esac
}

H=$T/h
if ! CK_FIXTURES=$FIX "$PY" "$CK_ROOT/tests/py/torchread.py" gen-hostile "$H" >"$T/gen.log" 2>&1; then
	fail "gen-hostile: $(tail -1 "$T/gen.log")"
	exit 0
fi

while read -r file pattern; do
	[ -n "$file" ] || continue
	check_fails "$file" "$pattern" bounded "$B/ckpt-extract" "$H/$file" -o "$T/out.st"
	[ -e "$T/out.st" ] && fail "$file: output file left behind"
done <<'LIST'
os_system.pt                     refusing to call os\.system: not an allowed global
posix_system_legacy.pt           refusing to call posix\.system
builtins_eval.pt                 refusing to call builtins\.eval
stack_global_eval.pt             refusing to call builtins\.eval
main_call.pt                     refusing to call __main__\.X
inst_os.pt                       refusing to call os\.system
obj_call.pt                      refusing to call subprocess\.Popen
ext_opcode.pt                    extension-registry opcode \(EXT1\) refused
deep_marks.pt                    more than 65536 nested MARKs
deep_lists.pt                    values nested deeper than 1000 levels
deep_dicts.pt                    values nested deeper than 1000 levels
memo_get_unset.pt                memo index 5 was never stored
memo_get_huge.pt                 memo index 4294967295 was never stored
memo_put_huge.pt                 memo index 4294967294 was never stored
huge_binunicode.pt               input ends inside an opcode \(wants 2147483647 more bytes
huge_binbytes8.pt                input ends inside an opcode \(wants 4611686018427387904 more bytes
huge_long4.pt                    input ends inside an opcode
laughs.pt                        expand to more than 1048576 repeated items
stack_underflow.pt               stack underflow
no_stop.pt                       input ends inside an opcode
build_on_int.pt                  BUILD on a int
storage_too_big_legacy.pt        storage 0: 4398046511104 bytes claimed but only 16 left in the file
storage_count_mismatch_legacy.pt storage 0: the file says 5 elements, the pickle 4
storage_too_big_zip.pt           storage 0: its record holds 16 bytes but the pickle says 4398046511104
storage_missing_zip.pt           storage 7: no record archive/data/7
stride_outside.pt                tensor w: view \(offset 0, strides \[4,1\]\) reaches outside its storage 0 of 4 elements
offset_outside.pt                tensor w: view \(offset 3, strides \[1\]\) reaches outside
shape_overflow.pt                tensor w: shape size overflows
expand_bomb.pt                   tensor w: an expanded view of 4398046511104 bytes
bad_storage_class.pt             unsupported storage type torch\.ComplexFloatStorage
legacy_bad_magic.pt              not a checkpoint format this tool reads
legacy_trailing.pt               4 unexpected bytes after the last storage
compressed_record.pt             record mlm_tiny_enfr/data\.pkl is compressed \(method 8\); only stored records are supported
outside_top_folder.pt            record other/x is outside the top folder archive/
npy_header_beyond.npy            header length 65535 runs past the end of the file
npy_header_beyond_v2.npy         header length 4294967280 runs past the end of the file
npy_shape_overflow.npy           shape product overflows
npy_truncated_data.npy           data truncated: the shape needs 40 bytes, the file has 12
npy_trailing_data.npy            8 unexpected bytes after the data
npy_object.npy                   object array .*refused
npy_code.npy                     npy header: expected a string
npy_extra_key.npy                unexpected or repeated key 'x'
npy_negative_dim.npy             shape must be a tuple of non-negative integers
npy_bad_version.npy              unsupported \.npy format version 7\.0
npy_structured.npy               structured dtype .* not supported
LIST

for f in "$H"/truncated_zip_*.pt; do
	check_fails "$(basename "$f")" "not a zip archive|no zip end-of-central-directory|outside the archive" \
		bounded "$B/ckpt-ls" "$f"
done

# A legacy file cut anywhere: in the pickles, in a storage's count or data.
L=$FIX/golden/xlm_legacy/input/checkpoint.pth
size=$(wc -c <"$L")
for cut in 1 20 100 5000 12447 12450 12460 50000 $((size - 1)); do
	head -c "$cut" "$L" >"$T/legacy_cut.pth"
	check_fails "legacy cut at $cut" "input ends|not a checkpoint format|file ends before|claimed but only|bad magic" \
		bounded "$B/ckpt-ls" "$T/legacy_cut.pth"
done

# Flipped bytes in the golden zip and legacy pickles: any outcome but a crash
# or a hang (most flips are still valid files).
for src in "$FIX/golden/xlm/input/mlm_tiny_enfr.pth" "$L"; do
	bad=0
	for off in 3 17 64 100 333 777 1000 2500 4000 6000 9000 10500; do
		"$PY" -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); o=int(sys.argv[2]); b[o]^=0xff; open(sys.argv[3],"wb").write(b)' \
			"$src" "$off" "$T/flip.pth"
		bounded "$B/ckpt-extract" "$T/flip.pth" -o "$T/flip.st" 2>"$T/flip.err"
		rc=$?
		if [ "$rc" -gt 1 ] || { [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/flip.err")" -ne 1 ]; }; then
			bad=1
			fail "$(basename "$src") flipped at $off: exit $rc: $(head -2 "$T/flip.err")"
		fi
		rm -f "$T/flip.st"
	done
	[ $bad = 0 ] && ok "$(basename "$src"): byte flips give exit 0 or one clear error"
done

# Not hostile: objects stored with NEWOBJ stay inert; cycles are shown.
check "inert object read" "$B/ckpt-ls" "$H/ok_inert_object.pt"
check_eq "inert object as JSON" '{"__class__": "__main__.Net", "__args__": [], "__state__": {"lr": 0.1}}' \
	"$("$B/ckpt-ls" --values "$H/ok_inert_object.pt" | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))')"
check_eq "a list that contains itself" '[{"__cycle__": "(top)"}]' \
	"$("$B/ckpt-ls" --values "$H/ok_cycle.pt" | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))')"
check "legacy storage view read" "$B/ckpt-extract" "$H/ok_legacy_storage_view.pt" -o "$T/view.st"
check_eq "legacy storage view: the right window" "[3.0, 4.0]" \
	"$("$PY" -c 'import json,struct,sys; b=open(sys.argv[1],"rb").read(); n=struct.unpack("<Q",b[:8])[0]; print(list(struct.unpack("<2f", b[8+n:])))' "$T/view.st")"
check "nothing ran" test ! -e /tmp/pwned
