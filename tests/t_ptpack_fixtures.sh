# pt-pack on real files: the real safetensors fixtures as they are, and every
# golden case's expected weights with its tied copies declared as aliases
# (tests/py/tie_stream.py); each written as .bin and .safetensors and checked
# against the input with torch (tests/py/ptcheck.py).
. "$(dirname "$0")/lib.sh"

V=$("$B/pt-pack" --version | awk '{print $NF}')
verify() {
	local name=$1 out rc
	shift
	out=$("$PY" "$CK_ROOT/tests/py/ptcheck.py" --version "$V" "$@" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed -n "s#^\(ok\|FAIL\) - #\1 - $name: #p"
	if [ "$rc" -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL'; then
		fail "$name: ptcheck exited $rc"
		printf '%s\n' "$out" | tail -5
	fi
}

for f in "$FIX"/real/safetensors/*.safetensors; do
	name=$(basename "$f" .safetensors)
	check "$name: pt-pack" "$B/pt-pack" "$f" -o "$T/$name/" --format both
	verify "$name" "$f" "$T/$name/" --format both
done

for case in "$FIX"/golden/*/; do
	name=$(basename "$case")
	"$PY" "$CK_ROOT/tests/py/tie_stream.py" "$case" "$T/$name.st" || { fail "$name: tie_stream.py"; continue; }
	check "golden $name: pt-pack" "$B/pt-pack" "$T/$name.st" -o "$T/$name/" --format both
	verify "golden $name" "$T/$name.st" "$T/$name/" --format both
done
