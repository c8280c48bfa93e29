# make install into a staging DESTDIR, then only the installed files: a
# conversion (installed ckpt-convert, an installed-convert.mk Makefile, make
# -f convert.mk), the example program built with pkg-config against the
# installed library (shared and static), the man pages; then make uninstall
# leaves nothing. The SAN run installs and tests the sanitizer build.
. "$(dirname "$0")/lib.sh"
G=$FIX/golden
case $(basename "$B") in bin-san) san=1 sanflags="-fsanitize=address,undefined -fno-omit-frame-pointer" ;;
*) san=0 sanflags= ;; esac
D=$T/dest
P=$D/usr/local
M="env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -j4 --no-print-directory -C $CK_ROOT SAN=$san"
mkdir -p "$D"

check "make install" $M install DESTDIR="$D" PREFIX=/usr/local

# ---- what is installed ------------------------------------------------------
for t in ckpt-ls ckpt-extract tensor-remap pt-pack cfg-translate ckpt-digest vocab-translate ckpt-convert; do
	[ -x "$P/bin/$t" ] && ok "installed: bin/$t" || fail "not installed: bin/$t"
	[ -s "$P/share/man/man1/$t.1" ] && ok "installed: man1/$t.1" || fail "not installed: man1/$t.1"
done
for f in share/man/man7/ckptconv.7 share/man/man5/ckptconv-rules.5 share/man/man5/ckptconv-config-map.5 \
	share/ckptconv/mk/convert.mk include/ckptconv/ckptconv.h lib/libckpt.a lib/pkgconfig/ckptconv.pc \
	lib/libckpt.so; do
	[ -s "$P/$f" ] && ok "installed: $f" || fail "not installed: $f"
done
check_eq "installed: every file of models/" "$(cd "$CK_ROOT/models" && find . -type f | sort)" \
	"$(cd "$P/share/ckptconv/models" && find . -type f | sort)"
check_eq "libckpt.so: soname and links" "libckpt.so.0 libckpt.so.0 libckpt.so.0.1.0" \
	"$(readelf -d "$P/lib/libckpt.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p') $(readlink "$P/lib/libckpt.so") $(readlink "$P/lib/libckpt.so.0")"
check_eq "libckpt.so: exports exactly the ckpt_* functions of ckptconv.h" \
	"$(grep -o '\bckpt_[a-z_]*(' "$CK_ROOT/src/ckptconv.h" | tr -d '(' | sort -u)" \
	"$(nm -D --defined-only "$P/lib/libckpt.so" | awk '$2 == "T" { print $3 }' | sort)"

# ---- man pages --------------------------------------------------------------
for page in "$P"/share/man/man*/*; do
	n=$(basename "$page")
	w=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
	check_eq "man $n: renders without warnings" "" "$w"
	grep -q '@[A-Z]*@' "$page" && fail "man $n: a placeholder is left" || ok "man $n: paths filled in"
done
check "man: found by name through MANPATH" env MANPATH="$P/share/man" man -w ckpt-convert ckptconv ckptconv-rules
# every option a tool's --help shows is in its man page
for t in ckpt-ls ckpt-extract tensor-remap pt-pack cfg-translate ckpt-digest vocab-translate ckpt-convert; do
	page=$(groff -man -Tascii -P-cbou "$P/share/man/man1/$t.1" 2>/dev/null)
	missing=
	for o in $("$P/bin/$t" --help | grep -o -- '--[a-z][a-z_-]*' | sort -u); do
		case $page in *"$o"*) ;; *) missing="$missing $o" ;; esac
	done
	check_eq "man $t.1: documents every option of --help" "" "$missing"
done

# ---- a conversion from the installed files only -----------------------------
IP="PATH=$P/bin:/usr/bin:/bin"
MK="make -s --no-print-directory -f $CK_ROOT/mk/convert.mk CKPTCONV_BIN=$B"
cd "$T"
$MK MODEL=gpt2 CKPT="$G/gpt2/input/model.ckpt" CONFIG="$G/gpt2/input/hf_config.json" OUT="$T/ref/gpt2"
$MK MODEL=bert CKPT="$G/bert/input/model.ckpt-100000" OUT="$T/ref/bert"
$MK MODEL=t5 CKPT="$G/t5/input/model.ckpt-1000000" CONFIG="$G/t5/input/hf_config.json" OUT="$T/ref/t5"
# the commands Make ran must all come from the installation
from_install() { ! grep -Eq "$CK_ROOT/(bin|bin-san|mk|models)/" "$1" && grep -q "$P/bin/pt-pack" "$1"; }

env "$IP" ckpt-convert --model_type gpt2 --tf_checkpoint "$G/gpt2/input/model.ckpt" \
	--config "$G/gpt2/input/hf_config.json" --pytorch_dump_output "$T/inst/gpt2" >"$T/gpt2.log" 2>&1
check_eq "installed ckpt-convert: gpt2" 0 $?
check "installed ckpt-convert: gpt2 ran the installed tools and convert.mk" from_install "$T/gpt2.log"
check "installed ckpt-convert: gpt2 as in the tree" diff -r -x .ckptconv "$T/ref/gpt2" "$T/inst/gpt2"
env "$IP" ckpt-convert --model_type bert --tf_checkpoint "$G/bert/input/model.ckpt-100000" \
	--pytorch_dump_output "$T/inst/bert/pytorch_model.bin" >"$T/bert.log" 2>&1
check_eq "installed ckpt-convert: bert" 0 $?
check "installed ckpt-convert: bert as in the tree" diff -r -x .ckptconv "$T/ref/bert" "$T/inst/bert"

cat >"$T/Makefile" <<EOF
include $P/share/ckptconv/mk/convert.mk
\$(eval \$(call ckptconv,$T/inst/t5,t5,$G/t5/input/model.ckpt-1000000,CONFIG=$G/t5/input/hf_config.json))
all: \$(CKPTCONV_OUTPUTS)
EOF
check "a Makefile including the installed convert.mk: t5" sh -c "env -u CKPTCONV_BIN $IP make --no-print-directory -C '$T' all >'$T/t5.log' 2>&1"
check "installed convert.mk: found the installed tools" from_install "$T/t5.log"
check "installed convert.mk: t5 as in the tree" diff -r -x .ckptconv "$T/ref/t5" "$T/inst/t5"
check "make -f installed convert.mk MODEL=bert" sh -c "env $IP make --no-print-directory -f '$P/share/ckptconv/mk/convert.mk' MODEL=bert CKPT='$G/bert/input/model.ckpt-100000' OUT='$T/inst/bert2' >'$T/bert2.log' 2>&1"
check "make -f installed convert.mk: bert as in the tree" diff -r -x .ckptconv "$T/ref/bert" "$T/inst/bert2"
check "installed cfg-translate finds the installed models" sh -c \
	"cd / && env $IP cfg-translate bert '$G/bert/input/bert_config.json' >'$T/cfg.json'"

# ---- the example program, built with pkg-config against the installation ---
export PKG_CONFIG_PATH=$P/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D
check_eq "pkg-config: version" "$("$B/ckpt-ls" --version | sed 's/.* //')" "$(pkg-config --modversion ckptconv)"
src=$CK_ROOT/tests/c/api_example.c
c=$G/t5/input/model.ckpt-1000000
check "example: builds against the shared library" \
	cc $sanflags -o "$T/ex-shared" "$src" $(pkg-config --cflags --libs ckptconv)
check_eq "example (shared): lists as ckpt-ls" "$("$B/ckpt-ls" "$c")" "$(LD_LIBRARY_PATH=$P/lib "$T/ex-shared" "$c")"
check "example (shared): uses the installed libckpt.so.0" sh -c \
	"LD_LIBRARY_PATH='$P/lib' ldd '$T/ex-shared' | grep -q 'libckpt.so.0 => $P/lib/libckpt.so.0'"
check "example: builds against the static library" cc $sanflags -o "$T/ex-static" "$src" \
	$(pkg-config --cflags ckptconv) $(pkg-config --static --libs ckptconv | sed 's/-lckpt\b/-l:libckpt.a/')
check_eq "example (static): lists as ckpt-ls" "$("$B/ckpt-ls" "$c")" "$("$T/ex-static" "$c")"
check "example (static): no libckpt.so needed" sh -c "! ldd '$T/ex-static' | grep -q libckpt"
check "example (static): copies to PyTorch" "$T/ex-static" "$c" "$T/t5.bin"
check "example: torch loads the copy" $PY -c 'import sys, torch; assert len(torch.load(sys.argv[1], weights_only=True)) > 10' "$T/t5.bin"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

# ---- uninstall ----------------------------------------------------------------
check "make install again (over the first)" $M install DESTDIR="$D" PREFIX=/usr/local
echo mine >"$P/bin/not-ckptconv"
check "make uninstall" $M uninstall DESTDIR="$D" PREFIX=/usr/local
check_eq "uninstall: only a file it did not install is left" "./usr ./usr/local ./usr/local/bin ./usr/local/bin/not-ckptconv" \
	"$(cd "$D" && find . -mindepth 1 | sort | tr '\n' ' ' | sed 's/ $//')"
rm "$P/bin/not-ckptconv"
check "make uninstall again: nothing to do" $M uninstall DESTDIR="$D" PREFIX=/usr/local
rmdir "$P/bin" "$P" "$D/usr"
check "install, uninstall: nothing left, no empty directory" sh -c \
	"$M install DESTDIR='$D' PREFIX=/opt/ckptconv >/dev/null && $M uninstall DESTDIR='$D' PREFIX=/opt/ckptconv >/dev/null && [ -z \"\$(ls -A '$D')\" ]"
