/* crc_selftest — CRC-32C: published check values, masking, and agreement of
 * the hardware and table implementations on every length and alignment
 * that matters (the 3-way interleaved path starts at 768 bytes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "check.h"


int main(void)
{
	unsigned char buf[32];
	CHECK("check value of \"123456789\"", ck_crc32c(0, "123456789", 9) == 0xe3069283u);
	memset(buf, 0, 32);
	CHECK("32 zero bytes (RFC 3720)", ck_crc32c(0, buf, 32) == 0x8a9136aau);
	memset(buf, 0xff, 32);
	CHECK("32 0xff bytes (RFC 3720)", ck_crc32c(0, buf, 32) == 0x62a8ab43u);
	for (int i = 0; i < 32; i++)
		buf[i] = (unsigned char)i;
	CHECK("32 ascending bytes (RFC 3720)", ck_crc32c(0, buf, 32) == 0x46dd794eu);
	for (int i = 0; i < 32; i++)
		buf[i] = (unsigned char)(31 - i);
	CHECK("32 descending bytes (RFC 3720)", ck_crc32c(0, buf, 32) == 0x113fdb5cu);
	CHECK("portable check value", ck_crc32c_portable(0, "123456789", 9) == 0xe3069283u);
	CHECK("empty input", ck_crc32c(0, "", 0) == 0);
	CHECK("mask of 0 is TF's delta", ck_crc32c_mask(0) == 0xa282ead8u);
	int masks_ok = 1;
	for (uint32_t c = 1; c && c < 0xfff00000u; c += 0x01010101u)
		masks_ok &= ck_crc32c_unmask(ck_crc32c_mask(c)) == c && ck_crc32c_mask(c) != c;
	CHECK("unmask inverts mask", masks_ok);

	enum { BIG = 3 * 8192 * 3 + 3 * 256 * 2 + 77 };
	unsigned char *data = malloc(BIG + 8);
	uint64_t x = 0x243f6a8885a308d3ull;
	for (size_t i = 0; i < BIG + 8; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		data[i] = (unsigned char)x;
	}
	uint32_t whole = ck_crc32c_portable(0, data, BIG);
	int split_ok = 1;
	for (size_t cut = 0; cut < BIG; cut += 997)
		split_ok &= ck_crc32c(ck_crc32c(0, data, cut), data + cut, BIG - cut) == whole;
	CHECK("incremental = whole", split_ok);

	uint32_t hw;
	if (!ck_crc32c_hw_available()) {
		CHECK("no SSE4.2 here: ck_crc32c uses the table", ck_crc32c(0, data, BIG) == whole &&
								       ck_crc32c_hw(0, data, 1, &hw) < 0);
	} else {
		int agree = 1;
		size_t lens[] = {0, 1, 7, 8, 9, 255, 767, 768, 769, 3 * 8192 - 1, 3 * 8192,
				 3 * 8192 + 1, BIG};
		for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++)
			for (size_t off = 0; off < 8; off++) {
				uint32_t p = ck_crc32c_portable(0x12345678u, data + off, lens[l]);
				agree &= ck_crc32c_hw(0x12345678u, data + off, lens[l], &hw) == 0 && hw == p;
			}
		for (size_t l = 0; l < 2000; l++)
			agree &= ck_crc32c_hw(0, data + (l & 7), l, &hw) == 0 &&
				 hw == ck_crc32c_portable(0, data + (l & 7), l);
		CHECK("hardware and table paths agree (all lengths < 2000, large, unaligned)", agree);
		CHECK("ck_crc32c uses the hardware path", ck_crc32c(0, data, BIG) == whole);
	}
	free(data);
	return failures ? 1 : 0;
}
