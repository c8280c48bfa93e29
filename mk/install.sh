#!/bin/sh
# install.sh install|uninstall LOG — used by `make install` / `make uninstall`.
#
#   install    installs what stdin lists, one item a line:
#                file MODE SOURCE DEST   (install -m MODE)
#                link - TARGET DEST      (a symbolic link)
#              creating missing directories, and records in LOG every file,
#              link and directory it created (added to an earlier LOG, so a
#              re-install keeps what the first one created).
#   uninstall  removes exactly what LOG records, files first, then the
#              directories it created (those that are empty: anything put
#              there since is left alone), then LOG.
#
# DEST and LOG are final paths; $DESTDIR is put in front of them for every
# file operation and never recorded, so a staged install uninstalls with the
# same DESTDIR. A missing DESTDIR is created and left in place.
set -eu
mode=${1:?usage: install.sh install|uninstall LOG}
log=${2:?usage: install.sh install|uninstall LOG}
D=${DESTDIR:-}

# Lines of a file in reverse order.
reverse() { awk '{ l[NR] = $0 } END { for (i = NR; i > 0; i--) print l[i] }' "$1"; }

case $mode in
install)
	[ -z "$D" ] || mkdir -p "$D"
	new=$(mktemp)
	trap 'rm -f "$new"' EXIT
	# mkdir -p that records each directory it creates, outermost first
	mkdirs() {
		[ -d "$D$1" ] && return 0
		mkdirs "$(dirname "$1")"
		mkdir "$D$1"
		echo "dir $1" >>"$new"
	}
	while read -r kind m src dest; do
		case $kind in
		file)
			mkdirs "$(dirname "$dest")"
			install -m "$m" "$src" "$D$dest"
			;;
		link)
			mkdirs "$(dirname "$dest")"
			ln -sfn "$src" "$D$dest"
			;;
		*) echo "install.sh: bad line: $kind $m $src $dest" >&2; exit 1 ;;
		esac
		echo "$kind $dest" >>"$new"
	done
	mkdirs "$(dirname "$log")"
	# earlier records first (their directories are the outer ones), once each
	{ [ ! -f "$D$log" ] || cat "$D$log"; cat "$new"; } | awk '!seen[$0]++' >"$D$log.tmp"
	mv -f "$D$log.tmp" "$D$log"
	chmod 644 "$D$log"
	echo "installed $(grep -c '^file\|^link' "$D$log") files under ${D:-/}; record: $D$log"
	;;
uninstall)
	if [ ! -f "$D$log" ]; then
		echo "nothing to uninstall: $D$log does not exist"
		exit 0
	fi
	order=$(reverse "$D$log")
	printf '%s\n' "$order" | while read -r kind path; do
		case $kind in
		file | link) rm -f "$D$path" ;;
		esac
	done
	rm -f "$D$log"
	printf '%s\n' "$order" | while read -r kind path; do
		[ "$kind" != dir ] || rmdir "$D$path" 2>/dev/null || true
	done
	echo "uninstalled what $D$log recorded"
	;;
*)
	echo "usage: install.sh install|uninstall LOG" >&2
	exit 2
	;;
esac
