/* safetensors.h — the stream every tool reads and writes.
 *
 * Layout: u64 LE header length N, N bytes of JSON, then the data buffer.
 * The reader needs no seeking (it works on pipes): it parses the header,
 * validates it completely (dtypes, shapes, offsets that tile the buffer with
 * no gap or overlap, sizes that match the shapes) and then hands out the
 * data in offset order. The writer emits the header first (offsets assigned
 * in the order tensors are added) and then takes the data in that order.
 *
 * Metadata conventions of this project (all values are strings):
 *   "format"                  "pt", as Hugging Face writes it
 *   "ckptconv.version"        version of the last tool that wrote the stream
 *   "ckptconv.sha256.<file>"  SHA-256 of an input file a tool read
 *   "ckptconv.alias.<name>"   <name> is the same tensor as the value (tied
 *                             weights): pt-pack writes one storage for both.
 */
#ifndef CK_SAFETENSORS_H
#define CK_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "dtype.h"
#include "util.h"

#define ST_MAX_HEADER 100000000u /* the limit Hugging Face readers enforce */
#define ST_ALIAS_PREFIX "ckptconv.alias."
#define ST_SHA_PREFIX "ckptconv.sha256."

typedef struct {
	char *name;
	ck_dtype dtype;
	int ndim;
	int64_t shape[CK_MAX_DIMS];
	uint64_t begin, end; /* byte range in the data buffer */
} st_tensor;

typedef struct {
	char *key, *value;
} st_meta;

/* ---- reading ---- */
typedef struct st_reader st_reader;

/* Read and validate the header from fd (a file or a pipe). label names the
 * input in error messages. */
st_reader *st_reader_open(int fd, const char *label);
/* The header length a stream starts with (its first 8 bytes, little-endian),
 * checked to be within 2..ST_MAX_HEADER; -1 with a message naming label. */
int st_header_length(const unsigned char b[8], const char *label, uint64_t *hlen);
/* A reader of a header read by the caller (its JSON text, len bytes, the
 * length prefix taken off), for a caller that takes the data itself: the
 * tensor list and metadata, validated as st_reader_open does. */
st_reader *st_reader_parse(const char *text, size_t len, const char *label);
void st_reader_free(st_reader *r);

size_t st_count(const st_reader *r);
/* Tensors in header order (the order Hugging Face tools list them). */
const st_tensor *st_at(const st_reader *r, size_t i);
/* Index of a tensor by name, or -1. */
long st_find(const st_reader *r, const char *name);
size_t st_meta_count(const st_reader *r);
const st_meta *st_meta_at(const st_reader *r, size_t i);
const char *st_meta_get(const st_reader *r, const char *key);
uint64_t st_data_size(const st_reader *r);
const char *st_label(const st_reader *r);

/* The header index of the k-th tensor in data order (the order st_next
 * delivers them), k < st_count. */
size_t st_data_order(const st_reader *r, size_t k);
/* Advance to the next tensor in offset order (skipping whatever is unread of
 * the current one); returns its header index, or -1 at the end (after which
 * the input must be at EOF) or on error (ck_errmsg says which). */
long st_next(st_reader *r, int *err);
/* Read the next n bytes of the current tensor. */
int st_read(st_reader *r, void *buf, size_t n);
/* Read the whole current tensor into a new buffer (NULL for 0 bytes). */
int st_read_all(st_reader *r, void **buf);

/* ---- writing ---- */
typedef struct st_writer st_writer;

st_writer *st_writer_new(void);
void st_writer_free(st_writer *w);
/* Add a tensor; data offsets follow the order of the calls. */
int st_writer_add(st_writer *w, const char *name, ck_dtype dtype, int ndim,
		  const int64_t *shape);
/* Set (or replace) a metadata entry; entries keep their first-set order. */
int st_writer_meta(st_writer *w, const char *key, const char *value);
/* Copy every metadata entry of a reader (used to carry provenance along). */
int st_writer_meta_from(st_writer *w, const st_reader *r);
size_t st_writer_count(const st_writer *w);
/* Write the header to fd; label names the output in errors. */
int st_writer_begin(st_writer *w, int fd, const char *label);
/* The same, the header and then the data going to put instead. */
int st_writer_begin_put(st_writer *w, ck_put_fn put, void *ctx, const char *label);
/* Append data bytes (in tensor order; may span tensors). */
int st_writer_write(st_writer *w, const void *buf, size_t n);
/* Flush and check that exactly the declared bytes were written. */
int st_writer_end(st_writer *w);

/* The JSON header a writer would emit (for tests and tools that only need
 * the header); caller frees. */
char *st_writer_header(st_writer *w, size_t *len);

#endif
