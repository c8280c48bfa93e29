#!/usr/bin/env bash
# run.sh BIN TESTBIN — the opt-in large tests (make test-large): every
# tests/large/t_*.sh, with the environment of tests/run.sh; progress is shown
# as it happens, and each test's scratch space is removed after it (the
# ZIP64 test needs about 22 GB of disk).
set -u
here=$(cd "$(dirname "$0")" && pwd)
export CK_ROOT=$(cd "$here/../.." && pwd)
export CK_BIN=$(cd "${1:?usage: run.sh BIN TESTBIN}" && pwd)
export CK_TESTBIN=$(cd "${2:?usage: run.sh BIN TESTBIN}" && pwd)
export CK_FIXTURES=${CK_FIXTURES:-$CK_ROOT/tests/fixtures}
export CK_PYTHON=${CK_PYTHON:-/usr/bin/python3}
passed=0 failed=0
for t in "$here"/t_*.sh; do
	name=$(basename "$t" .sh)
	export CK_TMP="$CK_ROOT/tests/tmp/large/$name"
	rm -rf "$CK_TMP" && mkdir -p "$CK_TMP"
	start=$(date +%s)
	bash "$t" 2>&1 | tee "$CK_TMP.log"
	p=$(grep -c '^ok - ' "$CK_TMP.log")
	f=$(grep -c '^FAIL - ' "$CK_TMP.log")
	echo "== $name: $p passed, $f failed, $(($(date +%s) - start)) s"
	passed=$((passed + p))
	failed=$((failed + f))
	rm -rf "$CK_TMP"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
