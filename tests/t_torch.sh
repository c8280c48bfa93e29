# PyTorch checkpoints (zip and legacy): the real files, the golden XLM inputs
# and generated files with views, strides, shared storages and nested values,
# every tensor and the --values JSON compared with torch.load.
. "$(dirname "$0")/lib.sh"

# check_torch NAME FILE — extract everything and compare with torch.load
check_torch() {
	local name=$1 f=$2
	if ! "$B/ckpt-extract" "$f" -o "$T/$name.st" 2>"$T/$name.err"; then
		fail "$name: ckpt-extract failed: $(head -1 "$T/$name.err")"; return
	fi
	if ! "$B/ckpt-ls" --values "$f" >"$T/$name.json" 2>"$T/$name.err"; then
		fail "$name: ckpt-ls --values failed: $(head -1 "$T/$name.err")"; return
	fi
	"$PY" "$CK_ROOT/tests/py/torchread.py" check "$f" "$T/$name.st" "$T/$name.json" ||
		fail "$name: comparison script failed"
	check_eq "$name: ckpt-ls lists what ckpt-extract wrote" \
		"$("$B/ckpt-ls" "$f" | cut -f1 | sort | md5sum)" \
		"$("$PY" -c 'import json,struct,sys; b=open(sys.argv[1],"rb").read(); n=struct.unpack("<Q",b[:8])[0]; h=json.loads(b[8:8+n]); m=h.pop("__metadata__",None) or {}; print("\n".join(sorted(list(h)+[k[15:] for k in m if k.startswith("ckptconv.alias.")])))' "$T/$name.st" | md5sum)"
}

for f in "$FIX"/real/pytorch/*.pt; do
	check_torch "real_$(basename "$f" .pt)" "$f"
done
check_torch golden_xlm "$FIX/golden/xlm/input/mlm_tiny_enfr.pth"
check_torch golden_xlm_legacy "$FIX/golden/xlm_legacy/input/checkpoint.pth"

if "$PY" "$CK_ROOT/tests/py/torchread.py" gen-torch "$T/gen" >"$T/gen.log" 2>&1; then
	ok "generated torch.save files"
	for f in "$T"/gen/*; do
		check_torch "gen_$(basename "$f")" "$f"
	done
else
	fail "generated torch.save files: $(tail -1 "$T/gen.log")"
fi

# names and layout of the views
check_eq "xlm names are model/<key>" "model/embeddings.weight" \
	"$("$B/ckpt-ls" "$FIX/golden/xlm/input/mlm_tiny_enfr.pth" | cut -f1 | grep -x 'model/embeddings.weight')"
check_eq "xlm params tensor named" "params/pred_probs	F32	3" \
	"$("$B/ckpt-ls" "$FIX/golden/xlm/input/mlm_tiny_enfr.pth" | grep '^params/pred_probs')"
check_eq "legacy optimizer state named with int keys" "model_optimizer/state/0/exp_avg	F32	3" \
	"$("$B/ckpt-ls" "$FIX/golden/xlm_legacy/input/checkpoint.pth" | grep '^model_optimizer/state/0/exp_avg	')"
check_eq "bare state dict keeps its keys" "0.weight
0.bias
1.weight
1.bias" "$("$B/ckpt-ls" "$T/gen/state_dict.bin" | cut -f1)"
check_eq "transposed view listed with its strides" '[1,8]' \
	"$("$B/ckpt-ls" --json "$T/gen/zip_p2.pt" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps([t["stride"] for t in d["tensors"] if t["name"]=="model/w_t"][0],separators=(",",":")))')"
check_eq "zip vs legacy container reported" "zip legacy" \
	"$("$B/ckpt-ls" --json "$T/gen/zip_p2.pt" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["container"])') $("$B/ckpt-ls" --json "$T/gen/legacy_p2.pt" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["container"])')"
check_eq "xlm dico_word2id order and ids" "<s>=0 </s>=1 w0@@=14" \
	"$("$B/ckpt-ls" --values "$FIX/golden/xlm/input/mlm_tiny_enfr.pth" | "$PY" -c 'import json,sys,collections; d=json.load(sys.stdin,object_pairs_hook=collections.OrderedDict)["dico_word2id"]; k=list(d); print(" ".join("%s=%d"%(x,d[x]) for x in (k[0],k[1],k[14])))')"
check_eq "ckpt-ls --values of a safetensors file is its metadata" '{"version": "1.0", "git_tag": "v1.45"}' \
	"$("$B/ckpt-ls" --values "$FIX/real/safetensors/coffeevampir3_mlp_with_metadata.safetensors" | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["__metadata__"]))')"
check_exit "--json and --values together is a usage error" 2 "$B/ckpt-ls" --json --values "$T/gen/zip_p2.pt"

# Tied weights: one view of one storage saved under two names is listed with
# =FIRST and extracted once, the second name as an alias.
check_eq "tied name listed with its first name" "model/tied_b	F32	10	=model/tied_a" \
	"$("$B/ckpt-ls" "$T/gen/zip_p2.pt" | grep -v half_view | grep '^model/tied_b')"
check_eq "a second view of the same storage is not tied" "model/half_view	F32	5" \
	"$("$B/ckpt-ls" "$T/gen/legacy_p2.pt" | grep '^model/half_view')"
check_eq "xlm: shared embedding storage is tied (zip and legacy)" \
	"model/embeddings.weight model/embeddings.weight" \
	"$("$B/ckpt-ls" --json "$FIX/golden/xlm/input/mlm_tiny_enfr.pth" | grep pred_layer.proj.weight | sed 's/.*"tied_to":"\([^"]*\)".*/\1/') $("$B/ckpt-ls" "$FIX/golden/xlm_legacy/input/checkpoint.pth" | grep '^model/pred_layer.proj.weight' | cut -f4 | tr -d =)"
"$B/ckpt-extract" "$T/gen/zip_p2.pt" -o "$T/tied.st"
check_eq "extract writes a tied name as an alias, not as data" "model/tied_a False" \
	"$("$PY" -c 'import json,struct,sys; b=open(sys.argv[1],"rb").read(); n=struct.unpack("<Q",b[:8])[0]; h=json.loads(b[8:8+n]); print(h["__metadata__"]["ckptconv.alias.model/tied_b"], "model/tied_b" in h)' "$T/tied.st")"
"$B/ckpt-extract" "$T/gen/zip_p2.pt" model/tied_b -o "$T/tied1.st"
check_eq "extract of the second name alone writes its data" "[10]" \
	"$("$PY" -c 'import json,struct,sys; b=open(sys.argv[1],"rb").read(); n=struct.unpack("<Q",b[:8])[0]; h=json.loads(b[8:8+n]); print(h["model/tied_b"]["shape"])' "$T/tied1.st")"
