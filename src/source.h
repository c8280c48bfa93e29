/* source.h — one interface over every checkpoint format the tools read
 * (ckpt-ls, ckpt-extract): open a path whose format is detected, list its
 * tensors in the file's own order, read one verified tensor into the
 * caller's buffer. Each format is a back-end (source_backend.h). */
#ifndef CK_SOURCE_H
#define CK_SOURCE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "dtype.h"

typedef struct ck_source ck_source;

typedef struct {
	const char *name;
	int supported;         /* dtype below is valid; ck_source_read works */
	ck_dtype dtype;        /* numeric, or CK_STRING (read gives raw bytes) */
	const char *type_name; /* "F32", ..., "STRING"; the format's own name
				  ("DT_COMPLEX64") when not supported */
	int ndim;
	int64_t shape[CK_MAX_DIMS];
	uint64_t nbytes;       /* bytes ck_source_read delivers */
	const char *tied_to;   /* the name of an earlier tensor that is this very
				  data (one view of one storage saved under two
				  names: tied weights), or NULL */
} ck_source_entry;

/* Open a checkpoint; the back-end is chosen by ck_source_detect. Reads
 * only what listing needs (TF: the .index, never a data file). */
ck_source *ck_source_open(const char *path);
void ck_source_close(ck_source *s);

const char *ck_source_format(const ck_source *s); /* "tf-bundle", ... */
const char *ck_source_label(const ck_source *s);  /* names it in messages */
size_t ck_source_count(const ck_source *s);
const ck_source_entry *ck_source_at(const ck_source *s, size_t i);
/* Index of the tensor called name, or -1. */
long ck_source_find(const ck_source *s, const char *name);

/* Check that everything the tensors need is present (TF: every data shard
 * exists and holds every entry) before the first byte of output. */
int ck_source_check(ck_source *s);
/* Read tensor i into buf (n == its nbytes), verified against the format's
 * checksums where it has them. Memory: the caller's buffer plus small
 * buffers. */
int ck_source_read(ck_source *s, size_t i, void *buf, uint64_t n);

/* Tensor i verified in place, without a copy, where the format stores it
 * as one run of a file exactly as ck_source_read would deliver it (TF: an
 * unpartitioned numeric tensor). Returns 1 (v->data holds its nbytes until
 * ck_source_unmap), 0 when it must be read with ck_source_read instead, -1
 * on error. */
typedef struct {
	const void *data;
	void *map; /* the mapping behind data */
	size_t maplen;
} ck_source_view;
int ck_source_map(ck_source *s, size_t i, ck_source_view *v);
void ck_source_unmap(ck_source *s, ck_source_view *v);
/* Hint that tensor i will be read soon: the kernel starts reading it (from
 * a cold cache, reads of the chosen tensors then overlap with the work). */
void ck_source_prefetch(ck_source *s, size_t i);

/* Files whose SHA-256 pins the checkpoint's content (recorded as
 * "ckptconv.sha256.<basename>" provenance; TF: the .index, which holds
 * every tensor's CRC-32C), NULL-terminated. */
const char *const *ck_source_provenance(const ck_source *s);

/* Every file the checkpoint consists of (TF: the index and each data shard),
 * NULL-terminated: what a build must hash to know the input is unchanged. */
const char *const *ck_source_files(const ck_source *s);

/* Format-specific fields for ckpt-ls --json: for the whole checkpoint and
 * for tensor i (TF: shard, offset, size, crc32c, slices). */
int ck_source_json_info(const ck_source *s, json_t *obj);
int ck_source_json_entry(const ck_source *s, size_t i, json_t *obj);

/* The checkpoint's non-tensor values as one JSON value owned by s, or NULL
 * when the format has none. PyTorch: the whole pickled object with tensors
 * as {"__tensor__": NAME, ...} (torchload.h); safetensors:
 * {"__metadata__": {...}}. */
const json_t *ck_source_values(const ck_source *s);

#endif
