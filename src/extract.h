/* extract.h — a checkpoint's tensors as a safetensors stream: what
 * ckpt-extract writes, and what pt-pack --checkpoint packs without a pipe.
 * Every tensor is verified (TF: its CRC-32C) before any of its bytes goes
 * out; with a rule file, the stream is the one `| tensor-remap RULES` would
 * make, and the tensors the rules drop are neither read nor verified. */
#ifndef CK_EXTRACT_H
#define CK_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "source.h"
#include "util.h"

typedef struct ck_extract ck_extract;

/* Plan the stream of s's chosen tensors: chosen[i] nonzero for each chosen
 * tensor i, or NULL for all of them. A second name of chosen data (tied
 * weights) becomes an alias. rules: a rule file (with its `arg` values as
 * NAME=VALUE), or NULL for the tensors as they are. With write 0 the stream
 * is only verified, never written: no header is planned (and no input file
 * hashed for it). Fails on a chosen tensor of a type that cannot be
 * extracted and on a bad rule file. s must outlive the result. */
ck_extract *ck_extract_new(ck_source *s, const char *chosen, const char *rules,
			   const char *const *args, size_t nargs, int write);
/* Verify every chosen tensor in order and, when planned with write, put
 * the stream (label names its destination in errors). *count and *bytes
 * get the tensors verified and their size. */
int ck_extract_run(ck_extract *x, ck_put_fn put, void *ctx, const char *label,
		   uint64_t *count, uint64_t *bytes);
void ck_extract_free(ck_extract *x);

#endif
