/* seed_bundle — turn a real TF checkpoint into a fuzz_bundle input: the
 * index's entries as KEY/VALUE records, then each data shard (cut to
 * MAX_SHARD bytes: seeds stay small, reads past the cut are refused like
 * any truncated shard).
 *
 *   seed_bundle PREFIX OUT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "table.h"
#include "util.h"

#define MAX_SHARD 4096

static int put16(FILE *f, size_t v)
{
	return fputc((int)(v & 0xff), f) == EOF || fputc((int)(v >> 8), f) == EOF ? -1 : 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: seed_bundle PREFIX OUT\n");
		return 2;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s.index", argv[1]);
	ck_table *t = ck_table_open(path);
	FILE *out = fopen(argv[2], "wb");
	if (!t || !out) {
		fprintf(stderr, "seed_bundle: %s\n", t ? argv[2] : ck_errmsg());
		return 1;
	}
	ck_table_kv kv;
	int rc;
	while ((rc = ck_table_next(t, &kv)) == 1) {
		if (kv.klen > 0xffff || kv.vlen > 0xffff)
			continue;
		if (put16(out, kv.klen) < 0 || put16(out, kv.vlen) < 0 ||
		    fwrite(kv.key, 1, kv.klen, out) != kv.klen || fwrite(kv.val, 1, kv.vlen, out) != kv.vlen)
			return 1;
	}
	ck_table_close(t);
	if (rc < 0) {
		fprintf(stderr, "seed_bundle: %s\n", ck_errmsg());
		return 1;
	}
	ck_bundle *b = ck_bundle_open(argv[1]);
	int shards = b ? ck_bundle_num_shards(b) : 0;
	for (int s = 0; s < shards && s < 4; s++) {
		fputs("%%%%\n", out);
		if (ck_bundle_data_path(b, s, path, sizeof path) < 0)
			break;
		FILE *in = fopen(path, "rb");
		if (!in)
			break;
		char buf[MAX_SHARD];
		size_t n = fread(buf, 1, sizeof buf, in);
		fclose(in);
		fwrite(buf, 1, n, out);
	}
	ck_bundle_close(b);
	return fclose(out) == 0 ? 0 : 1;
}
