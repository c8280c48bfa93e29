/* table_selftest — the LevelDB-format table: writer/reader round trips
 * (block sizes, snappy, multi-block indexes), hostile files (every single
 * byte flipped, every truncation, block contents mutated with a valid CRC,
 * lying snappy lengths) and TF's ordered-code slice keys, checked against
 * TF's documented examples and a real V1 checkpoint's keys.
 *
 *   table_selftest SCRATCH_DIR V1_CHECKPOINT_FILE */
#include <fcntl.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle.h"
#include "crc32c.h"
#include "table.h"
#include "util.h"
#include "check.h"

/* A new file at path (not a truncated old one: ext4 flushes those on
 * close, which makes thousands of rewrites slow). */
static int create(const char *path)
{
	unlink(path);
	return open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
}


static const char *dir;

typedef struct {
	char key[64];
	size_t klen;
	unsigned char val[300];
	size_t vlen;
} kv;

#define NKEYS 3000
static kv keys[NKEYS];

static void make_keys(void)
{
	keys[0].klen = 0; /* "" first, as bundles have it */
	keys[0].vlen = 5;
	memcpy(keys[0].val, "head", 5);
	for (int i = 1; i < NKEYS; i++) {
		kv *k = &keys[i];
		k->klen = (size_t)snprintf(k->key, sizeof k->key, "layer_%03d/%s/w%d", i / 10,
					   i % 3 ? "attention" : "ffn", i % 10);
		k->vlen = (size_t)(i * 7919 % 290);
		for (size_t j = 0; j < k->vlen; j++)
			k->val[j] = (unsigned char)(i + j * (i % 5)); /* compressible */
	}
}

static int cmp_kv(const void *a, const void *b)
{
	const kv *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->key, y->key, n);
	return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

static int write_table(const char *path, size_t block, int snappy, size_t n)
{
	int fd = create(path);
	ck_table_opts o = {.block_size = block, .snappy = snappy};
	ck_table_writer *w = ck_table_writer_new(fd, path, &o);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = ck_table_writer_add(w, keys[i].key, keys[i].klen, keys[i].val, keys[i].vlen);
	if (rc == 0)
		rc = ck_table_writer_finish(w);
	ck_table_writer_free(w);
	close(fd);
	return rc;
}

/* 1 = the table reads back exactly the first n keys; 0 = error; -1 = it
 * reads back something else (silent corruption). */
static int read_back(const char *path, size_t n, ck_table_stats *st)
{
	ck_table *t = ck_table_open(path);
	if (!t)
		return 0;
	ck_table_kv e;
	size_t i = 0;
	int r, same = 1;
	while ((r = ck_table_next(t, &e)) > 0) {
		if (i >= n || e.klen != keys[i].klen || memcmp(e.key, keys[i].key, e.klen) ||
		    e.vlen != keys[i].vlen || memcmp(e.val, keys[i].val, e.vlen))
			same = 0;
		i++;
	}
	if (st)
		*st = ck_table_get_stats(t);
	ck_table_close(t);
	if (r < 0)
		return 0;
	return same && i == n ? 1 : -1;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	char *d;
	return ck_read_file(path, 1u << 30, &d, len) == 0 ? (unsigned char *)d : NULL;
}

static void spit(const char *path, const unsigned char *d, size_t len)
{
	int fd = create(path);
	if (ck_write_full(fd, d, len, path) < 0)
		exit(2);
	close(fd);
}

static void roundtrips(void)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/t.table", dir);
	size_t blocks[] = {64, 4096, 0};
	for (size_t b = 0; b < 3; b++)
		for (int sn = 0; sn < 2; sn++) {
			char name[128];
			ck_table_stats st = {0};
			int w = write_table(path, blocks[b], sn, NKEYS);
			int r = w == 0 ? read_back(path, NKEYS, &st) : 0;
			snprintf(name, sizeof name, "round trip, block size %zu, snappy %d (%zu data blocks)",
				 blocks[b], sn, st.data_blocks);
			CHECK(name, r == 1 && (blocks[b] != 64 || st.data_blocks > 100) &&
					    (!sn || st.blocks_by_type[1] > 0) && (sn || st.blocks_by_type[1] == 0));
		}
	CHECK("one-entry table", write_table(path, 0, 0, 1) == 0 && read_back(path, 1, NULL) == 1);

	int fd = create(path);
	ck_table_writer *w = ck_table_writer_new(fd, path, NULL);
	int rc = ck_table_writer_add(w, "b", 1, "", 0) == 0 && ck_table_writer_add(w, "a", 1, "", 0) < 0;
	ck_table_writer_free(w);
	close(fd);
	CHECK("writer refuses keys out of order", rc);
}

/* Flip every byte of a small table: the result must be an error or the
 * original content (bytes the format does not use, as footer padding). */
static void flips(void)
{
	char path[4096], bad[4096];
	snprintf(path, sizeof path, "%s/f.table", dir);
	snprintf(bad, sizeof bad, "%s/f.bad", dir);
	write_table(path, 512, 0, 40);
	size_t len;
	unsigned char *orig = slurp(path, &len);
	int silent = 0, errors = 0;
	for (size_t i = 0; i < len; i++) {
		orig[i] ^= 0x10;
		spit(bad, orig, len);
		orig[i] ^= 0x10;
		int r = read_back(bad, 40, NULL);
		silent += r < 0;
		errors += r == 0;
	}
	printf("# %zu flips: %d errors\n", len, errors);
	CHECK("every flipped byte is caught (or unused)", silent == 0 && errors > (int)len - 40);
	int trunc_ok = 1;
	for (size_t n = 0; n < len; n++) {
		spit(bad, orig, n);
		trunc_ok &= read_back(bad, 40, NULL) == 0;
	}
	CHECK("every truncation is an error", trunc_ok);
	orig[len - 1] ^= 1;
	spit(bad, orig, len);
	CHECK("bad magic", !ck_table_open(bad) && strstr(ck_errmsg(), "magic"));
	orig[len - 1] ^= 1;
	orig[3] ^= 0x40; /* inside the first data block */
	spit(bad, orig, len);
	ck_table *t = ck_table_open(bad);
	ck_table_kv e;
	CHECK("bad block checksum", t && ck_table_next(t, &e) < 0 && strstr(ck_errmsg(), "checksum"));
	ck_table_close(t);
	free(orig);
}

static void fix_crc(unsigned char *block, size_t size)
{
	uint32_t m = ck_crc32c_mask(ck_crc32c(0, block, size + 1));
	for (int i = 0; i < 4; i++)
		block[size + 1 + i] = (unsigned char)(m >> (8 * i));
}

/* Mutate the first data block's contents and give it a valid CRC: the
 * parser itself must hold (no crash, no over-read: ASan watches). */
static void mutations(void)
{
	char path[4096], bad[4096];
	snprintf(path, sizeof path, "%s/m.table", dir);
	snprintf(bad, sizeof bad, "%s/m.bad", dir);
	write_table(path, 0, 0, 60);
	size_t len;
	unsigned char *orig = slurp(path, &len);
	/* The first data block starts at 0; its size is in the index block,
	 * whose one entry is [0, 1+, vlen, key, handle]. Find it from the footer. */
	uint64_t moff, msize, ioff, isize, doff, dsize;
	const unsigned char *f = orig + len - 48;
	size_t p = ck_varint64_get(f, 40, &moff);
	p += ck_varint64_get(f + p, 40 - p, &msize);
	p += ck_varint64_get(f + p, 40 - p, &ioff);
	ck_varint64_get(f + p, 40 - p, &isize);
	uint32_t shared, unshared, vlen;
	const unsigned char *ib = orig + ioff;
	size_t q = ck_varint32_get(ib, 5, &shared);
	q += ck_varint32_get(ib + q, 5, &unshared);
	q += ck_varint32_get(ib + q, 5, &vlen);
	q += unshared;
	q += ck_varint64_get(ib + q, 10, &doff);
	ck_varint64_get(ib + q, 10, &dsize);
	uint64_t x = 88172645463325252ull;
	int errors = 0, runs = 3000;
	unsigned char *m = malloc(len);
	for (int r = 0; r < runs; r++) {
		memcpy(m, orig, len);
		int nmut = 1 + r % 4;
		for (int k = 0; k < nmut; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			size_t at = (size_t)(x % dsize);
			m[doff + at] = (r & 1) ? (unsigned char)(x >> 32) : m[doff + at] ^ (unsigned char)(1u << (x >> 40) % 8);
		}
		fix_crc(m + doff, (size_t)dsize);
		spit(bad, m, len);
		errors += read_back(bad, 60, NULL) == 0;
	}
	free(m);
	free(orig);
	printf("# %d block mutations with valid CRC: %d errors\n", runs, errors);
	CHECK("mutated blocks with valid CRCs do not crash the reader", errors > 0);
}

/* A snappy block that claims an absurd uncompressed size is refused
 * before allocating. */
static void snappy_bomb(void)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/s.table", dir);
	/* block: uncompressed length 4 GiB, then a literal; trailer type 1 */
	unsigned char file[200] = {0};
	size_t n = ck_varint64_put(file, 0xfffffff0u); /* 4 GiB */
	file[n++] = 0; /* literal of 1 byte */
	file[n++] = 'x';
	size_t bsize = n;
	file[bsize] = 1;
	fix_crc(file, bsize);
	size_t end = bsize + 5;
	/* empty metaindex block at end */
	unsigned char meta[8] = {0, 0, 0, 0, 1, 0, 0, 0};
	size_t moff = end;
	memcpy(file + end, meta, 8);
	file[end + 8] = 0;
	fix_crc(file + end, 8);
	end += 13;
	/* index block: one entry "z" -> (0, bsize) */
	size_t ioff = end, i = end;
	file[i++] = 0, file[i++] = 1;
	unsigned char h[20];
	size_t hl = ck_varint64_put(h, 0);
	hl += ck_varint64_put(h + hl, bsize);
	file[i++] = (unsigned char)hl, file[i++] = 'z';
	memcpy(file + i, h, hl);
	i += hl;
	memcpy(file + i, "\0\0\0\0\1\0\0\0", 8);
	i += 8;
	size_t isize = i - ioff;
	file[i] = 0;
	fix_crc(file + ioff, isize);
	end = i + 5;
	unsigned char *foot = file + end;
	size_t fp = ck_varint64_put(foot, moff);
	fp += ck_varint64_put(foot + fp, 8);
	fp += ck_varint64_put(foot + fp, ioff);
	ck_varint64_put(foot + fp, isize);
	for (int k = 0; k < 8; k++)
		foot[40 + k] = (unsigned char)(CK_TABLE_MAGIC >> (8 * k));
	spit(path, file, end + 48);
	ck_table *t = ck_table_open(path);
	ck_table_kv e;
	CHECK("snappy block claiming 4 GiB is refused", t && ck_table_next(t, &e) < 0 &&
							   strstr(ck_errmsg(), "claims"));
	ck_table_close(t);
}

static int key_is(const char *name, int ndim, const int64_t *s, const int64_t *l, const char *want,
		  size_t wlen)
{
	unsigned char *k;
	size_t kl;
	if (ck_bundle_slice_key(name, ndim, s, l, &k, &kl) < 0)
		return 0;
	int ok = kl == wlen && memcmp(k, want, wlen) == 0;
	free(k);
	return ok;
}

static void ordered_code(const char *v1)
{
	/* TF's ordered_code.cc documents 0x424242 -> f0 42 42 42 and
	 * -0x800 -> 38 00 (signed encoding); a key is 00, name, 00 01, ndim,
	 * then start and length per dimension. */
	int64_t s1[1] = {0x424242}, l1[1] = {-0x800};
	CHECK("ordered code: TF's documented signed examples",
	      key_is("v", 1, s1, l1, "\x00v\x00\x01\x01\x01\xf0\x42\x42\x42\x38\x00", 12));
	int64_t s2[2] = {0, 64}, l2[2] = {-1, 63};
	CHECK("ordered code: 0, -1 (whole dimension), 64, 63",
	      key_is("a/b", 2, s2, l2, "\x00" "a/b\x00\x01\x01\x02\x80\x7f\xc0\x40\xbf", 13));
	CHECK("ordered code: 0xff in a name is escaped",
	      key_is("x\xff", 0, NULL, NULL, "\x00x\xff\x00\x00\x01\x00", 7));
	/* The defining property: keys sort like the numbers they encode. */
	int sorted = 1;
	int64_t vals[] = {INT64_MIN, -(1ll << 55), -70000, -8193, -8192, -65, -64, -1, 0, 1,
			  63, 64, 8191, 8192, 1ll << 40, (1ll << 55) - 1, 1ll << 55, INT64_MAX};
	unsigned char *prev = NULL;
	size_t prevlen = 0;
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		int64_t s[1] = {vals[i]}, l[1] = {0};
		unsigned char *k;
		size_t kl;
		ck_bundle_slice_key("n", 1, s, l, &k, &kl);
		if (prev) {
			size_t m = kl < prevlen ? kl : prevlen;
			int c = memcmp(prev, k, m);
			sorted &= c < 0 || (c == 0 && prevlen < kl);
		}
		free(prev);
		prev = k;
		prevlen = kl;
	}
	free(prev);
	CHECK("ordered code: keys sort as their numbers", sorted);
	/* A real TF V1 checkpoint stores scalar "Variable" under this key. */
	ck_table *t = ck_table_open(v1);
	ck_table_kv e;
	int found = 0;
	unsigned char *k = NULL;
	size_t kl = 0;
	ck_bundle_slice_key("Variable", 0, NULL, NULL, &k, &kl);
	while (t && ck_table_next(t, &e) > 0)
		found |= e.klen == kl && memcmp(e.key, k, kl) == 0;
	free(k);
	ck_table_close(t);
	CHECK("real V1 checkpoint holds the key we encode for scalar \"Variable\"", found);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: table_selftest SCRATCH_DIR V1_CHECKPOINT\n");
		return 2;
	}
	dir = argv[1];
	make_keys();
	qsort(keys + 1, NKEYS - 1, sizeof *keys, cmp_kv);
	roundtrips();
	flips();
	mutations();
	snappy_bomb();
	ordered_code(argv[2]);
	return failures ? 1 : 0;
}
