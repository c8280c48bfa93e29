# The OpenAI GPT release folder: params_N.npy concatenated and cut at the
# shapes of params_shapes.json, compared with numpy; names from
# parameters_names.json (wpe, wte, then without model/ and :0).
. "$(dirname "$0")/lib.sh"

G=$FIX/golden/gpt/input
check "golden gpt folder extracts" "$B/ckpt-extract" "$G" -o "$T/gpt.st"
"$PY" "$CK_ROOT/tests/py/torchread.py" check "$G" "$T/gpt.st" || fail "gpt: comparison script failed"
check_eq "first pieces are wpe, wte, then the names" "wpe	F32	32,32
wte	F32	100,32
h0/attn/c_attn/w	F32	1,32,96" "$("$B/ckpt-ls" "$G" | head -3)"
check_eq "26 pieces (the unused clf names are ignored)" 26 "$("$B/ckpt-ls" "$G" | wc -l)"
check_eq "provenance covers the JSON files and the ten npy files" 12 \
	"$("$PY" -c 'import json,struct,sys; b=open(sys.argv[1],"rb").read(); n=struct.unpack("<Q",b[:8])[0]; m=json.loads(b[8:8+n])["__metadata__"]; print(sum(k.startswith("ckptconv.sha256.") for k in m))' "$T/gpt.st")"

mkdir -p "$T/short"
cp "$G"/params_shapes.json "$G"/parameters_names.json "$T/short/"
for k in 0 1 2 3 4 5 6 7 8; do cp "$G/params_$k.npy" "$T/short/"; done
check_fails "a missing params file is a size mismatch" 'hold 26669 elements but params_shapes.json needs 29632' \
	"$B/ckpt-ls" "$T/short"
mkdir -p "$T/badshape"
cp "$G"/*.npy "$G"/parameters_names.json "$T/badshape/"
echo '[[32,32],[100,-1]]' >"$T/badshape/params_shapes.json"
check_fails "a negative size refused" 'shape 1 has a bad size' "$B/ckpt-ls" "$T/badshape"
echo '[[4294967296,4294967296,4294967296]]' >"$T/badshape/params_shapes.json"
check_fails "a shape product overflow refused" 'size overflows' "$B/ckpt-ls" "$T/badshape"
