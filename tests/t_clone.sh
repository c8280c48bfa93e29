# A clone is the whole project: the suite's fixture lookup works in a fresh
# clone with nothing beside it (no shared/), and nothing refers outside it.
. "$(dirname "$0")/lib.sh"

if ! git -C "$CK_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	fail "clone: $CK_ROOT is not a git work tree (the test clones it)"
	exit 0
fi
c=$T/lonely/ckptconv
mkdir -p "$T/lonely"
check "git clone of the tree" git clone -q "$CK_ROOT" "$c"
check_eq "nothing beside the clone" "ckptconv" "$(ls "$T/lonely")"
check_eq "no file of the clone names ../shared" "" "$(git -C "$c" grep -l -e '\.\./shared' -- . ':!tests/t_clone.sh' 2>&1)"
for f in real/PROVENANCE.md golden/README.md; do
	check "the clone holds tests/fixtures/$f" test -s "$c/tests/fixtures/$f"
done
# Every fixture PROVENANCE.md lists is in the clone.
missing=$(sed -n 's/^| \(fixtures\/real\/[^ |]*\) |.*/\1/p' "$c/tests/fixtures/real/PROVENANCE.md" |
	while read -r p; do [ -e "$c/tests/$p" ] || echo "$p"; done)
check_eq "every file of PROVENANCE.md is in the clone" "" "$missing"

# The clone's own runner finds its own fixtures: a fixture-reading test run
# from it, with CK_FIXTURES unset and the real-stack tests off.
out=$(cd "$T/lonely" && env -u CK_FIXTURES CK_STACK=0 "$c/tests/run.sh" "$CK_BIN" "$CK_TESTBIN" t_ckpt_ls 2>&1)
last=$(printf '%s\n' "$out" | tail -n 1)
if printf '%s\n' "$last" | grep -Eq '^[1-9][0-9]* passed, 0 failed$'; then
	ok "the clone's tests/run.sh t_ckpt_ls finds tests/fixtures: $last"
else
	fail "the clone's tests/run.sh t_ckpt_ls: $last"
	printf '%s\n' "$out" | tail -5
fi
