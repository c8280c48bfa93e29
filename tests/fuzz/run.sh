#!/usr/bin/env bash
# run.sh SECONDS JOBS BIN [TARGET...] — run each fuzz target (default: all of
# build-fuzz/fuzz/) for SECONDS, JOBS at a time, from the seed corpus that
# seeds.sh makes (BIN: the plain tools it needs). New inputs accumulate in
# build-fuzz/work/TARGET (kept between runs); a crash, leak, timeout (10 s
# an input) or allocation over 2 GiB leaves its input in
# build-fuzz/artifacts/ and fails the run. Prints one line per target:
# seconds, executions, coverage (cov/ft as libFuzzer counts them), result.
set -u
secs=${1:?usage: run.sh SECONDS JOBS BIN [TARGET...]}
jobs=${2:?usage: run.sh SECONDS JOBS BIN [TARGET...]}
bin=${3:?usage: run.sh SECONDS JOBS BIN [TARGET...]}
shift 3
cd "$(dirname "$0")/../.."
F=build-fuzz
tests/fuzz/seeds.sh "$F/corpus" "$bin" >"$F/seeds.log" 2>&1 || { cat "$F/seeds.log"; exit 1; }
mkdir -p "$F/work" "$F/artifacts" "$F/logs"
if [ $# -eq 0 ]; then
	set -- $(cd "$F/fuzz" && ls fuzz_*)
fi

one() { # one TARGET
	t=$1
	mkdir -p "$F/work/$t"
	start=$(date +%s)
	"$F/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$F/artifacts/$t-" \
		"$F/work/$t" "$F/corpus/$t" >"$F/logs/$t.log" 2>&1
	rc=$?
	end=$(date +%s)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$F/logs/$t.log" | tail -1)
	cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$F/logs/$t.log" | tail -1)
	if [ "$rc" -eq 0 ]; then res=ok; else res="FAILED (exit $rc; see $F/logs/$t.log)"; fi
	printf '%-18s %5ss %10s execs  %-22s %s\n' "$t" "$((end - start))" "${execs:-?}" "${cov:-?}" "$res"
	[ "$rc" -eq 0 ]
}
export -f one
export F secs
printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'one {}'
