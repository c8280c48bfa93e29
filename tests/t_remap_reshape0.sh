# reshape with 0: an input axis's size kept, counted from the front before
# the -1 and from the back after it (one rule for every model size).
. "$(dirname "$0")/lib.sh"
cat >"$T/r.rules" <<'R'
rename q -> q2  reshape 0,-1
rename o -> o2  reshape -1,0
rename b -> b2  reshape -1
rename m -> m2  reshape 0,2,-1,0
rename bad -> bad2  reshape 0,0,0,0
R
printf 'q\tF32\t768,12,64\no\tF32\t12,64,768\nb\tF32\t12,64\nm\tF32\t3,4,5,6\n' >"$T/in.tsv"
check_eq "0,-1 / -1,0 / -1 / 0,2,-1,0" "$(printf 'q2\tF32\t768,768\no2\tF32\t768,768\nb2\tF32\t768\nm2\tF32\t3,2,10,6')" \
	"$($B/tensor-remap "$T/r.rules" --list "$T/in.tsv" 2>&1)"
printf 'bad\tF32\t2,3,4\n' >"$T/bad.tsv"
check_fails "a 0 past the input's axes is refused" "tensor bad: cannot reshape \[2,3,4\] \(24 elements\) to \[0,0,0,0\]" \
	$B/tensor-remap "$T/r.rules" --list "$T/bad.tsv"
mkdir -p "$T/q"
"$TB/mkckpt" --expect "$T/q.st" - "$T/q/ckpt" <<'S'
o F32 3,4,12
S
printf 'rename o -> o2  reshape -1,0\n' >"$T/o.rules"
$B/ckpt-extract "$T/q/ckpt" --remap "$T/o.rules" -o "$T/o.st"
check "the data is unchanged (a reshape moves no bytes)" $PY -c '
import sys; sys.path.insert(0, sys.argv[3]); import st
_, a, _ = st.read(sys.argv[1]); _, b, _ = st.read(sys.argv[2])
assert b["o2"].shape == (12, 12) and a["o"].shape == (3, 4, 12) and a["o"].data.tobytes() == b["o2"].data.tobytes()' "$T/q.st" "$T/o.st" "$CK_ROOT/tests/py"
