/* cast.c — see cast.h.
 *
 * Each conversion works on bit patterns with integer arithmetic and
 * per-lane selects (no branches); the only floating-point operations are
 * exact ones and F64 -> F32, which IEEE defines as round to nearest even. */
#include "cast.h"

#include <string.h>

#include "util.h"

/* Eight lanes at a time with GCC/Clang vector extensions: the same code is
 * SSE2 or AVX2 (the clone picked at run time), at any optimisation level. */
#define LANES 8
typedef uint16_t u16v __attribute__((vector_size(2 * LANES)));
typedef uint32_t u32v __attribute__((vector_size(4 * LANES)));
typedef int32_t i32v __attribute__((vector_size(4 * LANES)));
typedef float f32v __attribute__((vector_size(4 * LANES)));
typedef uint64_t u64v __attribute__((vector_size(8 * LANES)));
typedef int64_t i64v __attribute__((vector_size(8 * LANES)));
typedef double f64v __attribute__((vector_size(8 * LANES)));

#define INLINE static inline __attribute__((always_inline))
/* A vector with every lane c. */
#define V32(c) ((u32v){0} + (c))
/* m ? a : b per lane (m is all ones or all zeros). */
#define sel(m, a, b) (((u32v)(m) & (a)) | (~(u32v)(m) & (b)))
/* a > b as a signed compare: every operand below is < 2^31, and x86 has no
 * unsigned vector compare. */
#define gt(a, b) ((i32v)(a) > (i32v)(b))

/* The element conversions take and return vectors through pointers: a
 * 32-byte vector passed by value would depend on AVX being enabled. */

/* F64 -> F32 as cvtsd2ss does it: round to nearest even; NaN keeps its sign
 * and the top 23 payload bits and becomes quiet. */
INLINE void f64_to_f32(const u64v *in, u32v *out)
{
	u64v u = *in;
	u32v r = (u32v)__builtin_convertvector((f64v)u, f32v);
	u32v nan = __builtin_convertvector(u >> 32 & 0x80000000u, u32v) | 0x7fc00000u |
		   __builtin_convertvector(u >> 29 & 0x7fffffu, u32v);
	i64v isnan = (i64v)(u & 0x7fffffffffffffffull) > (i64v)(u64v){0} + 0x7ff0000000000000ll;
	*out = sel(__builtin_convertvector(isnan, i32v), nan, r);
}

/* F16 -> F32, exact; NaN payloads move up and become quiet (torch computes
 * this with a float multiply, which quiets signalling NaNs). */
INLINE void f16_to_f32(const u16v *in, u32v *out)
{
	u32v h = __builtin_convertvector(*in, u32v);
	u32v sign = (h & 0x8000u) << 16;
	u32v e = h >> 10 & 0x1fu, m = h & 0x3ffu;
	u32v normal = (e + 112u) << 23 | m << 13;
	u32v special = 0x7f800000u | m << 13 | ((u32v)(m != 0u) & 0x400000u);
	/* subnormal: m * 2^-24 is exact in F32 */
	u32v sub = (u32v)(__builtin_convertvector((i32v)m, f32v) * 0x1p-24f);
	*out = sign | sel(e == 31u, special, sel(e != 0u, normal, sub));
}

INLINE void bf16_to_f32(const u16v *in, u32v *out)
{
	*out = __builtin_convertvector(*in, u32v) << 16;
}

/* F32 -> F16, round to nearest even (c10::Half, fp16_ieee_from_fp32_value). */
INLINE void f32_to_f16(const u32v *in, u16v *out)
{
	u32v u = *in;
	u32v sign = u >> 16 & 0x8000u;
	u32v a = u & 0x7fffffffu;
	/* normal results: rebias the exponent, round at bit 13 */
	u32v normal = (a - 0x38000000u + 0xfffu + (a >> 13 & 1u)) >> 13;
	/* subnormal results: the significand shifted right by 126 - exponent
	 * (clamped to 31: everything below rounds to zero) */
	u32v e = a >> 23;
	u32v sh = 126u - sel(gt(e, V32(113u)), V32(113u), e);
	sh = sel(gt(sh, V32(31u)), V32(31u), sh);
	u32v m = (a & 0x7fffffu) | 0x800000u;
	u32v q = m >> sh, rem = m & ((V32(1u) << sh) - 1u);
	u32v half = V32(1u) << (sh - 1u);
	i32v up = gt(rem, half) | ((rem == half) & ((q & 1u) != 0u));
	u32v sub = q + ((u32v)up & 1u);
	u32v r = sel(gt(a, V32(0x7f800000u)), V32(0x7e00u),     /* NaN */
		     sel(gt(a, V32(0x477fefffu)), V32(0x7c00u), /* past 65504: Inf */
			 sel(gt(a, V32(0x387fffffu)), normal, sub)));
	*out = __builtin_convertvector(sign | r, u16v);
}

/* F32 -> BF16, round to nearest even; a NaN becomes nan. */
INLINE void f32_to_bf16_nan(const u32v *in, u16v *out, uint16_t nan)
{
	u32v u = *in;
	u32v r = (u + 0x7fffu + (u >> 16 & 1u)) >> 16;
	r = sel(gt(u & 0x7fffffffu, V32(0x7f800000u)), V32(nan), r);
	*out = __builtin_convertvector(r, u16v);
}

INLINE void f32_to_bf16(const u32v *in, u16v *out) { f32_to_bf16_nan(in, out, 0xffffu); }

/* The conversions through F32. */
#define VIA_F32(NAME, SV, DV, FIRST, SECOND)             \
	INLINE void NAME(const SV *in, DV *out)          \
	{                                                \
		u32v f;                                  \
		FIRST(in, &f);                           \
		SECOND(&f, out);                         \
	}
/* torch's scalar F16 -> BF16 path: NaN becomes 0x7FC0 */
INLINE void f32_to_bf16_scalar(const u32v *in, u16v *out) { f32_to_bf16_nan(in, out, 0x7fc0u); }
VIA_F32(f64_to_f16, u64v, u16v, f64_to_f32, f32_to_f16)
VIA_F32(f64_to_bf16, u64v, u16v, f64_to_f32, f32_to_bf16)
VIA_F32(f16_to_bf16, u16v, u16v, f16_to_f32, f32_to_bf16_scalar)
VIA_F32(bf16_to_f16, u16v, u16v, bf16_to_f32, f32_to_f16)

/* A conversion loop over n elements: whole vectors, then the tail through a
 * zero-padded vector. */
#define CAST_LOOP(NAME, SV, DV, FN)                                                  \
	__attribute__((target_clones("avx2", "default"))) static void NAME(              \
		const unsigned char *src, unsigned char *dst, size_t n)                  \
	{                                                                            \
		const size_t ss = sizeof(SV) / LANES, ds = sizeof(DV) / LANES;           \
		SV x;                                                                \
		DV y;                                                                \
		size_t i = 0;                                                        \
		for (; i + LANES <= n; i += LANES) {                                 \
			memcpy(&x, src + i * ss, sizeof x);                          \
			FN(&x, &y);                                                  \
			memcpy(dst + i * ds, &y, sizeof y);                          \
		}                                                                    \
		if (i < n) {                                                         \
			memset(&x, 0, sizeof x);                                     \
			memcpy(&x, src + i * ss, (n - i) * ss);                      \
			FN(&x, &y);                                                  \
			memcpy(dst + i * ds, &y, (n - i) * ds);                      \
		}                                                                    \
	}

CAST_LOOP(cast_f64_f32, u64v, u32v, f64_to_f32)
CAST_LOOP(cast_f64_f16, u64v, u16v, f64_to_f16)
CAST_LOOP(cast_f64_bf16, u64v, u16v, f64_to_bf16)
CAST_LOOP(cast_f32_f16, u32v, u16v, f32_to_f16)
CAST_LOOP(cast_f32_bf16, u32v, u16v, f32_to_bf16)
CAST_LOOP(cast_f16_f32, u16v, u32v, f16_to_f32)
CAST_LOOP(cast_f16_bf16, u16v, u16v, f16_to_bf16)
CAST_LOOP(cast_bf16_f32, u16v, u32v, bf16_to_f32)
CAST_LOOP(cast_bf16_f16, u16v, u16v, bf16_to_f16)

int ck_cast_supported(ck_dtype from, ck_dtype to)
{
	return ck_dtype_is_float(from) && (to == CK_F32 || to == CK_F16 || to == CK_BF16);
}

int ck_cast(ck_dtype from, ck_dtype to, const void *src, void *dst, size_t n)
{
	if (!ck_cast_supported(from, to))
		return ck_fail("cannot cast %s to %s", ck_dtype_name(from), ck_dtype_name(to));
	if (from == to) {
		memcpy(dst, src, n * ck_dtype_size(from));
		return 0;
	}
	switch (from) {
	case CK_F64:
		if (to == CK_F32)
			cast_f64_f32(src, dst, n);
		else if (to == CK_F16)
			cast_f64_f16(src, dst, n);
		else
			cast_f64_bf16(src, dst, n);
		break;
	case CK_F32:
		if (to == CK_F16)
			cast_f32_f16(src, dst, n);
		else
			cast_f32_bf16(src, dst, n);
		break;
	case CK_F16:
		if (to == CK_F32)
			cast_f16_f32(src, dst, n);
		else
			cast_f16_bf16(src, dst, n);
		break;
	default: /* CK_BF16 */
		if (to == CK_F32)
			cast_bf16_f32(src, dst, n);
		else
			cast_bf16_f16(src, dst, n);
		break;
	}
	return 0;
}
