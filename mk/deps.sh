#!/bin/sh
# deps.sh check|ensure|install [build|test|fuzz|bench] — the Debian packages ckptconv needs.
#   check    list what is missing and fail
#   ensure   like check, but install what is missing when run as root with apt-get
#   install  apt-get update + install everything for the given set
# deps.sh fuzz-cc — print the clang that `make fuzz` uses.
# Package names are those of Debian 12 and 13 and Ubuntu 24.04; where they
# differ between releases (clang-N and libclang-rt-N-dev), the version is
# found: an installed clang-N with its libFuzzer runtime, else the one the
# release's `clang` package depends on.
# "build" is what `make` needs; "test" adds what the tests need (the product
# itself never needs Python: the tests use Debian's python3-torch to load
# what we write); "fuzz" adds clang and libFuzzer for `make fuzz`;
# "bench" adds GNU time (peak memory of every process) for `make bench`.
set -u
mode=${1:-check}
set_name=${2:-build}

BUILD_PKGS="make gcc libc6-dev pkg-config protobuf-c-compiler libprotobuf-c-dev libjansson-dev libssl-dev libsnappy-dev"
TEST_PKGS="python3 python3-torch python3-numpy python3-venv git groff-base man-db"
BENCH_PKGS="time"

# fuzzer_runtime N — the libFuzzer runtime of clang-N exists (LLVM 15 and later
# keep it in a per-target directory).
fuzzer_runtime() {
	m=$(uname -m)
	for f in /usr/lib/llvm-"$1"/lib/clang/*/lib/linux/libclang_rt.fuzzer-"$m".a \
		/usr/lib/llvm-"$1"/lib/clang/*/lib/"$m"-*linux-gnu/libclang_rt.fuzzer.a; do
		[ -e "$f" ] && return 0
	done
	return 1
}
# clang_version — the clang-N to use: the newest installed one with its
# runtime, else an installed one, else the release's default, else 14.
clang_version() {
	v=""
	for c in /usr/bin/clang-[0-9]*; do
		[ -x "$c" ] || continue
		n=${c#/usr/bin/clang-}
		case $n in *[!0-9]*) continue ;; esac
		if fuzzer_runtime "$n"; then v=$n; elif [ -z "$v" ]; then v=$n; fi
	done
	[ -n "$v" ] && fuzzer_runtime "$v" && { echo "$v"; return; }
	d=$(apt-cache depends clang 2>/dev/null | sed -n 's/^ *Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -n 1)
	echo "${v:-${d:-14}}"
}

CC=${CC:-cc}
has_header() { printf '#include <%s>\n' "$1" | "$CC" -E -x c - >/dev/null 2>&1; }

if [ "$mode" = fuzz-cc ]; then
	echo "clang-$(clang_version)"
	exit 0
fi

want() { case " $missing " in *" $1 "*) ;; *) missing="$missing $1" ;; esac; }

# scan — set $missing to the packages of $set_name that are not installed.
scan() {
	missing=""
	command -v pkg-config >/dev/null 2>&1 || want pkg-config
	command -v protoc-c >/dev/null 2>&1 || want protobuf-c-compiler
	if command -v "$CC" >/dev/null 2>&1; then
		has_header stdio.h || want libc6-dev # gcc only recommends it
		has_header protobuf-c/protobuf-c.h || want libprotobuf-c-dev
		has_header jansson.h || want libjansson-dev
		has_header openssl/evp.h || want libssl-dev
		has_header snappy-c.h || want libsnappy-dev
	else
		# without a compiler no header can be checked: ask for them all,
		# so that the one line printed is the whole list
		for p in gcc libc6-dev libprotobuf-c-dev libjansson-dev libssl-dev libsnappy-dev; do want $p; done
	fi
	if [ "$set_name" = test ] || [ "$set_name" = fuzz ]; then
		command -v groff >/dev/null 2>&1 || want groff-base # man pages render without warnings
		command -v man >/dev/null 2>&1 || want man-db
		command -v git >/dev/null 2>&1 || want git # t_clone: the suite from a fresh clone
		if [ -x /usr/bin/python3 ]; then
			/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || want python3-torch
			/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1 || want python3-numpy
			/usr/bin/python3 -c 'import ensurepip' >/dev/null 2>&1 || want python3-venv
		else
			want python3; want python3-torch; want python3-numpy; want python3-venv
		fi
	fi
	if [ "$set_name" = fuzz ]; then
		command -v "clang-$cv" >/dev/null 2>&1 || want "clang-$cv"
		fuzzer_runtime "$cv" || want "libclang-rt-$cv-dev"
	fi
	if [ "$set_name" = bench ]; then
		[ -x /usr/bin/time ] || want time
	fi
}

FUZZ_PKGS=""
if [ "$set_name" = fuzz ]; then
	cv=$(clang_version)
	FUZZ_PKGS="clang-$cv libclang-rt-$cv-dev"
fi
scan

pkgs=$BUILD_PKGS
[ "$set_name" = test ] && pkgs="$pkgs $TEST_PKGS"
[ "$set_name" = fuzz ] && pkgs="$pkgs $TEST_PKGS $FUZZ_PKGS"
[ "$set_name" = bench ] && pkgs="$pkgs $BENCH_PKGS"

apt_install() {
	echo "deps: installing with apt-get: $*" >&2
	DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2
}

case $mode in
install)
	apt_install $pkgs
	;;
check | ensure)
	[ -z "$missing" ] && exit 0
	if [ "$mode" = ensure ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		apt_install $missing && scan
		[ -z "$missing" ] && exit 0
	fi
	echo "ckptconv: missing Debian packages:$missing — install with: sudo apt-get install$missing (or: sudo make deps)" >&2
	exit 1
	;;
*)
	echo "usage: deps.sh check|ensure|install [build|test|fuzz|bench] | fuzz-cc" >&2
	exit 2
	;;
esac
