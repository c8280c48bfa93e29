/* dtype.h — element types as the safetensors stream names them. */
#ifndef CK_DTYPE_H
#define CK_DTYPE_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
	CK_BOOL,
	CK_U8,
	CK_I8,
	CK_I16,
	CK_U16,
	CK_F16,
	CK_BF16,
	CK_I32,
	CK_U32,
	CK_F32,
	CK_F64,
	CK_I64,
	CK_U64,
	CK_STRING, /* TF string tensors: listed, never streamed */
	CK_DTYPE_COUNT
} ck_dtype;

/* Tensors may have at most this many dimensions (TF allows more in theory;
 * no model uses more than 4). */
#define CK_MAX_DIMS 16

/* "F32", "BF16", ..., "STRING". */
const char *ck_dtype_name(ck_dtype t);
/* Parse a safetensors dtype name; -1 if unknown. */
int ck_dtype_parse(const char *name, ck_dtype *out);
/* Element size in bytes (0 for STRING). */
size_t ck_dtype_size(ck_dtype t);
int ck_dtype_is_float(ck_dtype t);

/* Number of elements of a shape, overflow-checked (returns -1 on overflow
 * or a negative dimension). A scalar (ndim 0) has one element. */
int ck_shape_numel(int ndim, const int64_t *shape, uint64_t *numel);
/* numel * element size, overflow-checked. */
int ck_shape_nbytes(ck_dtype t, int ndim, const int64_t *shape, uint64_t *nbytes);
/* Format "768,3072" (empty for a scalar) into buf. */
void ck_shape_format(int ndim, const int64_t *shape, char *buf, size_t len);

#endif
