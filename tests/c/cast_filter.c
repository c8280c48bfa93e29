/* cast_filter — raw element conversion through src/cast.c, for comparing
 * with torch in tests/py/cast_check.py.
 *   cast_filter FROM TO        stdin (raw FROM elements) -> stdout (raw TO)
 *   cast_filter --all-f32 TO   every F32 bit pattern 0..2^32-1, cast, to stdout
 * Chunks have odd lengths so vector tails are exercised everywhere. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cast.h"
#include "util.h"

static int parse(const char *s, ck_dtype *t)
{
	char up[8];
	size_t n = strlen(s);
	if (n >= sizeof up)
		return -1;
	for (size_t i = 0; i <= n; i++)
		up[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
	return ck_dtype_parse(up, t);
}

int main(int argc, char **argv)
{
	ck_dtype from, to;
	int all = argc == 3 && strcmp(argv[1], "--all-f32") == 0;
	if (argc != 3 || (!all && parse(argv[1], &from) < 0) || parse(argv[2], &to) < 0) {
		fprintf(stderr, "usage: cast_filter FROM TO | --all-f32 TO\n");
		return 2;
	}
	if (all)
		from = CK_F32;
	if (!ck_cast_supported(from, to)) {
		fprintf(stderr, "cast_filter: %s\n", "unsupported pair");
		return 2;
	}
	size_t is = ck_dtype_size(from), os = ck_dtype_size(to);
	size_t chunk = (1u << 20) + 13; /* elements */
	unsigned char *in = malloc(chunk * is), *out = malloc(chunk * os);
	if (!in || !out)
		return 1;
	if (all) {
		uint64_t v = 0;
		while (v < (1ull << 32)) {
			size_t n = (1ull << 32) - v < chunk ? (size_t)((1ull << 32) - v) : chunk;
			for (size_t i = 0; i < n; i++) {
				uint32_t u = (uint32_t)(v + i);
				memcpy(in + 4 * i, &u, 4);
			}
			ck_cast(from, to, in, out, n);
			if (ck_write_full(1, out, n * os, "stdout") < 0)
				return 1;
			v += n;
		}
	} else {
		for (;;) {
			size_t got = 0;
			ssize_t r;
			while (got < chunk * is && (r = read(0, in + got, chunk * is - got)) > 0)
				got += (size_t)r;
			if (got % is) {
				fprintf(stderr, "cast_filter: input is not a whole number of elements\n");
				return 1;
			}
			if (!got)
				break;
			ck_cast(from, to, in, out, got / is);
			if (ck_write_full(1, out, got / is * os, "stdout") < 0)
				return 1;
		}
	}
	free(in);
	free(out);
	return 0;
}
