#!/usr/bin/env bash
# run.sh BIN TESTBIN [PATTERN] — run every tests/t_*.sh against the tools in
# BIN (and the test programs in TESTBIN); prints "N passed, N failed".
# The fixtures are tests/fixtures/ (CK_FIXTURES= points elsewhere). The
# real-stack tests (t_stack_*) run the pinned Python environments of
# tests/stack/ (made on first use, from PyPI); CK_STACK=0 skips them, saying so.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
mkdir -p "${1:?usage: run.sh BIN TESTBIN [PATTERN]}"
export CK_BIN=$(cd "$1" && pwd)
export CK_TESTBIN=$(cd "${2:?usage: run.sh BIN TESTBIN [PATTERN]}" && pwd)
pattern=${3:-}
export CK_ROOT=$root
# tests run the same whether started by make (make test) or by hand
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
export CK_FIXTURES=${CK_FIXTURES:-$root/tests/fixtures}
export CK_PYTHON=${CK_PYTHON:-/usr/bin/python3}
# Sanitizer runs: any report is fatal, leaks included.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}

if [ ! -d "$CK_FIXTURES/real" ] || [ ! -d "$CK_FIXTURES/golden" ]; then
	echo "tests: fixtures not found at $CK_FIXTURES (set CK_FIXTURES)" >&2
	exit 1
fi

export CK_STACK=${CK_STACK:-1}
stack_tests=$(cd "$here" && ls t_stack_*.sh 2>/dev/null)
if [ "$CK_STACK" = 0 ]; then
	echo "tests: CK_STACK=0: the real-stack tests are skipped (TensorFlow, transformers, torch 2):" $stack_tests
elif [ -n "$stack_tests" ] && { [ -z "$pattern" ] || printf '%s\n' $stack_tests | grep -q -- "$pattern"; }; then
	envs=$("$here/stack/env.sh" tf hf5) || exit 1
	export CK_STACK_TF=$(printf '%s\n' "$envs" | sed -n 's/^tf //p')
	export CK_STACK_HF5=$(printf '%s\n' "$envs" | sed -n 's/^hf5 //p')
fi

passed=0 failed=0 skipped=0
for t in "$here"/t_*.sh; do
	name=$(basename "$t" .sh)
	[ -n "$pattern" ] && case $name in *$pattern*) ;; *) continue ;; esac
	if [ "$CK_STACK" = 0 ] && case $name in t_stack_*) true ;; *) false ;; esac; then
		echo "== $name ($(basename "$CK_BIN")): skipped (CK_STACK=0)"
		skipped=$((skipped + 1))
		continue
	fi
	export CK_TMP="$root/tests/tmp/$(basename "$CK_BIN")/$name"
	rm -rf "$CK_TMP" && mkdir -p "$CK_TMP"
	log="$CK_TMP.log"
	bash "$t" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok - ' "$log")
	f=$(grep -c '^FAIL - ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL - $name: script exited $rc" >>"$log"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		echo "== $name ($(basename "$CK_BIN")): $p passed, $f failed"
		grep -v '^ok - ' "$log" | tail -40 | sed 's/^/   /'
	else
		echo "== $name ($(basename "$CK_BIN")): $p passed"
	fi
done
if [ "$skipped" -ne 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
