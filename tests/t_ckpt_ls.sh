# ckpt-ls on every real .index: tensor counts, dtypes, data sizes and block
# facts as PROVENANCE.md records them; the same listing as an independent
# Python reader; the index alone is read (data files absent, or present and
# never opened).
. "$(dirname "$0")/lib.sh"

"$PY" "$CK_ROOT/tests/py/provenance.py" "$FIX/real/PROVENANCE.md" >"$T/prov" ||
	fail "PROVENANCE.md notes parse"
check_eq "PROVENANCE.md lists 21 indexes" 21 "$(wc -l <"$T/prov")"

while read -r path count dtypes bytes blocks comp; do
	idx=$FIX/$path
	name=${path#real/}
	"$B/ckpt-ls" "$idx" >"$T/ls" 2>"$T/err" || { fail "ckpt-ls $name: $(cat "$T/err")"; continue; }
	got_count=$(wc -l <"$T/ls")
	got_dtypes=$(cut -f2 "$T/ls" | sort | uniq -c | awk '{printf "%s%s:%s", sep, $2, $1; sep=","}')
	check_eq "$name: $count tensors, $dtypes" "$count $dtypes" "$got_count $got_dtypes"
	"$B/ckpt-ls" --json "$idx" | "$PY" "$CK_ROOT/tests/py/lsjson.py" >"$T/sum" 2>&1
	check_eq "$name: --json: data bytes, data blocks, block compression" \
		"$count $dtypes $bytes $blocks $comp" "$(cat "$T/sum")"
	"$PY" "$CK_ROOT/tests/py/tfbundle.py" list "${idx%.index}" >"$T/py" 2>&1
	if cmp -s "$T/ls" "$T/py"; then ok "$name: same names, dtypes, shapes as an independent reader"
	else fail "$name: listing differs from tests/py/tfbundle.py"; diff "$T/ls" "$T/py" | head -5; fi
done <"$T/prov"

# The published-model indexes come without data files: listing needs none.
n=0
for idx in $(grep -v '^real/complete/' "$T/prov" | cut -d' ' -f1); do
	p=$FIX/${idx%.index}
	ls "$p".data-* >/dev/null 2>&1 || n=$((n + 1))
done
check_eq "12 listed indexes have no data file at all" 12 "$n"

# A complete checkpoint: its index copied alone lists the same.
src=$FIX/real/complete/tf1_estimator_wide_deep_2shards/model.ckpt-2010
cp "$src.index" "$T/alone.index"
"$B/ckpt-ls" "$src" >"$T/with"
"$B/ckpt-ls" "$T/alone" >"$T/without"
check "index alone lists like the complete checkpoint" cmp "$T/with" "$T/without"

# With data files present, they are never opened.
if command -v strace >/dev/null 2>&1; then
	strace -f -qq -e trace=open,openat,stat,newfstatat,access -o "$T/trace" "$B/ckpt-ls" --json "$src" >/dev/null
	if grep -q 'model.ckpt-2010.index' "$T/trace" && ! grep -q '\.data-0000' "$T/trace"; then
		ok "strace: the index is opened, no data file is even looked at"
	else
		fail "strace: data file touched (or index not seen)"; grep 'ckpt-2010' "$T/trace" | head -5
	fi
else
	ok "# strace not installed: skipped the syscall check (covered by the data-less indexes)"
fi

# Output format details.
line=$("$B/ckpt-ls" "$FIX/real/gpt2/117M/model.ckpt" | grep -P '^model/h0/attn/c_attn/w\t')
check_eq "NAME<TAB>DTYPE<TAB>SHAPE" "$(printf 'model/h0/attn/c_attn/w\tF32\t1,768,2304')" "$line"
line=$("$B/ckpt-ls" "$FIX/real/albert/google_albert_base_en/model.ckpt-best" | grep -P '^global_step\t')
check_eq "a scalar has an empty SHAPE" "$(printf 'global_step\tI64\t')" "$line"
line=$("$B/ckpt-ls" "$FIX/real/complete/tfserving_tf_text_regression_only_objgraph/variables" | cut -f1,2)
check_eq "a string tensor is STRING" "$(printf '_CHECKPOINTABLE_OBJECT_GRAPH\tSTRING')" "$line"
"$B/ckpt-ls" "$FIX/real/bert/arabic_senti_tf2_keras/bert_model.ckpt" | cut -f1 >"$T/names"
LC_ALL=C sort -c "$T/names" 2>/dev/null && ok "listing is in index (bytewise) order" || fail "listing not in index order"

# Usage.
check_exit "--help exits 0" 0 "$B/ckpt-ls" --help
"$B/ckpt-ls" --help | grep -q '^usage: ckpt-ls' && ok "--help prints usage on stdout" || fail "--help text"
"$B/ckpt-ls" --version | grep -q 'ckptconv' && ok "--version" || fail "--version"
check_exit "no argument is a usage error" 2 "$B/ckpt-ls"
check_exit "an unknown option is a usage error" 2 "$B/ckpt-ls" --frobnicate "$src"
check_exit "two checkpoints are a usage error" 2 "$B/ckpt-ls" "$src" "$src"
check_fails "a missing checkpoint is bad input" 'no such checkpoint' "$B/ckpt-ls" "$T/nothing"
