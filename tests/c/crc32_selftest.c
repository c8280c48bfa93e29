/* crc32_selftest — known CRC-32 vectors, agreement of the dispatched and the
 * portable implementation on every length and alignment, chaining. With
 * --bench, prints the throughput of both (not a test). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crc32.h"
#include "check.h"


static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned char next_byte(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned char)rng;
}

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Throughput on a cache-resident buffer (compute) and a large one (memory). */
static void bench(void)
{
	size_t sizes[2] = {256u << 10, 256u << 20};
	for (int k = 0; k < 2; k++) {
		size_t n = sizes[k], reps = (1u << 30) / n;
		unsigned char *buf = malloc(n);
		if (!buf)
			exit(1);
		for (size_t i = 0; i < n; i++)
			buf[i] = (unsigned char)(i * 131 + (i >> 9));
		uint32_t a = 0, b = 0;
		double t0 = seconds();
		for (size_t r = 0; r < reps; r++)
			a = ck_crc32(a, buf, n);
		double t1 = seconds();
		for (size_t r = 0; r < reps; r++)
			b = ck_crc32_slice16(b, buf, n);
		double t2 = seconds();
		printf("%zu KiB buffer: %s %.2f GB/s, slice16 %.2f GB/s (%08x %08x)\n", n >> 10,
		       ck_crc32_impl(), (double)n * reps / (t1 - t0) / 1e9,
		       (double)n * reps / (t2 - t1) / 1e9, a, b);
		free(buf);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
		bench();
		return 0;
	}
	printf("# implementation: %s\n", ck_crc32_impl());
	CHECK("empty message", ck_crc32(0, "", 0) == 0);
	CHECK("check value 123456789", ck_crc32(0, "123456789", 9) == 0xCBF43926u);
	const char *fox = "The quick brown fox jumps over the lazy dog";
	CHECK("quick brown fox", ck_crc32(0, fox, strlen(fox)) == 0x414FA339u);

	size_t big = 1000000;
	unsigned char *a = malloc(big);
	if (!a)
		return 1;
	memset(a, 'a', big);
	CHECK("one million 'a'", ck_crc32(0, a, big) == 0xDC25BFBCu);
	CHECK("one million 'a' (slice16)", ck_crc32_slice16(0, a, big) == 0xDC25BFBCu);
	for (size_t i = 0; i < 1048576; i++)
		a[i % big] = (unsigned char)i;
	unsigned char *r = malloc(1048576);
	if (!r)
		return 1;
	for (size_t i = 0; i < 1048576; i++)
		r[i] = (unsigned char)i;
	CHECK("bytes 0..255 x 4096", ck_crc32(0, r, 1048576) == 0x04D0E435u);

	for (size_t i = 0; i < 4096 + 64; i++)
		r[i] = next_byte();
	int agree = 1;
	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len <= 4096; len++)
			if (ck_crc32(0, r + off, len) != ck_crc32_slice16(0, r + off, len))
				agree = 0;
	CHECK("fast and portable agree on every length 0..4096 and alignment", agree);

	int chain = 1;
	uint32_t whole = ck_crc32(0, r, 4096);
	for (size_t cut = 0; cut <= 4096; cut += 7) {
		uint32_t c = ck_crc32(ck_crc32(0, r, cut), r + cut, 4096 - cut);
		if (c != whole)
			chain = 0;
	}
	CHECK("chained updates equal one pass", chain);
	free(a);
	free(r);
	return failures != 0;
}
