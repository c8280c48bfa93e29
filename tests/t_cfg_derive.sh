# Config maps: `derive KEY ?= EXPR` computes a default (a value the config,
# --set or the tensors give stands); `//` divides rounding down.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/models/m"
cat >"$T/models/m/config.map" <<'MAP'
model_type m
default-arch M
field hidden size 256
field heads size 1
field down int 0
derive heads ?= hidden // 64
derive down = (0 + -7) // 2
MAP
get() { $PY -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c["heads"], c["down"])' "$T/out.json"; }
printf '{"hidden": 768}\n' >"$T/c1.json"
check "a derive ?= computes from the given hidden" "$B/cfg-translate" m "$T/c1.json" --models "$T/models" -o "$T/out.json"
check_eq "... 768 // 64 = 12, -7 // 2 = -4 (rounds down, as Python)" "12 -4" "$(get)"
printf '{"hidden": 768, "heads": 8}\n' >"$T/c2.json"
check "a given value stands against a ?= derive (no conflict)" "$B/cfg-translate" m "$T/c2.json" --models "$T/models" -o "$T/out.json"
check_eq "... heads stays 8" "8 -4" "$(get)"
printf 'model_type m\ndefault-arch M\nfield hidden size 256\nfield heads size 1\nderive heads = hidden // 64\n' >"$T/models/m/config.map"
check_fails "a plain derive still conflicts with a given value" "heads" "$B/cfg-translate" m "$T/c2.json" --models "$T/models" -o "$T/out.json"
printf 'model_type m\ndefault-arch M\nfield hidden size 256\nfield heads int 1\nderive heads ?= hidden // 0\n' >"$T/models/m/config.map"
check_fails "// by zero is an error naming the derive" "derive hidden // 0: // by a number that is not positive" \
	"$B/cfg-translate" m "$T/c1.json" --models "$T/models" -o "$T/out.json"
printf 'model_type m\ndefault-arch M\nfield hidden size 256\nderive hidden ?\n' >"$T/models/m/config.map"
check_fails "a malformed derive says both forms" "want: derive KEY = EXPRESSION \(or \?=\)" \
	"$B/cfg-translate" m "$T/c1.json" --models "$T/models" -o "$T/out.json"
