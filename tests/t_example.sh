# `make example`: tests/example.sh makes the tiny BERT checkpoint, lists and
# extracts it; its variable names are real ones (all found in the golden
# BERT pretraining checkpoint, made by Google's code).
. "$(dirname "$0")/lib.sh"
if "$CK_ROOT/tests/example.sh" "$B" "$TB" "$T/ex" >"$T/log" 2>&1; then ok "example.sh runs"
else fail "example.sh: $(tail -3 "$T/log")"; fi
check "the example safetensors matches its checkpoint (independent reader)" \
	"$PY" "$CK_ROOT/tests/py/tfbundle.py" check "$T/ex/ckpt/bert_model.ckpt" "$T/ex/bert_example.safetensors"
"$B/ckpt-ls" "$T/ex/ckpt" | cut -f1 >"$T/names"
"$B/ckpt-ls" "$FIX/golden/bert/input" | cut -f1 >"$T/golden"
missing=$(comm -23 "$T/names" "$T/golden" | tr '\n' ' ')
check_eq "all 51 example names are real BERT variable names" "51 " "$(wc -l <"$T/names") $missing"
