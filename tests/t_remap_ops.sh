# tensor-remap: every operation on streams built with st_make, results
# checked with numpy (tests/py/st_expect.py).
. "$(dirname "$0")/lib.sh"
X="$PY $CK_ROOT/tests/py/st_expect.py"
R=$B/tensor-remap
MK=$TB/st_make

# expect NAME IN OUT EXPR... — run the numpy checks, prefixing their names
expect() {
	local name=$1; shift
	$X "$@" 2>&1 | sed "s/^\(ok\|FAIL\) - /\1 - $name: /"
}

# ---- rename, keep, drop; metadata; order ---------------------------------------
cat >"$T/basic.rules" <<'EOF'
# a comment line
let n = number
let wb = kernel -> weight | bias
drop **/{adam_m|adam_v}        # slots
drop global_step
rename net/layer_{n}/dense/{wb} -> net.layer.{n}.dense.{wb}
keep extra.*
EOF
$MK -m format=pt -m ckptconv.sha256.model.ckpt.index=abc \
	net/layer_007/dense/kernel:F32:2,3 net/layer_007/dense/kernel/adam_m:F32:2,3 \
	global_step:I64: net/layer_1/dense/bias:F32:3 extra.thing:I32:4 >"$T/basic.st"
check "rename/keep/drop run" $R "$T/basic.rules" "$T/basic.st" -o "$T/basic.out"
expect basic "$T/basic.st" "$T/basic.out" \
	'on == ["net.layer.7.dense.weight", "net.layer.1.dense.bias", "extra.thing"]' \
	'same(o["net.layer.7.dense.weight"], i["net/layer_007/dense/kernel"])' \
	'same(o["net.layer.1.dense.bias"], i["net/layer_1/dense/bias"])' \
	'same(o["extra.thing"], i["extra.thing"])' \
	'om["format"] == "pt" and om["ckptconv.sha256.model.ckpt.index"] == "abc"' \
	'om["ckptconv.version"] != ""'
check_eq "sha256 of the rule file in the metadata" \
	"$(sha256sum <"$T/basic.rules" | cut -d' ' -f1)" \
	"$($PY -c 'import sys; sys.path.insert(0, sys.argv[1]); import st; print(st.read(sys.argv[2])[0]["ckptconv.sha256.basic.rules"])' "$CK_ROOT/tests/py" "$T/basic.out")"
# stdin in, stdout out; "-" for stdin
$R "$T/basic.rules" <"$T/basic.st" >"$T/basic.stdout"
check "stdin to stdout gives the same bytes" cmp "$T/basic.out" "$T/basic.stdout"
$R "$T/basic.rules" - <"$T/basic.st" >"$T/basic.dash"
check "IN '-' reads stdin" cmp "$T/basic.out" "$T/basic.dash"
$R "$T/basic.rules" "$T/basic.st" --verbose -o "$T/basic.v" 2>"$T/basic.err"
check "--verbose lists each dropped tensor with its rule" \
	grep -q "dropped net/layer_007/dense/kernel/adam_m (.*basic.rules:4)" "$T/basic.err"
check "--verbose summary" grep -q "5 tensors in, 3 out, 0 aliases, 2 dropped" "$T/basic.err"

# ---- transpose: 2-D of every element size, blocked sizes, N-D reversal ----------
cat >"$T/tr.rules" <<'EOF'
rename {x:text} -> {x}.t  transpose
EOF
$MK a:F32:3,5 b:F16:130,70 c:BF16:64,65 d:F64:7,129 e:U8:33,300 f:I64:2,3,4 \
	g:F32:2,1,3,4 h:F32:1,5 k:F32:6 s:F32: z:F32:0,4 big:F32:515,1030 >"$T/tr.st"
check "transpose run" $R "$T/tr.rules" "$T/tr.st" -o "$T/tr.out"
expect transpose "$T/tr.st" "$T/tr.out" \
	'all(same(o[n + ".t"], np.transpose(i[n]).copy()) for n in i)' \
	'o["f.t"].shape == (4, 3, 2) and o["g.t"].shape == (4, 3, 1, 2)' \
	'o["h.t"].shape == (5, 1) and o["s.t"].shape == () and o["z.t"].shape == (4, 0)'

# ---- squeeze, reshape ----------------------------------------------------------
cat >"$T/sq.rules" <<'EOF'
rename w -> w.sq  squeeze
rename v -> v.r   reshape 2,-1,3
rename u -> u.r   reshape 24
rename t -> t.sqT squeeze transpose
EOF
$MK w:F32:1,4,1,3 v:F32:4,6 u:I32:2,3,4 t:F32:1,3,5 >"$T/sq.st"
check "squeeze/reshape run" $R "$T/sq.rules" "$T/sq.st" -o "$T/sq.out"
expect squeeze "$T/sq.st" "$T/sq.out" \
	'same(o["w.sq"], i["w"].reshape(4, 3))' \
	'same(o["v.r"], i["v"].reshape(2, 4, 3))' \
	'same(o["u.r"], i["u"].reshape(24))' \
	'same(o["t.sqT"], np.ascontiguousarray(i["t"].reshape(3, 5).T))'

# ---- cast: exact widening, rounding narrowing -----------------------------------
$PY - "$T" <<'EOF'
import sys
import numpy as np
t = sys.argv[1]
rng = np.random.default_rng(7)
edge = np.array([0.0, -0.0, 1.0, -1.0, 65504.0, 65519.99, 65520.0, 1e30, -1e30, np.inf, -np.inf,
                 np.nan, 2.0**-14, 2.0**-24, 2.0**-25, 2.0**-25 * 1.0000001, 2.0**-26, 3.0 * 2.0**-25,
                 1.0 + 2.0**-11, 1.0 + 3 * 2.0**-11, 1.0 + 2.0**-8, 1.0 + 3 * 2.0**-8,
                 3.4028235e38, 1e-40, -1e-45], dtype=np.float32)
vals = np.concatenate([edge, rng.standard_normal(4000).astype(np.float32) * 10.0 ** rng.integers(-9, 9, 4000),
                       rng.integers(0, 2**32, 4000, dtype=np.uint64).astype(np.uint32).view(np.float32)])
vals.astype("<f4").tofile(t + "/f32.raw")
(rng.standard_normal(3000) * 1e3).astype("<f8").tofile(t + "/f64.raw")
print(len(vals))
EOF
nf32=$(wc -c <"$T/f32.raw"); nf32=$((nf32 / 4))
cat >"$T/cast.rules" <<'EOF'
rename {x:text}.f16  -> {x}.f16.f32  cast F32
rename {x:text}.bf16 -> {x}.bf16.f32 cast f32
rename f32           -> f32.f16      cast F16
rename f32b          -> f32.bf16     cast BF16
rename f32c          -> f32.f64      cast F64
rename f32d          -> f32.f32      cast F32
rename f64           -> f64.f32      cast F32
rename f16x          -> f16.bf16     cast BF16
EOF
$MK all.f16:F16:65536:bits all.bf16:BF16:65536:bits f32:F32:$nf32:@"$T/f32.raw" \
	f32b:F32:$nf32:@"$T/f32.raw" f32c:F32:$nf32:@"$T/f32.raw" f32d:F32:$nf32:@"$T/f32.raw" \
	f64:F64:3000:@"$T/f64.raw" f16x:F16:65536:bits >"$T/cast.st"
check "cast run" $R "$T/cast.rules" "$T/cast.st" -o "$T/cast.out"
expect cast "$T/cast.st" "$T/cast.out" \
	'same(o["all.f16.f32"], i["all.f16"].astype(np.float32))' \
	'same(o["all.bf16.f32"], bf16_to_f32(i["all.bf16"]))' \
	'same(o["f32.f16"], i["f32"].astype(np.float16))' \
	'same(o["f32.bf16"], f32_to_bf16(i["f32b"]))' \
	'same(o["f32.f64"], i["f32c"].astype(np.float64))' \
	'same(o["f32.f32"], i["f32d"])' \
	'same(o["f64.f32"], i["f64"].astype(np.float32))' \
	'same(o["f16.bf16"], f32_to_bf16(i["f16x"].astype(np.float32)))'

# a tensor larger than the 4 MiB streaming chunk, cast and passed through
cat >"$T/big.rules" <<'EOF'
rename a -> a.f32 cast F32
keep b
rename c -> c.t transpose cast F32
EOF
$MK a:BF16:3000001 b:F32:1100000,1 c:F16:1001,1500 >"$T/big.st"
check "large tensors run" $R "$T/big.rules" "$T/big.st" -o "$T/big.out"
expect big "$T/big.st" "$T/big.out" \
	'same(o["a.f32"], bf16_to_f32(i["a"]))' 'same(o["b"], i["b"])' \
	'same(o["c.t"], np.ascontiguousarray(i["c"].T.astype(np.float32)))'

# ---- split ---------------------------------------------------------------------
cat >"$T/split.rules" <<'EOF'
let part = q | k -> key | v
rename bias0 -> layer.{i}.bias     split 0 as i
rename bias1 -> mid.{j}.bias       split 1 as j
rename qkv   -> attn.{part}.weight split 1 as part
rename qkvT  -> attnT.{part}.weight transpose split 0 as part
rename seq   -> seq.{i}.w          split 0 as i transpose cast F64
EOF
$MK bias0:F32:3,2,4 bias1:F16:2,3,4 qkv:F32:4,6 qkvT:F32:4,6 seq:F32:2,3,5 >"$T/split.st"
check "split run" $R "$T/split.rules" "$T/split.st" -o "$T/split.out"
expect split "$T/split.st" "$T/split.out" \
	'all(same(o["layer.%d.bias" % k], np.ascontiguousarray(i["bias0"][k])) for k in range(3))' \
	'all(same(o["mid.%d.bias" % k], np.ascontiguousarray(i["bias1"][:, k])) for k in range(3))' \
	'[same(o["attn.%s.weight" % p], np.ascontiguousarray(i["qkv"][:, 2*k:2*k+2])) for k, p in enumerate(["q", "key", "v"])] == [True] * 3' \
	'[same(o["attnT.%s.weight" % p], np.ascontiguousarray(i["qkvT"].T[2*k:2*k+2])) for k, p in enumerate(["q", "key", "v"])] == [True] * 3' \
	'all(same(o["seq.%d.w" % k], np.ascontiguousarray(i["seq"][k].T.astype(np.float64))) for k in range(2))' \
	'on[:3] == ["layer.0.bias", "layer.1.bias", "layer.2.bias"] and len(on) == 14'

# ---- aliases -------------------------------------------------------------------
cat >"$T/alias.rules" <<'EOF'
let n = number
keep emb
keep head.bias
keep out.{n}
keep lm
alias dec.weight = emb when head.bias
alias dec.bias = head.bias
alias never = emb when no.such.tensor
alias tied.{n} = out.{n}
alias lm = emb if-missing
alias lm2 = emb if-missing
keep orig.{n}
EOF
$MK emb:F32:5,2 head.bias:F32:5 out.0:F32:2 out.1:F32:2 lm:F32:5,2 orig.0:F32:1 \
	-a orig.1=orig.0 >"$T/alias.st"
check "alias run" $R "$T/alias.rules" "$T/alias.st" -o "$T/alias.out"
expect alias "$T/alias.st" "$T/alias.out" \
	'om["ckptconv.alias.dec.weight"] == "emb" and om["ckptconv.alias.dec.bias"] == "head.bias"' \
	'om["ckptconv.alias.tied.0"] == "out.0" and om["ckptconv.alias.tied.1"] == "out.1"' \
	'"ckptconv.alias.never" not in om and "ckptconv.alias.lm" not in om' \
	'om["ckptconv.alias.lm2"] == "emb"' \
	'om["ckptconv.alias.orig.1"] == "orig.0" and "orig.1" not in o' \
	'same(o["lm"], i["lm"])'
# the stream's own aliases follow renames and drops
cat >"$T/inalias.rules" <<'EOF'
rename a/{x:text} -> A.{x}
drop b/{x:text}
EOF
$MK a/w:F32:2 b/w:F32:2 -a a/tied=a/w -a b/tied=b/w >"$T/inalias.st"
check "input aliases run" $R "$T/inalias.rules" "$T/inalias.st" -o "$T/inalias.out"
expect inalias "$T/inalias.st" "$T/inalias.out" \
	'om.get("ckptconv.alias.A.tied") == "A.w" and not any(k.startswith("ckptconv.alias.a/") or "b/" in k for k in om)'

# ---- --list ----------------------------------------------------------------------
printf 'net/layer_2/dense/kernel\tF32\t4,3\nnet/layer_2/dense/kernel/adam_v\tF32\t4,3\nobj\tSTRING\t\nglobal_step\tI64\t\n' >"$T/l.tsv"
cat >"$T/l.rules" <<'EOF'
let n = number
rename net/layer_{n}/dense/kernel -> net.{n}.w transpose
drop **/adam_v
drop global_step
alias net.{n}.tied = net.{n}.w
EOF
check_eq "--list maps names and shapes, aliases get =TARGET" \
	"$(printf 'net.2.w\tF32\t3,4\nnet.2.tied\tF32\t3,4\t=net.2.w')" \
	"$($R "$T/l.rules" --list "$T/l.tsv")"
check_eq "--list reads stdin" "$($R "$T/l.rules" --list "$T/l.tsv")" "$($R "$T/l.rules" --list <"$T/l.tsv")"
$R "$T/l.rules" --list "$T/l.tsv" -o "$T/l.out" --verbose 2>"$T/l.err"
check_eq "--list -o writes the file" "$($R "$T/l.rules" --list "$T/l.tsv")" "$(cat "$T/l.out")"
check "--list --verbose names skipped STRING tensors" grep -q "skipped obj (a STRING tensor" "$T/l.err"

# ---- rank, copy, make ----------------------------------------------------------
cat >"$T/made.rules" <<'EOF'
let n = number
rename net/layer_{n}/w  -> net.{n}.w
rename shared/bias      -> net.{i}.bias  rank 3  split 0 as i
rename shared/bias      -> net.bias  rank 2
copy   net.{l}.bias = net.bias  over net.{l:number}.w
make   net.eye  eye net.0.w:1
make   net.eye16  eye net.h:0,net.h:1
make   net.zero  zeros 1,2,net.0.w:0
make   net.never  eye net.absent:0
rename half -> net.h
rename bhalf -> net.bh
make   net.eyeb  eye net.bh:1
EOF
$MK net/layer_0/w:F32:3,4 net/layer_1/w:F32:3,4 shared/bias:F32:2,5 half:F16:2,3 bhalf:BF16:2,2 >"$T/made.st"
check "rank, copy, make run" $R "$T/made.rules" "$T/made.st" -o "$T/made.out"
expect made "$T/made.st" "$T/made.out" \
	'on == ["net.0.w", "net.eye", "net.zero", "net.1.w", "net.bias", "net.0.bias", "net.1.bias", "net.h", "net.eye16", "net.bh", "net.eyeb"]' \
	'same(o["net.0.bias"], i["shared/bias"]) and same(o["net.1.bias"], i["shared/bias"]) and same(o["net.bias"], i["shared/bias"])' \
	'o["net.eye"].dtype == np.float32 and (o["net.eye"] == np.eye(4, dtype=np.float32)).all()' \
	'o["net.eye16"].dtype == np.float16 and (o["net.eye16"] == np.eye(2, 3, dtype=np.float16)).all()' \
	'(bf16_to_f32(o["net.eyeb"]) == np.eye(2, dtype=np.float32)).all()' \
	'o["net.zero"].shape == (1, 2, 3) and not o["net.zero"].any()'
$MK net/layer_0/w:F32:3,4 net/layer_1/w:F32:3,4 shared/bias:F32:2,2,5 half:F16:2,3 bhalf:BF16:2,2 >"$T/made3.st"
check "rank 3: split, no copies" $R "$T/made.rules" "$T/made3.st" -o "$T/made3.out"
expect made3 "$T/made3.st" "$T/made3.out" 'same(o["net.1.bias"], i["shared/bias"][1]) and "net.bias" not in o'
$MK net/layer_0/w:F32:3,4 shared/bias:F32:2,2,5,1 half:F16:2,3 bhalf:BF16:2,2 >"$T/made4.st"
check_fails "a rank no rule takes: names the tensor and a rule" \
	'tensor shared/bias: has 4 axes, which no rule for it takes \(.*made.rules:3 takes 3\)$' $R "$T/made.rules" "$T/made4.st"
printf 'rename x -> y\ncopy y = x\n' >"$T/copyx.rules"
printf 'rename x -> y\nrename z -> w\ncopy w = y\n' >"$T/copyw.rules"
$MK x:F32:2 z:F32:2 >"$T/xz.st"
$MK x:F32:2 >"$T/x.st"
check_fails "copy onto a produced name without if-missing: named" \
	'copy w: a tensor of that name is produced too \(.*copyw.rules:3; add if-missing' $R "$T/copyw.rules" "$T/xz.st"
printf 'rename x -> y{i}  split 0 as i\ncopy z = y0\n' >"$T/copysplit.rules"
check_fails "copy of one piece of a split: refused" \
	'copy of y0: it is one of the 2 pieces of tensor x; only a tensor.s one output can be copied' $R "$T/copysplit.rules" "$T/x.st"
printf 'rename x -> y\nmake e eye y:1\n' >"$T/mkaxis.rules"
check_fails "make: an axis the tensor lacks: named" 'make e: y has no axis 1 \(.*mkaxis.rules:2\)' $R "$T/mkaxis.rules" "$T/x.st"
$MK i:I32:2 >"$T/i.st"
printf 'rename i -> y\nmake e zeros y:0\n' >"$T/mkint.rules"
check_fails "make: only floating types" 'make e: y is I32; made tensors are floating point' $R "$T/mkint.rules" "$T/i.st"
for bad in "make e eye" "make e ones y:0" "make e eye 0" "make e eye y:99" "make e eye 2" "make e eye y:0,y:0,y:0" \
	"copy a b" "copy a = b over c" "copy a{l} = b over c{l}" "require a when" "rename a -> b rank" "rename a -> b rank 2 rank 2"; do
	printf 'rename x -> y\n%s\n' "$bad" >"$T/badmade.rules"
	check_fails "rule error: $bad" 'badmade.rules:2: ' $R "$T/badmade.rules" "$T/xz.st"
done

# make ... inv_freq: computed in C (as torch does), right after the tensor that sizes it.
$TB/st_make a/kernel:F32:6,4 odd:F32:5 >"$T/mk_in.st"
printf 'keep a/kernel\nkeep odd\nmake pos.inv_freq inv_freq 10000 a/kernel:0\nmake fixed inv_freq 100 odd:0\n' >"$T/mk.rules"
check "make inv_freq: tensor-remap writes the computed tensors" $B/tensor-remap "$T/mk.rules" "$T/mk_in.st" -o "$T/mk_out.st"
check_eq "make inv_freq: after the tensor sizing it, ceil(DIM/2) F32 elements" "a/kernel F32 6,4
pos.inv_freq F32 3
odd F32 5
fixed F32 3" "$($B/ckpt-ls "$T/mk_out.st" | tr '\t' ' ')"
check "make inv_freq: values 1 / BASE ** (arange(0, DIM, 2) / DIM)" $PY -c '
import sys, numpy as np
sys.path.insert(0, sys.argv[2]); import st
_, t, _ = st.read(sys.argv[1])
def ref(b, d): return np.float32(1) / np.array([np.float32(b ** (np.float32(i) / np.float32(d))) for i in range(0, d, 2)], np.float32)
for n, b, d in (("pos.inv_freq", 10000, 6), ("fixed", 100, 5)):
    x = t[n].data
    assert np.allclose(x, ref(b, d), rtol=2e-7, atol=0), (n, x, ref(b, d))' "$T/mk_out.st" "$CK_ROOT/tests/py"
check_eq "make inv_freq: tensor-remap --list lists it" "pos.inv_freq F32 3" \
	"$($B/ckpt-ls "$T/mk_in.st" | $B/tensor-remap --list "$T/mk.rules" | grep inv_freq | tr '\t' ' ')"
for bad in "make e inv_freq 0 y:0" "make e inv_freq x y:0" "make e inv_freq 10000 y:0,y:0" "drop y when a/{b}"; do
	printf 'rename x -> y\n%s\n' "$bad" >"$T/badinv.rules"
	check_fails "rule error: $bad" 'badinv.rules:2: ' $R "$T/badinv.rules" "$T/xz.st"
done

# when/unless ORIGINAL: keep, rename and drop count only if the checkpoint has (has not) a tensor.
printf 'keep a/kernel\nkeep a/mask\nkeep a/pool  unless a/mask\ndrop a/pool  when a/mask\n' >"$T/cond.rules"
$TB/st_make a/kernel:F32:6,4 a/mask:F32:2 a/pool:F32:2 >"$T/cond_in.st"
check_eq "when/unless: with a/mask the drop counts, not the keep" "a/kernel F32 6,4
a/mask F32 2" "$($B/tensor-remap "$T/cond.rules" "$T/cond_in.st" -o "$T/cond.st" && $B/ckpt-ls "$T/cond.st" | tr '\t' ' ')"
$TB/st_make a/kernel:F32:6,4 a/pool:F32:2 >"$T/cond_in2.st"
check_eq "when/unless: without a/mask the keep counts, not the drop" "a/kernel F32 6,4
a/pool F32 2" "$($B/tensor-remap "$T/cond.rules" "$T/cond_in2.st" -o "$T/cond2.st" && $B/ckpt-ls "$T/cond2.st" | tr '\t' ' ')"
