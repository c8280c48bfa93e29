/* tensorops.h — the data side of tensor-remap: axis reversal (transpose),
 * dtype conversion and slicing along an axis, on C-order buffers. Shapes
 * are validated by the caller (rules.c plans them); these only move bytes. */
#ifndef CK_TENSOROPS_H
#define CK_TENSOROPS_H

#include <stddef.h>
#include <stdint.h>

#include "dtype.h"

/* dst = src with the order of all axes reversed (np.transpose): for 2-D
 * the usual transpose, done in cache-sized blocks. Size-1 axes are ignored;
 * with three or more other axes a temporary buffer of the tensor's size is
 * allocated (-1 if that fails). dst and src must not overlap. */
int tops_reverse_axes(void *dst, const void *src, int ndim, const int64_t *shape, size_t esize);

/* Rows c0 .. c1-1 of the transpose of the R x C matrix src (the rows made
 * from its columns c0 .. c1-1): (c1 - c0) rows of R elements into dst. A
 * large transpose can so be written out a band at a time. */
void tops_transpose_band(void *dst, const void *src, size_t R, size_t C, size_t c0, size_t c1,
			 size_t esize);

/* Whether tops_cast converts from -> to: identity, or between floating
 * types (widening is exact; narrowing rounds to nearest even). F64 to F16
 * or BF16 is refused: it would round twice. */
int tops_can_cast(ck_dtype from, ck_dtype to);
/* Convert n elements; dst and src must not overlap unless from == to. */
void tops_cast(void *dst, ck_dtype to, const void *src, ck_dtype from, size_t n);

/* Scalar conversions (exposed for tests). */
float tops_f16_to_f32(uint16_t h);
uint16_t tops_f32_to_f16(float f);
float tops_bf16_to_f32(uint16_t b);
uint16_t tops_f32_to_bf16(float f);

/* Copy the slice [start, start+width) of the middle axis of a tensor viewed
 * as [outer, axis, inner] (inner counted in bytes) into dst, C-order. */
void tops_slice(void *dst, const void *src, uint64_t outer, uint64_t axis, uint64_t inner_bytes,
		uint64_t start, uint64_t width);

#endif
