# ckpt-convert, the `transformers convert` command line: on the golden cases
# it gives the same files as the Make conversion it runs (BERT and ALBERT:
# the named weights file with the folder beside it; GPT-2 and T5: the
# folder), and it never replaces files in a folder that is not its own.
. "$(dirname "$0")/lib.sh"
G=$FIX/golden
C=$B/ckpt-convert
MK="make -s --no-print-directory -f $CK_ROOT/mk/convert.mk CKPTCONV_BIN=$B"

# ckpt-convert ARGS... > log; the folder must equal what make writes.
same_as_make() { # NAME FOLDER MAKE-VARS...
	local name=$1 folder=$2; shift 2
	$MK "$@" OUT="$T/make/$name" >"$T/make-$name.log" 2>&1 || { fail "$name: make failed"; return; }
	check "$name: same files as make, byte for byte" diff -r -x .ckptconv "$T/make/$name" "$folder"
}

# BERT: --pytorch_dump_output names the weights file (the Hugging Face
# guide's command, with the argparse --opt=value form).
check "bert: converts" "$C" --model_type bert --tf_checkpoint="$G/bert/input/model.ckpt-100000" \
	--config "$G/bert/input/bert_config.json" --pytorch_dump_output="$T/fe/bert/pytorch_model.bin"
same_as_make bert "$T/fe/bert" MODEL=bert CKPT="$G/bert/input/model.ckpt-100000" \
	CONFIG="$G/bert/input/bert_config.json"
check_eq "bert: the folder" "ckptconv-manifest.json config.json model.safetensors pytorch_model.bin vocab.txt" \
	"$(ls "$T/fe/bert" | tr '\n' ' ' | sed 's/ $//')"
$PY "$CK_ROOT/tests/py/golden_folder.py" "$T/fe/bert" "$G/bert"

# ALBERT, with unique prefixes of the options (as argparse accepts them).
check "albert: converts" "$C" --model albert --tf "$G/albert/input/model.ckpt-best" \
	--conf "$G/albert/input/albert_config.json" --pyt "$T/fe/albert/pytorch_model.bin"
same_as_make albert "$T/fe/albert" MODEL=albert CKPT="$G/albert/input/model.ckpt-best" \
	CONFIG="$G/albert/input/albert_config.json"

# GPT-2 and T5: --pytorch_dump_output is the folder.
check "gpt2: converts" "$C" --model_type gpt2 --tf_checkpoint "$G/gpt2/input/model.ckpt" \
	--config "$G/gpt2/input/hf_config.json" --pytorch_dump_output "$T/fe/gpt2"
same_as_make gpt2 "$T/fe/gpt2" MODEL=gpt2 CKPT="$G/gpt2/input/model.ckpt" CONFIG="$G/gpt2/input/hf_config.json"
$PY "$CK_ROOT/tests/py/golden_folder.py" "$T/fe/gpt2" "$G/gpt2"
check "t5: converts into a new folder given with a trailing /" "$C" --model_type t5 \
	--tf_checkpoint "$G/t5/input/model.ckpt-1000000" --config "$G/t5/input/hf_config.json" \
	--pytorch_dump_output "$T/fe/t5/"
same_as_make t5 "$T/fe/t5" MODEL=t5 CKPT="$G/t5/input/model.ckpt-1000000" CONFIG="$G/t5/input/hf_config.json"
[ -s "$T/fe/t5/generation_config.json" ] && ok "t5: generation_config.json" || fail "t5: no generation_config.json"

# Re-running does nothing: no tool runs, no file changes.
snap() { (cd "$1" && ls --full-time -i -1 --time-style=+%s.%N . | sort); }
before=$(snap "$T/fe/bert")
out=$("$C" --model_type bert --tf_checkpoint "$G/bert/input/model.ckpt-100000" \
	--config "$G/bert/input/bert_config.json" --pytorch_dump_output "$T/fe/bert/pytorch_model.bin" 2>&1)
case $out in *pt-pack* | *cfg-translate*) fail "re-run: a tool ran: $out" ;; *) ok "re-run: no tool runs" ;; esac
check_eq "re-run: no file changes" "$before" "$(snap "$T/fe/bert")"

# A weights file under another name: exactly that file (the same bytes),
# a hard link to the folder's pytorch_model.bin; kept across re-runs.
N=$T/fe/named
check "named: converts" "$C" --model_type bert --tf_checkpoint "$G/bert/input/model.ckpt-100000" \
	--config "$G/bert/input/bert_config.json" --pytorch_dump_output "$N/bert-base.bin"
check "named: the named file is the folder's weights" cmp "$N/bert-base.bin" "$T/make/bert/pytorch_model.bin"
check "named: the rest of the folder is make's" diff -r -x .ckptconv -x bert-base.bin "$T/make/bert" "$N"
check "named: re-run" "$C" --model_type bert --tf_checkpoint "$G/bert/input/model.ckpt-100000" \
	--config "$G/bert/input/bert_config.json" --pytorch_dump_output "$N/bert-base.bin"
check_eq "named: still one file under two names" "$(stat -c %i "$N/pytorch_model.bin")" "$(stat -c %i "$N/bert-base.bin")"
check_eq "named: the manifest lists the folder, not the extra name" "" \
	"$(grep -l bert-base "$N/ckptconv-manifest.json")"
check "named: torch loads it" $PY -c 'import sys, torch; assert len(torch.load(sys.argv[1], weights_only=True)) > 0' "$N/bert-base.bin"

# Into the checkpoint's own folder (read-only files, as unpacked): the
# checkpoint and its vocab.txt are left as they are.
W=$T/ckptdir
mkdir -p "$W" && cp "$G/bert/input/"* "$W/" && chmod 444 "$W/"*
orig=$(cd "$G/bert/input" && ls)
state() { (cd "$W" && for f in $orig; do echo "$f $(stat -c '%i %a' "$f") $(sha256sum <"$f")"; done); }
before=$(state)
check "own folder: converts" "$C" --model_type bert --tf_checkpoint "$W/model.ckpt-100000" \
	--config "$W/bert_config.json" --pytorch_dump_output "$W/pytorch_model.bin"
check_eq "own folder: the original files are untouched (inode, mode, bytes)" "$before" "$(state)"
for f in config.json model.safetensors pytorch_model.bin; do
	check "own folder: $f as make writes it" cmp "$W/$f" "$T/make/bert/$f"
done

# Someone else's folder: nothing is replaced or removed; the files are named.
F=$T/foreign
mkdir -p "$F" && echo '{"mine": 1}' >"$F/config.json" && echo old >"$F/model-finetuned.safetensors"
before=$(snap "$F")
check_fails "foreign folder: refused, naming what would be replaced" \
	"not a ckptconv folder.*would replace: config.json model-finetuned.safetensors" \
	"$C" --model_type gpt2 --tf_checkpoint "$G/gpt2/input/model.ckpt" --pytorch_dump_output "$F"
check_eq "foreign folder: unchanged" "$before" "$(snap "$F")"
check_fails "foreign folder (file form): refused" "would replace: config.json" \
	"$C" --model_type bert --tf_checkpoint "$G/bert/input/model.ckpt-100000" --pytorch_dump_output "$F/pytorch_model.bin"

# Usage errors (exit 2) and failures (exit 1).
check_exit "--help" 0 "$C" --help
help=$("$C" --help)
for v in MODEL= CKPT= CONFIG= OUT= TASK= mk/convert.mk; do
	case $help in *"$v"*) ok "--help maps to $v" ;; *) fail "--help does not mention $v" ;; esac
done
check_eq "--version" "ckpt-convert (ckptconv) $("$B/ckpt-ls" --version | sed 's/.* //')" "$("$C" --version)"
check_exit "required options missing" 2 "$C" --model_type bert
check_exit "an option without its value" 2 "$C" --model_type bert --tf_checkpoint
check_exit "an unknown option" 2 "$C" --model_type bert --tf_checkpoint x --pytorch_dump_output y --fp16
check_exit "a bare -- (nothing is positional)" 2 "$C" -- bert
check_exit "a blank in a path" 2 "$C" --model_type bert --tf_checkpoint "$T/a b" --pytorch_dump_output "$T/x.bin"
out=$("$C" --model_type nosuchmodel --tf_checkpoint x --pytorch_dump_output "$T/x" 2>&1); rc=$?
check_eq "an unknown model type: exit 2" 2 "$rc"
case $out in *"unknown model type 'nosuchmodel' (known: "*bert*) ok "an unknown model type lists the known ones" ;;
*) fail "unknown model type message: $out" ;; esac
check_exit "gpt2 given a .bin path: a folder is wanted" 2 \
	"$C" --model_type gpt2 --tf_checkpoint "$G/gpt2/input/model.ckpt" --pytorch_dump_output "$T/g/pytorch_model.bin"
[ ! -e "$T/g" ] && ok "gpt2 given a .bin path: nothing created" || fail "gpt2 given a .bin path: $T/g created"
check_exit "bert given a .safetensors file name" 2 \
	"$C" --model_type bert --tf_checkpoint "$G/bert/input/model.ckpt-100000" --pytorch_dump_output "$T/b/model.safetensors"
out=$("$C" --model_type bert --tf_checkpoint "$G/bert/input/model.ckpt-100000" \
	--finetuning_task_name mnli --pytorch_dump_output "$T/task/pytorch_model.bin" 2>&1); rc=$?
case "$rc $out" in "0 "*"--finetuning_task_name is ignored for bert"*) ok "--finetuning_task_name is ignored with a note for BERT (no task heads), as the reference does" ;;
*) fail "--finetuning_task_name: exit $rc: $out" ;; esac
check_exit "make: TASK= for a model type without tasks is an error" 2 \
	make -s -f "$CK_ROOT/mk/convert.mk" CKPTCONV_BIN="$B" MODEL=bert CKPT="$G/bert/input/model.ckpt-100000" OUT="$T/task2" TASK=mnli
mkdir -p "$T/bad" && cp "$G/bert/input/"* "$T/bad/" && chmod u+w "$T/bad/"*
printf '\001' | dd of="$T/bad/model.ckpt-100000.data-00000-of-00001" bs=1 seek=100 conv=notrunc 2>/dev/null
check_exit "a corrupt checkpoint: exit 1" 1 "$C" --model_type bert --tf_checkpoint "$T/bad/model.ckpt-100000" \
	--pytorch_dump_output "$T/badout/bert.bin"
check_eq "a corrupt checkpoint: no weights written" "" "$(ls "$T/badout" | grep -E '\.bin$|safetensors|manifest')"
