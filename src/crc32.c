/* crc32.c — see crc32.h.
 *
 * Three implementations with identical results:
 *  - slice-by-16: sixteen 256-entry tables, 16 input bytes per step
 *    (about 1 byte per cycle on any CPU);
 *  - PCLMULQDQ folding (x86-64): four 128-bit accumulators folded forward
 *    by carry-less multiplication, then reduced to 32 bits with a Barrett
 *    step (Intel, "Fast CRC Computation for Generic Polynomials Using
 *    PCLMULQDQ", 2009). Used for the bulk of buffers of 64 bytes or more;
 *  - the same folding 512 bits per instruction with AVX-512 VPCLMULQDQ
 *    (four 512-bit accumulators), for buffers of 256 bytes or more.
 * A fold over a distance of D bits multiplies by the constants
 * x^(D+32) mod P and x^(D-32) mod P (bit-reflected, shifted left by one). */
#include "crc32.h"

#include <threads.h>

#define POLY 0xEDB88320u

static uint32_t table[16][256];
static int have_pclmul, have_vpclmul;
static once_flag init_once = ONCE_FLAG_INIT;

static inline uint32_t load_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* crc here is the running register (already inverted). */
static uint32_t slice16(uint32_t crc, const unsigned char *p, size_t len)
{
	while (len >= 16) {
		uint32_t a = load_le32(p) ^ crc, b = load_le32(p + 4);
		uint32_t c = load_le32(p + 8), d = load_le32(p + 12);
		crc = table[15][a & 0xff] ^ table[14][(a >> 8) & 0xff] ^
		      table[13][(a >> 16) & 0xff] ^ table[12][a >> 24] ^
		      table[11][b & 0xff] ^ table[10][(b >> 8) & 0xff] ^
		      table[9][(b >> 16) & 0xff] ^ table[8][b >> 24] ^
		      table[7][c & 0xff] ^ table[6][(c >> 8) & 0xff] ^
		      table[5][(c >> 16) & 0xff] ^ table[4][c >> 24] ^
		      table[3][d & 0xff] ^ table[2][(d >> 8) & 0xff] ^
		      table[1][(d >> 16) & 0xff] ^ table[0][d >> 24];
		p += 16;
		len -= 16;
	}
	while (len--)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* Folding constants for the reflected polynomial (x^k mod P, bit-reflected
 * and shifted as the folding scheme needs them):
 *   fold 512 bits: x^(4*128+32), x^(4*128-32); fold 128: x^(128+32), x^(128-32);
 *   64->32: x^64; Barrett: P' and mu = floor(x^64 / P). */
#define K_FOLD4_LO 0x0154442bd4ull /* D = 512 */
#define K_FOLD4_HI 0x01c6e41596ull
#define K_FOLD1_LO 0x01751997d0ull /* D = 128 */
#define K_FOLD1_HI 0x00ccaa009eull
#define K_FOLD16_LO 0x011542778aull /* D = 2048 */
#define K_FOLD16_HI 0x01322d1430ull
#define K_FOLD3_LO 0x003db1ecdcull /* D = 384 */
#define K_FOLD3_HI 0x0174359406ull
#define K_FOLD2_LO 0x00f1da05aaull /* D = 256 */
#define K_FOLD2_HI 0x015a546366ull
#define K_64_32 0x0163cd6124ull
#define K_POLY 0x01db710641ull
#define K_MU 0x01f7011641ull

/* Fold the remaining 16-byte blocks into x1 and reduce it to the CRC. */
__attribute__((target("pclmul,sse4.1"))) static uint32_t finish_pclmul(__m128i x1,
								       const unsigned char *p,
								       size_t len)
{
	const __m128i k1 = _mm_set_epi64x((long long)K_FOLD1_HI, (long long)K_FOLD1_LO);
	while (len >= 16) {
		__m128i lo = _mm_clmulepi64_si128(x1, k1, 0x00);
		x1 = _mm_clmulepi64_si128(x1, k1, 0x11);
		x1 = _mm_xor_si128(_mm_xor_si128(x1, _mm_loadu_si128((const __m128i *)p)), lo);
		p += 16;
		len -= 16;
	}

	/* 128 -> 64 bits. */
	const __m128i mask32 = _mm_setr_epi32(-1, 0, -1, 0);
	__m128i t = _mm_clmulepi64_si128(x1, k1, 0x10);
	x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), t);
	/* 64 -> 32 bits (still to be reduced). */
	const __m128i k5 = _mm_set_epi64x(0, (long long)K_64_32);
	t = _mm_srli_si128(x1, 4);
	x1 = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), k5, 0x00);
	x1 = _mm_xor_si128(x1, t);
	/* Barrett reduction to the 32-bit remainder. */
	const __m128i pm = _mm_set_epi64x((long long)K_MU, (long long)K_POLY);
	t = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), pm, 0x10);
	t = _mm_clmulepi64_si128(_mm_and_si128(t, mask32), pm, 0x00);
	x1 = _mm_xor_si128(x1, t);
	return (uint32_t)_mm_extract_epi32(x1, 1);
}

/* Fold a multiple of 16 bytes (at least 64); crc is the running register. */
__attribute__((target("pclmul,sse4.1"))) static uint32_t fold_pclmul(uint32_t crc,
								     const unsigned char *p,
								     size_t len)
{
	__m128i x1 = _mm_loadu_si128((const __m128i *)p);
	__m128i x2 = _mm_loadu_si128((const __m128i *)(p + 16));
	__m128i x3 = _mm_loadu_si128((const __m128i *)(p + 32));
	__m128i x4 = _mm_loadu_si128((const __m128i *)(p + 48));
	x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
	p += 64;
	len -= 64;

	const __m128i k4 = _mm_set_epi64x((long long)K_FOLD4_HI, (long long)K_FOLD4_LO);
	while (len >= 64) {
		__m128i l1 = _mm_clmulepi64_si128(x1, k4, 0x00);
		__m128i l2 = _mm_clmulepi64_si128(x2, k4, 0x00);
		__m128i l3 = _mm_clmulepi64_si128(x3, k4, 0x00);
		__m128i l4 = _mm_clmulepi64_si128(x4, k4, 0x00);
		x1 = _mm_clmulepi64_si128(x1, k4, 0x11);
		x2 = _mm_clmulepi64_si128(x2, k4, 0x11);
		x3 = _mm_clmulepi64_si128(x3, k4, 0x11);
		x4 = _mm_clmulepi64_si128(x4, k4, 0x11);
		x1 = _mm_xor_si128(_mm_xor_si128(x1, l1), _mm_loadu_si128((const __m128i *)p));
		x2 = _mm_xor_si128(_mm_xor_si128(x2, l2), _mm_loadu_si128((const __m128i *)(p + 16)));
		x3 = _mm_xor_si128(_mm_xor_si128(x3, l3), _mm_loadu_si128((const __m128i *)(p + 32)));
		x4 = _mm_xor_si128(_mm_xor_si128(x4, l4), _mm_loadu_si128((const __m128i *)(p + 48)));
		p += 64;
		len -= 64;
	}

	/* Fold the four accumulators into one. */
	const __m128i k1 = _mm_set_epi64x((long long)K_FOLD1_HI, (long long)K_FOLD1_LO);
	__m128i rest[3] = {x2, x3, x4};
	for (int i = 0; i < 3; i++) {
		__m128i lo = _mm_clmulepi64_si128(x1, k1, 0x00);
		x1 = _mm_clmulepi64_si128(x1, k1, 0x11);
		x1 = _mm_xor_si128(_mm_xor_si128(x1, rest[i]), lo);
	}
	return finish_pclmul(x1, p, len);
}

#define VP_TARGET "pclmul,sse4.1,avx512f,vpclmulqdq"

/* z folded forward over the distance of k's constants, xored with d. */
__attribute__((target(VP_TARGET))) static inline __m512i fold512(__m512i z, __m512i k, __m512i d)
{
	return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(z, k, 0x00),
					 _mm512_clmulepi64_epi128(z, k, 0x11), d, 0x96);
}

/* As fold_pclmul, 512 bits per instruction; len a multiple of 16, >= 256. */
__attribute__((target(VP_TARGET))) static uint32_t fold_vpclmul(uint32_t crc,
								const unsigned char *p, size_t len)
{
	__m512i z0 = _mm512_loadu_si512(p), z1 = _mm512_loadu_si512(p + 64);
	__m512i z2 = _mm512_loadu_si512(p + 128), z3 = _mm512_loadu_si512(p + 192);
	z0 = _mm512_xor_si512(z0, _mm512_castsi128_si512(_mm_cvtsi32_si128((int)crc)));
	p += 256;
	len -= 256;
	const __m512i k16 = _mm512_broadcast_i32x4(
		_mm_set_epi64x((long long)K_FOLD16_HI, (long long)K_FOLD16_LO));
	while (len >= 256) {
		z0 = fold512(z0, k16, _mm512_loadu_si512(p));
		z1 = fold512(z1, k16, _mm512_loadu_si512(p + 64));
		z2 = fold512(z2, k16, _mm512_loadu_si512(p + 128));
		z3 = fold512(z3, k16, _mm512_loadu_si512(p + 192));
		p += 256;
		len -= 256;
	}
	/* four accumulators into one, then any further 64-byte blocks */
	const __m512i k4 = _mm512_broadcast_i32x4(
		_mm_set_epi64x((long long)K_FOLD4_HI, (long long)K_FOLD4_LO));
	z1 = fold512(z0, k4, z1);
	z2 = fold512(z1, k4, z2);
	z3 = fold512(z2, k4, z3);
	while (len >= 64) {
		z3 = fold512(z3, k4, _mm512_loadu_si512(p));
		p += 64;
		len -= 64;
	}
	/* the four 128-bit lanes into the last one: distances 384, 256, 128 */
	const __m512i k321 = _mm512_set_epi64(0, 0, (long long)K_FOLD1_HI, (long long)K_FOLD1_LO,
					      (long long)K_FOLD2_HI, (long long)K_FOLD2_LO,
					      (long long)K_FOLD3_HI, (long long)K_FOLD3_LO);
	__m512i t = fold512(z3, k321, _mm512_setzero_si512());
	__m128i x = _mm_xor_si128(_mm512_extracti32x4_epi32(z3, 3),
				  _mm_xor_si128(_mm512_extracti32x4_epi32(t, 0),
						_mm_xor_si128(_mm512_extracti32x4_epi32(t, 1),
							      _mm512_extracti32x4_epi32(t, 2))));
	return finish_pclmul(x, p, len);
}
#endif

static void init(void)
{
	for (uint32_t b = 0; b < 256; b++) {
		uint32_t c = b;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
		table[0][b] = c;
	}
	for (int k = 1; k < 16; k++)
		for (int b = 0; b < 256; b++)
			table[k][b] = (table[k - 1][b] >> 8) ^ table[0][table[k - 1][b] & 0xff];
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	have_pclmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
	have_vpclmul = have_pclmul && __builtin_cpu_supports("avx512f") &&
		       __builtin_cpu_supports("vpclmulqdq");
#endif
}

uint32_t ck_crc32_slice16(uint32_t crc, const void *buf, size_t len)
{
	call_once(&init_once, init);
	return ~slice16(~crc, buf, len);
}

uint32_t ck_crc32(uint32_t crc, const void *buf, size_t len)
{
	call_once(&init_once, init);
	const unsigned char *p = buf;
	crc = ~crc;
#if defined(__x86_64__) && defined(__GNUC__)
	if (have_pclmul && len >= 64) {
		size_t n = len & ~(size_t)15;
		crc = have_vpclmul && n >= 256 ? fold_vpclmul(crc, p, n) : fold_pclmul(crc, p, n);
		p += n;
		len -= n;
	}
#endif
	return ~slice16(crc, p, len);
}

const char *ck_crc32_impl(void)
{
	call_once(&init_once, init);
	return have_vpclmul ? "vpclmul" : have_pclmul ? "pclmul" : "slice16";
}
