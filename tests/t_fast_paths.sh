# The fast paths give the same bytes as the plain ones: only the tensors the
# rules keep are extracted (tensor-remap --list --needed, ckpt-extract
# --names-from; ckpt-extract --remap, which also saves a pipe; pt-pack
# --checkpoint, which saves the other); outputs are
# hashed while written (pt-pack --digest-cache) and the manifest holds the
# true SHA-256 of every file; key-file stamps (ckpt-ls --key-files,
# HASH=full|pinned); concurrent digest caches merge; pt-pack's progress line
# appears only on a terminal.
. "$(dirname "$0")/lib.sh"
G=$FIX/golden
BERT=$G/bert/input/model.ckpt-100000
RULES=$CK_ROOT/models/bert/tensors.rules

# ---- tensor-remap --list --needed ------------------------------------------
"$B/ckpt-ls" "$BERT" >"$T/all.list"
"$B/tensor-remap" --list --needed "$RULES" "$T/all.list" >"$T/needed.list"
check_eq "--needed: every input tensor but the dropped ones, as listed" \
	"$(grep -v -e '/adam_[mv]	' -e '^global_step	' "$T/all.list")" "$(cat "$T/needed.list")"
check_eq "--needed reads stdin" "$(cat "$T/needed.list")" \
	"$("$B/tensor-remap" --list --needed "$RULES" <"$T/all.list")"
check_exit "--needed without --list is a usage error" 2 "$B/tensor-remap" --needed "$RULES"
XLM=$G/xlm/input/mlm_tiny_enfr.pth
check_eq "--needed keeps a tied name of a needed tensor (=TARGET)" \
	"model/pred_layer.proj.weight	F32	94,32	=model/embeddings.weight" \
	"$("$B/ckpt-ls" "$XLM" | "$B/tensor-remap" --list --needed "$CK_ROOT/models/xlm/tensors.rules" | grep '=')"

# ---- ckpt-extract --names-from ---------------------------------------------
check "--names-from: extract the needed tensors" "$B/ckpt-extract" "$BERT" --names-from "$T/needed.list" -o "$T/sel.st"
# shellcheck disable=SC2046
check "the same tensors named one by one" "$B/ckpt-extract" "$BERT" -o "$T/named.st" $(cut -f1 "$T/needed.list")
check "--names-from gives the bytes of NAME arguments" cmp "$T/sel.st" "$T/named.st"
check "--names-from - reads stdin" sh -c "cut -f1 '$T/needed.list' | '$B/ckpt-extract' '$BERT' --names-from - -o '$T/stdin.st' && cmp '$T/stdin.st' '$T/sel.st'"
"$B/ckpt-extract" "$BERT" -o "$T/all.st"
"$B/tensor-remap" "$RULES" "$T/all.st" -o "$T/all.remap.st"
"$B/tensor-remap" "$RULES" "$T/sel.st" -o "$T/sel.remap.st"
check "remapped, the selection gives the same stream as every tensor" cmp "$T/all.remap.st" "$T/sel.remap.st"
: >"$T/empty.list"
check "--names-from an empty list: a stream without tensors" "$B/ckpt-extract" "$BERT" --names-from "$T/empty.list" -o "$T/none.st"
check_eq "... which lists nothing" "" "$("$B/ckpt-ls" "$T/none.st")"
printf 'bert/embeddings/LayerNorm/beta\nno/such/tensor\n' >"$T/bad.list"
check_fails "--names-from: an unknown name" "no tensor named no/such/tensor" \
	"$B/ckpt-extract" "$BERT" --names-from "$T/bad.list" -o "$T/bad.st"
check_exit "--names-from twice is a usage error" 2 "$B/ckpt-extract" "$BERT" --names-from "$T/empty.list" --names-from "$T/empty.list" -o "$T/x.st"
check_fails "--names-from: a missing file" "nonexistent" "$B/ckpt-extract" "$BERT" --names-from "$T/nonexistent" -o "$T/x.st"

# ---- ckpt-extract --remap: `ckpt-extract | tensor-remap` in one process ---------
for c in albert:albert/input bert:bert/input bert:bert_mlm_only/input/bert_model.ckpt gpt:gpt/input \
	gpt2:gpt2/input t5:t5/input transfo_xl:transfo_xl/input xlm:xlm/input/mlm_tiny_enfr.pth \
	xlm:xlm_legacy/input/checkpoint.pth xlnet:xlnet/input; do
	m=${c%%:*} in=$G/${c#*:}
	"$B/ckpt-extract" "$in" | "$B/tensor-remap" "$CK_ROOT/models/$m/tensors.rules" >"$T/piped.st"
	check "--remap ($m, ${c#*:}): the bytes of | tensor-remap" sh -c \
		"'$B/ckpt-extract' '$in' --remap '$CK_ROOT/models/$m/tensors.rules' | cmp - '$T/piped.st'"
done
# dropped tensors are not read: a corrupt optimizer slot does not stop it
W=$T/slot && mkdir -p "$W" && cp "$G/bert/input/"* "$W/" && chmod u+w "$W/"*
off=$($PY -c 'import json,sys; t=[t for t in json.load(sys.stdin)["tensors"] if t["name"]=="bert/pooler/dense/kernel/adam_v"][0]; print(t["offset"])' \
	<<<"$("$B/ckpt-ls" --json "$W")")
printf '\377' | dd of="$W/model.ckpt-100000.data-00000-of-00001" bs=1 seek="$off" conv=notrunc status=none
check_fails "a corrupt Adam slot: plain extraction refuses it" "bert/pooler/dense/kernel/adam_v" \
	"$B/ckpt-extract" "$W" -o "$T/x.st"
check "... --remap, which drops it, converts without reading it" sh -c \
	"'$B/ckpt-extract' '$W' --remap '$RULES' | cmp - '$T/all.remap.st'"
check_fails "--remap: a missing rule file is named" "nonexistent.rules" \
	"$B/ckpt-extract" "$BERT" --remap "$T/nonexistent.rules" -o "$T/x.st"
check_exit "--arg without --remap is a usage error" 2 "$B/ckpt-extract" "$BERT" --arg a=b -o "$T/x.st"
check_exit "--verify-only with --remap is a usage error" 2 "$B/ckpt-extract" "$BERT" --verify-only --remap "$RULES"
check_exit "--remap twice is a usage error" 2 "$B/ckpt-extract" "$BERT" --remap "$RULES" --remap "$RULES" -o "$T/x.st"
[ -e "$T/x.st" ] && fail "a failed run left its output" || ok "no failed run left an output"

# ---- pt-pack --checkpoint: `ckpt-extract [--remap] | pt-pack` in one process ----
for c in albert:albert/input bert:bert/input gpt:gpt/input gpt2:gpt2/input t5:t5/input \
	transfo_xl:transfo_xl/input xlm:xlm/input/mlm_tiny_enfr.pth xlnet:xlnet/input; do
	m=${c%%:*} in=$G/${c#*:}
	rm -rf "$T/cp1" "$T/cp2"
	"$B/ckpt-extract" "$in" --remap "$CK_ROOT/models/$m/tensors.rules" | "$B/pt-pack" --format both -o "$T/cp1/"
	check "pt-pack --checkpoint --remap ($m) runs" "$B/pt-pack" --checkpoint "$in" \
		--remap "$CK_ROOT/models/$m/tensors.rules" --format both -o "$T/cp2/"
	check "... the same .safetensors as the pipeline" cmp "$T/cp1/model.safetensors" "$T/cp2/model.safetensors"
	check "... the same .bin as the pipeline" cmp "$T/cp1/pytorch_model.bin" "$T/cp2/pytorch_model.bin"
done
rm -rf "$T/cp1" "$T/cp2"
"$B/ckpt-extract" "$BERT" | "$B/pt-pack" --dtype f16 --max-shard-size 100KB --format both -o "$T/cp1/"
check "pt-pack --checkpoint, no rules, cast and sharded" "$B/pt-pack" --checkpoint "$BERT" \
	--dtype f16 --max-shard-size 100KB --format both -o "$T/cp2/"
check_eq "... the same files" "$(ls "$T/cp1")" "$(ls "$T/cp2")"
check "... with the same bytes" diff -r "$T/cp1" "$T/cp2"
check "a corrupt Adam slot: pt-pack --checkpoint --remap, which drops it, converts" \
	"$B/pt-pack" --checkpoint "$W" --remap "$RULES" -o "$T/slot.safetensors"
check "... to the stream's bytes" sh -c "'$B/pt-pack' '$T/all.remap.st' -o - --format safetensors | cmp - '$T/slot.safetensors'"
# a kept tensor corrupt: the extracting thread's error ends the run, nothing is left
K=$T/kept && mkdir -p "$K" && cp "$G/bert/input/"* "$K/" && chmod u+w "$K/"*
off=$($PY -c 'import json,sys; t=[t for t in json.load(sys.stdin)["tensors"] if t["name"]=="cls/predictions/output_bias"][0]; print(t["offset"])' \
	<<<"$("$B/ckpt-ls" --json "$K")")
printf '\377' | dd of="$K/model.ckpt-100000.data-00000-of-00001" bs=1 seek="$off" conv=notrunc status=none
check_fails "pt-pack --checkpoint: a corrupt kept tensor is named" "cls/predictions/output_bias" \
	"$B/pt-pack" --checkpoint "$K" --remap "$RULES" --format both -o "$T/bad/out/"
[ -e "$T/bad" ] && fail "a failed pt-pack --checkpoint left $(ls -R "$T/bad")" || ok "a failed pt-pack --checkpoint leaves nothing"
check_fails "pt-pack --checkpoint: a missing checkpoint is named" "nonexistent" \
	"$B/pt-pack" --checkpoint "$T/nonexistent" -o "$T/x.safetensors"
check_fails "pt-pack --checkpoint: a missing rule file is named" "nonexistent.rules" \
	"$B/pt-pack" --checkpoint "$BERT" --remap "$T/nonexistent.rules" -o "$T/x.safetensors"
check_exit "pt-pack: --remap without --checkpoint is a usage error" 2 "$B/pt-pack" "$T/all.st" --remap "$RULES" -o "$T/x.safetensors"
check_exit "pt-pack: IN and --checkpoint is a usage error" 2 "$B/pt-pack" "$T/all.st" --checkpoint "$BERT" -o "$T/x.safetensors"
check_exit "pt-pack: --arg without --remap is a usage error" 2 "$B/pt-pack" --checkpoint "$BERT" --arg a=b -o "$T/x.safetensors"
check_exit "pt-pack: --arg needs NAME=VALUE" 2 "$B/pt-pack" --checkpoint "$BERT" --remap "$RULES" --arg ab -o "$T/x.safetensors"
[ -e "$T/x.safetensors" ] && fail "a failed pt-pack left its output" || ok "no failed pt-pack left an output"

# ---- transposes are written a band of rows at a time --------------------------
# (memory: the input plus two bands); several bands, edges, casts, reshapes
cat >"$T/band.rules" <<'EOF'
rename a -> a.t transpose
rename b -> b.t transpose cast F32
rename c -> c.t squeeze transpose cast F32
rename d -> d.t transpose reshape -1
rename e -> e.t transpose
rename f -> f.t cast F64 transpose
EOF
"$TB/st_make" a:F32:1500,2049 b:BF16:700,3001 c:F16:1,1203,1801 d:F32:9,700001 e:I8:3001,1500 \
	f:F32:1000,1700 >"$T/band.st"
check "banded transposes run" "$B/tensor-remap" "$T/band.rules" "$T/band.st" -o "$T/band.out"
$PY "$CK_ROOT/tests/py/st_expect.py" "$T/band.st" "$T/band.out" \
	'same(o["a.t"], np.ascontiguousarray(i["a"].T))' \
	'same(o["b.t"], np.ascontiguousarray(bf16_to_f32(i["b"]).T))' \
	'same(o["c.t"], np.ascontiguousarray(i["c"].reshape(1203, 1801).T.astype(np.float32)))' \
	'same(o["d.t"], np.ascontiguousarray(i["d"].T).reshape(-1))' \
	'same(o["e.t"], np.ascontiguousarray(i["e"].T))' \
	'same(o["f.t"], np.ascontiguousarray(i["f"].astype(np.float64).T))' 2>&1 | sed 's/^\(ok\|FAIL\) - /\1 - band: /'

# ---- pt-pack --checkpoint on streams larger than its ring (16 MiB) ----------------
# The ring wraps, either side waits for the other, tensors of odd byte counts
# straddle its end; a failure after the wrap still leaves nothing.
rm -rf "$T/cp1" "$T/cp2"
"$B/ckpt-extract" "$T/band.st" --remap "$T/band.rules" | "$B/pt-pack" --dtype bf16 --format both -o "$T/cp1/"
check "a 57 MB stream through the ring, transposed and cast" "$B/pt-pack" --checkpoint "$T/band.st" \
	--remap "$T/band.rules" --dtype bf16 --format both -o "$T/cp2/"
check "... the same files as the pipeline" diff -r "$T/cp1" "$T/cp2"
printf 'x0 F32 2000,2000\nx1 F16 3\nx2 F32 2001,1999\nx3 F32 1999,2003\n' >"$T/big.spec"
mkdir -p "$T/big" && "$TB/mkckpt" "$T/big.spec" "$T/big/m"
rm -rf "$T/cp1" "$T/cp2"
"$B/ckpt-extract" "$T/big/m" | "$B/pt-pack" --format both -o "$T/cp1/"
check "a 48 MB TF checkpoint through the ring" "$B/pt-pack" --checkpoint "$T/big/m" --format both -o "$T/cp2/"
check "... the same files as the pipeline" diff -r "$T/cp1" "$T/cp2"
off=$($PY -c 'import json,sys; t=[t for t in json.load(sys.stdin)["tensors"] if t["name"]=="x3"][0]; print(t["offset"] + 1000)' \
	<<<"$("$B/ckpt-ls" --json "$T/big/m")")
printf '\377' | dd of="$T/big/m.data-00000-of-00001" bs=1 seek="$off" conv=notrunc status=none
check_fails "... its last tensor corrupt, 32 MB in: named" "x3" "$B/pt-pack" --checkpoint "$T/big/m" -o "$T/bigbad/"
[ -e "$T/bigbad" ] && fail "the failed run left $(ls "$T/bigbad")" || ok "... and nothing is left"
# the packing thread fails first (U16 has no torch storage) while the extracting
# one waits on a full ring: it is stopped, the run ends
"$TB/st_make" a:U16:1000,1000 b:F32:3000,3000 >"$T/u16.st"
check_fails "pt-pack --checkpoint: the packer's own error, the ring full" "tensor a: dtype U16" \
	timeout 60 "$B/pt-pack" --checkpoint "$T/u16.st" --format pt -o "$T/u16/"
[ -e "$T/u16" ] && fail "the failed run left $(ls "$T/u16")" || ok "... and nothing is left"

# ---- ckpt-ls --key-files ----------------------------------------------------
check_eq "--key-files of a TF checkpoint: the index" "$("$B/ckpt-ls" --files "$BERT" | head -1)" \
	"$("$B/ckpt-ls" --key-files "$BERT")"
check_eq "--key-files of a safetensors file: the file" "$T/all.st" "$("$B/ckpt-ls" --key-files "$T/all.st")"
check_exit "--key-files with --files is a usage error" 2 "$B/ckpt-ls" --files --key-files "$BERT"

# ---- pt-pack --digest-cache ---------------------------------------------------
check "pt-pack --digest-cache" "$B/pt-pack" "$T/sel.remap.st" -o "$T/pk/" --format both --digest-cache "$T/pk.cache"
for f in model.safetensors pytorch_model.bin; do
	want=$(sha256sum "$T/pk/$f" | cut -d' ' -f1)
	check_eq "digest cache: the SHA-256 of $f" "$want" "$(awk -v p="$T/pk/$f" '$7 == p { print $1 }' "$T/pk.cache")"
	check_eq "ckpt-digest --cache gives it for $f" "$want  $T/pk/$f" "$("$B/ckpt-digest" --cache "$T/pk.cache" "$T/pk/$f")"
done
check "pt-pack --digest-cache, sharded" "$B/pt-pack" "$T/sel.remap.st" -o "$T/pks/" --format both --max-shard-size 100KB --digest-cache "$T/pks.cache"
bad=0
for f in "$T"/pks/*; do
	[ "$(awk -v p="$f" '$7 == p { print $1 }' "$T/pks.cache")" = "$(sha256sum "$f" | cut -d' ' -f1)" ] || bad=1
done
check_eq "digest cache: every shard and index hashed right" 0 "$bad"
# large writes are hashed by a helper thread while write() runs: tensors of
# 4 MB and more (pt-pack writes 4 MiB at a time), cast and not, both formats
"$TB/st_make" big:F32:1500,2049 small:F16:7 bf:BF16:3001,700 huge:F32:3,1100000 >"$T/big.st"
bad=0
for d in "" "--dtype bf16"; do
	rm -rf "$T/pkb" "$T/pkb.cache"
	# shellcheck disable=SC2086
	"$B/pt-pack" "$T/big.st" -o "$T/pkb/" --format both $d --digest-cache "$T/pkb.cache" || bad=1
	for f in "$T"/pkb/*; do
		[ "$(awk -v p="$f" '$7 == p { print $1 }' "$T/pkb.cache")" = "$(sha256sum "$f" | cut -d' ' -f1)" ] || bad=1
	done
done
check_eq "large outputs (hashed in a thread while written): the true SHA-256, with and without a cast" 0 "$bad"
check "pt-pack to stdout with --digest-cache" sh -c "'$B/pt-pack' '$T/sel.remap.st' -o - --format safetensors --digest-cache '$T/so.cache' | cmp - '$T/pk/model.safetensors'"

# ---- concurrent digest caches merge ---------------------------------------------
for i in 1 2 3 4 5 6; do printf '%s\n' "$i" >"$T/f$i"; done
for i in 1 2 3 4 5 6; do "$B/ckpt-digest" --cache "$T/merge.cache" "$T/f$i" >/dev/null & done
wait
check_eq "six processes saving one cache: six entries" 6 "$(wc -l <"$T/merge.cache")"

# ---- the Make path: manifests, HASH=full|pinned, stamps -----------------------
W=$T/mk
mkdir -p "$W/in" && cp "$G/bert/input/"* "$W/in/" && chmod u+w "$W/in/"*
cat >"$T/conv.mk" <<MK
CKPTCONV_BIN := $B
include $CK_ROOT/mk/convert.mk
\$(eval \$(call ckptconv,$W/full,bert,$W/in/model.ckpt-100000))
\$(eval \$(call ckptconv,$W/pinned,bert,$W/in/model.ckpt-100000,HASH=pinned))
all: \$(CKPTCONV_OUTPUTS)
MK
check "make -j2: HASH=full and HASH=pinned" make -s -C "$T" -f "$T/conv.mk" -j2 all
check "both modes write the same weights" cmp "$W/full/model.safetensors" "$W/pinned/model.safetensors"
# manifest_sha DIR SECTION NAME
manifest_sha() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]].get("sha256", "-"))' "$1/ckptconv-manifest.json" "$2" "$3"; }
bad=""
for f in model.safetensors pytorch_model.bin config.json vocab.txt; do
	[ "$(manifest_sha "$W/full" outputs $f)" = "$(sha256sum "$W/full/$f" | cut -d' ' -f1)" ] || bad="$bad $f"
done
for f in model.ckpt-100000.index model.ckpt-100000.data-00000-of-00001 bert_config.json vocab.txt; do
	[ "$(manifest_sha "$W/full" inputs $f)" = "$(sha256sum "$W/in/$f" | cut -d' ' -f1)" ] || bad="$bad $f"
done
[ "$(manifest_sha "$W/full" inputs tensors.rules)" = "$(sha256sum "$RULES" | cut -d' ' -f1)" ] || bad="$bad tensors.rules"
check_eq "HASH=full: the manifest has the true SHA-256 of every input and output" "" "$bad"
check_eq "HASH=pinned: the index is hashed" "$(sha256sum "$W/in/model.ckpt-100000.index" | cut -d' ' -f1)" \
	"$(manifest_sha "$W/pinned" inputs model.ckpt-100000.index)"
check_eq "HASH=pinned: the data shard is recorded by size only" \
	"{\"size\": $(stat -c %s "$W/in/model.ckpt-100000.data-00000-of-00001")}" \
	"$($PY -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["inputs"]["model.ckpt-100000.data-00000-of-00001"]))' "$W/pinned/ckptconv-manifest.json")"
check_eq "HASH=pinned: outputs are hashed" "$(sha256sum "$W/pinned/model.safetensors" | cut -d' ' -f1)" \
	"$(manifest_sha "$W/pinned" outputs model.safetensors)"
touch "$W/in/"*
check_eq "touched inputs: nothing re-runs in either mode" "" "$(make -s -C "$T" -f "$T/conv.mk" all 2>&1)"

# a checkpoint whose index changes (here: one more optimizer slot) reconverts
mkdir -p "$W/gen"
cp "$CK_ROOT/models/bert/example_config.json" "$W/gen/bert_config.json"
"$TB/mkckpt" "$CK_ROOT/models/bert/example.spec" "$W/gen/bert_model.ckpt"
cat >"$T/gen.mk" <<MK
CKPTCONV_BIN := $B
include $CK_ROOT/mk/convert.mk
\$(eval \$(call ckptconv,$W/genout,bert,$W/gen/bert_model.ckpt,HASH=pinned))
MK
check "a generated checkpoint converts" make -s -C "$T" -f "$T/gen.mk" "$W/genout"
{ cat "$CK_ROOT/models/bert/example.spec"; echo "bert/pooler/dense/bias/adam_m F32 32"; } >"$T/more.spec"
"$TB/mkckpt" "$T/more.spec" "$W/gen/bert_model.ckpt"
ran=$(make --no-print-directory -C "$T" -f "$T/gen.mk" "$W/genout" 2>&1)
case $ran in *"pt-pack --checkpoint"*) ok "a changed index reconverts" ;; *) fail "a changed index did not reconvert" ;; esac
check_eq "... and then nothing re-runs" "" "$(make -s -C "$T" -f "$T/gen.mk" "$W/genout" 2>&1)"

cat >"$T/badhash.mk" <<MK
include $CK_ROOT/mk/convert.mk
\$(eval \$(call ckptconv,$W/x,bert,$BERT,HASH=some))
MK
out=$(make -s -C "$T" -f "$T/badhash.mk" 2>&1)
case $out in *"HASH must be full or pinned"*) ok "HASH must be full or pinned" ;; *) fail "bad HASH accepted: $out" ;; esac

# ---- progress: a line on a terminal only ------------------------------------------
# The stream arrives in two parts half a second apart, so the work lasts
# long enough for the line to be drawn.
# A file, not a shell function: script(1) runs its command with $SHELL, which
# may be dash (it drops exported bash functions).
n=$(stat -c %s "$T/sel.remap.st")
printf '#!/bin/sh\nhead -c %s "%s"; sleep 0.6; tail -c 64 "%s"\n' \
	$((n - 64)) "$T/sel.remap.st" "$T/sel.remap.st" >"$T/slow.sh"
chmod +x "$T/slow.sh"
"$T/slow.sh" | "$B/pt-pack" -o "$T/pg1/" 2>"$T/pg1.err"
check_eq "progress: silent when stderr is not a terminal" "" "$(cat "$T/pg1.err")"
if command -v script >/dev/null 2>&1; then
	script -qec "'$T/slow.sh' | '$B/pt-pack' -o '$T/pg2/'" /dev/null >"$T/pg2.out" 2>&1
	case $(cat "$T/pg2.out") in
	*"tensors, "*" MB/s"*) ok "progress: a line on a terminal" ;;
	*) fail "progress: no line on a terminal: $(od -c "$T/pg2.out" | head -3)" ;;
	esac
	script -qec "'$T/slow.sh' | '$B/pt-pack' -q -o '$T/pg3/'" /dev/null >"$T/pg3.out" 2>&1
	check_eq "progress: -q silences it" "" "$(cat "$T/pg3.out")"
	check "the outputs are the same" cmp "$T/pg2/model.safetensors" "$T/pg1/model.safetensors"
fi
