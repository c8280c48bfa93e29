#!/usr/bin/env bash
# run.sh BIN TESTBIN — `make bench`: convert synthetic checkpoints of real
# sizes end to end through the Make path (mk/convert.mk) and compare with
# `cp` of the bytes the conversion keeps, measured in the same run.
#
# Environment:
#   BENCH_DIR     scratch directory (default tests/tmp/bench); emptied at the
#                 end unless BENCH_KEEP=1 (the T5-3B case needs ~50 GB)
#   BENCH_LARGE=1 also the T5-3B-shaped checkpoint (11.4 GB, 16 shards)
#   BENCH_CASES   cases to run (default: bert-base-adam bert-large, + t5-3b)
#   BENCH_REPEAT  runs of each timed step; the median is shown (default 3,
#                 1 for t5-3b)
#   BENCH_CACHE   cold (default): the step's input files are evicted from the
#                 page cache first (posix_fadvise DONTNEED through dd
#                 iflag=nocache: no root needed; programs stay cached);
#                 warm: they are read once first
#   BENCH_ROWS    the conversions, FORMAT:HASH (default safetensors:full
#                 pt:full both:full safetensors:pinned both:pinned)
#   BENCH_TOOLS=0 skip timing each tool alone
#   BENCH_PARALLEL=0  skip the make -j2 run of two conversions
# Every timed step starts after `sync` (earlier writes do not slow it); no
# step syncs its own output (neither does cp). CPU is user + system time of
# every process of the step: unlike the wall time, it hardly depends on what
# else the machine is doing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$(cd "${1:?usage: run.sh BIN TESTBIN}" && pwd)
testbin=$(cd "${2:?usage: run.sh BIN TESTBIN}" && pwd)
dir=${BENCH_DIR:-$root/tests/tmp/bench}
large=${BENCH_LARGE:-0}
cases=${BENCH_CASES:-bert-base-adam bert-large$([ "$large" = 1 ] && echo ' t5-3b')}
timebin=/usr/bin/time
[ -x "$timebin" ] || { echo "bench: $timebin not found (Debian package 'time'; sh mk/deps.sh ensure bench)" >&2; exit 1; }

BENCH_CACHE=${BENCH_CACHE:-cold}
case $BENCH_CACHE in
cold | warm) ;;
*) echo "bench: BENCH_CACHE must be cold or warm" >&2; exit 2 ;;
esac

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cleanup() { [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$dir"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Every tool runs under /usr/bin/time through a wrapper directory given to
# the Make path as CKPTCONV_BIN: one line per process in $log
# (TOOL WALL_S MAXRSS_KB USER_S SYS_S).
wrap=$dir/wrap
log=$dir/procs.log
mkdir -p "$wrap"
for t in "$bin"/*; do
	n=$(basename "$t")
	printf '#!/bin/sh\nexec %s -a -o "%s" -f "%s %%e %%M %%U %%S" "%s" "$@"\n' "$timebin" "$log" "$n" "$t" >"$wrap/$n"
	chmod +x "$wrap/$n"
done

now() { date +%s.%N; }
mb() { awk -v b="$1" 'BEGIN { printf "%.0f MB", b / 1e6 }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# prepare FILES... — the cache state every timed step starts from.
prepare() {
	local f
	sync
	for f in "$@"; do
		if [ "$BENCH_CACHE" = cold ]; then
			dd if="$f" iflag=nocache count=0 status=none
		else
			cat "$f" >/dev/null
		fi
	done
}

# timed NAME CLEAN INPUTS CMD... — run CMD $repeat times (CLEAN, an rm -rf
# target, is removed before each run, untimed); sets $wall and $cpu (median
# s) and $rss (the per-tool peaks of the last run: "tool N MiB, ...").
timed() {
	local name=$1 clean=$2 inputs=$3 i walls="" cpus=""
	shift 3
	for i in $(seq "$repeat"); do
		rm -rf $clean
		# shellcheck disable=SC2086
		prepare $inputs
		: >"$log"
		if ! "$timebin" -o "$dir/step.time" -f "%e %U %S" "$@" >"$dir/step.out" 2>&1; then
			echo "bench: $name failed:" >&2
			tail -5 "$dir/step.out" >&2
			exit 1
		fi
		walls="$walls $(awk '{ print $1 }' "$dir/step.time")"
		cpus="$cpus $(awk '{ print $2 + $3 }' "$dir/step.time")"
	done
	wall=$(printf '%s\n' $walls | median)
	cpu=$(printf '%s\n' $cpus | median)
	rss=$(awk '{ if ($3 > m[$1]) m[$1] = $3; if (!($1 in o)) o[$1] = n++ }
		END { for (t in o) k[o[t]] = t; for (i = 0; i < n; i++) printf "%s%s %.0f MiB", i ? ", " : "", k[i], m[k[i]] / 1024 }' "$log")
	maxrss=$(awk '$3 > m { m = $3 } END { print m * 1024 }' "$log")
}

# row LABEL BYTES — one line of results for the last timed step.
row() {
	local ratio=""
	[ -n "${cpwall:-}" ] && ratio=$(awk -v w="$wall" -v c="$cpwall" 'BEGIN { printf "%5.2fx cp", w / c }')
	awk -v l="$1" -v w="$wall" -v c="$cpu" -v b="$2" -v r="$ratio" 'BEGIN { printf "  %-38s %7.2f s %s %6.0f MB/s  CPU %5.2f s", l, w, r, b / w / 1e6, c }'
	if [ -n "$rss" ]; then
		awk -v m="$maxrss" -v g="$goal" 'BEGIN { printf "  peak RSS %s goal", m <= g ? "within" : "OVER" }'
		printf ': %s\n' "$rss"
	else
		echo
	fi
}

# gen CASE — the checkpoint, its config, a vocabulary, in $dir/CASE/ckpt.
gen() {
	local c=$1 d=$dir/$1/ckpt model prefix
	mkdir -p "$d"
	case $c in
	bert-*) model=bert prefix=$d/bert_model.ckpt
		sh "$here/specs.sh" "$c" config >"$d/bert_config.json"
		awk 'BEGIN { print "[PAD]"; for (i = 1; i < 30522; i++) print "tok" i }' >"$d/vocab.txt" ;;
	t5-*) model=t5 prefix=$d/model.ckpt-1000000
		sh "$here/specs.sh" "$c" config >"$d/operative_config.gin" ;;
	esac
	sh "$here/specs.sh" "$c" >"$dir/$c/spec"
	"$testbin/mkckpt" "$dir/$c/spec" "$prefix" || exit 1
	printf 'model_checkpoint_path: "%s"\n' "$(basename "$prefix")" >"$d/checkpoint"
	echo "$model $prefix"
}

# kept_bytes / largest from the tensor lists (no data is read).
list_bytes() { awk -F'\t' 'NF == 3 { n = ($2 ~ /64/) ? 8 : ($2 ~ /16/) ? 2 : ($2 ~ /8|BOOL/) ? 1 : 4
	k = split($3, d, ","); for (i = 1; i <= k; i++) n *= d[i]; s += n; if (n > m) m = n }
	END { printf "%.0f %.0f\n", s, m }'; }

echo "ckptconv bench — $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM"
echo "cache: $BENCH_CACHE ($([ "$BENCH_CACHE" = cold ] && echo "each step's inputs evicted from the page cache first" || echo "each step's inputs read once first")); scratch: $dir"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows the wall times, not the CPU times)"
echo "time = median of BENCH_REPEAT runs; MB/s = kept bytes / time; peak RSS per process (goal: largest tensor + 64 MiB)"
echo "(MB = 10^6 bytes, MiB = 2^20 bytes)"

declare -A case_prefix case_wall case_cpu
for c in $cases; do
	repeat=${BENCH_REPEAT:-$([ "$c" = t5-3b ] && echo 1 || echo 3)}
	echo
	t0=$(now)
	read -r model prefix < <(gen "$c") || exit 1
	case_prefix[$c]=$prefix
	d=$dir/$c
	rules=$root/models/$model/tensors.rules
	"$bin/ckpt-ls" "$prefix" >"$d/all.list"
	"$bin/tensor-remap" --list "$rules" "$d/all.list" >"$d/out.list"
	read -r kept _ < <(list_bytes <"$d/out.list") # aliases (4 fields) not counted
	read -r total largest < <(list_bytes <"$d/all.list")
	goal=$((largest + 64 * 1048576))
	mapfile -t files < <("$bin/ckpt-ls" --files "$prefix")
	data=$(stat -c %s "${files[@]}" | awk '{ s += $1 } END { printf "%.0f", s }')
	printf '%s: %s in %d files (%d tensors), %s kept (%d tensors), largest tensor %s (RSS goal %.0f MiB); made in %.0f s\n' \
		"$c" "$(mb "$data")" "${#files[@]}" "$(wc -l <"$d/all.list")" "$(mb "$kept")" \
		"$(awk -F'\t' 'NF == 3' "$d/out.list" | wc -l)" "$(mb "$largest")" "$((goal >> 20))" \
		"$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')"

	# the reference: cp of a file as large as the kept bytes
	cat "${files[@]}" | head -c "$kept" >"$d/kept.bin"
	cpwall=""
	rss=""
	timed "cp" "$d/kept.copy" "$d/kept.bin" cp "$d/kept.bin" "$d/kept.copy"
	rm -f "$d/kept.copy"
	cpw=$wall
	row "cp of the kept bytes" "$kept"
	# the floor of a conversion that must hash what it writes (the manifest
	# holds every output's SHA-256): one SHA-256 stream over the same bytes
	# (libcrypto, as the conversion; coreutils' sha256sum is slower)
	timed "sha256" "" "$d/kept.bin" "$bin/ckpt-digest" "$d/kept.bin"
	row "SHA-256 of the kept bytes (ckpt-digest)" "$kept"
	rm -f "$d/kept.bin"
	cpwall=$cpw

	for fh in ${BENCH_ROWS:-safetensors:full pt:full both:full safetensors:pinned both:pinned}; do
		f=${fh%:*} h=${fh#*:}
		timed "convert $f" "$d/out" "${files[*]}" make --no-print-directory -C "$root" \
			MODEL="$model" CKPT="$prefix" OUT="$d/out" FORMAT="$f" HASH="$h" CKPTCONV_BIN="$wrap"
		row "make MODEL=$model FORMAT=$f HASH=$h" "$kept"
		[ "$fh" = safetensors:full ] && case_wall[$c]=$wall case_cpu[$c]=$cpu
	done
	rm -rf "$d/out"

	if [ "${BENCH_TOOLS:-1}" = 1 ]; then
		echo "  each tool alone on the same input (files in, files out):"
		"$bin/tensor-remap" --list --needed "$rules" "$d/all.list" >"$d/needed.list"
		timed "extract" "$d/x.st" "${files[*]}" "$wrap/ckpt-extract" "$prefix" --names-from "$d/needed.list" -o "$d/x.st"
		row "ckpt-extract --names-from" "$kept"
		timed "remap" "$d/r.st" "$d/x.st" "$wrap/tensor-remap" "$rules" "$d/x.st" -o "$d/r.st"
		row "tensor-remap" "$kept"
		rm -f "$d/x.st"
		timed "extract --remap" "$d/xr.st" "${files[*]}" "$wrap/ckpt-extract" "$prefix" --remap "$rules" -o "$d/xr.st"
		row "ckpt-extract --remap (the two in one)" "$kept"
		rm -f "$d/xr.st"
		for f in safetensors pt both; do
			timed "pack $f" "$d/p" "$d/r.st" "$wrap/pt-pack" "$d/r.st" --format "$f" -o "$d/p/"
			row "pt-pack --format $f" "$kept"
		done
		rm -rf "$d/p" "$d/r.st"
		timed "pack --checkpoint" "$d/p" "${files[*]}" "$wrap/pt-pack" --checkpoint "$prefix" --remap "$rules" -o "$d/p/"
		row "pt-pack --checkpoint --remap (the three in one)" "$kept"
		rm -rf "$d/p"
		timed "digest" "" "${files[*]}" "$wrap/ckpt-digest" "${files[@]}"
		row "ckpt-digest (SHA-256 of the input)" "$data"
		if [ "$kept" != "$total" ] && [ "$c" != t5-3b ]; then
			timed "extract all" "$d/x.st" "${files[*]}" "$wrap/ckpt-extract" "$prefix" -o "$d/x.st"
			row "ckpt-extract, every tensor" "$total"
			rm -f "$d/x.st"
		fi
	fi
done

# Two conversions at once: make -j2 should take about as long as the slower.
if [ "${BENCH_PARALLEL:-1}" = 1 ] && [ -n "${case_wall[bert-base-adam]:-}" ] && [ -n "${case_wall[bert-large]:-}" ]; then
	echo
	cat >"$dir/Makefile.two" <<MK
CKPTCONV_BIN := $wrap
include $root/mk/convert.mk
\$(eval \$(call ckptconv,$dir/two/a,bert,${case_prefix[bert-base-adam]},FORMAT=safetensors))
\$(eval \$(call ckptconv,$dir/two/b,bert,${case_prefix[bert-large]},FORMAT=safetensors))
all: \$(CKPTCONV_OUTPUTS)
MK
	repeat=${BENCH_REPEAT:-3}
	cpwall=""
	goal=$((1 << 62))
	timed "make -j2" "$dir/two" "$(echo "${case_prefix[bert-base-adam]}"* "${case_prefix[bert-large]}"*)" \
		make --no-print-directory -j2 -f "$dir/Makefile.two" all
	a=${case_wall[bert-base-adam]} b=${case_wall[bert-large]}
	ac=${case_cpu[bert-base-adam]} bc=${case_cpu[bert-large]}
	awk -v w="$wall" -v c="$cpu" -v a="$a" -v b="$b" -v ac="$ac" -v bc="$bc" -v n="$(nproc)" 'BEGIN {
		printf "  make -j2 of bert-base-adam + bert-large (safetensors): %.2f s (CPU %.2f s)\n", w, c
		printf "    alone: %.2f s (CPU %.2f s) and %.2f s (CPU %.2f s): sum %.2f s, slower %.2f s\n", a, ac, b, bc, a + b, (a > b ? a : b)
		printf "    with %d CPUs the pair cannot take less than its CPU time / %d = %.2f s\n", n, n, (ac + bc) / n }'
	rm -rf "$dir/two"
fi
