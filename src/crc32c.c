/* crc32c.c — see crc32c.h.
 *
 * Hardware path: the SSE4.2 crc32 instruction has a latency of 3 cycles and
 * a throughput of 1, so large buffers are cut into three equal parts whose
 * CRCs run interleaved; the three partial CRCs are then combined by
 * "shifting" one over the length of the next (appending that many zero
 * bytes), which is a linear map done with four 256-entry tables. */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#define POLY 0x82f63b78u /* CRC-32C, bit-reflected */

/* ---- portable: slicing-by-8 ---- */

static uint32_t table[8][256];

static void init_table(void)
{
	for (uint32_t b = 0; b < 256; b++) {
		uint32_t c = b;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (POLY & (0u - (c & 1)));
		table[0][b] = c;
	}
	for (uint32_t b = 0; b < 256; b++)
		for (int t = 1; t < 8; t++)
			table[t][b] = (table[t - 1][b] >> 8) ^ table[0][table[t - 1][b] & 0xff];
}

static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static inline uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t ck_crc32c_portable(uint32_t crc, const void *buf, size_t n)
{
	pthread_once(&table_once, init_table);
	const unsigned char *p = buf;
	uint32_t c = ~crc;
	while (n && ((uintptr_t)p & 7)) {
		c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
		n--;
	}
	while (n >= 8) {
		uint32_t lo = le32(p) ^ c, hi = le32(p + 4);
		c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
		    table[4][lo >> 24] ^ table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
		    table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
		p += 8;
		n -= 8;
	}
	while (n--)
		c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
	return ~c;
}

/* ---- hardware ---- */

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>

#define HW_TARGET __attribute__((target("sse4.2")))
#define LONG_BLOCK 8192
#define SHORT_BLOCK 256

/* shift_X[k][b]: the raw CRC state (b << 8k) after X zero bytes. */
static uint32_t shift_long[4][256], shift_short[4][256];
static pthread_once_t shift_once = PTHREAD_ONCE_INIT;

HW_TARGET static uint32_t zeros_hw(uint32_t c, size_t n)
{
	uint64_t s = c;
	for (size_t i = 0; i < n / 8; i++)
		s = _mm_crc32_u64(s, 0);
	return (uint32_t)s;
}

static void make_shift(uint32_t t[4][256], size_t len)
{
	uint32_t basis[32];
	for (int i = 0; i < 32; i++)
		basis[i] = zeros_hw(1u << i, len);
	for (int k = 0; k < 4; k++)
		for (uint32_t b = 0; b < 256; b++) {
			uint32_t v = 0;
			for (int i = 0; i < 8; i++)
				if (b & (1u << i))
					v ^= basis[8 * k + i];
			t[k][b] = v;
		}
}

static void init_shift(void)
{
	make_shift(shift_long, LONG_BLOCK);
	make_shift(shift_short, SHORT_BLOCK);
}

static inline uint32_t shift(uint32_t t[4][256], uint32_t c)
{
	return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
}

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* Interleave three streams over blocks of len bytes while n allows. */
HW_TARGET static uint64_t hw_three(uint64_t c, const unsigned char **pp, size_t *np, size_t len,
				   uint32_t t[4][256])
{
	const unsigned char *p = *pp;
	size_t n = *np;
	while (n >= 3 * len) {
		uint64_t c0 = c, c1 = 0, c2 = 0;
		const unsigned char *end = p + len;
		do {
			c0 = _mm_crc32_u64(c0, load64(p));
			c1 = _mm_crc32_u64(c1, load64(p + len));
			c2 = _mm_crc32_u64(c2, load64(p + 2 * len));
			p += 8;
		} while (p < end);
		c = shift(t, (uint32_t)c0) ^ (uint32_t)c1;
		c = shift(t, (uint32_t)c) ^ (uint32_t)c2;
		p += 2 * len;
		n -= 3 * len;
	}
	*pp = p;
	*np = n;
	return c;
}

HW_TARGET static uint32_t crc_hw(uint32_t crc, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	uint64_t c = (uint32_t)~crc;
	while (n && ((uintptr_t)p & 7)) {
		c = _mm_crc32_u8((uint32_t)c, *p++);
		n--;
	}
	if (n >= 3 * SHORT_BLOCK) {
		pthread_once(&shift_once, init_shift);
		c = hw_three(c, &p, &n, LONG_BLOCK, shift_long);
		c = hw_three(c, &p, &n, SHORT_BLOCK, shift_short);
	}
	while (n >= 8) {
		c = _mm_crc32_u64(c, load64(p));
		p += 8;
		n -= 8;
	}
	while (n--)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return ~(uint32_t)c;
}

int ck_crc32c_hw_available(void)
{
	static int have = -1;
	if (have < 0) {
		__builtin_cpu_init();
		have = __builtin_cpu_supports("sse4.2") ? 1 : 0;
	}
	return have;
}

int ck_crc32c_hw(uint32_t crc, const void *buf, size_t n, uint32_t *out)
{
	if (!ck_crc32c_hw_available())
		return -1;
	*out = crc_hw(crc, buf, n);
	return 0;
}

uint32_t ck_crc32c(uint32_t crc, const void *buf, size_t n)
{
	return ck_crc32c_hw_available() ? crc_hw(crc, buf, n) : ck_crc32c_portable(crc, buf, n);
}

#else /* no hardware path on this target */

int ck_crc32c_hw_available(void) { return 0; }

int ck_crc32c_hw(uint32_t crc, const void *buf, size_t n, uint32_t *out)
{
	(void)crc, (void)buf, (void)n, (void)out;
	return -1;
}

uint32_t ck_crc32c(uint32_t crc, const void *buf, size_t n)
{
	return ck_crc32c_portable(crc, buf, n);
}

#endif
