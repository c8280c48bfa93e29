/* fuzz_table — the LevelDB table reader behind every TF .index (table.c),
 * snappy blocks included.
 *
 * Input: one mode byte, then a table file. Mode bit 0 set: before reading,
 * the harness rewrites the CRC of every block the footer and the index
 * block point to (in the order the reader meets them), so mutations reach
 * the block, restart and entry parsing instead of dying at the checksum.
 * Mode bit 0 clear: the bytes are read as they are. */
#include <snappy-c.h>

#include "crc32c.h"
#include "fuzz.h"
#include "table.h"

#define FOOTER CK_TABLE_FOOTER

static size_t get_varint(const uint8_t *p, size_t avail, uint64_t *v)
{
	return ck_varint64_get(p, avail, v);
}

/* Give block (off, size) a correct trailer CRC, keeping its type byte. */
static int fix_block(uint8_t *f, size_t n, uint64_t off, uint64_t size)
{
	if (n < FOOTER || off > n - FOOTER || size > n - FOOTER - off || n - FOOTER - off - size < 5)
		return -1;
	uint32_t c = ck_crc32c_mask(ck_crc32c(0, f + off, (size_t)size + 1));
	for (int i = 0; i < 4; i++)
		f[off + size + 1 + i] = (uint8_t)(c >> (8 * i));
	return 0;
}

/* Fix the index block, then every data block its entries name. */
static void fix_crcs(uint8_t *f, size_t n)
{
	if (n < FOOTER)
		return;
	const uint8_t *ft = f + n - FOOTER;
	uint64_t h[4];
	size_t used = 0;
	for (int i = 0; i < 4; i++) {
		size_t k = get_varint(ft + used, 40 - used, &h[i]);
		if (!k)
			return;
		used += k;
	}
	fix_block(f, n, h[0], h[1]);
	if (fix_block(f, n, h[2], h[3]) < 0)
		return;
	const uint8_t *blk = f + h[2];
	size_t len = (size_t)h[3];
	char *owned = NULL;
	if (blk[len] == 1) { /* snappy */
		size_t ulen;
		if (snappy_uncompressed_length((const char *)blk, len, &ulen) != SNAPPY_OK ||
		    ulen > (1u << 24) || !(owned = malloc(ulen ? ulen : 1)) ||
		    snappy_uncompress((const char *)blk, len, owned, &ulen) != SNAPPY_OK) {
			free(owned);
			return;
		}
		blk = (const uint8_t *)owned;
		len = ulen;
	}
	if (len >= 4) {
		uint32_t nr = blk[len - 4] | blk[len - 3] << 8 | blk[len - 2] << 16 |
			      (uint32_t)blk[len - 1] << 24;
		size_t end = nr <= (len - 4) / 4 ? len - 4 - 4 * (size_t)nr : 0;
		size_t pos = 0;
		while (pos < end) {
			uint64_t e[3];
			size_t u = 0, k = 0;
			for (int i = 0; i < 3; i++) {
				if (!(k = get_varint(blk + pos + u, end - pos - u, &e[i])))
					break;
				u += k;
			}
			if (!k || e[1] > end - pos - u || e[2] > end - pos - u - e[1])
				break;
			const uint8_t *v = blk + pos + u + e[1];
			uint64_t off, size;
			size_t a = get_varint(v, (size_t)e[2], &off);
			if (a && get_varint(v + a, (size_t)e[2] - a, &size))
				fix_block(f, n, off, size);
			pos += u + e[1] + e[2];
		}
	}
	free(owned);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t *f = malloc(size);
	if (!f)
		abort();
	memcpy(f, data + 1, size - 1);
	if (data[0] & 1)
		fix_crcs(f, size - 1);
	char path[128];
	fuzz_file(path, sizeof path, "t.index", f, size - 1);
	free(f);
	ck_table *t = ck_table_open(path);
	if (!t)
		return 0;
	ck_table_kv kv;
	while (ck_table_next(t, &kv) == 1) {
		/* Touch every byte handed out: ASan checks they are inside the block. */
		for (size_t i = 0; i < kv.klen; i++)
			fuzz_sink ^= kv.key[i];
		for (size_t i = 0; i < kv.vlen; i++)
			fuzz_sink ^= kv.val[i];
	}
	ck_table_get_stats(t);
	ck_table_close(t);
	return 0;
}
