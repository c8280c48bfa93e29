# Corrupted text inputs: rule files, config maps, original configs (JSON and
# gin) and tensor lists, cut and bit-flipped at many offsets from the real
# model data and golden fixtures. A cut or flipped text is often still valid
# (a shorter rule file, another number), so each run must exit 0 or 1 with one
# line naming the file, leave nothing behind on failure, and end in bounded
# time and memory (t_remap_errors.sh and t_cfg_errors.sh have the targeted
# error cases).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/corrupt_lib.sh"

# sweep LABEL SRC DEST N CMD... — cut SRC at ~N offsets and flip ~N bytes into
# DEST, running CMD each time.
sweep() {
	local label=$1 src=$2 dest=$3 n=$4; shift 4
	local bad=0 size name
	size=$(stat -c %s "$src")
	name=$(basename "$dest")
	for cut in $(offsets "$size" "$n") 0; do
		head -c "$cut" "$src" >"$dest"
		survive "$label cut at $cut" "$name" "$@" || bad=1
	done
	for off in $(offsets "$size" "$n"); do
		cp "$src" "$dest" && chmod u+w "$dest"
		flip "$dest" "$off" 64
		survive "$label flip at $off" "$name" "$@" || bad=1
	done
	cp "$src" "$dest"
	[ $bad = 0 ] && ok "$label: cut and flipped at ~$((2 * n + 40)) offsets: exit 0 or one clear error naming it"
}

# Rule files against the golden checkpoints' tensor lists.
for m in bert albert gpt2 t5; do
	"$B/ckpt-ls" "$FIX/golden/$m/input" >"$T/$m.list"
	cp "$CK_ROOT/models/$m/tensors.rules" "$T/$m.rules"
	sweep "$m tensors.rules" "$CK_ROOT/models/$m/tensors.rules" "$T/$m.rules" 20 \
		"$B/tensor-remap" "$T/$m.rules" "$T/$m.list" --list -o "$O/list"
done
# Tensor lists, as tensor-remap and cfg-translate read them.
cp "$T/bert.list" "$T/in.list"
sweep "bert tensor list (tensor-remap)" "$T/bert.list" "$T/in.list" 25 \
	"$B/tensor-remap" "$CK_ROOT/models/bert/tensors.rules" "$T/in.list" --list -o "$O/list"
"$B/ckpt-ls" "$FIX/golden/bert/expected/model.safetensors" >"$T/hf.list"
cp "$T/hf.list" "$T/hf_in.list"
sweep "bert converted list (cfg-translate)" "$T/hf.list" "$T/hf_in.list" 25 \
	"$B/cfg-translate" bert "$FIX/golden/bert/input/bert_config.json" --tensors "$T/hf_in.list" \
	-o "$O/config.json"

# Original configs: JSON and the T5 gin file.
cp "$FIX/golden/bert/input/bert_config.json" "$T/bert_config.json"
sweep "bert_config.json" "$FIX/golden/bert/input/bert_config.json" "$T/bert_config.json" 30 \
	"$B/cfg-translate" bert "$T/bert_config.json" -o "$O/config.json"
cp "$FIX/real/t5/small/operative_config.gin" "$T/operative_config.gin"
sweep "real T5 operative_config.gin" "$FIX/real/t5/small/operative_config.gin" "$T/operative_config.gin" 40 \
	"$B/cfg-translate" t5 "$T/operative_config.gin" -o "$O/config.json" --generation-config "$O/generation_config.json"

# Config maps (a model folder given as a path) with the golden originals.
mkdir -p "$T/models/bert" "$T/models/t5"
sweep "bert config.map" "$CK_ROOT/models/bert/config.map" "$T/models/bert/config.map" 25 \
	"$B/cfg-translate" "$T/models/bert" "$FIX/golden/bert/input/bert_config.json" -o "$O/config.json"
sweep "t5 config.map" "$CK_ROOT/models/t5/config.map" "$T/models/t5/config.map" 25 \
	"$B/cfg-translate" "$T/models/t5" "$FIX/golden/t5/input/operative_config.gin" -o "$O/config.json"
