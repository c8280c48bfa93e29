/* dtype.c — see dtype.h. */
#include "dtype.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

static const struct {
	const char *name;
	size_t size;
} types[CK_DTYPE_COUNT] = {
	[CK_BOOL] = {"BOOL", 1}, [CK_U8] = {"U8", 1},     [CK_I8] = {"I8", 1},
	[CK_I16] = {"I16", 2},   [CK_U16] = {"U16", 2},   [CK_F16] = {"F16", 2},
	[CK_BF16] = {"BF16", 2}, [CK_I32] = {"I32", 4},   [CK_U32] = {"U32", 4},
	[CK_F32] = {"F32", 4},   [CK_F64] = {"F64", 8},   [CK_I64] = {"I64", 8},
	[CK_U64] = {"U64", 8},   [CK_STRING] = {"STRING", 0},
};

const char *ck_dtype_name(ck_dtype t)
{
	return (unsigned)t < CK_DTYPE_COUNT ? types[t].name : "?";
}

int ck_dtype_parse(const char *name, ck_dtype *out)
{
	for (int i = 0; i < CK_DTYPE_COUNT; i++)
		if (i != CK_STRING && strcmp(name, types[i].name) == 0) {
			*out = (ck_dtype)i;
			return 0;
		}
	return -1;
}

size_t ck_dtype_size(ck_dtype t)
{
	return (unsigned)t < CK_DTYPE_COUNT ? types[t].size : 0;
}

int ck_dtype_is_float(ck_dtype t)
{
	return t == CK_F16 || t == CK_BF16 || t == CK_F32 || t == CK_F64;
}

int ck_shape_numel(int ndim, const int64_t *shape, uint64_t *numel)
{
	uint64_t n = 1;
	if (ndim < 0 || ndim > CK_MAX_DIMS)
		return -1;
	for (int i = 0; i < ndim; i++) {
		if (shape[i] < 0 || ck_mul_u64(n, (uint64_t)shape[i], &n) < 0)
			return -1;
	}
	*numel = n;
	return 0;
}

int ck_shape_nbytes(ck_dtype t, int ndim, const int64_t *shape, uint64_t *nbytes)
{
	uint64_t n;
	if (ck_shape_numel(ndim, shape, &n) < 0)
		return -1;
	return ck_mul_u64(n, ck_dtype_size(t), nbytes);
}

void ck_shape_format(int ndim, const int64_t *shape, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = 0;
	for (int i = 0; i < ndim && used < len; i++) {
		int w = snprintf(buf + used, len - used, "%s%lld", i ? "," : "", (long long)shape[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}
