# pt-pack's modules on their own: CRC-32 (known vectors, fast == portable),
# HF shard rules and index JSON, the torch zip writer's contract, and every
# cast against torch's own tensor.to() (tests/py/cast_check.py).
. "$(dirname "$0")/lib.sh"
for t in crc32_selftest hfshard_selftest ts_selftest; do
	"$TB/$t" || fail "$t exited $?"
done
out=$("$PY" "$CK_ROOT/tests/py/cast_check.py" "$TB/cast_filter" 2>&1) || printf '%s\n' "$out" | grep -q '^FAIL' || fail "cast_check.py: $(printf '%s\n' "$out" | tail -1)"
printf '%s\n' "$out" | grep -E '^(ok|FAIL) - '
