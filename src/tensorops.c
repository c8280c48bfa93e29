/* tensorops.c — see tensorops.h. */
#include "tensorops.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- transpose ---------------------------------------------------------- */

/* Tiles of TILE x TILE elements, TILE * size = 64 bytes (one cache line per
 * tile row): each tile is read row by row into a local block and written
 * out column by column, so both sides move whole lines even when the row
 * stride is a power of two (which maps every row to the same cache set).
 * Tiles are walked in super-tiles of 8 x 8 to keep the pages in the TLB. */
#define TRANSPOSE_TYPED(T, EDGE)                                                             \
	do {                                                                             \
		enum { TILE = 64 / sizeof(T), SUPER = 8 * TILE };                        \
		const T *s = src;                                                        \
		T *d = dst;                                                              \
		T t[TILE][TILE];                                                         \
		for (size_t RB = 0; RB < R; RB += SUPER)                                 \
			for (size_t CB = 0; CB < C; CB += SUPER) {                       \
				size_t RE = RB + SUPER < R ? RB + SUPER : R;             \
				size_t CE = CB + SUPER < C ? CB + SUPER : C;             \
				for (size_t rb = RB; rb < RE; rb += TILE)                \
					for (size_t cb = CB; cb < CE; cb += TILE) {      \
						if (rb + TILE > RE || cb + TILE > CE) {  \
							EDGE(d, s, R, L, rb, RE, cb, CE); \
							continue;                        \
						}                                        \
						for (size_t i = 0; i < TILE; i++)        \
							for (size_t j = 0; j < TILE; j++) \
								t[j][i] = s[(rb + i) * L + cb + j]; \
						for (size_t j = 0; j < TILE; j++)        \
							memcpy(d + (cb + j) * R + rb, t[j], sizeof t[j]); \
					}                                                \
			}                                                                \
	} while (0)

/* The partial tiles at the right and bottom edges, element by element. */
#define EDGE_FN(NAME, T)                                                                     \
	static void NAME(T *d, const T *s, size_t R, size_t L, size_t rb, size_t re, size_t cb, \
			 size_t ce)                                                          \
	{                                                                                    \
		re = rb + 64 / sizeof(T) < re ? rb + 64 / sizeof(T) : re;                     \
		ce = cb + 64 / sizeof(T) < ce ? cb + 64 / sizeof(T) : ce;                     \
		for (size_t c = cb; c < ce; c++)                                             \
			for (size_t r = rb; r < re; r++)                                     \
				d[c * R + r] = s[r * L + c];                                 \
	}
EDGE_FN(edge8, uint8_t)
EDGE_FN(edge16, uint16_t)
EDGE_FN(edge32, uint32_t)
EDGE_FN(edge64, uint64_t)

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define VECTOR_TRANSPOSE 1

/* x86-64: 8 x 8 blocks transposed in registers (register moves only, so
 * every bit pattern, NaN payloads included, is copied as is), walked in
 * tiles of VT x VT elements that stay in L1; the rows and columns past the
 * last multiple of 8 are done element by element. About twice the speed of
 * the portable tiles above on large matrices. */
enum { VT = 64 };

#define EDGES(T)                                                                             \
	do {                                                                                 \
		for (size_t r = 0; r < R; r++)                                               \
			for (size_t c = r < R8 ? C8 : 0; c < C; c++)                        \
				d[c * R + r] = s[r * L + c];                                 \
	} while (0)

/* 4-byte elements, as floats in AVX registers. */
__attribute__((target("avx"))) static void transpose_avx32(uint32_t *d, const uint32_t *s, size_t R,
							     size_t C, size_t L)
{
	size_t R8 = R & ~(size_t)7, C8 = C & ~(size_t)7;
	for (size_t rb = 0; rb < R8; rb += VT)
		for (size_t cb = 0; cb < C8; cb += VT) {
			size_t re = rb + VT < R8 ? rb + VT : R8, ce = cb + VT < C8 ? cb + VT : C8;
			for (size_t r = rb; r < re; r += 8)
				for (size_t c = cb; c < ce; c += 8) {
					const float *p = (const float *)(s + r * L + c);
					__m256 r0 = _mm256_loadu_ps(p), r1 = _mm256_loadu_ps(p + L);
					__m256 r2 = _mm256_loadu_ps(p + 2 * L), r3 = _mm256_loadu_ps(p + 3 * L);
					__m256 r4 = _mm256_loadu_ps(p + 4 * L), r5 = _mm256_loadu_ps(p + 5 * L);
					__m256 r6 = _mm256_loadu_ps(p + 6 * L), r7 = _mm256_loadu_ps(p + 7 * L);
					__m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
					__m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
					__m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
					__m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
					__m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
					__m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
					__m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
					__m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
					float *q = (float *)(d + c * R + r);
					_mm256_storeu_ps(q, _mm256_permute2f128_ps(u0, u4, 0x20));
					_mm256_storeu_ps(q + R, _mm256_permute2f128_ps(u1, u5, 0x20));
					_mm256_storeu_ps(q + 2 * R, _mm256_permute2f128_ps(u2, u6, 0x20));
					_mm256_storeu_ps(q + 3 * R, _mm256_permute2f128_ps(u3, u7, 0x20));
					_mm256_storeu_ps(q + 4 * R, _mm256_permute2f128_ps(u0, u4, 0x31));
					_mm256_storeu_ps(q + 5 * R, _mm256_permute2f128_ps(u1, u5, 0x31));
					_mm256_storeu_ps(q + 6 * R, _mm256_permute2f128_ps(u2, u6, 0x31));
					_mm256_storeu_ps(q + 7 * R, _mm256_permute2f128_ps(u3, u7, 0x31));
				}
		}
	EDGES(uint32_t);
}

/* 2-byte elements in SSE2 registers (every x86-64 has them). */
static void transpose_sse16(uint16_t *d, const uint16_t *s, size_t R, size_t C, size_t L)
{
	size_t R8 = R & ~(size_t)7, C8 = C & ~(size_t)7;
	for (size_t rb = 0; rb < R8; rb += VT)
		for (size_t cb = 0; cb < C8; cb += VT) {
			size_t re = rb + VT < R8 ? rb + VT : R8, ce = cb + VT < C8 ? cb + VT : C8;
			for (size_t r = rb; r < re; r += 8)
				for (size_t c = cb; c < ce; c += 8) {
					const uint16_t *p = s + r * L + c;
					__m128i a0 = _mm_loadu_si128((const __m128i *)p);
					__m128i a1 = _mm_loadu_si128((const __m128i *)(p + L));
					__m128i a2 = _mm_loadu_si128((const __m128i *)(p + 2 * L));
					__m128i a3 = _mm_loadu_si128((const __m128i *)(p + 3 * L));
					__m128i a4 = _mm_loadu_si128((const __m128i *)(p + 4 * L));
					__m128i a5 = _mm_loadu_si128((const __m128i *)(p + 5 * L));
					__m128i a6 = _mm_loadu_si128((const __m128i *)(p + 6 * L));
					__m128i a7 = _mm_loadu_si128((const __m128i *)(p + 7 * L));
					__m128i b0 = _mm_unpacklo_epi16(a0, a1), b1 = _mm_unpackhi_epi16(a0, a1);
					__m128i b2 = _mm_unpacklo_epi16(a2, a3), b3 = _mm_unpackhi_epi16(a2, a3);
					__m128i b4 = _mm_unpacklo_epi16(a4, a5), b5 = _mm_unpackhi_epi16(a4, a5);
					__m128i b6 = _mm_unpacklo_epi16(a6, a7), b7 = _mm_unpackhi_epi16(a6, a7);
					__m128i c0 = _mm_unpacklo_epi32(b0, b2), c1 = _mm_unpackhi_epi32(b0, b2);
					__m128i c2 = _mm_unpacklo_epi32(b1, b3), c3 = _mm_unpackhi_epi32(b1, b3);
					__m128i c4 = _mm_unpacklo_epi32(b4, b6), c5 = _mm_unpackhi_epi32(b4, b6);
					__m128i c6 = _mm_unpacklo_epi32(b5, b7), c7 = _mm_unpackhi_epi32(b5, b7);
					uint16_t *q = d + c * R + r;
					_mm_storeu_si128((__m128i *)q, _mm_unpacklo_epi64(c0, c4));
					_mm_storeu_si128((__m128i *)(q + R), _mm_unpackhi_epi64(c0, c4));
					_mm_storeu_si128((__m128i *)(q + 2 * R), _mm_unpacklo_epi64(c1, c5));
					_mm_storeu_si128((__m128i *)(q + 3 * R), _mm_unpackhi_epi64(c1, c5));
					_mm_storeu_si128((__m128i *)(q + 4 * R), _mm_unpacklo_epi64(c2, c6));
					_mm_storeu_si128((__m128i *)(q + 5 * R), _mm_unpackhi_epi64(c2, c6));
					_mm_storeu_si128((__m128i *)(q + 6 * R), _mm_unpacklo_epi64(c3, c7));
					_mm_storeu_si128((__m128i *)(q + 7 * R), _mm_unpackhi_epi64(c3, c7));
				}
		}
	EDGES(uint16_t);
}
#endif

/* dst[c][r] = src[r][c] for an R x C matrix of e-byte elements whose rows
 * lie L elements apart in src (L = C for a whole matrix; more for a band of
 * its columns). */
static void transpose2(void *dst, const void *src, size_t R, size_t C, size_t L, size_t e)
{
#ifdef VECTOR_TRANSPOSE
	if (e == 2) {
		transpose_sse16(dst, src, R, C, L);
		return;
	}
	if (e == 4 && __builtin_cpu_supports("avx")) {
		transpose_avx32(dst, src, R, C, L);
		return;
	}
#endif
	switch (e) {
	case 1: TRANSPOSE_TYPED(uint8_t, edge8); return;
	case 2: TRANSPOSE_TYPED(uint16_t, edge16); return;
	case 4: TRANSPOSE_TYPED(uint32_t, edge32); return;
	case 8: TRANSPOSE_TYPED(uint64_t, edge64); return;
	}
	/* wider elements (axis reversal of 3+ axes folds axes into them) */
	enum { BLK = 16 };
	const unsigned char *s = src;
	unsigned char *d = dst;
	for (size_t rb = 0; rb < R; rb += BLK) {
		size_t re = rb + BLK < R ? rb + BLK : R;
		for (size_t cb = 0; cb < C; cb += BLK) {
			size_t ce = cb + BLK < C ? cb + BLK : C;
			for (size_t c = cb; c < ce; c++)
				for (size_t r = rb; r < re; r++)
					memcpy(d + (c * R + r) * e, s + (r * L + c) * e, e);
		}
	}
}

int tops_reverse_axes(void *dst, const void *src, int ndim, const int64_t *shape, size_t esize)
{
	/* Size-1 axes do not move any byte: reverse the others only. */
	size_t d[CK_MAX_DIMS];
	int n = 0;
	size_t total = esize;
	for (int i = 0; i < ndim; i++) {
		total *= (size_t)shape[i];
		if (shape[i] != 1)
			d[n++] = (size_t)shape[i];
	}
	if (total == 0)
		return 0;
	if (n <= 1) {
		memcpy(dst, src, total);
		return 0;
	}
	if (n == 2) {
		transpose2(dst, src, d[0], d[1], d[1], esize);
		return 0;
	}
	/* Reversing [d0, d1, ..., dk] = transposing [d0, d1*...*dk] into
	 * [d1, ..., dk, d0], then reversing [d1, ..., dk] with d0 folded into
	 * the element: n-1 passes, ping-ponging so the last lands in dst. */
	unsigned char *tmp = ck_malloc(total);
	if (!tmp)
		return -1;
	const void *in = src;
	size_t elem = esize;
	for (int p = 0; p < n - 1; p++) {
		size_t cols = 1;
		for (int i = p + 1; i < n; i++)
			cols *= d[i];
		void *out = (n - 2 - p) % 2 == 0 ? dst : (void *)tmp;
		transpose2(out, in, d[p], cols, cols, elem);
		elem *= d[p];
		in = out;
	}
	free(tmp);
	return 0;
}

void tops_transpose_band(void *dst, const void *src, size_t R, size_t C, size_t c0, size_t c1,
			 size_t esize)
{
	if (c1 > c0 && R)
		transpose2(dst, (const unsigned char *)src + c0 * esize, R, c1 - c0, C, esize);
}

/* ---- dtype conversion --------------------------------------------------- */

static uint32_t f32_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

static float bits_f32(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

float tops_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
	if (exp == 0) {
		if (mant == 0)
			return bits_f32(sign);
		uint32_t e = 113; /* subnormal: normalise the mantissa */
		while (!(mant & 0x400)) {
			mant <<= 1;
			e--;
		}
		return bits_f32(sign | e << 23 | (mant & 0x3ff) << 13);
	}
	if (exp == 31)
		return bits_f32(sign | 0x7f800000u | mant << 13);
	return bits_f32(sign | (exp + 112) << 23 | mant << 13);
}

uint16_t tops_f32_to_f16(float f)
{
	uint32_t x = f32_bits(f);
	uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
	uint32_t a = x & 0x7fffffffu;
	if (a > 0x7f800000u) /* NaN: keep it a quiet NaN with the top payload */
		return sign | 0x7e00 | (uint16_t)((a >> 13) & 0x3ff);
	if (a >= 0x477ff000u) /* >= 65520 rounds to infinity */
		return sign | 0x7c00;
	if (a < 0x38800000u) { /* below the smallest normal half: subnormal */
		if (a <= 0x33000000u) /* <= 2^-25 rounds to zero (ties to even) */
			return sign;
		uint32_t m = (a & 0x7fffff) | 0x800000;
		unsigned shift = 126 - (a >> 23);
		uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
		if (rem > half || (rem == half && (r & 1)))
			r++;
		return sign | (uint16_t)r;
	}
	uint32_t r = ((a >> 23) - 112) << 10 | ((a >> 13) & 0x3ff), rem = a & 0x1fff;
	if (rem > 0x1000 || (rem == 0x1000 && (r & 1)))
		r++;
	return sign | (uint16_t)r;
}

float tops_bf16_to_f32(uint16_t b) { return bits_f32((uint32_t)b << 16); }

uint16_t tops_f32_to_bf16(float f)
{
	uint32_t x = f32_bits(f);
	if ((x & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)(x >> 16 | 0x40);
	return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1)) >> 16);
}

int tops_can_cast(ck_dtype from, ck_dtype to)
{
	if (from == to)
		return 1;
	if (!ck_dtype_is_float(from) || !ck_dtype_is_float(to))
		return 0;
	return !(from == CK_F64 && (to == CK_F16 || to == CK_BF16));
}

/* Every supported conversion goes through float, except those from or to
 * F64, which go through double: both are exact for the widening step, so
 * exactly one rounding happens. */
void tops_cast(void *dst, ck_dtype to, const void *src, ck_dtype from, size_t n)
{
	if (from == to) {
		if (dst != src)
			memcpy(dst, src, n * ck_dtype_size(to));
		return;
	}
	const unsigned char *s = src;
	unsigned char *d = dst;
	if (to == CK_F32 && (from == CK_BF16 || from == CK_F16)) { /* the common widening */
		for (size_t i = 0; i < n; i++) {
			uint16_t h;
			memcpy(&h, s + 2 * i, 2);
			float f = from == CK_BF16 ? tops_bf16_to_f32(h) : tops_f16_to_f32(h);
			memcpy(d + 4 * i, &f, 4);
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		double v;
		uint16_t h;
		float f;
		switch (from) {
		case CK_F16: memcpy(&h, s + 2 * i, 2); v = tops_f16_to_f32(h); break;
		case CK_BF16: memcpy(&h, s + 2 * i, 2); v = tops_bf16_to_f32(h); break;
		case CK_F32: memcpy(&f, s + 4 * i, 4); v = f; break;
		default: memcpy(&v, s + 8 * i, 8); break;
		}
		switch (to) {
		case CK_F16: h = tops_f32_to_f16((float)v); memcpy(d + 2 * i, &h, 2); break;
		case CK_BF16: h = tops_f32_to_bf16((float)v); memcpy(d + 2 * i, &h, 2); break;
		case CK_F32: f = (float)v; memcpy(d + 4 * i, &f, 4); break;
		default: memcpy(d + 8 * i, &v, 8); break;
		}
	}
}

/* ---- slicing ------------------------------------------------------------ */

void tops_slice(void *dst, const void *src, uint64_t outer, uint64_t axis, uint64_t inner_bytes,
		uint64_t start, uint64_t width)
{
	const unsigned char *s = src;
	unsigned char *d = dst;
	size_t chunk = (size_t)(width * inner_bytes);
	for (uint64_t o = 0; o < outer; o++)
		memcpy(d + o * chunk, s + (o * axis + start) * inner_bytes, chunk);
}
