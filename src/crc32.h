/* crc32.h — the CRC-32 of zip, gzip and PNG (reflected polynomial
 * 0xEDB88320, initial value and final result inverted).
 *
 * ck_crc32 picks the fastest implementation the CPU supports (AVX-512
 * VPCLMULQDQ or PCLMULQDQ folding on x86-64, else slice-by-16 tables) the
 * first time it runs. */
#ifndef CK_CRC32_H
#define CK_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Extend crc (0 for an empty message) with len bytes:
 * crc = ck_crc32(ck_crc32(0, a, na), b, nb) is the CRC of a followed by b. */
uint32_t ck_crc32(uint32_t crc, const void *buf, size_t len);
/* The portable table-driven implementation (same results; for tests). */
uint32_t ck_crc32_slice16(uint32_t crc, const void *buf, size_t len);
/* Name of the implementation ck_crc32 uses: "vpclmul", "pclmul" or
 * "slice16". */
const char *ck_crc32_impl(void);

#endif
