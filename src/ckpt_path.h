/* ckpt_path.h — what a TensorFlow checkpoint argument names.
 *
 * A TF checkpoint is named by its prefix P (files P.index and
 * P.data-SSSSS-of-NNNNN). Users also pass P.index, P.meta (the graph,
 * beside them), one of the data files, or the directory holding a
 * `checkpoint` state file, whose
 * model_checkpoint_path names the latest prefix (relative to the directory,
 * or absolute; an absolute path that does not exist, as when the
 * checkpoint was copied from another machine, falls back to the same
 * basename in the directory). A directory without a state file that holds
 * exactly one .index file (a SavedModel's variables/) names that prefix. */
#ifndef CK_CKPT_PATH_H
#define CK_CKPT_PATH_H

#include <stddef.h>

/* Resolve arg to a prefix (malloc'd into *prefix). Errors say what is
 * missing; a state file naming a prefix that is not there lists the
 * prefixes that are. */
int ck_tf_resolve(const char *arg, char **prefix);

/* How surely arg is a TF checkpoint: 2 = by name or layout (.index, .meta,
 * data file name, directory with a state file or .index files, P with P.index
 * beside it), 1 = it is nothing recognisable (TF then explains what is
 * missing), 0 = it is an existing file of some other kind. */
int ck_tf_probe(const char *arg);

/* The model_checkpoint_path of a `checkpoint` state file's text (malloc'd
 * into *out), with the text-format string escapes undone. */
int ck_tf_parse_state(const char *text, size_t len, const char *label, char **out);

#endif
