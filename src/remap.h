/* remap.h — a rule file applied to a safetensors stream, as tensor-remap
 * does it and ckpt-extract --remap does it in the same process: the rule
 * file loaded with its SHA-256, the planned output header declared on a
 * stream writer, the --verbose report. The planning and the data
 * operations themselves are rules.h's. */
#ifndef CK_REMAP_H
#define CK_REMAP_H

#include <stddef.h>

#include "rules.h"
#include "safetensors.h"

/* Load and parse the rule file at path with the values of its `arg` lines
 * (args: NAME=VALUE); hex gets the SHA-256 of the very bytes parsed. */
rules *remap_load(const char *path, const char *const *args, size_t nargs, char hex[65]);

/* Declare P's outputs on w, then the metadata the remapped stream carries
 * after the input's own: ckptconv.sha256.<rule file name> = hex, the
 * version, and P's aliases as ckptconv.alias.<name> = <target>. */
int remap_declare(const rules_plan *P, st_writer *w, const char *rules_path, const char *hex);

/* A rules_emit_fn that writes each output's bytes to the st_writer ctx. */
int remap_emit(void *ctx, size_t output, const void *buf, size_t n);

/* On stderr: each dropped or skipped input, then a summary line. */
void remap_report(const rules_plan *P, const rules_tensor *in, size_t n, const char *rules_path);

#endif
