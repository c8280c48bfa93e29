#!/usr/bin/env bash
# seeds.sh OUT BIN — make one seed corpus per fuzz target under OUT/<target>/
# from the real and golden fixtures ($CK_FIXTURES, default tests/fixtures),
# the model data in models/, and the hostile files tests/py/torchread.py
# writes. BIN holds the plain tools (ckpt-ls lists tensors for the rule and
# config seeds); build-fuzz/seed_bundle turns checkpoints into bundle seeds.
set -eu
out=${1:?usage: seeds.sh OUT BIN}
bin=${2:?usage: seeds.sh OUT BIN}
root=$(cd "$(dirname "$0")/../.." && pwd)
fix=${CK_FIXTURES:-$root/tests/fixtures}
py=${CK_PYTHON:-/usr/bin/python3}
max=262144 # seeds larger than this only slow the fuzzer down
SEP='%%%%'

rm -rf "$out"
for t in table bundle ckpt_state safetensors npy pickle zip torch openai_gpt rules cfg gin objgraph; do
	mkdir -p "$out/fuzz_$t"
done
seed() { # seed TARGET < data
	cat >"$(mktemp "$out/fuzz_$1/seed.XXXXXX")"
}
small() { [ "$(stat -c %s "$1")" -le $max ]; }

# TF checkpoints: tables (both modes), bundle records + shards, state files.
while IFS= read -r idx; do
	{ printf '\001'; cat "$idx"; } | seed table
	{ printf '\000'; cat "$idx"; } | seed table
	"$root/build-fuzz/seed_bundle" "${idx%.index}" "$out/fuzz_bundle/$(echo "$idx" | md5sum | cut -c1-12)"
done < <(find "$fix" -name '*.index' | sort)
# Small tables the writer makes: snappy blocks, many blocks, slices, strings.
spec=$(mktemp -d)
trap 'rm -rf "$spec"' EXIT
printf '@snappy\n@block_size 64\na F32 4,4\nb/c F16 3 part=0:2\nd STRING 2\ne I64 -\n' >"$spec/s1"
printf '@shards 2\nx BF16 2,3 part=1:3 wholeext\ny U8 5 shard=1\nz BOOL 2\n' >"$spec/s2"
for s in s1 s2; do
	"$root/build/tests/mkckpt" "$spec/$s" "$spec/$s" >/dev/null
	{ printf '\001'; cat "$spec/$s.index"; } | seed table
	"$root/build-fuzz/seed_bundle" "$spec/$s" "$out/fuzz_bundle/mk_$s"
done
find "$fix" -name checkpoint -type f | sort | while IFS= read -r f; do seed ckpt_state <"$f"; done
printf 'model_checkpoint_path: "/elsewhere/model.ckpt-2"\nall_model_checkpoint_paths: "model.ckpt-1"\n' | seed ckpt_state
printf "model_checkpoint_path: 'a\\\\x41\\\\101\\\\n'\n" | seed ckpt_state

# safetensors: every file small enough.
find "$fix" -name '*.safetensors' | sort | while IFS= read -r f; do if small "$f"; then seed safetensors <"$f"; fi; done

# npy: real and golden files, members of the .npz files, hostile ones.
hostile=$spec/hostile
CK_FIXTURES=$fix "$py" "$root/tests/py/torchread.py" gen-hostile "$hostile" >/dev/null
CK_FIXTURES=$fix "$py" "$root/tests/py/torchread.py" gen-npy "$spec/npy" >/dev/null
CK_FIXTURES=$fix "$py" "$root/tests/py/torchread.py" gen-torch "$spec/torch" >/dev/null
find "$fix" "$spec/npy" "$hostile" -name '*.npy' | sort | while IFS= read -r f; do if small "$f"; then seed npy <"$f"; fi; done
"$py" - "$out/fuzz_npy" "$out/fuzz_pickle" $(find "$fix" "$spec/torch" "$hostile" -name '*.npz' -o -name '*.pt' -o -name '*.pth' | sort) <<'PY'
import os, sys, zipfile
npy, pkl, files = sys.argv[1], sys.argv[2], sys.argv[3:]
for i, f in enumerate(files):
    if not zipfile.is_zipfile(f):
        open(os.path.join(pkl, "legacy%d" % i), "wb").write(open(f, "rb").read(65536))
        continue
    try:
        z = zipfile.ZipFile(f)
        for j, name in enumerate(z.namelist()):
            if name.endswith(".npy"):
                open(os.path.join(npy, "npz%d_%d" % (i, j)), "wb").write(z.read(name)[:262144])
            elif name.endswith(".pkl") and z.getinfo(name).file_size <= 65536:
                open(os.path.join(pkl, "zip%d_%d" % (i, j)), "wb").write(z.read(name))
    except Exception:
        pass  # a hostile archive: it seeds the zip target instead
PY

# zip and torch: every archive and checkpoint small enough.
find "$fix" "$spec/torch" "$hostile" -name '*.npz' -o -name '*.pt' -o -name '*.pth' | sort |
	while IFS= read -r f; do
		small "$f" || continue
		if head -c 2 "$f" | grep -q PK; then seed zip <"$f"; fi
		seed torch <"$f"
	done

# OpenAI GPT folders: the golden release and a small one.
g=$fix/golden/gpt/input
{
	cat "$g/params_shapes.json"; echo "$SEP"; cat "$g/parameters_names.json"
	for k in 0 1 2 3 4 5 6 7 8 9; do echo "$SEP"; cat "$g/params_$k.npy"; done
} | seed openai_gpt
"$py" - "$out/fuzz_openai_gpt/small" <<'PY'
import io, sys
import numpy as np
def npy(a):
    b = io.BytesIO(); np.save(b, a); return b.getvalue()
sep = b"%%%%\n"
parts = [b"[[2, 3], [4], [1, 1, 2]]", b'["model/we:0", "model/h0/w:0", "model/h0/b:0"]',
         npy(np.arange(7, dtype=np.float32)), npy(np.arange(5, dtype=np.float32))]
open(sys.argv[1], "wb").write(sep.join(parts))
PY

# Rules and config maps with the tensors they meet.
for m in "$root"/models/*/; do
	m=$(basename "$m")
	case $m in xlm) in=$fix/golden/xlm/input/mlm_tiny_enfr.pth ;; *) in=$fix/golden/$m/input ;; esac
	[ -e "$in" ] || continue
	if [ -f "$root/models/$m/tensors.rules" ]; then
		{ cat "$root/models/$m/tensors.rules"; echo "$SEP"; "$bin/ckpt-ls" "$in" 2>/dev/null || true; } | seed rules
	fi
	for orig in "$fix"/golden/"$m"/input/*config*.json "$fix"/golden/"$m"/input/hparams.json \
		"$fix"/golden/"$m"/input/*.gin ""; do
		[ -z "$orig" ] || [ -f "$orig" ] || continue
		{
			cat "$root/models/$m/config.map"; echo "$SEP"
			[ -z "$orig" ] || cat "$orig"; echo "$SEP"
			"$bin/ckpt-ls" "$fix/golden/$m/expected/model.safetensors" 2>/dev/null || true
		} | seed cfg
	done
done
printf 'drop global_step\nbert/(*)/kernel -> bert.$1.weight transpose\n%s\nbert/a/kernel\tF32\t2,3\nglobal_step\tI64\t\n' "$SEP" | seed rules

# gin: the real and golden operative configs.
find "$fix" -name '*.gin' | sort | while IFS= read -r f; do seed gin <"$f"; done
printf 'a = %%b\nb = [1, (2.5, None), "x"]\nc = @f()\nd = \\\n  3\n%s\na\nb\nc\nd\n' "$SEP" | seed gin

for d in "$out"/*/; do
	echo "seeds: $(basename "$d"): $(ls "$d" | wc -l) files"
done
# objgraph: a root with child x holding one variable; the same with a cycle
# back to the root and an optimizer slot (no fixture holds a graph: the real
# TF2 index comes without its data file).
printf '\012\007\012\005\010\001\022\001x\0123\0221\012\016VARIABLE_VALUE\022\001x\032\034x/.ATTRIBUTES/VARIABLE_VALUE' | seed objgraph
printf '\012\007\012\005\010\001\022\001x\012\030\012\005\010\000\022\001b\022\006\012\001v\032\001k\032\007\010\001\022\001m\030\000%s\nk\n' "$SEP" | seed objgraph
