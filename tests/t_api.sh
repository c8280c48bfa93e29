# The public C API (src/ckptconv.h) through the example program
# (tests/c/api_example.c) and the contract tests (tests/c/api_selftest.c).
. "$(dirname "$0")/lib.sh"
G=$FIX/golden
R=$FIX/real
X=$TB/api_example

"$TB/api_selftest" "$T"

# Listing: the same tensors, types and shapes as ckpt-ls, for every format,
# after every tensor was read (TF: CRC-verified).
for c in "$G/bert/input/model.ckpt-100000" "$G/t5/input/model.ckpt-1000000" "$G/gpt/input" \
	"$G/xlm/input/"*.pth "$R/pytorch/legacy_torch_save_mnist_cnn.pt" \
	"$R/safetensors/coffeevampir3_mlp_with_metadata.safetensors" \
	"$R/numpy/vamb_target_latent_float32_73x32.npy"; do
	name=${c#"$FIX/"}
	if "$X" "$c" >"$T/api.list" 2>"$T/api.err"; then
		check_eq "list $name: as ckpt-ls" "$("$B/ckpt-ls" "$c" | cut -f1-3)" "$(cat "$T/api.list")"
	else
		fail "list $name: $(cat "$T/api.err")"
	fi
done

# A corrupt tensor is refused when read, naming it.
mkdir -p "$T/bad" && cp "$G/bert/input/"* "$T/bad/" && chmod u+w "$T/bad/"*
printf '\001' | dd of="$T/bad/model.ckpt-100000.data-00000-of-00001" bs=1 seek=100 conv=notrunc 2>/dev/null
check_fails "a corrupt tensor is refused" "^api_example: .*tensor bert/embeddings/word_embeddings: checksum mismatch" "$X" "$T/bad/model.ckpt-100000"

# Writing from a checkpoint: both files hold every tensor of the original.
c=$G/t5/input/model.ckpt-1000000
check "copy t5 to PyTorch" "$X" "$c" "$T/t5.bin"
check "copy t5 to safetensors" "$X" "$c" "$T/t5.safetensors"
check "copy: torch loads both, same tensors as ckpt-extract" $PY - "$T/t5.bin" "$T/t5.safetensors" "$T/t5.st" <<'PY'
import subprocess, sys, torch
sys.path.insert(0, __import__("os").environ["CK_ROOT"] + "/tests/py")
import st
pt = torch.load(sys.argv[1], weights_only=True)
_, ours, _ = st.read(sys.argv[2])
subprocess.run([__import__("os").environ["CK_BIN"] + "/ckpt-extract",
                __import__("os").environ["CK_FIXTURES"] + "/golden/t5/input/model.ckpt-1000000",
                "-o", sys.argv[3]], check=True)
_, want, _ = st.read(sys.argv[3])
assert set(pt) == set(ours) == set(want), (len(pt), len(ours), len(want))
for k, t in want.items():
    assert st.same(ours[k], t), k
    assert st.same(pt[k].numpy(), t), k
PY

# Writing from a stream, ties included: the PyTorch file is byte for byte
# what pt-pack writes from the same stream.
for m in bert t5; do
	c=$(ls "$G/$m/input/"*.index)
	"$B/ckpt-extract" "$c" | "$B/tensor-remap" "$CK_ROOT/models/$m/tensors.rules" >"$T/$m.stream"
	mkdir -p "$T/$m.api" "$T/$m.pack"
	check "stream $m: copied by the API" sh -c '"$1" - "$2" <"$3"' sh "$X" "$T/$m.api/pytorch_model.bin" "$T/$m.stream"
	"$B/pt-pack" "$T/$m.stream" -o "$T/$m.pack/pytorch_model.bin"
	check "stream $m: the same bytes as pt-pack" cmp "$T/$m.api/pytorch_model.bin" "$T/$m.pack/pytorch_model.bin"
done
check "stream bert: the tied decoder shares the embedding's storage in torch" $PY -c '
import sys, torch
sd = torch.load(sys.argv[1], weights_only=True)
a, b = sd["cls.predictions.decoder.weight"], sd["bert.embeddings.word_embeddings.weight"]
assert a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr() if hasattr(a, "untyped_storage") else a.storage().data_ptr() == b.storage().data_ptr()
' "$T/bert.api/pytorch_model.bin"
check_fails "stream: a truncated stream fails" "^api_example: stdin: tensor .*: stream ends before its data is complete" \
	sh -c 'head -c $(($(wc -c <"$1") - 1000)) "$1" | "$2" - "$3"' sh "$T/bert.stream" "$X" "$T/trunc.bin"
[ ! -e "$T/trunc.bin" ] && ok "stream: no output left after a failure" || fail "stream: trunc.bin left behind"
