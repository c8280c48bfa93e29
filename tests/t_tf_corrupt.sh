# Corrupt checkpoints: a flipped data byte, a truncated or missing shard, a
# bad index block CRC, a bad magic, a truncated index. Each is exit 1 with
# one line naming the tensor or file, and no output file left behind.
. "$(dirname "$0")/lib.sh"

flip() { # flip FILE OFFSET
	"$PY" -c "
import sys
p, o = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, 'rb').read()); b[o] ^= 0x20; open(p, 'wb').write(b)" "$1" "$2"
}
where() { # where PREFIX NAME -> "SHARD OFFSET" of the tensor
	"$B/ckpt-ls" --json "$1" | "$PY" -c "
import json, sys
t = [t for t in json.load(sys.stdin)['tensors'] if t['name'] == sys.argv[1]][0]
print(t['shard'], t['offset'])" "$2"
}
nothing_left() { # nothing_left NAME OUT
	if [ ! -e "$2" ] && ! ls "$2".tmp.* >/dev/null 2>&1; then ok "$1: no output file left"
	else fail "$1: output left behind"; fi
}

cat >"$T/spec" <<'SPEC'
@shards 2
encoder/layer_0/kernel F32 64,64 shard=1
encoder/layer_0/bias F32 64 shard=1
embeddings F16 100,16 part=0:2 shard=0
global_step I64 - shard=0
SPEC
fresh() { rm -rf "$T/c" && mkdir -p "$T/c" && "$TB/mkckpt" "$T/spec" "$T/c/m"; }
P=$T/c/m
OUT=$T/out.st

fresh
set -- $(where "$P" encoder/layer_0/kernel)
flip "$P.data-0000$1-of-00002" $(($2 + 1000))
check_fails "flipped data byte: the tensor is named" \
	'm.data-00001-of-00002: tensor encoder/layer_0/kernel: checksum mismatch' \
	"$B/ckpt-extract" "$P" -o "$OUT"
nothing_left "flipped data byte" "$OUT"
check_fails "... --verify-only finds it too" 'tensor encoder/layer_0/kernel: checksum' \
	"$B/ckpt-extract" --verify-only "$P"
check "... other tensors still extract" "$B/ckpt-extract" "$P" encoder/layer_0/bias -o "$OUT"
rm -f "$OUT"
"$B/ckpt-extract" "$P" 2>"$T/err" | cat >"$T/stream"
check_eq "... to a pipe: one error line" 1 "$(wc -l <"$T/err")"
"$PY" - "$T/stream" <<'PYEOF' && ok "... to a pipe: the stream stops before the corrupt tensor's bytes" || fail "stream holds corrupt data"
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
begin = h["encoder/layer_0/kernel"]["data_offsets"][0]
assert len(b) - 8 - n <= begin, (len(b), begin)
PYEOF
rm -f "$OUT"

fresh
"$B/ckpt-ls" --json "$P" | "$PY" -c "
import json, sys
t = [t for t in json.load(sys.stdin)['tensors'] if t['name'] == 'embeddings'][0]
s = t['slices'][1]; print(s['shard'], s['offset'])" >"$T/slice"
read -r sh off <"$T/slice"
flip "$P.data-0000$sh-of-00002" $((off + 5))
check_fails "flipped byte in a slice: the partitioned tensor is named" 'tensor embeddings: checksum mismatch' \
	"$B/ckpt-extract" "$P" -o "$OUT"
nothing_left "flipped slice byte" "$OUT"

fresh
truncate -s 100 "$P.data-00001-of-00002"
check_fails "truncated shard: the file is named" 'm.data-00001-of-00002: tensor .*truncated' \
	"$B/ckpt-extract" "$P" -o "$OUT"
nothing_left "truncated shard" "$OUT"
check_fails "... even when streaming, before any output" 'truncated' "$B/ckpt-extract" "$P"

fresh
rm "$P.data-00000-of-00002"
check_fails "missing shard: the file is named" 'm.data-00000-of-00002: cannot open data shard' \
	"$B/ckpt-extract" "$P" -o "$OUT"
nothing_left "missing shard" "$OUT"
check "... while ckpt-ls still lists it" "$B/ckpt-ls" "$P"

fresh
flip "$P.index" 10
check_fails "bad index block CRC" 'm.index: data block at offset 0: block checksum mismatch' \
	"$B/ckpt-extract" "$P" -o "$OUT"
nothing_left "bad block CRC" "$OUT"
check_fails "... ckpt-ls refuses it too" 'checksum mismatch' "$B/ckpt-ls" "$P"

fresh
flip "$P.index" $(($(stat -c %s "$P.index") - 1))
check_fails "bad magic" 'm.index: not a checkpoint index \(bad table magic\)' "$B/ckpt-extract" "$P" -o "$OUT"
nothing_left "bad magic" "$OUT"

fresh
truncate -s 30 "$P.index"
check_fails "truncated index" 'm.index: not a checkpoint index' "$B/ckpt-ls" "$P"

fresh
: >"$P.index"
check_fails "empty index" 'm.index: not a checkpoint index' "$B/ckpt-extract" "$P" -o "$OUT"
nothing_left "empty index" "$OUT"

# A real checkpoint with one flipped byte.
mkdir -p "$T/real"
cp "$FIX"/real/complete/tfserving_half_plus_two_mkl/variables.* "$T/real/"
chmod u+w "$T"/real/*
set -- $(where "$T/real/variables" conv2d/kernel)
flip "$T/real/variables.data-00000-of-00001" "$2"
check_fails "real checkpoint, flipped byte: the tensor is named" 'tensor conv2d/kernel: checksum mismatch' \
	"$B/ckpt-extract" "$T/real/variables" -o "$OUT"
nothing_left "real checkpoint" "$OUT"
