# pt-pack on bad input and bad usage: one line on stderr, exit 1 (or 2 for
# usage), and no output file of the run left behind — not even finished shards.
. "$(dirname "$0")/lib.sh"

gen() { "$TB/stgen" "$@"; }
# empty_dir NAME DIR — DIR exists and holds nothing (no temporary files either)
empty_dir() { check_eq "$1" "" "$(ls -A "$2" 2>&1)"; }

gen a:F32:1000 b:F32:1000 >"$T/ok.st"

# ---- truncated and malformed streams ----------------------------------------
gen a:F32:1000 b:F32:1000 --truncate 100 >"$T/trunc.st"
mkdir -p "$T/o1"
check_fails "truncated stream" "trunc.st: tensor b: stream ends before its data is complete" \
	"$B/pt-pack" "$T/trunc.st" -o "$T/o1/" --format both
empty_dir "truncated stream: nothing written" "$T/o1"
check_fails "truncated stream into a new directory" "stream ends" \
	"$B/pt-pack" "$T/trunc.st" -o "$T/new/sub/" --format both
[ ! -e "$T/new" ] && ok "truncated stream: the directories it made are removed" || fail "$T/new remains"

gen --many 50 t. F32 100 --meta ckptconv.alias.x=t.0 --truncate 10 >"$T/trunc_shards.st"
mkdir -p "$T/o2"
check_fails "truncated after several finished shards" "tensor t.49: stream ends" \
	"$B/pt-pack" "$T/trunc_shards.st" -o "$T/o2/" --format both --max-shard-size 1000
empty_dir "finished shards are removed too" "$T/o2"

mkdir -p "$T/o3"
printf 'old' >"$T/o3/model.safetensors"
check_fails "truncated stream over an existing file" "stream ends" "$B/pt-pack" "$T/trunc.st" -o "$T/o3/"
check_eq "the existing file is untouched" "old" "$(cat "$T/o3/model.safetensors")"

head -c 40 "$T/ok.st" >"$T/hdr.st"
check_fails "truncated header" "hdr.st: truncated safetensors header" "$B/pt-pack" "$T/hdr.st" -o "$T/o1/"
printf 'garbage garbage' >"$T/garbage.st"
check_fails "not a safetensors stream" "garbage.st: safetensors header length" "$B/pt-pack" "$T/garbage.st" -o "$T/o1/"
printf '\x10\x00\x00\x00\x00\x00\x00\x00{"a":1}         ' >"$T/badjson.st"
check_fails "bad header entry" "badjson.st: tensor a: malformed header entry" "$B/pt-pack" "$T/badjson.st" -o "$T/o1/"
printf '\x08\x00\x00\x00\x00\x00\x00\x00{"a":1,]' >"$T/notjson.st"
check_fails "header not JSON" "notjson.st: header is not valid JSON" "$B/pt-pack" "$T/notjson.st" -o "$T/o1/"
{ cat "$T/ok.st"; printf 'x'; } >"$T/trailing.st"
check_fails "trailing bytes" "trailing.st: trailing bytes after the last tensor" "$B/pt-pack" "$T/trailing.st" -o "$T/o1/"
check_fails "truncated stream from a pipe" "^pt-pack: -: tensor b: stream ends" \
	sh -c "cat '$T/trunc.st' | '$B/pt-pack' -o '$T/o1/' --format both"
empty_dir "bad inputs: nothing written" "$T/o1"

# ---- aliases ----------------------------------------------------------------------
gen a:F32:2 --meta ckptconv.alias.b=zz >"$T/al1.st"
check_fails "alias of a missing tensor" "al1.st: tensor b: alias of zz, which is not in the stream" \
	"$B/pt-pack" "$T/al1.st" -o "$T/o1/"
gen a:F32:2 --meta ckptconv.alias.b=c --meta ckptconv.alias.c=b >"$T/al2.st"
check_fails "alias cycle" "al2.st: tensor b: aliases form a cycle" "$B/pt-pack" "$T/al2.st" -o "$T/o1/"
gen a:F32:2 b:F32:2 --meta ckptconv.alias.b=a >"$T/al3.st"
check_fails "alias that is also a tensor" "al3.st: tensor b: is both a tensor and an alias" \
	"$B/pt-pack" "$T/al3.st" -o "$T/o1/"
gen a:F32:2 --meta ckptconv.alias.=a >"$T/al4.st"
check_fails "alias without a name" "al4.st: metadata key ckptconv.alias. names no tensor" \
	"$B/pt-pack" "$T/al4.st" -o "$T/o1/"
empty_dir "alias errors: nothing written" "$T/o1"

# ---- dtypes torch 1.13 cannot store -------------------------------------------------
gen a:F32:2 u:U32:3 >"$T/u32.st"
check_fails "U32 to pt" "u32.st: tensor u: dtype U32 has no PyTorch 1.13 storage type" \
	"$B/pt-pack" "$T/u32.st" -o "$T/o1/" --format pt
check_fails "U32 to both" "dtype U32 has no PyTorch" "$B/pt-pack" "$T/u32.st" -o "$T/o1/" --format both
empty_dir "U32: nothing written" "$T/o1"

# ---- usage --------------------------------------------------------------------------
check_exit "no -o" 2 "$B/pt-pack" "$T/ok.st"
check_exit "bad --format" 2 "$B/pt-pack" "$T/ok.st" -o "$T/o1/" --format zip
check_exit "--format both needs a directory" 2 "$B/pt-pack" "$T/ok.st" -o "$T/x.bin" --format both
check_exit "unknown extension" 2 "$B/pt-pack" "$T/ok.st" -o "$T/x.weights"
check_exit "extension contradicts --format" 2 "$B/pt-pack" "$T/ok.st" -o "$T/x.bin" --format safetensors
for s in 10TB abc GB -5 1.5GB 99999999999999999999; do
	check_exit "bad --max-shard-size $s" 2 "$B/pt-pack" "$T/ok.st" -o "$T/o1/" --max-shard-size "$s"
done
check_exit "bad --dtype" 2 "$B/pt-pack" "$T/ok.st" -o "$T/o1/" --dtype f64
check_exit "two inputs" 2 "$B/pt-pack" "$T/ok.st" "$T/ok.st" -o "$T/o1/"
check_exit "unknown option" 2 "$B/pt-pack" "$T/ok.st" -o "$T/o1/" --fast
check_exit "option without value" 2 "$B/pt-pack" "$T/ok.st" -o
check_exit "stdout needs --format" 2 "$B/pt-pack" "$T/ok.st" -o -
check_exit "stdout cannot hold shards" 2 "$B/pt-pack" "$T/ok.st" -o - --format pt --max-shard-size 1GB
check_fails "missing input file" "nope.st: No such file" "$B/pt-pack" "$T/nope.st" -o "$T/o1/"
check_fails "missing output directory" "cannot create output" "$B/pt-pack" "$T/ok.st" -o "$T/absent/x.bin"
empty_dir "usage errors: nothing written" "$T/o1"

# ---- a signal mid-run removes the temporary files -----------------------------------
mkdir -p "$T/sig"
mkfifo "$T/fifo"
"$B/pt-pack" "$T/fifo" -o "$T/sig/" --format both &
pid=$!
{ gen big:U8:20000000; sleep 4; } >"$T/fifo" &
feeder=$!
sleep 2
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" -gt 128 ] && ok "SIGTERM stops pt-pack" || fail "SIGTERM: exit $rc"
empty_dir "SIGTERM: no temporary files left" "$T/sig"
kill "$feeder" 2>/dev/null
wait "$feeder" 2>/dev/null
true
