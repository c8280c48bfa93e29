# The pinned real-stack environments (tests/stack/env.sh) hold the versions
# the other t_stack_* tests are proven against.
. "$(dirname "$0")/lib.sh"

# pin NAME ENV — the pinned version (pip freeze writes - or _ as it likes)
pin() { sed -n "s/^$(printf '%s' "$1" | sed 's/[-_]/[-_]/g')==//Ip" "$CK_ROOT/tests/stack/requirements-$2.txt"; }
version() { "$1" -c "import importlib.metadata as m; print(m.version('$2'))" 2>&1; }

for pkg in torch transformers safetensors numpy; do
	check_eq "hf5: $pkg is the pinned $(pin "$pkg" hf5)" "$(pin "$pkg" hf5)" "$(version "$CK_STACK_HF5" "$pkg")"
done
for pkg in tensorflow-cpu torch transformers numpy; do
	check_eq "tf: $pkg is the pinned $(pin "$pkg" tf)" "$(pin "$pkg" tf)" "$(version "$CK_STACK_TF" "$pkg")"
done
check "tf: tensorflow imports" "$CK_STACK_TF" -c 'import tensorflow'
check "hf5: transformers imports with torch" "$CK_STACK_HF5" -c 'import transformers, torch; transformers.BertConfig()'
