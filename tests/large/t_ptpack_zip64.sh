# pt-pack over 4 GiB: a tensor of exactly 0xFFFFFFFF bytes (the first size
# that needs ZIP64), records beyond 4 GiB, an alias of the big tensor; the
# .bin loaded by torch and compared bit for bit, byte-identical to torch's
# own zip writer; the .safetensors compared too. Prints timings.
. "$(dirname "$0")/../lib.sh"
V=$("$B/pt-pack" --version | awk '{print $NF}')
"$TB/stgen" small:F32:3 big:U8:4294967295:seq after:F32:1000 tail:I64:2 empty:F16:0 \
	--meta ckptconv.alias.tied.big=big --meta ckptconv.alias.tied.tail=tail >"$T/big.st"
ok "stream of $(stat -c %s "$T/big.st") bytes"
start=$(date +%s%N)
check "pt-pack --format both over 4 GiB" "$B/pt-pack" "$T/big.st" -o "$T/out/" --format both
echo "# pt-pack: $((($(date +%s%N) - start) / 1000000)) ms for $(du -cb "$T/out"/* | tail -1 | cut -f1) bytes written"
out=$("$PY" "$CK_ROOT/tests/py/ptcheck.py" --version "$V" "$T/big.st" "$T/out/" --format both 2>&1)
printf '%s\n' "$out" | grep -E '^(ok|FAIL) - '
printf '%s\n' "$out" | grep -q -E '^(ok|FAIL) - ' || { fail "ptcheck"; printf '%s\n' "$out" | tail -5; }
"$PY" - "$T/out/pytorch_model.bin" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
big = z.getinfo("pytorch_model/data/1")
late = z.getinfo("pytorch_model/data/2")
ok = big.file_size == 0xFFFFFFFF and late.header_offset > 0xFFFFFFFF
print(("ok" if ok else "FAIL") + f" - ZIP64 in use: data/1 is {big.file_size} bytes, data/2 at offset {late.header_offset}")
PY
