# vocab-translate: a vocab.json from a token -> id table in a JSON document,
# rewritten by a vocabulary map (docs/vocab-map.md); errors are one line.
. "$(dirname "$0")/lib.sh"
V=$B/vocab-translate
G=$FIX/golden

"$B/ckpt-ls" --values "$G/xlm/input/mlm_tiny_enfr.pth" >"$T/values.json"
check "xlm: vocab.json from dico_word2id" "$V" "$CK_ROOT/models/xlm/vocab.map" "$T/values.json" -o "$T/vocab.json"
check "xlm: byte for byte the reference's vocab.json" cmp "$T/vocab.json" "$G/xlm/expected/vocab.json"

# The reference rule, by hand: ids 0-13 kept, "@@" removed, else "</w>"
# appended; a rewritten token that repeats an earlier one keeps the first
# place with the later id (a Python dict); non-ASCII escaped as json.dumps does.
cat >"$T/doc.json" <<'EOF'
{"dico": {"<s>": 0, "<special9>": 13, "th@@": 14, "the": 15, "th": 16, "caf\u00e9": 17, "\ud83d\ude00@@": 18}}
EOF
printf 'from dico\nappend </w> min-id 14 unless-contains @@\nremove @@\n' >"$T/map"
"$V" "$T/map" "$T/doc.json" -o "$T/out.json"
want=$("$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))["dico"]
v = {}
for s, i in d.items():
    v[s + "</w>" if "@@" not in s and i > 13 else s.replace("@@", "")] = i
sys.stdout.write(json.dumps(v, indent=2) + "\n")' "$T/doc.json")
check_eq "the reference's rule, Python's json.dumps text" "$want" "$(cat "$T/out.json")"

printf '{"a": 1}\n' >"$T/plain.json"
printf 'remove x\n' >"$T/noop.map"
check_eq "without from: the document is the table" '{
  "a": 1
}' "$("$V" "$T/noop.map" "$T/plain.json")"

printf '{"dico": {"a": "1"}}\n' >"$T/badid.json"
check_fails "an id that is not an integer" 'badid.json: token "a": id is not a non-negative integer$' \
	"$V" "$T/map" "$T/badid.json"
check_fails "the table is missing" "plain.json: no member dico \(.*map: from dico\)$" "$V" "$T/map" "$T/plain.json"
printf 'from dico\nprepend x\n' >"$T/bad.map"
check_fails "unknown map line" "bad.map:2: unknown line 'prepend' \(from, append, remove\)$" "$V" "$T/bad.map" "$T/doc.json"
printf 'append x min-id -1\n' >"$T/bad2.map"
check_fails "bad min-id" "bad2.map:1: min-id -1: want a number$" "$V" "$T/bad2.map" "$T/doc.json"
printf '{"dico": ' >"$T/trunc.json"
check_fails "invalid JSON" "trunc.json: line 1 column" "$V" "$T/map" "$T/trunc.json"
"$V" "$T/map" "$T/badid.json" -o "$T/none.json" 2>/dev/null
[ ! -e "$T/none.json" ] && ok "a failed run leaves no output file" || fail "a failed run left $T/none.json"
check_exit "usage: MAP and VALUES" 2 "$V" "$T/map"
