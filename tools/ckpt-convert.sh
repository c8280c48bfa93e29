#!/bin/sh
# ckpt-convert — the command line of Hugging Face's `transformers convert`,
# carried out by ckptconv's Make conversion (mk/convert.mk).
set -u
me=ckpt-convert

# mk/ and models/ relative to this program's directory: beside bin/ in the
# source tree; make install rewrites the next line (PREFIX/share/ckptconv).
share=..

self=$(readlink -f "$0" 2>/dev/null || printf '%s' "$0")
bindir=$(cd "$(dirname "$self")" && pwd) || exit 2
root=$(cd "$bindir/$share" 2>/dev/null && pwd) || root=$bindir/$share
mk=$root/mk/convert.mk

die() { printf '%s: %s\n' "$me" "$*" >&2; exit 1; }
usage_error() {
	printf '%s: %s\n' "$me" "$*" >&2
	printf "Try '%s --help' for more information.\n" "$me" >&2
	exit 2
}

types() {
	for f in "$root"/models/*/*.mk; do
		[ -f "$f" ] && printf '%s ' "$(basename "$(dirname "$f")")"
	done
}

help() {
	cat <<EOF
usage: $me --model_type TYPE --tf_checkpoint PATH --pytorch_dump_output PATH
                    [--config FILE] [--finetuning_task_name NAME]
                    [--discriminator_or_generator ROLE]

The command line of Hugging Face's \`transformers convert\` (transformers-cli
convert), done without TensorFlow, PyTorch or Python: it runs ckptconv's Make
conversion, and each option is one of its Make variables.

  --model_type TYPE      MODEL=TYPE  bert, albert, gpt, gpt2, transfo_xl, xlnet,
                                     xlm or t5 (here: $(types))
  --tf_checkpoint PATH   CKPT=PATH   the original checkpoint: a TensorFlow prefix
                                     (model.ckpt), its .index, or a directory with
                                     a 'checkpoint' file; gpt: the folder of
                                     params_N.npy; xlm: the .pth file
  --config FILE          CONFIG=FILE the original config (bert_config.json, ...);
                                     default: its usual name next to the checkpoint
  --pytorch_dump_output PATH         bert, albert: the weights FILE to write
                         OUT=DIR     (pytorch_model.bin format); the rest of a
                                     Hugging Face folder goes into its directory
                                     DIR beside it: config.json, the vocabulary,
                                     model.safetensors, ckptconv-manifest.json and
                                     the .ckptconv/ state. Other types, or a path
                                     ending in '/': the folder DIR to fill
                                     (created when missing)
  --finetuning_task_name NAME
                         TASK=NAME   fine-tuning head (xlnet: sst-2, mnli, squad...)
  --discriminator_or_generator ROLE
                         ROLE=ROLE   electra: which model of the pretraining
                                     checkpoint, discriminator or generator (the
                                     option of the reference's ELECTRA script);
                                     required when the checkpoint holds both
  -h, --help, --version

'--opt=VALUE' works as '--opt VALUE', and a unique prefix as the whole option
(--model for --model_type), as in the original. The same conversion with Make:

  make -f $mk \\
       MODEL=bert CKPT=ckpt/bert_model.ckpt CONFIG=ckpt/bert_config.json OUT=ckpt

which also takes FORMAT=both|safetensors|pt, DTYPE=f32|f16|bf16, SHARD=10GB
and VOCAB=DIR (man ckptconv). Re-running with unchanged inputs does nothing.

Into an existing folder that is not yet a ckptconv folder (no .ckptconv/),
$me writes only if that replaces none of its files (config.json,
model*.safetensors, pytorch_model*.bin, ...; the vocabulary file the
checkpoint came with may be there); otherwise it names them and stops.

Exit status: 0 ok, 1 conversion failed, 2 usage error.
EOF
}

# ---- options, as argparse parses them -------------------------------------
OPTIONS="--model_type --tf_checkpoint --config --pytorch_dump_output --finetuning_task_name --discriminator_or_generator --help --version"
model= ckpt= config= dump= task= role=
have_model= have_ckpt= have_dump=
while [ $# -gt 0 ]; do
	arg=$1
	shift
	case $arg in
	-h) help; exit 0 ;;
	--*=*) opt=${arg%%=*} val=${arg#*=} inline=1 ;;
	--?*) opt=$arg val= inline= ;;
	*) usage_error "unrecognized arguments: $arg" ;;
	esac
	full=
	for o in $OPTIONS; do
		if [ "$o" = "$opt" ]; then
			full=$o
			break
		fi
		case $o in "$opt"*) [ -n "$full" ] && usage_error "ambiguous option: $opt could match $full, $o"
				   full=$o ;;
		esac
	done
	[ -n "$full" ] || usage_error "unrecognized arguments: $arg"
	case $full in
	--help) help; exit 0 ;;
	--version)
		v=$("$bindir/ckpt-ls" --version 2>/dev/null) || die "cannot run $bindir/ckpt-ls"
		echo "$me (ckptconv) ${v##* }"
		exit 0 ;;
	esac
	if [ -z "$inline" ]; then
		case ${1-} in
		'' | -?*) [ $# -gt 0 ] && [ -z "$1" ] || usage_error "argument $full: expected one argument" ;;
		esac
		val=$1
		shift
	fi
	case $full in
	--model_type) model=$val have_model=1 ;;
	--tf_checkpoint) ckpt=$val have_ckpt=1 ;;
	--config) config=$val ;;
	--pytorch_dump_output) dump=$val have_dump=1 ;;
	--finetuning_task_name) task=$val ;;
	--discriminator_or_generator) role=$val ;;
	esac
done
missing=
[ -n "$have_model" ] || missing="$missing, --model_type"
[ -n "$have_ckpt" ] || missing="$missing, --tf_checkpoint"
[ -n "$have_dump" ] || missing="$missing, --pytorch_dump_output"
[ -z "$missing" ] || usage_error "the following arguments are required: ${missing#, }"

# Make splits words at blanks and reads $ # % , = : ; * ? [ ] itself, and its
# recipes hand paths to the shell unquoted: such names cannot go through.
for pair in "--model_type=$model" "--tf_checkpoint=$ckpt" "--config=$config" \
	"--pytorch_dump_output=$dump" "--finetuning_task_name=$task" "--discriminator_or_generator=$role"; do
	v=${pair#*=}
	clean=$(printf '%s' "$v" | LC_ALL=C tr -d ' \t\n$#%*?:;"`|&<>(){}!,=\\[]'"'")
	[ "$clean" = "$v" ] || usage_error "${pair%%=*} $v: Make cannot handle blanks or any of \$#%*?:;,=[]\\\"'\`|&<>(){}! in a name"
done
[ -n "$model" ] && [ -n "$ckpt" ] && [ -n "$dump" ] || usage_error "--model_type, --tf_checkpoint and --pytorch_dump_output need a value"
[ -f "$mk" ] || die "cannot find the Make conversion: $mk is missing"

# Every variable is given, so that none comes from the environment.
run_make() {
	${MAKE:-make} --no-print-directory -f "$mk" MODEL="$model" CKPT="$ckpt" CONFIG="$config" \
		VOCAB= FORMAT= DTYPE= SHARD= TASK="$task" ROLE="$role" CKPTCONV_BIN="$bindir" \
		CKPTCONV_MODELS="$root/models" "$@"
}

# ---- what the conversion writes, and where ---------------------------------
plan=$(task=; run_make -s OUT="$dump" ckptconv-outputs 2>&1) || {
	printf '%s\n' "$plan" | sed -e 's/^.*\*\*\* //' -e 's/\.  Stop\.$//' -e "s/^/$me: /" >&2
	exit 2
}
# As in the reference, only models with fine-tuning heads (XLNet) use the task.
if [ -n "$task" ] && [ "$(printf '%s\n' "$plan" | sed -n 's/^tasks //p')" != yes ]; then
	echo "$me: note: --finetuning_task_name is ignored for $model (it has no fine-tuning heads)" >&2
	task=
fi
kind=$(printf '%s\n' "$plan" | sed -n 's/^dump-output //p')
writes=$(printf '%s\n' "$plan" | sed -n 's/^writes //p')
removes=$(printf '%s\n' "$plan" | sed -n 's/^removes //p')

# file: the weights file the user named (NAME in DIR); dir: the folder DIR.
name=
case $dump in
*/) kind=dir ;;
esac
[ -d "$dump" ] && kind=dir
if [ "$kind" = file ]; then
	dir=$(dirname "$dump")
	name=$(basename "$dump")
	case $name in
	*.safetensors | *.json | .ckptconv | .*.tmp.*)
		usage_error "--pytorch_dump_output $dump: $model writes a PyTorch file there; name it *.bin (pytorch_model.bin is what Hugging Face loads)" ;;
	esac
	for w in $(printf '%s\n' "$writes" | cut -d' ' -f1); do
		[ "$name" = "$w" ] && usage_error "--pytorch_dump_output $dump: $w is a file of the converted folder; name the weights pytorch_model.bin"
	done
else
	dir=$dump
	while [ "${dir%/}" != "$dir" ] && [ "$dir" != / ]; do dir=${dir%/}; done
	[ -e "$dir" ] && [ ! -d "$dir" ] && usage_error "--pytorch_dump_output $dump: $model writes a folder, and this is not a directory"
	case $dir in
	*.bin | *.pt | *.pth | *.safetensors)
		[ -e "$dir" ] || usage_error "--pytorch_dump_output $dump: $model writes a folder (the weights go in it as pytorch_model.bin): give the directory" ;;
	esac
fi

# ---- into someone else's folder: replace nothing ---------------------------
if [ -d "$dir" ] && [ ! -d "$dir/.ckptconv" ]; then
	clash=
	while read -r w src; do
		[ -n "$w" ] || continue
		if [ -e "$dir/$w" ] || [ -L "$dir/$w" ]; then
			[ -n "$src" ] && [ "$dir/$w" -ef "$src" ] || clash="$clash $w"
		fi
	done <<EOF
$writes
EOF
	for g in $removes; do
		for f in "$dir"/$g; do
			[ -e "$f" ] || [ -L "$f" ] || continue
			[ "$(basename "$f")" = "$name" ] || clash="$clash $(basename "$f")"
		done
	done
	[ -z "$clash" ] || die "$dir: not a ckptconv folder, and converting into it would replace:$clash (move them away, or choose another --pytorch_dump_output)"
fi

# ---- convert ---------------------------------------------------------------
# A weights file under another name is a hard link to the folder's
# pytorch_model.bin, made after Make: a previous one is set aside meanwhile,
# so that the manifest never describes it.
aside=
if [ -n "$name" ] && [ "$name" != pytorch_model.bin ] && { [ -e "$dir/$name" ] || [ -L "$dir/$name" ]; }; then
	[ -f "$dir/$name" ] && [ ! -L "$dir/$name" ] || usage_error "--pytorch_dump_output $dump: exists and is not a regular file"
	mkdir -p "$dir/.ckptconv" && aside=$dir/.ckptconv/previous-$name &&
		mv -f "$dir/$name" "$aside" || die "$dir/$name: cannot set it aside"
fi
restore() { [ -z "$aside" ] || mv -f "$aside" "$dir/$name"; }

printf '%s: make -f %s MODEL=%s CKPT=%s%s OUT=%s%s\n' "$me" "$mk" "$model" "$ckpt" \
	"${config:+ CONFIG=$config}" "$dir" "${task:+ TASK=$task}${role:+ ROLE=$role}" >&2
run_make OUT="$dir" "$dir" || {
	restore
	die "conversion failed (the message above says why)"
}

if [ -n "$name" ] && [ "$name" != pytorch_model.bin ]; then
	tmp=$dir/.ckptconv/link-$name
	rm -f "$tmp"
	{ ln "$dir/pytorch_model.bin" "$tmp" 2>/dev/null || cp "$dir/pytorch_model.bin" "$tmp"; } &&
		mv -f "$tmp" "$dir/$name" || { restore; die "$dir/$name: cannot write it"; }
	[ -z "$aside" ] || rm -f "$aside"
fi
if [ -n "$name" ]; then
	echo "$me: wrote $dir/$name; $dir is a Hugging Face folder" >&2
else
	echo "$me: wrote the Hugging Face folder $dir" >&2
fi
