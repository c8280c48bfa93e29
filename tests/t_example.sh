# `make example`: tests/example.sh makes the tiny BERT checkpoint, lists it and
# converts it; its variable names are real ones (all found in the golden BERT
# pretraining checkpoint, made by Google's code).
. "$(dirname "$0")/lib.sh"
if "$CK_ROOT/tests/example.sh" "$B" "$TB" "$T/ex" >"$T/log" 2>&1; then ok "example.sh runs"
else fail "example.sh: $(tail -3 "$T/log")"; fi
for f in config.json model.safetensors pytorch_model.bin vocab.txt ckptconv-manifest.json; do
	[ -s "$T/ex/bert/$f" ] && ok "example folder has $f" || fail "example folder lacks $f"
done
check "the example's pytorch_model.bin loads with weights_only=True" \
	"$PY" -c 'import sys, torch; sd = torch.load(sys.argv[1], weights_only=True); assert "bert.encoder.layer.1.output.dense.weight" in sd' "$T/ex/bert/pytorch_model.bin"
"$B/ckpt-ls" "$T/ex/ckpt" | cut -f1 >"$T/names"
"$B/ckpt-ls" "$FIX/golden/bert/input" | cut -f1 >"$T/golden"
missing=$(comm -23 "$T/names" "$T/golden" | tr '\n' ' ')
check_eq "all 51 example names are real BERT variable names" "51 " "$(wc -l <"$T/names") $missing"
