# Every entry point that compiles or tests checks its Debian packages first:
# run as a normal user with a package missing, it prints the one apt-get line
# and stops before anything is compiled. (A missing compiler stands for any
# missing package: CC=/nonexistent/cc makes mk/deps.sh ask for gcc, and for
# the header packages it cannot check without one.)
. "$(dirname "$0")/lib.sh"

# The copy is made under /tmp: the user must reach it, and the tree under
# test may be in root's home (mode 700).
top=$(mktemp -d /tmp/ckptconv-deps.XXXXXX) || { fail "mktemp"; exit 0; }
trap 'rm -rf "$top"' EXIT
chmod 755 "$top"
tree=$top/tree
git clone -q "$CK_ROOT" "$tree" 2>/dev/null || cp -r "$CK_ROOT/." "$tree"
as_user() { "$@"; }
if [ "$(id -u)" = 0 ]; then
	chown -R 65534:65534 "$tree"
	as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$tree" "$@"; }
fi

for goal in all example test check bench install fuzz "MODEL=bert CKPT=$tree/tests/fixtures/golden/bert/input"; do
	# shellcheck disable=SC2086 # the goal is one or two make words
	out=$(as_user make --no-print-directory -C "$tree" CC=/nonexistent/cc $goal 2>&1)
	rc=$?
	lines=$(printf '%s\n' "$out" | grep -c 'apt-get install')
	compiled=$(find "$tree" -name '*.o' | head -n 1)
	if [ "$rc" -ne 0 ] && [ "$lines" -eq 1 ] && [ -z "$compiled" ] &&
		printf '%s\n' "$out" | grep -q 'missing Debian packages:.* gcc'; then
		ok "make $goal as a normal user: one apt-get line, nothing compiled"
	else
		fail "make $goal as a normal user: exit $rc, $lines apt-get line(s), compiled: ${compiled:-nothing}"
		printf '%s\n' "$out" | tail -n 5
	fi
done
