# .safetensors files as checkpoints: the real files read through ckpt-extract
# are byte-identical to a plain parse of the file; a truncated one is refused.
. "$(dirname "$0")/lib.sh"

for f in "$FIX"/real/safetensors/*.safetensors; do
	n=$(basename "$f" .safetensors)
	if "$B/ckpt-extract" "$f" -o "$T/$n.st"; then
		"$PY" "$CK_ROOT/tests/py/torchread.py" check "$f" "$T/$n.st" || fail "$n: comparison script failed"
	else
		fail "$n: ckpt-extract failed"
	fi
done
f=$FIX/real/safetensors/tinygrad_mnist_mlp.safetensors
head -c 300000 "$f" >"$T/cut.safetensors"
check_fails "truncated safetensors file refused" 'describes 406688 bytes of file but it has 300000' \
	"$B/ckpt-ls" "$T/cut.safetensors"
{ cat "$f"; printf 'xx'; } >"$T/long.safetensors"
check_fails "trailing bytes refused" 'describes 406688 bytes of file but it has 406690' \
	"$B/ckpt-extract" "$T/long.safetensors" -o "$T/long.st"
