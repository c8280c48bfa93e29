# lib.sh — sourced by every tests/t_*.sh. Each check prints "ok - NAME" or
# "FAIL - NAME: why"; tests/run.sh counts those lines.
set -u
B=$CK_BIN
TB=$CK_TESTBIN
FIX=$CK_FIXTURES
T=$CK_TMP
PY=$CK_PYTHON

ok() { echo "ok - $*"; }
fail() { echo "FAIL - $*"; }

# check NAME CMD... — the command must exit 0.
check() {
	local name=$1; shift
	local out
	if out=$("$@" 2>&1); then ok "$name"; else fail "$name: exit $? from: $*"; printf '%s\n' "$out" | tail -5; fi
}

# check_exit NAME CODE CMD... — the command must exit with CODE (not a signal).
check_exit() {
	local name=$1 want=$2; shift 2
	local out rc
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$name"; else fail "$name: exit $rc, wanted $want: $*"; printf '%s\n' "$out" | tail -5; fi
}

# check_fails NAME PATTERN CMD... — must exit 1 with one stderr line matching
# PATTERN (grep -E), and print nothing on stdout.
check_fails() {
	local name=$1 pat=$2; shift 2
	local rc
	"$@" >"$T/.out" 2>"$T/.err"; rc=$?
	if [ "$rc" -ne 1 ]; then fail "$name: exit $rc, wanted 1"; tail -3 "$T/.err"; return; fi
	if ! grep -Eq -- "$pat" "$T/.err"; then fail "$name: stderr does not match /$pat/"; tail -3 "$T/.err"; return; fi
	if [ "$(wc -l <"$T/.err")" -ne 1 ]; then fail "$name: stderr has $(wc -l <"$T/.err") lines, wanted 1"; head -5 "$T/.err"; return; fi
	ok "$name"
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: expected [$2], got [$3]"; fi
}

# tiny_bert_spec — mkckpt lines for a one-layer BERT body (embeddings, layer 0,
# pooler: hidden 8, vocab 30) under Google's variable names; tests append a head.
tiny_bert_spec() {
	local p q s L=bert/encoder/layer_0
	for p in word_embeddings:30,8 position_embeddings:16,8 token_type_embeddings:2,8; do
		echo "bert/embeddings/${p%%:*} F32 ${p#*:}"
	done
	for p in LayerNorm/gamma LayerNorm/beta; do echo "bert/embeddings/$p F32 8"; done
	for q in query key value; do
		echo "$L/attention/self/$q/kernel F32 8,8"; echo "$L/attention/self/$q/bias F32 8"
	done
	echo "$L/attention/output/dense/kernel F32 8,8"; echo "$L/attention/output/dense/bias F32 8"
	echo "$L/intermediate/dense/kernel F32 8,16"; echo "$L/intermediate/dense/bias F32 16"
	echo "$L/output/dense/kernel F32 16,8"; echo "$L/output/dense/bias F32 8"
	for s in attention/output output; do
		echo "$L/$s/LayerNorm/gamma F32 8"; echo "$L/$s/LayerNorm/beta F32 8"
	done
	echo "bert/pooler/dense/kernel F32 8,8"; echo "bert/pooler/dense/bias F32 8"
}

# xlnet_finetuned_spec TASK — mkckpt lines of a fine-tuned XLNet as the original
# run_classifier (sts-b, sst-2) and run_squad (squad) write it: the golden
# model's variables (fine-tuning graphs make no mask_emb and no LM head), the
# task's head, and for the classifiers the sequence summary (its scope name has
# the original's typo) and one variable's Adam slots.
xlnet_finetuned_spec() {
	"$B/ckpt-ls" "$FIX/golden/xlnet/input/xlnet_model.ckpt" | grep -v 'lm_loss\|mask_emb' |
		awk -F'\t' '{ print $1, $2, ($3 == "" ? "-" : $3) }'
	local p heads
	case $1 in
	sts-b) heads="model/regression_sts-b/logit/kernel:32,1 model/regression_sts-b/logit/bias:1" ;;
	sst-2) heads="model/classification_sst-2/logit/kernel:32,2 model/classification_sst-2/logit/bias:2" ;;
	squad) heads="start_logits/dense/kernel:32,1 start_logits/dense/bias:1 end_logits/dense_0/kernel:64,32
		end_logits/dense_0/bias:32 end_logits/LayerNorm/gamma:32 end_logits/LayerNorm/beta:32
		end_logits/dense_1/kernel:32,1 end_logits/dense_1/bias:1 answer_class/dense_0/kernel:64,32
		answer_class/dense_0/bias:32 answer_class/dense_1/kernel:32,1" ;;
	esac
	[ "$1" = squad ] || heads="$heads model/sequnece_summary/summary/kernel:32,32
		model/sequnece_summary/summary/bias:32 model/transformer/layer_0/ff/layer_1/kernel/adam_m:32,48
		model/transformer/layer_0/ff/layer_1/kernel/adam_v:32,48"
	for p in $heads; do
		echo "${p%%:*} F32 ${p#*:}"
	done
}
