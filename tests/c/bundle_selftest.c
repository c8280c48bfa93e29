/* bundle_selftest — the tensor bundle reader against hostile indexes
 * (crafted entry by entry with the table writer, so that every block CRC
 * is valid and the bundle layer itself must refuse them), corrupt data
 * files (every byte flipped), and a fuzz of entry values.
 *
 *   bundle_selftest SCRATCH_DIR */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle.h"
#include "table.h"
#include "tensor_bundle.pb-c.h"
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
static char prefix[4096];

/* ---- crafting indexes ---- */

typedef struct {
	const char *key;
	size_t klen;
	unsigned char *val;
	size_t vlen;
} item;

static item items[16];
static int nitems;

static void add_raw(const char *key, size_t klen, const void *val, size_t vlen)
{
	items[nitems].key = key;
	items[nitems].klen = klen;
	items[nitems].val = malloc(vlen ? vlen : 1);
	memcpy(items[nitems].val, val, vlen);
	items[nitems].vlen = vlen;
	nitems++;
}

static void add_header(int num_shards, int big, int min_consumer)
{
	Tensorflow__BundleHeaderProto h = TENSORFLOW__BUNDLE_HEADER_PROTO__INIT;
	Tensorflow__VersionDef v = TENSORFLOW__VERSION_DEF__INIT;
	v.producer = 1;
	v.min_consumer = min_consumer;
	h.num_shards = num_shards;
	h.endianness = big ? TENSORFLOW__BUNDLE_HEADER_PROTO__ENDIANNESS__BIG : 0;
	h.version = &v;
	unsigned char buf[64];
	add_raw("", 0, buf, tensorflow__bundle_header_proto__pack(&h, buf));
}

/* An entry; dims/ndim describe the shape; nslices extents from sl. */
typedef struct {
	int dtype, ndim, shard, unknown_rank;
	int64_t dims[20], offset, size;
	uint32_t crc;
	int nslices;
	int64_t start[4][4], len[4][4]; /* len -1 = whole */
} spec;

static void add_entry(const char *key, size_t klen, const spec *s)
{
	Tensorflow__BundleEntryProto e = TENSORFLOW__BUNDLE_ENTRY_PROTO__INIT;
	Tensorflow__TensorShapeProto sh = TENSORFLOW__TENSOR_SHAPE_PROTO__INIT;
	Tensorflow__TensorShapeProto__Dim d[20], *dp[20];
	for (int i = 0; i < s->ndim; i++) {
		tensorflow__tensor_shape_proto__dim__init(&d[i]);
		d[i].size = s->dims[i];
		dp[i] = &d[i];
	}
	sh.n_dim = (size_t)s->ndim;
	sh.dim = dp;
	sh.unknown_rank = s->unknown_rank;
	e.dtype = s->dtype;
	e.shape = &sh;
	e.shard_id = s->shard;
	e.offset = s->offset;
	e.size = s->size;
	e.crc32c = s->crc;
	Tensorflow__TensorSliceProto sl[4], *slp[4];
	Tensorflow__TensorSliceProto__Extent x[4][4], *xp[4][4];
	for (int k = 0; k < s->nslices; k++) {
		tensorflow__tensor_slice_proto__init(&sl[k]);
		for (int i = 0; i < s->ndim; i++) {
			tensorflow__tensor_slice_proto__extent__init(&x[k][i]);
			x[k][i].start = s->start[k][i];
			if (s->len[k][i] >= 0) {
				x[k][i].has_length_case = TENSORFLOW__TENSOR_SLICE_PROTO__EXTENT__HAS_LENGTH_LENGTH;
				x[k][i].length = s->len[k][i];
			}
			xp[k][i] = &x[k][i];
		}
		sl[k].n_extent = (size_t)s->ndim;
		sl[k].extent = xp[k];
		slp[k] = &sl[k];
	}
	e.n_slices = (size_t)s->nslices;
	e.slices = slp;
	unsigned char buf[4096];
	add_raw(key, klen, buf, tensorflow__bundle_entry_proto__pack(&e, buf));
}

/* Slice data entry for slice k of s named name. */
static void add_slice_data(const char *name, const spec *full, int k, int64_t offset)
{
	unsigned char *key;
	size_t klen;
	ck_bundle_slice_key(name, full->ndim, full->start[k], full->len[k], &key, &klen);
	spec d = {.dtype = full->dtype, .ndim = full->ndim, .offset = offset};
	int64_t n = 4;
	for (int i = 0; i < full->ndim; i++) {
		d.dims[i] = full->len[k][i] < 0 ? full->dims[i] : full->len[k][i];
		n *= d.dims[i];
	}
	d.size = n;
	static char keys[8][256]; /* items point here until craft() */
	static int nk;
	int slot = nk++ % 8;
	memcpy(keys[slot], key, klen);
	add_entry(keys[slot], klen, &d);
	free(key);
}

/* Write the crafted index (items sorted by the caller) and a data shard of
 * data_bytes zero bytes, then try to open it. */
static ck_bundle *craft(size_t data_bytes)
{
	char path[4200];
	snprintf(path, sizeof path, "%s.index", prefix);
	int fd = create(path);
	ck_table_writer *w = ck_table_writer_new(fd, path, NULL);
	for (int i = 0; i < nitems; i++) {
		ck_table_writer_add(w, items[i].key, items[i].klen, items[i].val, items[i].vlen);
		free(items[i].val);
	}
	nitems = 0;
	ck_table_writer_finish(w);
	ck_table_writer_free(w);
	close(fd);
	snprintf(path, sizeof path, "%s.data-00000-of-00001", prefix);
	fd = create(path);
	if (ftruncate(fd, (off_t)data_bytes) < 0)
		exit(2);
	close(fd);
	return ck_bundle_open(prefix);
}

static void refuses(const char *name, size_t data, const char *msg)
{
	ck_bundle *b = craft(data);
	int ok = !b && strstr(ck_errmsg(), msg);
	char n2[256];
	snprintf(n2, sizeof n2, "refuses %s", name);
	CHECK(n2, ok);
	ck_bundle_close(b);
}

static void hostile_indexes(void)
{
	spec f = {.dtype = CK_TF_FLOAT, .ndim = 2, .dims = {2, 3}, .size = 24};
	add_header(0, 0, 0);
	refuses("zero shards", 0, "number of data shards");
	add_header(1, 1, 0);
	refuses("a big-endian checkpoint", 0, "big-endian");
	add_header(1, 0, 7);
	refuses("a newer format version", 0, "newer reader");
	add_entry("a", 1, &f);
	refuses("an index without header", 0, "no bundle header");
	add_header(1, 0, 0);
	add_raw("a", 1, "\xff\xff\xff", 3);
	refuses("a malformed entry", 0, "malformed");

	spec s = f;
	s.size = 20;
	add_header(1, 0, 0), add_entry("a", 1, &s);
	refuses("a size that does not match the shape", 0, "shape needs");
	s = f, s.shard = 3;
	add_header(1, 0, 0), add_entry("a", 1, &s);
	refuses("a shard beyond num_shards", 0, "shard 3");
	s = f, s.offset = -5;
	add_header(1, 0, 0), add_entry("a", 1, &s);
	refuses("a negative offset", 0, "negative");
	s = f, s.ndim = 17;
	add_header(1, 0, 0), add_entry("a", 1, &s);
	refuses("17 dimensions", 0, "dimensions");
	s = f, s.unknown_rank = 1;
	add_header(1, 0, 0), add_entry("a", 1, &s);
	refuses("a shape of unknown rank", 0, "unknown rank");
	s = f, s.dims[1] = -3;
	add_header(1, 0, 0), add_entry("a", 1, &s);
	refuses("a negative dimension", 0, "negative dimension");
	s = f, s.dtype = CK_TF_DOUBLE, s.dims[0] = 1ll << 40, s.dims[1] = 1ll << 40;
	add_header(1, 0, 0), add_entry("a", 1, &s);
	refuses("a shape whose size overflows", 0, "overflows");
	add_header(1, 0, 0), add_entry("a\nb", 3, &f);
	refuses("a name with a newline", 0, "control byte");

	/* Partitioned variable [4,3] in two row slices. */
	spec p = {.dtype = CK_TF_FLOAT, .ndim = 2, .dims = {4, 3}, .nslices = 2,
		  .start = {{0, 0}, {2, 0}}, .len = {{2, -1}, {2, 3}}};
	add_header(1, 0, 0), add_slice_data("v", &p, 1, 24), add_entry("v", 1, &p);
	refuses("a slice without data entry", 48, "no data entry");
	spec q = p;
	q.start[1][0] = 1;
	add_header(1, 0, 0), add_slice_data("v", &q, 0, 0), add_slice_data("v", &q, 1, 24),
		add_entry("v", 1, &q);
	refuses("overlapping slices", 48, "overlap");
	q = p, q.nslices = 1;
	add_header(1, 0, 0), add_slice_data("v", &q, 0, 0), add_entry("v", 1, &q);
	refuses("slices that do not cover the tensor", 48, "cover");
	q = p, q.len[1][0] = 3;
	add_header(1, 0, 0), add_entry("v", 1, &q);
	refuses("a slice beyond the tensor", 48, "out of range");
	q = p;
	add_header(1, 0, 0), add_slice_data("v", &q, 0, 0);
	{ /* slice 1's data entry has the wrong dtype */
		spec bad = q;
		bad.dtype = CK_TF_INT32;
		add_slice_data("v", &bad, 1, 24);
	}
	add_entry("v", 1, &q);
	refuses("a slice whose data entry has another dtype", 48, "another dtype");

	/* Slices that all point at the same bytes may not multiply them. */
	q = p;
	add_header(1, 0, 0), add_slice_data("v", &q, 0, 0), add_slice_data("v", &q, 1, 0),
		add_entry("v", 1, &q);
	ck_bundle *b = craft(24);
	CHECK("opens a variable whose slices share data", b != NULL);
	CHECK("... but refuses to read it", b && ck_bundle_check_data(b) < 0 &&
						    strstr(ck_errmsg(), "overlaps"));
	ck_bundle_close(b);

	/* A valid partitioned variable (and _REF and unknown dtypes). */
	spec r = {.dtype = 100 + CK_TF_FLOAT, .ndim = 1, .dims = {2}, .size = 8, .offset = 48,
		  .crc = 0};
	spec u = {.dtype = 150, .ndim = 1, .dims = {3}, .size = 5, .offset = 56};
	add_header(1, 0, 0), add_slice_data("v", &p, 0, 0), add_slice_data("v", &p, 1, 24);
	add_entry("r", 1, &r), add_entry("u", 1, &u), add_entry("v", 1, &p);
	b = craft(61);
	const ck_bundle_entry *e0 = b ? ck_bundle_at(b, 0) : NULL, *e1 = b ? ck_bundle_at(b, 1) : NULL;
	char tn[32];
	CHECK("a _REF dtype is its base type", e0 && e0->supported && e0->dtype == CK_F32);
	CHECK("an unknown dtype is listed by number", e1 && !e1->supported &&
							  strcmp(ck_tf_dtype_name(e1->tf_dtype, tn), "DT_UNKNOWN_50") == 0);
	unsigned char buf[64];
	CHECK("... and refused when read", b && ck_bundle_read(b, 1, buf, 5) < 0 &&
						   strstr(ck_errmsg(), "DT_UNKNOWN_50"));
	/* the zero data do not match the slices' zero CRC fields */
	CHECK("a partitioned variable is read slice by slice, each verified",
	      b && ck_bundle_count(b) == 3 && ck_bundle_at(b, 2)->nslices == 2 &&
		      ck_bundle_read(b, 2, buf, 48) < 0 && strstr(ck_errmsg(), "tensor v: checksum"));
	ck_bundle_close(b);
}

/* ---- data corruption on a writer-made checkpoint ---- */

static ck_bundle *make_ckpt(void)
{
	ck_bundle_writer_opts o = {.num_shards = 2};
	ck_bundle_writer *w = ck_bundle_writer_open(prefix, &o);
	float f[6] = {1, 2, 3, 4, 5, 6};
	int64_t s23[2] = {2, 3}, s3[1] = {3}, len[2] = {1, -1};
	int rc = ck_bundle_writer_begin(w, "f", CK_TF_FLOAT, 2, s23, 1) |
		 ck_bundle_writer_data(w, f, sizeof f) | ck_bundle_writer_end(w);
	const char *strs[3] = {"ab", "", "hello"};
	size_t lens[3] = {2, 0, 5};
	rc |= ck_bundle_writer_strings(w, "s", 1, s3, 0, strs, lens);
	for (int k = 0; k < 2; k++) {
		int64_t st[2] = {k, 0};
		rc |= ck_bundle_writer_begin_slice(w, "p", CK_TF_FLOAT, 2, s23, st, len, k) |
		      ck_bundle_writer_data(w, f + 3 * k, 12) | ck_bundle_writer_end(w);
	}
	rc |= ck_bundle_writer_finish(w);
	ck_bundle_writer_free(w);
	return rc ? NULL : ck_bundle_open(prefix);
}

static void data_corruption(void)
{
	ck_bundle *b = make_ckpt();
	CHECK("writer-made checkpoint opens", b && ck_bundle_count(b) == 3);
	if (!b)
		return;
	unsigned char buf[64];
	int all = 1;
	for (size_t i = 0; i < 3; i++)
		all &= ck_bundle_read(b, i, buf, ck_bundle_at(b, i)->nbytes) == 0;
	CHECK("every tensor reads back verified", all);
	ck_bundle_read(b, 1, buf, ck_bundle_at(b, 1)->nbytes);
	CHECK("partitioned tensor reassembled", ((float *)buf)[0] == 1 && ((float *)buf)[5] == 6);
	ck_bundle_close(b);

	/* Flip every data byte: exactly the tensor holding it fails, by name. */
	int exact = 1;
	for (int shard = 0; shard < 2; shard++) {
		char path[4200];
		snprintf(path, sizeof path, "%s.data-%05d-of-00002", prefix, shard);
		char *d;
		size_t len;
		ck_read_file(path, 1 << 20, &d, &len);
		for (size_t at = 0; at < len; at++) {
			d[at] ^= 4;
			int fd = create(path);
			ck_write_full(fd, d, len, path);
			close(fd);
			d[at] ^= 4;
			b = ck_bundle_open(prefix);
			int bad = 0;
			for (size_t i = 0; i < 3; i++)
				if (ck_bundle_read(b, i, buf, ck_bundle_at(b, i)->nbytes) < 0) {
					char want[64];
					snprintf(want, sizeof want, "tensor %s:", ck_bundle_at(b, i)->name);
					bad++;
					exact &= strstr(ck_errmsg(), want) && strstr(ck_errmsg(), path);
				}
			exact &= bad == 1;
			ck_bundle_close(b);
		}
		int fd = create(path);
		ck_write_full(fd, d, len, path);
		close(fd);
		free(d);
	}
	CHECK("each flipped data byte fails exactly its tensor, named with its file", exact);

	char path[4200];
	snprintf(path, sizeof path, "%s.data-00001-of-00002", prefix);
	if (truncate(path, 20) < 0)
		exit(2);
	b = ck_bundle_open(prefix);
	CHECK("a truncated shard is named before reading", b && ck_bundle_check_data(b) < 0 &&
							       strstr(ck_errmsg(), path) &&
							       strstr(ck_errmsg(), "truncated"));
	ck_bundle_close(b);
	unlink(path);
	b = ck_bundle_open(prefix);
	CHECK("a missing shard is named", b && ck_bundle_check_data(b) < 0 && strstr(ck_errmsg(), path));
	ck_bundle_close(b);
}

/* ---- fuzz: random changes to entry values, rewritten with valid CRCs ---- */

static void fuzz_values(void)
{
	ck_bundle *b = make_ckpt();
	ck_bundle_close(b);
	char path[4200];
	snprintf(path, sizeof path, "%s.index", prefix);
	ck_table *t = ck_table_open(path);
	struct {
		unsigned char key[256], val[512];
		size_t klen, vlen;
	} kv[16];
	int n = 0;
	ck_table_kv e;
	while (n < 16 && ck_table_next(t, &e) > 0) {
		memcpy(kv[n].key, e.key, e.klen);
		memcpy(kv[n].val, e.val, e.vlen);
		kv[n].klen = e.klen;
		kv[n].vlen = e.vlen;
		n++;
	}
	ck_table_close(t);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	int opened = 0, runs = 4000;
	for (int r = 0; r < runs; r++) {
		int fd = create(path);
		ck_table_writer *w = ck_table_writer_new(fd, path, NULL);
		for (int i = 0; i < n; i++) {
			unsigned char v[512];
			size_t vl = kv[i].vlen;
			memcpy(v, kv[i].val, vl);
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			if (vl && x % 3 == 0) {
				int muts = 1 + (int)(x >> 60);
				for (int m = 0; m < muts; m++) {
					x ^= x << 13, x ^= x >> 7, x ^= x << 17;
					v[x % vl] = (x & 0x100) ? (unsigned char)(x >> 24) : v[x % vl] ^ (1u << (x >> 33) % 8);
				}
			}
			ck_table_writer_add(w, kv[i].key, kv[i].klen, v, vl);
		}
		ck_table_writer_finish(w);
		ck_table_writer_free(w);
		close(fd);
		b = ck_bundle_open(prefix);
		if (b) {
			opened++;
			for (size_t i = 0; i < ck_bundle_count(b); i++) {
				uint64_t nb = ck_bundle_at(b, i)->nbytes;
				if (ck_bundle_check_data(b) < 0 || nb > (1u << 20))
					break;
				void *p = malloc(nb ? nb : 1);
				ck_bundle_read(b, i, p, nb);
				free(p);
			}
		}
		ck_bundle_close(b);
	}
	printf("# %d fuzzed indexes, %d opened\n", runs, opened);
	CHECK("fuzzed entry values never crash the reader", opened > 0 && opened < runs);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: bundle_selftest SCRATCH_DIR\n");
		return 2;
	}
	dir = argv[1];
	snprintf(prefix, sizeof prefix, "%s/crafted", dir);
	hostile_indexes();
	snprintf(prefix, sizeof prefix, "%s/made", dir);
	data_corruption();
	fuzz_values();
	return failures ? 1 : 0;
}
