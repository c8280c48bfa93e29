# The forms a checkpoint argument takes (prefix, PREFIX.index, a data file,
# a directory with a 'checkpoint' state file, relative or absolute, or with
# a single .index), and what is said when they name nothing.
. "$(dirname "$0")/lib.sh"

R=$FIX/real
wd=$R/complete/tf1_estimator_wide_deep_2shards
p=$wd/model.ckpt-2010
"$B/ckpt-ls" "$p" >"$T/ref" || fail "ckpt-ls prefix"
same() { # same NAME ARG: lists like the prefix
	if "$B/ckpt-ls" "$2" >"$T/got" 2>"$T/err" && cmp -s "$T/ref" "$T/got"; then ok "$1"
	else fail "$1: $(head -1 "$T/err")"; fi
}
same "PREFIX.index" "$p.index"
same "first data file" "$p.data-00000-of-00002"
same "second data file" "$p.data-00001-of-00002"
same "directory with a 'checkpoint' file (relative path)" "$wd"
same "directory given with a trailing slash" "$wd/"
cp "$p".* "$T/"
: >"$T/model.ckpt-2010.meta"
same "PREFIX.meta" "$T/model.ckpt-2010.meta"
mkdir -p "$T/abs" "$T/sub/ckpts"
printf 'model_checkpoint_path: "%s"\nall_model_checkpoint_paths: "%s"\n' "$T/model.ckpt-2010" "$T/model.ckpt-2010" >"$T/abs/checkpoint"
same "'checkpoint' naming an absolute path elsewhere" "$T/abs"
cp "$p".* "$T/sub/ckpts/"
printf 'model_checkpoint_path: "ckpts/model.ckpt-2010"\n' >"$T/sub/checkpoint"
same "'checkpoint' naming a relative path in a subdirectory" "$T/sub"
printf '# comment\nall_model_checkpoint_paths: "x"\nmodel_checkpoint_path:"ckpts/model\\056ckpt-2010"\n' >"$T/sub/checkpoint"
same "'checkpoint' with escapes, other fields first" "$T/sub"
rm -f "$T/abs/checkpoint"
printf 'model_checkpoint_path: "/elsewhere/on/another/machine/model.ckpt-2010"\n' >"$T/checkpoint"
same "absolute path from another machine: same name beside the state file" "$T"

"$B/ckpt-ls" "$R/complete/tfserving_half_plus_two_mkl/variables" >"$T/ref"
same "SavedModel variables/ directory (no state file, one .index)" "$R/complete/tfserving_half_plus_two_mkl"
"$B/ckpt-ls" "$R/albert/google_albert_base_zh/model.ckpt-best" >"$T/ref"
same "real state file with a /cns/ path (albert_base_zh)" "$R/albert/google_albert_base_zh"
"$B/ckpt-ls" "$R/gpt2/117M/model.ckpt" >"$T/ref"
same "real GPT-2 release directory" "$R/gpt2/117M"

# Names that name nothing: one line saying what is missing, exit 1.
check_fails "dangling state file (real: names model.ckpt-400) lists what is there" \
	'model_checkpoint_path "model.ckpt-400".*not there.*checkpoints in this directory: model.ckpt-0, model.ckpt-200$' \
	"$B/ckpt-ls" "$R/complete/tf1_estimator_linear_titanic"
check_fails "dangling state file (real: TF2 Keras) lists what is there" \
	'"mycheckpoits".*not there.*: bert_model.ckpt$' "$B/ckpt-ls" "$R/bert/arabic_senti_tf2_keras"
check_fails "ckpt-extract says the same" 'model.ckpt-400.*model.ckpt-0, model.ckpt-200' \
	"$B/ckpt-extract" "$R/complete/tf1_estimator_linear_titanic" --verify-only
check_fails "missing prefix" 'no such checkpoint' "$B/ckpt-ls" "$T/absent/model.ckpt"
check_fails "missing .index" 'absent.index' "$B/ckpt-ls" "$T/absent.index"
check_fails "a file that is no checkpoint" 'not a checkpoint format' "$B/ckpt-ls" "$R/PROVENANCE.md"
check_fails "a TF V1 checkpoint (real) is refused by name" 'V1 checkpoint.*not supported' \
	"$B/ckpt-ls" "$R/tf_v1_format/tfserving_session_bundle_half_plus_two/export-00000-of-00001"
check_fails "... also through its state file" 'export: a TensorFlow V1 checkpoint' \
	"$B/ckpt-ls" "$R/tf_v1_format/tfserving_bad_half_plus_two"
mkdir -p "$T/two" "$T/empty"
cp "$p.index" "$T/two/a.index"
cp "$p.index" "$T/two/b.index"
check_fails "directory with two checkpoints and no state file" "no 'checkpoint' state file.*: a, b$" "$B/ckpt-ls" "$T/two"
check_fails "empty directory" 'no .index file' "$B/ckpt-ls" "$T/empty"
printf 'all_model_checkpoint_paths: "x"\n' >"$T/empty/checkpoint"
check_fails "state file without model_checkpoint_path" 'no model_checkpoint_path' "$B/ckpt-ls" "$T/empty"
printf 'model_checkpoint_path: "x\n' >"$T/empty/checkpoint"
check_fails "unterminated string in the state file" 'unterminated' "$B/ckpt-ls" "$T/empty"
printf 'model_checkpoint_path: "a\\qb"\n' >"$T/empty/checkpoint"
check_fails "bad escape in the state file" 'bad escape' "$B/ckpt-ls" "$T/empty"
