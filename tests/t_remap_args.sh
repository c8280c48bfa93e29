# Rule files with arguments: `arg NAME = DEFAULT` (tensor-remap --arg
# NAME=VALUE), `if NAME = word | word` ... `end` blocks, {NAME} in patterns,
# and `require NAME "message"` with {NAME} filled in.
. "$(dirname "$0")/lib.sh"
R=$B/tensor-remap
MK=$TB/st_make

rules() { cat >"$T/$1.rules"; }
names() { "$R" "$@" --list 2>&1 | cut -f1,4 | tr '\t\n' '  ' | sed 's/ *$//'; }

$MK base/w:F32:2,3 head_sst-2/w:F32:3,2 lm/b:F32:3 >"$T/in.st"
printf 'base/w\tF32\t2,3\nhead_sst-2/w\tF32\t3,2\nlm/b\tF32\t3\n' >"$T/in.list"
$MK base/w:F32:2,3 lm/b:F32:3 >"$T/nohead.st"

rules task <<'EOF'
arg task = none
rename base/w -> base.weight
if task = none
rename lm/b -> lm.bias
refuse head_*/** "a fine-tuned head: give --arg task=NAME"
end
if task = sst-2 | cola
rename head_{task}/w -> head.weight  transpose
drop lm/b
require head.weight  "task {task} needs head_{task}/w"
end
if task = *squad*
drop lm/b
require qa.weight  "task {task} needs the QA head"
end
EOF
check_fails "default (no task): the head is refused with the rule's message" \
	"tensor head_sst-2/w: a fine-tuned head: give --arg task=NAME \(.*task.rules:5\)$" \
	$R "$T/task.rules" "$T/in.st"
check_eq "--arg picks the block and fills {task} in the pattern" \
	"base.weight head.weight" "$(names "$T/task.rules" "$T/in.list" --arg task=sst-2)"
"$R" "$T/task.rules" "$T/in.st" --arg task=sst-2 -o "$T/out.st"
check_eq "the block's operations apply (transpose)" "[2, 3]" \
	"$("$PY" -c 'import json,struct,sys; b=open(sys.argv[1],"rb").read(); n=struct.unpack("<Q",b[:8])[0]; print(json.loads(b[8:8+n])["head.weight"]["shape"])' "$T/out.st")"
check_fails "a required head that is missing: the rule's message, args filled in" \
	"^tensor-remap: .*: task cola needs head_cola/w \(.*task.rules:10\)$" \
	$R "$T/task.rules" "$T/nohead.st" --arg task=cola
check_fails "a glob word (*squad*) matches; its require message" \
	"task squad_v2 needs the QA head \(.*task.rules:14\)$" \
	$R "$T/task.rules" "$T/nohead.st" --arg task=squad_v2
check_fails "a task no block takes leaves its head unmatched" \
	"tensor head_sst-2/w: no rule matches it" \
	$R "$T/task.rules" "$T/in.st" --arg task=mnli
check_fails "--arg for a name the rule file does not declare" \
	"task.rules: argument tsak: the rule file has no 'arg tsak = \.\.\.'$" \
	$R "$T/task.rules" "$T/in.st" --arg tsak=sst-2
check_fails "an --arg value must be a plain word" \
	"task.rules:1: word 'a\|b' contains '\|'$" \
	$R "$T/task.rules" "$T/in.st" --arg 'task=a|b'
check_exit "--arg without NAME=VALUE is a usage error" 2 $R "$T/task.rules" "$T/in.st" --arg task

bad() { # bad NAME PATTERN — the rule text on stdin is refused with PATTERN
	local name=$1 pat=$2
	cat >"$T/bad.rules"
	check_fails "$name" "$pat" $R "$T/bad.rules" "$T/in.st"
}
printf 'arg t = x\nif t = x\nif t = y\nend\nend\n' | bad "if blocks do not nest" "bad.rules:3: if inside the if block of line 2"
printf 'arg t = x\nif t = x\nkeep base/w\n' | bad "an if needs its end" "bad.rules:2: this if has no end$"
printf 'end\n' | bad "end without if" "bad.rules:1: end without an if$"
printf 'if t = x\nend\n' | bad "if on a name that is not an arg" "bad.rules:1: if t: there is no 'arg t = \.\.\.' above this line$"
printf 'arg t = x\nif t = x\nlet n = number\nend\n' | bad "no let inside a block" "bad.rules:3: let inside an if block \(line 2\)"
printf 'arg t = x\nif t = x |\nend\n' | bad "if: a word after every bar" "bad.rules:2: if: a word is missing after '\|'$"
printf 'arg t = x\nlet t = a | b\n' | bad "an arg is a name like a let" "bad.rules:2: let t is defined twice$"
printf 'arg t = x\nif t = y\nrename base/w -> {nope}\nend\n' | bad "rules in a block not taken are still checked" "bad.rules:3: \{nope\} in \{nope\} is not captured"
