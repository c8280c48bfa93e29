/* crc32c.h — CRC-32C (Castagnoli), the checksum of LevelDB tables and TF
 * tensor bundles, and the "masked" form those formats store.
 *
 * On x86-64 CPUs with SSE4.2 the crc32 instruction is used (three
 * interleaved streams on large buffers); elsewhere a slicing-by-8 table. */
#ifndef CK_CRC32C_H
#define CK_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of buf continuing from crc (0 for a fresh checksum); the usual
 * pre/post inversion is applied, so ck_crc32c(0, "123456789", 9) ==
 * 0xe3069283 and ck_crc32c(ck_crc32c(0, a, n), b, m) == crc of a||b. */
uint32_t ck_crc32c(uint32_t crc, const void *buf, size_t n);

/* TF/LevelDB store checksums masked, because a CRC of data that contains
 * CRCs is weak. */
static inline uint32_t ck_crc32c_mask(uint32_t c)
{
	return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}
static inline uint32_t ck_crc32c_unmask(uint32_t m)
{
	uint32_t r = m - 0xa282ead8u;
	return (r >> 17) | (r << 15);
}

/* The two implementations, for tests: the table one always works; the
 * hardware one returns -1 when the CPU lacks SSE4.2 (or is not x86-64). */
uint32_t ck_crc32c_portable(uint32_t crc, const void *buf, size_t n);
int ck_crc32c_hw(uint32_t crc, const void *buf, size_t n, uint32_t *out);
/* Whether ck_crc32c uses the hardware path. */
int ck_crc32c_hw_available(void);

#endif
