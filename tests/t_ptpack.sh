# pt-pack: every produced .bin loaded by torch 1.13 (weights_only=True) and
# every .safetensors parsed, compared bit for bit with the input stream
# (tests/py/ptcheck.py); shards, indexes, aliases, casts, pipes, determinism.
. "$(dirname "$0")/lib.sh"

V=$("$B/pt-pack" --version | awk '{print $NF}')
gen() { "$TB/stgen" "$@"; }

# verify NAME STREAM OUT [ptcheck options] — relay ptcheck's checks as NAME: ...
verify() {
	local name=$1 out rc
	shift
	out=$("$PY" "$CK_ROOT/tests/py/ptcheck.py" --version "$V" "$@" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed -n "s#^\(ok\|FAIL\) - #\1 - $name: #p"
	if [ "$rc" -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL'; then
		fail "$name: ptcheck exited $rc"
		printf '%s\n' "$out" | tail -5
	fi
}

# same_files NAME DIR1 DIR2 — the two directories hold byte-identical files
same_files() {
	local name=$1 a=$2 b=$3 f ok=1
	[ "$(ls "$a")" = "$(ls "$b")" ] || ok=0
	for f in "$a"/*; do cmp -s "$f" "$b/$(basename "$f")" || ok=0; done
	if [ $ok = 1 ]; then ok "$name"; else fail "$name: $a and $b differ"; fi
}

# ---- every dtype, scalars, empty tensors, non-ASCII names, aliases ---------
ALL=(f64:F64:3,5 f32:F32:7 f16:F16:2,2,2 bf16:BF16:9 i64:I64:4 i32:I32:3,3 i16:I16:5
	i8:I8:6 u8:U8:7 flag:BOOL:10 s.f32:F32: s.i64:I64: s.bool:BOOL: empty:F32:0
	empty2:I32:3,0,2 empty3:BF16:0,0 'ünïcödé.wëight:F32:2' 日本語の名前:BF16:3 emoji🙂:U8:1
	'with space and "quote" \ back:F16:2' 'colon:in:name:I8:2' five.dims:F32:2,1,3,1,2)
META=(--meta ckptconv.sha256.model.ckpt.index=00ff --meta other.tool.key=dropped
	--meta ckptconv.alias.tied.f32=f32 --meta ckptconv.alias.tied.chain=tied.f32
	--meta ckptconv.alias.tied.scalar=s.i64 --meta ckptconv.alias.tied.empty=empty2
	--meta 'ckptconv.alias.tïed ünicode=日本語の名前')
gen "${ALL[@]}" "${META[@]}" >"$T/all.st"
check "all dtypes: pt-pack --format both" "$B/pt-pack" "$T/all.st" -o "$T/all/" --format both
verify "all dtypes" "$T/all.st" "$T/all/" --format both

gen --reverse "${ALL[@]}" "${META[@]}" >"$T/rev.st"
check "data order unlike header order: pt-pack" "$B/pt-pack" "$T/rev.st" -o "$T/rev/" --format both
verify "data order unlike header order" "$T/rev.st" "$T/rev/" --format both

# ---- single files named by the user ----------------------------------------
mkdir -p "$T/files"
check "file output .bin" "$B/pt-pack" "$T/all.st" -o "$T/files/weights.v2.bin"
verify "file output .bin" "$T/all.st" "$T/files/weights.v2.bin"
check "file output .pt" "$B/pt-pack" "$T/all.st" -o "$T/files/model.pt"
verify "file output .pt" "$T/all.st" "$T/files/model.pt"
check "file output .safetensors" "$B/pt-pack" "$T/all.st" -o "$T/files/w.safetensors"
verify "file output .safetensors" "$T/all.st" "$T/files/w.safetensors"
check "directory without --format: safetensors" "$B/pt-pack" "$T/all.st" -o "$T/dflt/"
verify "directory without --format" "$T/all.st" "$T/dflt/" --format safetensors

# ---- the empty stream -------------------------------------------------------
gen >"$T/empty.st"
check "empty stream: pt-pack" "$B/pt-pack" "$T/empty.st" -o "$T/empty/" --format both
verify "empty stream" "$T/empty.st" "$T/empty/" --format both

# ---- more than 1000 tensors (pickle SETITEMS batching) ----------------------
for n in 1000 2001 2500; do
	gen --many $n t.layer. F32 2 --meta ckptconv.alias.last=t.layer.0 >"$T/many$n.st"
	check "$n tensors: pt-pack" "$B/pt-pack" "$T/many$n.st" -o "$T/many$n/" --format both
	verify "$n tensors" "$T/many$n.st" "$T/many$n/" --format both
done

# ---- shards ---------------------------------------------------------------
SH=(a:F32:250 b:F32:250 c:F32:250 big:F64:1000 d:F32:250 e:U8:0 f:F32:250 g:F32:250
	h:I64:100 i:F16:500 --meta ckptconv.alias.tied.big=big --meta ckptconv.alias.tied.a=a
	--meta ckptconv.alias.tied.i=i --meta ckptconv.version=0.0.1)
gen "${SH[@]}" >"$T/sh.st"
for size in 3000 3KB 3kB 2KiB 24Kb 2500 8000 1000000 1GB 0; do
	check "shards of $size: pt-pack" "$B/pt-pack" "$T/sh.st" -o "$T/sh$size/" --format both --max-shard-size "$size"
	verify "shards of $size" "$T/sh.st" "$T/sh$size/" --format both --max-shard-size "$size"
done
gen --many 70 w. I8 3 --meta ckptconv.alias.tied=w.7 >"$T/sh70.st"
check "70 shards of both kinds (142 files): pt-pack" "$B/pt-pack" "$T/sh70.st" -o "$T/sh70/" --format both --max-shard-size 3
verify "70 shards" "$T/sh70.st" "$T/sh70/" --format both --max-shard-size 3
mkdir -p "$T/shfile"
check "shards of a named file: pt-pack" "$B/pt-pack" "$T/sh.st" -o "$T/shfile/w.bin" --max-shard-size=3000
verify "shards of a named file" "$T/sh.st" "$T/shfile/w.bin" --max-shard-size 3000
check_eq "shard names of a named file" "w-00001-of-00004.bin w-00002-of-00004.bin w-00003-of-00004.bin w-00004-of-00004.bin w.bin.index.json" "$(ls "$T/shfile" | tr '\n' ' ' | sed 's/ $//')"
check_eq "index json of 3000-byte shards" '{
  "metadata": {
    "total_size": 15800
  },
  "weight_map": {
    "a": "pytorch_model-00001-of-00004.bin",
    "b": "pytorch_model-00001-of-00004.bin",
    "big": "pytorch_model-00002-of-00004.bin",
    "c": "pytorch_model-00001-of-00004.bin",
    "d": "pytorch_model-00003-of-00004.bin",
    "e": "pytorch_model-00003-of-00004.bin",
    "f": "pytorch_model-00003-of-00004.bin",
    "g": "pytorch_model-00003-of-00004.bin",
    "h": "pytorch_model-00004-of-00004.bin",
    "i": "pytorch_model-00004-of-00004.bin",
    "tied.a": "pytorch_model-00001-of-00004.bin",
    "tied.big": "pytorch_model-00002-of-00004.bin",
    "tied.i": "pytorch_model-00004-of-00004.bin"
  }
}' "$(cat "$T/sh3000/pytorch_model.bin.index.json")"

# ---- casts ------------------------------------------------------------------
CASTS=(d:F64:4003:special f:F32:40000:special h:F16:65536:special b:BF16:65536:special
	small.d:F64:3:special s:F32: i:I32:5 u:U8:3 flag:BOOL:4 --meta ckptconv.alias.tied.h=h)
gen "${CASTS[@]}" >"$T/casts.st"
for dt in f32 f16 bf16; do
	check "--dtype $dt: pt-pack" "$B/pt-pack" "$T/casts.st" -o "$T/cast_$dt/" --format both --dtype $dt
	verify "--dtype $dt" "$T/casts.st" "$T/cast_$dt/" --format both --dtype $dt
done

# ---- U16/U32/U64: safetensors only ------------------------------------------
gen u16:U16:3 u32:U32:2 u64:U64:4 x:F32:1 >"$T/unsigned.st"
check "U16/U32/U64 to safetensors" "$B/pt-pack" "$T/unsigned.st" -o "$T/unsigned/"
verify "U16/U32/U64 to safetensors" "$T/unsigned.st" "$T/unsigned/"

# ---- determinism, pipes, stdout --------------------------------------------
"$B/pt-pack" "$T/sh.st" -o "$T/det1/" --format both --max-shard-size 3000 --dtype bf16
"$B/pt-pack" "$T/sh.st" -o "$T/det2/" --format both --max-shard-size 3000 --dtype bf16
same_files "two runs are byte-identical" "$T/det1" "$T/det2"
gen "${SH[@]}" | "$B/pt-pack" -o "$T/pipe1/" --format both --max-shard-size 3000 --dtype bf16
same_files "input from a pipe (no IN)" "$T/det1" "$T/pipe1"
cat "$T/sh.st" | "$B/pt-pack" - -o "$T/pipe2/" --format both --max-shard-size 3000 --dtype bf16
same_files "input from a pipe (IN is -)" "$T/det1" "$T/pipe2"
"$B/pt-pack" -o "$T/stdin_file/" --format both --max-shard-size 3000 --dtype bf16 <"$T/sh.st"
same_files "standard input redirected from the file" "$T/det1" "$T/stdin_file"
{ printf 'JUNKJUNK'; cat "$T/sh.st"; } >"$T/prefixed.st"
(dd bs=8 count=1 status=none >/dev/null; "$B/pt-pack" -o "$T/stdin_off/" --format both --max-shard-size 3000 --dtype bf16) <"$T/prefixed.st"
same_files "standard input: a file read from an offset" "$T/det1" "$T/stdin_off"
cat "$T/rev.st" | "$B/pt-pack" -o "$T/rev_pipe/" --format both
same_files "pipe and file input agree when data order is unlike header order" "$T/rev" "$T/rev_pipe"
"$B/pt-pack" "$T/all.st" -o - --format safetensors >"$T/stdout.safetensors"
cmp -s "$T/stdout.safetensors" "$T/all/model.safetensors" && ok "safetensors to stdout" || fail "safetensors to stdout differs"
mkdir -p "$T/stdout"
"$B/pt-pack" "$T/all.st" -o - --format pt >"$T/stdout/archive.bin"
verify "pt to stdout" "$T/all.st" "$T/stdout/archive.bin"

# ---- --help, --version --------------------------------------------------------
check "--help" "$B/pt-pack" --help
"$B/pt-pack" --help | grep -q -- '--max-shard-size' && ok "--help documents the options" || fail "--help text"
check_eq "--version" "pt-pack (ckptconv) $V" "$("$B/pt-pack" --version)"
