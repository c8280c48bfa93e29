# tensor-remap: every mapping error and rule-file error gives one clear line
# (naming the tensor and the rule lines), exit 1, and no output file.
. "$(dirname "$0")/lib.sh"
R=$B/tensor-remap
MK=$TB/st_make

# fails_no_output NAME PATTERN RULES STREAM — also checks -o leaves nothing behind
fails_no_output() {
	local name=$1 pat=$2 rules=$3 in=$4
	check_fails "$name" "$pat" $R "$rules" "$in"
	rm -f "$T/out.st"
	$R "$rules" "$in" -o "$T/out.st" 2>/dev/null
	if [ -e "$T/out.st" ] || ls "$T"/out.st.tmp.* >/dev/null 2>&1; then
		fail "$name: output file left behind"
	else
		ok "$name: no output file"
	fi
}

rules() { cat >"$T/$1.rules"; }

$MK a/kernel:F32:2,3 a/bias:F32:3 b/kernel:F32:3,3 >"$T/in.st"

# ---- matching ------------------------------------------------------------------
rules unmatched <<'EOF'
rename a/kernel -> a.weight transpose
rename a/bias -> a.bias
EOF
fails_no_output "unmatched tensor is named" \
	"^tensor-remap: .*in.st: tensor b/kernel: no rule matches it \(.*unmatched.rules\)$" \
	"$T/unmatched.rules" "$T/in.st"

rules twice <<'EOF'
let wb = kernel | bias
rename {x:text}/{wb} -> {x}.{wb}
drop b/kernel
EOF
fails_no_output "tensor matched by two rules names both lines" \
	"tensor b/kernel: matched by two rules, .*twice.rules:2 and .*twice.rules:3$" \
	"$T/twice.rules" "$T/in.st"

rules dup <<'EOF'
rename {x:text}/kernel -> same.weight
rename a/bias -> a.bias
EOF
fails_no_output "two tensors to one name" \
	"tensors a/kernel and b/kernel both become same.weight \(.*dup.rules:1, .*dup.rules:1\)$" \
	"$T/dup.rules" "$T/in.st"

rules refuse <<'EOF'
rename a/{x:text} -> a.{x}
refuse b/** "b is a layout we know we cannot convert"
EOF
fails_no_output "refuse gives its message and line" \
	"tensor b/kernel: b is a layout we know we cannot convert \(.*refuse.rules:2\)$" \
	"$T/refuse.rules" "$T/in.st"

# The reference silently loads an EMA copy over the kernel; we stop.
$MK bert/encoder/layer_0/attention/self/query/kernel:F32:4,4 \
	bert/encoder/layer_0/attention/self/query/kernel/ExponentialMovingAverage:F32:4,4 >"$T/ema.st"
check_fails "an unknown trailing component is not swallowed (EMA)" \
	"tensor bert/encoder/layer_0/attention/self/query/kernel/ExponentialMovingAverage: no rule matches it" \
	$R "$CK_ROOT/models/bert/tensors.rules" "$T/ema.st"

# ---- operations that do not fit the tensor -------------------------------------
rules split3 <<'EOF'
let part = q | k | v
rename a/kernel -> a.{part} split 1 as part
drop a/bias
drop b/kernel
EOF
$MK a/kernel:F32:2,5 a/bias:F32:3 b/kernel:F32:3,3 >"$T/in5.st"
fails_no_output "split of an axis that does not divide" \
	"tensor a/kernel: split: axis 1 of shape \[2,5\] \(size 5\) does not divide into 3 parts \(.*split3.rules:2\)$" \
	"$T/split3.rules" "$T/in5.st"
rules splitax <<'EOF'
rename a/bias -> a.{i} split 1 as i
drop {x:text}/kernel
EOF
fails_no_output "split of a missing axis" "tensor a/bias: split: shape \[3\] has no axis 1" \
	"$T/splitax.rules" "$T/in.st"
$MK a/bias:F32:0,2 >"$T/empty.st"
rules split0 <<'EOF'
rename a/bias -> a.{i} split 0 as i
EOF
fails_no_output "split of an empty axis" "tensor a/bias: split: axis 0 of shape \[0,2\] has size 0" \
	"$T/split0.rules" "$T/empty.st"
rules reshape <<'EOF'
rename a/kernel -> a.w reshape 4,-1
keep {x:text}/bias
keep b/kernel
EOF
fails_no_output "reshape to a different size" \
	"tensor a/kernel: cannot reshape \[2,3\] \(6 elements\) to \[4,-1\] \(.*reshape.rules:1\)$" \
	"$T/reshape.rules" "$T/in.st"
$MK step:I64: >"$T/int.st"
rules castint <<'EOF'
keep step cast F32
EOF
fails_no_output "cast of an integer tensor" "tensor step: cannot cast I64 to F32" "$T/castint.rules" "$T/int.st"
$MK x:F64:2 >"$T/f64.st"
rules castf64 <<'EOF'
keep x cast BF16
EOF
fails_no_output "cast F64 to BF16 (double rounding) is refused" "tensor x: cannot cast F64 to BF16" \
	"$T/castf64.rules" "$T/f64.st"

# ---- aliases -------------------------------------------------------------------
rules aliasclash <<'EOF'
keep {x:text}/{y:kernel|bias}
alias a/kernel = b/kernel
EOF
fails_no_output "alias over an existing tensor" \
	"alias a/kernel: a tensor of that name is produced too \(.*aliasclash.rules:2; add if-missing" \
	"$T/aliasclash.rules" "$T/in.st"
rules aliastwice <<'EOF'
keep {x:text}/{y:kernel|bias}
alias t = a/kernel
alias t = b/kernel
EOF
fails_no_output "one alias name made twice" "alias t is made twice" "$T/aliastwice.rules" "$T/in.st"
$MK a/w:F32:2 b/w:F32:2 -a b/tied=b/w >"$T/ina.st"
rules aliasdrop <<'EOF'
keep a/w
drop b/w
keep b/tied
EOF
fails_no_output "input alias kept while its tensor is dropped" \
	"alias b/tied is kept \(.*aliasdrop.rules:3\) but its tensor b/w is dropped" \
	"$T/aliasdrop.rules" "$T/ina.st"
rules aliasnorule <<'EOF'
keep {x:a|b}/w
EOF
fails_no_output "input alias without a rule" "alias b/tied: no rule matches it" \
	"$T/aliasnorule.rules" "$T/ina.st"
rules aliasop <<'EOF'
keep {x:a|b}/w
keep b/tied cast F16
EOF
fails_no_output "input alias with operations" \
	"alias b/tied of b/w: operations on tied tensors are not supported" \
	"$T/aliasop.rules" "$T/ina.st"

# ---- require -------------------------------------------------------------------
$MK l_0/w:F32:2 l_0/b:F32:2 l_1/w:F32:2 l_2/w:F32:2 l_2/b:F32:2 >"$T/layers.st"
rules reqgap <<'EOF'
let n = number
rename l_{n}/{p:w|b} -> l.{n}.{p}
require l.{n}.w
require l.{n}.b
EOF
fails_no_output "require finds a gap" \
	"required tensor l.\{n\}.b is missing for n = 1 \(.*reqgap.rules:4\)$" "$T/reqgap.rules" "$T/layers.st"
$MK l_0/w:F32:2 l_0/b:F32:2 l_1/w:F32:2 >"$T/layers2.st"
fails_no_output "require lines disagree on the count" \
	"required tensors disagree on n: .*reqgap.rules:3 finds 2, .*reqgap.rules:4 finds 1 \(missing for n = 1\)" \
	"$T/reqgap.rules" "$T/layers2.st"
rules reqname <<'EOF'
let n = number
rename l_{n}/{p:w|b} -> l.{n}.{p}
require embeddings.weight
EOF
fails_no_output "require of a plain name" "required tensor embeddings.weight is not produced \(.*reqname.rules:3\)$" \
	"$T/reqname.rules" "$T/layers.st"
rules reqnone <<'EOF'
let n = number
rename l_{n}/{p:w|b} -> l.{n}.{p}
require m.{n}.w
EOF
fails_no_output "require never met" "required tensor m.\{n\}.w is not produced for any n" \
	"$T/reqnone.rules" "$T/layers.st"

# ---- bad input streams ---------------------------------------------------------
rules keepall <<'EOF'
keep **
EOF
head -c 100 "$T/in.st" >"$T/trunc.st"
fails_no_output "truncated stream" "ends before its data is complete|truncated" "$T/keepall.rules" "$T/trunc.st"
printf 'garbage' >"$T/garbage.st"
fails_no_output "not a stream" "not a safetensors stream" "$T/keepall.rules" "$T/garbage.st"
check_fails "missing rule file" "no-such.rules" $R "$T/no-such.rules" "$T/in.st"

# --list input errors
printf 'a\tF32\n' >"$T/bad1.tsv"
check_fails "--list: a line without three fields" "bad1.tsv: line 1: not NAME<TAB>DTYPE<TAB>SHAPE" \
	$R "$T/keepall.rules" --list "$T/bad1.tsv"
printf 'a\tF32\t1\nb\tF99\t1\n' >"$T/bad2.tsv"
check_fails "--list: unknown dtype" "bad2.tsv: line 2: unknown dtype \"F99\"" $R "$T/keepall.rules" --list "$T/bad2.tsv"
printf 'a\tF32\t1,,2\n' >"$T/bad3.tsv"
check_fails "--list: bad shape" "bad3.tsv: line 1: bad shape" $R "$T/keepall.rules" --list "$T/bad3.tsv"
printf 'a\tF32\t4294967296,4294967296,4294967296\n' >"$T/bad4.tsv"
check_fails "--list: shape size overflow" "bad4.tsv: line 1: shape size overflows" $R "$T/keepall.rules" --list "$T/bad4.tsv"

# ---- usage ---------------------------------------------------------------------
check_exit "no arguments is a usage error" 2 $R
check_exit "unknown option is a usage error" 2 $R "$T/keepall.rules" --frobnicate
check_exit "-o without a file is a usage error" 2 $R "$T/keepall.rules" -o
check_exit "three positional arguments" 2 $R a b c
check_exit "--help" 0 $R --help
check_exit "--version" 0 $R --version

# ---- rule file syntax: FILE:LINE: problem ----------------------------------------
# bad_rule NAME PATTERN LINE... — the rule text is the given lines
bad_rule() {
	local name=$1 pat=$2; shift 2
	printf '%s\n' "# comment" "$@" >"$T/syntax.rules"
	check_fails "syntax: $name" "^tensor-remap: .*syntax.rules:[0-9]+: $pat" $R "$T/syntax.rules" "$T/in.st"
}
bad_rule "unknown rule word" "unknown rule 'move'" "move a -> b"
bad_rule "rename without ->" "write: rename OLD -> NEW" "rename a b"
bad_rule "unclosed brace" "'\{' without a matching '\}'" "rename a/{x -> b"
bad_rule "undefined word list" "\{n\}: there is no 'let n = ...' above this line" "rename l_{n} -> l.{n}"
bad_rule "new name uses an uncaptured name" "\{y\} in b.\{y\} is not captured by a/\{x:text\}" "rename a/{x:text} -> b.{y}"
bad_rule "unknown operation" "unknown operation 'flip'" "rename a -> b flip"
bad_rule "operation twice" "'transpose' is given twice" "rename a -> b transpose transpose"
bad_rule "cast to an unknown type" "cast: unknown type F33" "keep a cast F33"
bad_rule "reshape with two -1" "reshape: only one size may be -1" "keep a reshape -1,-1"
bad_rule "split without a name" "split needs an axis and a name" "rename a -> b split 0"
bad_rule "split not used in the new name" "split: the new name b must contain \{i\}" "rename a -> b split 0 as i"
bad_rule "split in keep" "split makes several tensors" "keep a split 0 as i"
bad_rule "** inside a part" "'\*\*' must stand for whole parts" "drop a**/b"
bad_rule "let twice" "let x is defined twice" "let x = a | b" "let x = c | d"
bad_rule "empty word" "empty word in a word list" "let x = a | | b"
bad_rule "word repeated" "word 'a' is listed twice" "let x = a | b | a"
bad_rule "capture twice" "\{x\} is captured twice" "rename {x:text}/{x:text} -> b"
bad_rule "quoted text outside refuse" "text in quotes is only used for the message of refuse" 'drop "a b"'
bad_rule "refuse without message" "write: refuse NAME" "refuse a"
bad_rule "unterminated quote" "text in quotes is missing its closing" 'refuse a "oops'
bad_rule "require with a word capture" "require: at most one capture, and it must be a number" "require a.{x:text}"
bad_rule "alias without =" "write: alias NEW = EXISTING" "alias a b"
bad_rule "unexpected character" "unexpected '\]' in a\]b" "drop a]b"
bad_rule "error on a later line" "unknown rule 'oops'" "keep a" "" "oops"
check_fails "syntax: the line number is right" "syntax.rules:4: unknown rule 'oops'" $R "$T/syntax.rules" "$T/in.st"
head -c 5000 /dev/zero | tr '\0' 'a' >"$T/long.rules"
check_fails "syntax: line too long" "long.rules:1: line longer than 4096 bytes" $R "$T/long.rules" "$T/in.st"
printf 'keep a\n\0\n' >"$T/nul.rules"
check_fails "syntax: NUL byte" "nul.rules:2: NUL byte" $R "$T/nul.rules" "$T/in.st"

# ---- make ... inv_freq: computed tensors -------------------------------------------
rules make_nosrc <<'EOF2'
keep **
make pos.inv_freq inv_freq 10000 c.weight:0
EOF2
check_eq "make: nothing to size it by, nothing made (a require says what is missing)" "a/kernel a/bias b/kernel" \
	"$($R "$T/make_nosrc.rules" "$T/in.st" -o "$T/make_nosrc.st" && $B/ckpt-ls "$T/make_nosrc.st" | cut -f1 | tr '\n' ' ' | sed 's/ $//')"
rules make_axis <<'EOF2'
keep **
make pos.inv_freq inv_freq 10000 a/bias:1
EOF2
fails_no_output "make: an axis the tensor lacks" "make pos.inv_freq: a/bias has no axis 1" \
	"$T/make_axis.rules" "$T/in.st"
rules make_clash <<'EOF2'
keep **
make a/bias inv_freq 10000 a/bias:0
EOF2
fails_no_output "make: a name an input becomes too" "make a/bias: a tensor of that name is produced too" \
	"$T/make_clash.rules" "$T/in.st"
for bad in "make p = inv_freq 10000 a/bias:0" "make p sin 10000 a/bias:0" "make p inv_freq 0 a/bias:0" \
	"make p inv_freq x a/bias:0" "make p inv_freq 1e999 a/bias:0" "make p* inv_freq 10000 a/bias:0" \
	"make p inv_freq 10000 a/{x}:0" "make p inv_freq 10000 a/bias:99" "make p inv_freq 10000" \
	"make p inv_freq 10000 a/bias:0,a/bias:0" "make p zeros 1,0" "make p zeros 1,,2" \
	"make p zeros 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17" "drop a/bias when a/{x}"; do
	printf 'keep **\n%s\n' "$bad" >"$T/make_bad.rules"
	fails_no_output "make: refused: $bad" "make_bad.rules:2: " "$T/make_bad.rules" "$T/in.st"
done
