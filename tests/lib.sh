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
