# ckpt-extract on the real complete checkpoints and the golden TF inputs:
# every CRC verified, the output compared byte for byte with the tensors as
# an independent Python reader takes them from the data files; selection,
# streaming to a pipe, metadata, usage.
. "$(dirname "$0")/lib.sh"

n=0
for idx in "$FIX"/real/complete/*/*.index "$FIX"/golden/*/input/*.index; do
	p=${idx%.index}
	name=${p#"$FIX"/}
	out=$T/out.safetensors
	rm -f "$out"
	if ! "$B/ckpt-extract" "$p" -o "$out" 2>"$T/err"; then
		fail "$name: extract: $(head -1 "$T/err")"; continue
	fi
	n=$((n + 1))
	if "$PY" "$CK_ROOT/tests/py/tfbundle.py" check "$p" "$out" >"$T/py" 2>&1; then
		ok "$name: every CRC verified, output = data-file bytes ($(cat "$T/py"))"
	else
		fail "$name: $(tail -1 "$T/py")"
	fi
	strings=$("$B/ckpt-ls" "$p" | awk -F'\t' '$2 == "STRING"' | wc -l)
	check_eq "$name: one note per string tensor" "$strings" "$(grep -c 'string tensor .* verified and skipped' "$T/err")"
done
check_eq "9 real complete + 7 golden checkpoints extracted" 16 "$n"

p=$FIX/real/complete/tf2_keras_savedmodel_2shards_cartpole/variables
"$B/ckpt-extract" "$p" -o "$T/file.st" 2>/dev/null
"$B/ckpt-extract" "$p" 2>/dev/null | cat >"$T/pipe.st"
check "stdout through a pipe = -o file" cmp "$T/file.st" "$T/pipe.st"
"$B/ckpt-extract" "$p" -o "$T/again.st" 2>/dev/null
check "deterministic: same bytes twice" cmp "$T/file.st" "$T/again.st"
sha=$(sha256sum "$p.index" | cut -d' ' -f1)
"$PY" - "$T/file.st" "$sha" <<'PYEOF' && ok "metadata: format pt, version, sha256 of the index" || fail "metadata"
import json, struct, sys
b = open(sys.argv[1], "rb").read()
meta = json.loads(b[8:8 + struct.unpack("<Q", b[:8])[0]])["__metadata__"]
assert meta["format"] == "pt" and meta["ckptconv.version"]
assert meta["ckptconv.sha256.variables.index"] == sys.argv[2], meta
assert len(meta) == 3, meta
PYEOF

# Selection: names come out in index order; every name must exist.
a="layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE"
z="layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE"
"$B/ckpt-extract" "$p" "$a" "$z" -o "$T/two.st"
"$PY" - "$T/two.st" "$z" "$a" <<'PYEOF' && ok "NAME ... picks those, in index order" || fail "NAME selection"
import json, struct, sys
b = open(sys.argv[1], "rb").read()
h = json.loads(b[8:8 + struct.unpack("<Q", b[:8])[0]])
h.pop("__metadata__")
assert list(h) == sys.argv[2:], list(h)
PYEOF
check_fails "an unknown NAME is an error" 'no tensor named nope' "$B/ckpt-extract" "$p" nope -o "$T/x.st"
test ! -e "$T/x.st" && ok "... and writes nothing" || fail "output left behind"
"$B/ckpt-extract" "$p" --match 'optimizer/(m|v)/' --match '^optimizer/iter' -o "$T/m.st"
"$B/ckpt-ls" "$p" | cut -f1 | grep -E 'optimizer/(m|v)/|^optimizer/iter' >"$T/want"
"$PY" -c "
import json, struct, sys
b = open('$T/m.st', 'rb').read()
h = json.loads(b[8:8 + struct.unpack('<Q', b[:8])[0]]); h.pop('__metadata__')
print('\n'.join(h))" >"$T/got"
check "--match REGEX (repeated) picks the matching tensors" cmp "$T/want" "$T/got"
check_fails "--match that matches nothing is an error" 'no tensor matches --match zzz' \
	"$B/ckpt-extract" "$p" --match zzz -o "$T/x.st"
check_exit "a bad regular expression is a usage error" 2 "$B/ckpt-extract" "$p" --match '(' -o "$T/x.st"
"$B/ckpt-extract" "$p" _CHECKPOINTABLE_OBJECT_GRAPH -o "$T/s.st" 2>"$T/err"
ntensors=$("$PY" -c "
import json, struct
b = open('$T/s.st', 'rb').read()
print(len(json.loads(b[8:8 + struct.unpack('<Q', b[:8])[0]])) - 1)")
check_eq "a chosen string tensor is verified, skipped, noted" "1 0" \
	"$(grep -c 'verified and skipped' "$T/err") $ntensors"

# --verify-only.
out=$("$B/ckpt-extract" --verify-only "$p")
check_eq "--verify-only reports what it verified" "$p: 26 tensors verified (13645 bytes)" "$out"
check_exit "--verify-only with -o is a usage error" 2 "$B/ckpt-extract" --verify-only "$p" -o "$T/v.st"

# Usage.
check_exit "--help exits 0" 0 "$B/ckpt-extract" --help
"$B/ckpt-extract" --help | grep -q '^usage: ckpt-extract' && ok "--help prints usage" || fail "--help"
"$B/ckpt-extract" --version | grep -q ckptconv && ok "--version" || fail "--version"
check_exit "no argument is a usage error" 2 "$B/ckpt-extract"
check_exit "-o without a file is a usage error" 2 "$B/ckpt-extract" "$p" -o
check_exit "an unknown option is a usage error" 2 "$B/ckpt-extract" "$p" --bogus
