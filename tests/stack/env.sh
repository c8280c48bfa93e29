#!/bin/sh
# env.sh NAME... — make (or re-use) the pinned Python environment of each
# tests/stack/requirements-NAME.txt and print "NAME PYTHON" for each.
#
# An environment lives in .stack/NAME-<first 16 hex of the requirement file's
# SHA-256>/ at the top of the tree (git-ignored, kept by make clean; or in
# CK_STACK_DIR, which several clones may share): the same
# pins re-use it, changed pins make a new one and remove the old. It is built
# with CK_STACK_PYTHON (default /usr/bin/python3, Debian's) and pip from PyPI;
# a half-built environment is never re-used (it is marked complete last).
# On failure: one line on stderr, exit 1.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
py=${CK_STACK_PYTHON:-/usr/bin/python3}
base=${CK_STACK_DIR:-$root/.stack}
[ $# -gt 0 ] || { echo "usage: env.sh NAME..." >&2; exit 2; }

for name in "$@"; do
	req=$root/tests/stack/requirements-$name.txt
	[ -f "$req" ] || { echo "stack: $req: no such requirement file" >&2; exit 1; }
	sum=$(sha256sum "$req" | cut -c1-16)
	dir=$base/$name-$sum
	if [ ! -f "$dir/.complete" ]; then
		mkdir -p "$base"
		for old in "$base/$name"-*; do [ -e "$old" ] && rm -rf "$old"; done
		echo "stack: creating $dir from $(basename "$req") (once per change of its pins)" >&2
		log=$base/$name.log
		if ! "$py" -m venv "$dir" >"$log" 2>&1; then
			echo "stack: $py -m venv failed (python3-venv missing?); see $log" >&2
			exit 1
		fi
		if ! "$dir/bin/pip" install --no-input -q -r "$req" >>"$log" 2>&1; then
			rm -rf "$dir"
			echo "stack: pip could not install the pins of $req (is PyPI reachable? CK_STACK=0 skips the real-stack tests); see $log" >&2
			exit 1
		fi
		: >"$dir/.complete"
	fi
	echo "$name $dir/bin/python"
done
