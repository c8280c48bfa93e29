/* bundle.h — TensorFlow "V2" tensor bundles (TF >= 0.12 checkpoints):
 * PREFIX.index (a LevelDB-format table of BundleEntryProto, see table.h)
 * and PREFIX.data-SSSSS-of-NNNNN shard files of raw tensor bytes.
 *
 * Reading: ck_bundle_open reads the index alone (never a data file) and
 * validates every entry against its shape. Data files are opened on the
 * first read, or by ck_bundle_check_data, which checks every entry against
 * the shard file sizes. Each read verifies the masked CRC-32C before it
 * returns, reassembles partitioned ("sliced") variables from their slices,
 * and uses memory bounded by one tensor.
 *
 * Writing (tests and benchmarks make checkpoints with it): tensors are
 * streamed into shard files in the order given, the index is written by
 * ck_bundle_writer_finish, sorted as TF sorts it. */
#ifndef CK_BUNDLE_H
#define CK_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "dtype.h"
#include "table.h"

/* ---- TF element types (DataType enum values; _REF variants = +100) ---- */
enum {
	CK_TF_FLOAT = 1, CK_TF_DOUBLE = 2, CK_TF_INT32 = 3, CK_TF_UINT8 = 4,
	CK_TF_INT16 = 5, CK_TF_INT8 = 6, CK_TF_STRING = 7, CK_TF_COMPLEX64 = 8,
	CK_TF_INT64 = 9, CK_TF_BOOL = 10, CK_TF_BFLOAT16 = 14, CK_TF_UINT16 = 17,
	CK_TF_HALF = 19, CK_TF_RESOURCE = 20, CK_TF_VARIANT = 21, CK_TF_UINT32 = 22,
	CK_TF_UINT64 = 23,
};

/* "DT_FLOAT", "DT_COMPLEX64", ...; "DT_UNKNOWN_<n>" for values not known. */
const char *ck_tf_dtype_name(int tf_dtype, char buf[32]);
/* Parse "DT_..." (as printed by ck_tf_dtype_name); -1 if unknown. */
int ck_tf_dtype_parse(const char *name);
/* The safetensors type of a TF type (STRING for DT_STRING); -1 when there
 * is none (complex, quantized, resource, variant, unknown). */
int ck_tf_dtype_to_ck(int tf_dtype, ck_dtype *out);
int ck_tf_dtype_from_ck(ck_dtype t);
/* Bytes per element of fixed-size TF types; 0 for string, resource,
 * variant and unknown types. */
size_t ck_tf_dtype_size(int tf_dtype);

/* ---- reading ---- */
typedef struct {
	/* Extents as TF stores them: length -1 = the whole dimension. */
	int64_t start[CK_MAX_DIMS], length[CK_MAX_DIMS];
	int32_t shard; /* where the slice's own entry puts its data */
	uint64_t offset, size;
	uint32_t crc32c; /* masked */
} ck_bundle_slice;

typedef struct {
	char *name;
	int tf_dtype;      /* _REF stripped */
	int supported;     /* has a safetensors dtype (numeric or STRING) */
	ck_dtype dtype;    /* valid when supported */
	int ndim;
	int64_t shape[CK_MAX_DIMS];
	int32_t shard;     /* unused for sliced entries */
	uint64_t offset, size;
	uint32_t crc32c;   /* masked, as stored */
	size_t nslices;    /* > 0: a partitioned variable */
	ck_bundle_slice *slices;
	uint64_t nbytes;   /* what ck_bundle_read delivers (see there) */
} ck_bundle_entry;

typedef struct ck_bundle ck_bundle;

/* Open the bundle PREFIX (reads PREFIX.index only). */
ck_bundle *ck_bundle_open(const char *prefix);
void ck_bundle_close(ck_bundle *b);

/* Tensors in index order (key order; slice keys and the header excluded). */
size_t ck_bundle_count(const ck_bundle *b);
const ck_bundle_entry *ck_bundle_at(const ck_bundle *b, size_t i);
int ck_bundle_num_shards(const ck_bundle *b);
const char *ck_bundle_index_path(const ck_bundle *b);
/* PREFIX.data-SSSSS-of-NNNNN into buf; -1 if it does not fit. */
int ck_bundle_data_path(const ck_bundle *b, int shard, char *buf, size_t len);
ck_table_stats ck_bundle_index_stats(const ck_bundle *b);

/* Open every shard and check every entry (and slice) lies inside its
 * shard file. Runs once; ck_bundle_read runs it if needed. */
int ck_bundle_check_data(ck_bundle *b);

/* Read tensor i into buf (n must equal its nbytes) and verify it: numeric
 * tensors are delivered as TF stores them (row-major, little-endian),
 * partitioned ones reassembled; DT_STRING tensors are delivered as their
 * raw stored bytes (lengths, checksum, strings) after verifying TF's string
 * checksum rule; partitioned ones are verified slice by slice and deliver
 * nothing (their nbytes is 0). Unsupported types are refused. */
int ck_bundle_read(ck_bundle *b, size_t i, void *buf, uint64_t n);

/* Tensor i verified in place, without copying it: an unpartitioned numeric
 * tensor is mapped read-only from its shard and its CRC-32C checked. Returns
 * 1 (*data holds its nbytes; munmap(*map, *maplen) releases them),
 * 0 when it cannot be mapped (partitioned, string, empty: use
 * ck_bundle_read), -1 on error (a checksum mismatch included). */
int ck_bundle_map(ck_bundle *b, size_t i, const void **data, void **map, size_t *maplen);
/* Ask the kernel to start reading tensor i's bytes (no waiting). */
void ck_bundle_prefetch(ck_bundle *b, size_t i);

/* TF's key of a slice's data entry: ordered-code of (0, name, ndim, then
 * start and length of each extent). *key is malloc'd. */
int ck_bundle_slice_key(const char *name, int ndim, const int64_t *start, const int64_t *length,
			unsigned char **key, size_t *klen);

/* ---- writing ---- */
typedef struct ck_bundle_writer ck_bundle_writer;

typedef struct {
	int num_shards;       /* >= 1 */
	int snappy;           /* snappy-compress index blocks */
	size_t block_size;    /* index data block size; 0 = TF's 256 KiB */
	int big_endian;       /* only to test that readers refuse it */
} ck_bundle_writer_opts;

/* Create PREFIX.data-*-of-N (all shards, empty) and, on finish, PREFIX.index. */
ck_bundle_writer *ck_bundle_writer_open(const char *prefix, const ck_bundle_writer_opts *o);
/* Start a tensor in shard `shard`; its bytes follow with _data, then _end
 * (which checks the byte count for fixed-size types). */
int ck_bundle_writer_begin(ck_bundle_writer *w, const char *name, int tf_dtype, int ndim,
			   const int64_t *shape, int shard);
/* Start one slice of partitioned variable `name` of the full shape given:
 * the extents start/length (-1 = whole dimension); data as above. */
int ck_bundle_writer_begin_slice(ck_bundle_writer *w, const char *name, int tf_dtype, int ndim,
				 const int64_t *shape, const int64_t *start, const int64_t *length,
				 int shard);
int ck_bundle_writer_data(ck_bundle_writer *w, const void *buf, size_t n);
int ck_bundle_writer_end(ck_bundle_writer *w);
/* A DT_STRING tensor of numel(shape) strings, in TF's layout. */
int ck_bundle_writer_strings(ck_bundle_writer *w, const char *name, int ndim, const int64_t *shape,
			     int shard, const char *const *strs, const size_t *lens);
/* One slice of a partitioned DT_STRING variable (extents as for
 * _begin_slice): the slice's strings, row-major within it. */
int ck_bundle_writer_strings_slice(ck_bundle_writer *w, const char *name, int ndim,
				   const int64_t *shape, const int64_t *start, const int64_t *length,
				   int shard, const char *const *strs, const size_t *lens);
/* Write the index. On any failure (or free without finish) the files
 * written so far are removed. */
int ck_bundle_writer_finish(ck_bundle_writer *w);
void ck_bundle_writer_free(ck_bundle_writer *w);

#endif
