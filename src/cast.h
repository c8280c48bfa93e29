/* cast.h — floating-point conversions bit-identical to what PyTorch 1.13
 * (CPU) produces for tensor.to(dtype).
 *
 * Rounding is to nearest, ties to even, with IEEE overflow to ±Inf and
 * gradual underflow (subnormals kept, never flushed). F64 to F16/BF16 rounds
 * twice, through F32, exactly as torch does. NaN results follow torch:
 *   F64 -> F32      sign and top payload bits kept, quiet bit set (x86 cvtsd2ss)
 *   F16 -> F32      the same (payload shifted up, quiet bit set)
 *   BF16 -> F32     bits shifted up unchanged (signalling NaNs stay signalling)
 *   any -> F16      0x7E00 with the input's sign
 *   F32/F64 -> BF16 0xFFFF (torch's vectorised kernel; its scalar tail for
 *                   F64 writes 0x7FC0, so torch itself varies by position)
 *   F16 -> BF16     0x7FC0
 * Integer and bool tensors are never cast. */
#ifndef CK_CAST_H
#define CK_CAST_H

#include <stddef.h>

#include "dtype.h"

/* 1 if ck_cast converts from -> to: from is F64/F32/F16/BF16 and to is
 * F32/F16/BF16 (or the same type). */
int ck_cast_supported(ck_dtype from, ck_dtype to);
/* Convert n elements; src and dst must not overlap (no alignment needed).
 * Returns -1 (with ck_fail) for an unsupported pair. */
int ck_cast(ck_dtype from, ck_dtype to, const void *src, void *dst, size_t n);

#endif
