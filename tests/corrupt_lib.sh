# corrupt_lib.sh — sourced by tests/t_corrupt_*.sh after lib.sh: run a tool on
# a corrupted input with bounded time and memory, writing into an empty
# directory, and check the outcome.
#
# Memory: plain builds run under `ulimit -v` (4 GiB), so an allocation sized
# by a lying header fails instead of swapping; sanitizer builds (whose shadow
# memory needs a huge address space) get the same bound from ASan, which
# aborts the run on any single allocation over 4 GiB (exit 99: a failure).
O=$T/o
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:max_allocation_size_mb=4096:allocator_may_return_null=0"

bounded() {
	case $B in
	*-san) timeout 120 "$@" ;;
	*) (ulimit -v 4194304 && exec timeout 120 "$@") ;;
	esac
}

# run_empty CMD... — run with a fresh empty $O; sets rc, leaves stderr in $T/.err.
run_empty() {
	rm -rf "$O" && mkdir -p "$O"
	bounded "$@" >"$T/.out" 2>"$T/.err"
	rc=$?
}

# left_in_o — what the run left in $O (nothing, if all is well).
left_in_o() { ls -A "$O"; }

# refuse NAME PATTERN CMD... — exit 1, one stderr line matching PATTERN (grep
# -E), nothing left in $O.
refuse() {
	local name=$1 pat=$2; shift 2
	run_empty "$@"
	if [ "$rc" -ne 1 ]; then fail "$name: exit $rc, wanted 1"; head -3 "$T/.err"; return; fi
	if [ "$(wc -l <"$T/.err")" -ne 1 ]; then fail "$name: stderr has $(wc -l <"$T/.err") lines"; head -3 "$T/.err"; return; fi
	if ! grep -Eq -- "$pat" "$T/.err"; then fail "$name: stderr does not match /$pat/: $(cat "$T/.err")"; return; fi
	if [ -n "$(left_in_o)" ]; then fail "$name: left behind: $(left_in_o)"; return; fi
	ok "$name"
}

# accept NAME CMD... — a control case: exit 0.
accept() {
	local name=$1; shift
	run_empty "$@"
	if [ "$rc" -eq 0 ]; then ok "$name"; else fail "$name: exit $rc: $(head -2 "$T/.err")"; fi
}

# survive LABEL FILEPAT CMD... — for sweeps over many corruptions, where
# some stay valid files: exit 0, or exit 1 with one stderr line that names
# FILEPAT and nothing left in $O. Prints nothing when all is well (the sweep
# reports once); returns 1 after printing a FAIL line.
survive() {
	local label=$1 pat=$2; shift 2
	run_empty "$@"
	if [ "$rc" -eq 0 ]; then return 0; fi
	if [ "$rc" -ne 1 ]; then fail "$label: exit $rc"; head -3 "$T/.err"; return 1; fi
	if [ "$(wc -l <"$T/.err")" -ne 1 ]; then fail "$label: stderr has $(wc -l <"$T/.err") lines"; head -3 "$T/.err"; return 1; fi
	if ! grep -q -- "$pat" "$T/.err"; then fail "$label: error does not name $pat: $(cat "$T/.err")"; return 1; fi
	if [ -n "$(left_in_o)" ]; then fail "$label: left behind: $(left_in_o)"; return 1; fi
	return 0
}

# offsets SIZE N [EDGE] — N offsets spread over [1, SIZE), plus the first and
# last EDGE (12) offsets, where headers and footers live.
offsets() {
	"$PY" -c '
import sys
size, n, e = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = set(range(1, min(size, e + 1))) | set(range(max(1, size - e), size))
s |= {1 + (size - 2) * k // n for k in range(n)}
print(" ".join(str(o) for o in sorted(s) if 0 < o < size))' "$1" "$2" "${3:-12}"
}

# flip FILE OFFSET [MASK] — xor one byte.
flip() {
	"$PY" -c '
import sys
p, o, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
b = bytearray(open(p, "rb").read()); b[o] ^= m; open(p, "wb").write(b)' "$1" "$2" "${3:-16}"
}
