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
