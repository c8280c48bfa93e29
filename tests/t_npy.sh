# .npy files: the real ones and generated variants (every numeric dtype, both
# byte orders, C and Fortran order, format versions 1-3, 0-d, empty) compared
# with numpy's np.load; non-numeric arrays refused.
. "$(dirname "$0")/lib.sh"

# check_npy FILE — extract and compare with np.load
check_npy() {
	local f=$1 name
	name=$(basename "$f" .npy)
	if ! "$B/ckpt-extract" "$f" -o "$T/$name.st" 2>"$T/$name.err"; then
		fail "$name: ckpt-extract failed: $(head -1 "$T/$name.err")"; return
	fi
	"$PY" "$CK_ROOT/tests/py/torchread.py" check "$f" "$T/$name.st" || fail "$name: comparison script failed"
}

for f in "$FIX"/real/numpy/*.npy; do
	case $f in *_object.npy | *_S16_*.npy) continue ;; esac
	check_npy "$f"
done
check_fails "real object-dtype npy refused" 'object array \(dtype \|O\).*refused' \
	"$B/ckpt-ls" "$FIX/real/numpy/vamb_abundance_samplenames_object.npy"
check_fails "real bytes-dtype npy refused" '\|S16.*not a numeric type' \
	"$B/ckpt-extract" "$FIX/real/numpy/vamb_abundance_refhash_S16_0d.npy" -o "$T/s16.st"
check "no output left after a refused npy" test ! -e "$T/s16.st"

if "$PY" "$CK_ROOT/tests/py/torchread.py" gen-npy "$T/gen" >"$T/gen.log" 2>&1; then
	ok "generated .npy variants ($(ls "$T/gen" | wc -l) files)"
	for f in "$T"/gen/*.npy; do
		"$B/ckpt-extract" "$f" -o "$T/$(basename "$f" .npy).st" || fail "$(basename "$f"): ckpt-extract failed"
		echo "$f $T/$(basename "$f" .npy).st"
	done >"$T/pairs"
	"$PY" "$CK_ROOT/tests/py/torchread.py" check-pairs <"$T/pairs" >"$T/pairs.log"
	grep -v '^ok - ' "$T/pairs.log"
	check_eq "every generated variant identical to np.load" "$(wc -l <"$T/pairs")" "$(grep -c '^ok - ' "$T/pairs.log")"
else
	fail "generated .npy variants: $(tail -1 "$T/gen.log")"
fi
check_eq "a .npy lists as one tensor named after the file" "be_f4_F_v3	F32	3,4,5" \
	"$("$B/ckpt-ls" "$T/gen/be_f4_F_v3.npy")"
