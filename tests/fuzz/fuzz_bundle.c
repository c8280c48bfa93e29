/* fuzz_bundle — TF tensor-bundle entries (bundle.c): the header, every
 * BundleEntryProto (dtype, shape, shard, offset, size, slices) and the
 * reads that follow (shard checks, slice reassembly, string tensors).
 *
 * Input: KEY/VALUE records (u16 LE key length, u16 LE value length, key,
 * value), then up to four data-shard parts after "%%%%\n" separators. The
 * harness writes the records as a valid table with correct block checksums
 * (sorted, duplicates dropped), so every input reaches the entry parser;
 * shard part k is PREFIX.data-0000k-of-0000N for every N from 1 to 4. */
#include "bundle.h"
#include "fuzz.h"
#include "util.h"

typedef struct {
	const uint8_t *k, *v;
	size_t kl, vl;
} rec;

static int rec_cmp(const void *a, const void *b)
{
	const rec *x = a, *y = b;
	size_t n = x->kl < y->kl ? x->kl : y->kl;
	int c = n ? memcmp(x->k, y->k, n) : 0;
	return c ? c : (x->kl > y->kl) - (x->kl < y->kl);
}

static char prefix[128];

static void setup(void)
{
	if (prefix[0])
		return;
	fuzz_path(prefix, sizeof prefix, "b");
	char path[160], target[32];
	for (int n = 1; n <= 4; n++)
		for (int k = 0; k < n; k++) {
			snprintf(path, sizeof path, "%s.data-%05d-of-%05d", prefix, k, n);
			snprintf(target, sizeof target, "shard%d", k);
			if (symlink(target, path) < 0)
				abort();
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	const uint8_t *p;
	size_t n;
	char path[160], name[16];
	for (int k = 0; k < 4; k++) {
		fuzz_part(data, size, k + 1, &p, &n);
		snprintf(name, sizeof name, "shard%d", k);
		fuzz_file(path, sizeof path, name, p, n);
	}
	fuzz_part(data, size, 0, &p, &n);
	rec *r = malloc((n / 4 + 1) * sizeof *r);
	size_t nr = 0, pos = 0;
	while (n - pos >= 4) {
		size_t kl = p[pos] | p[pos + 1] << 8, vl = p[pos + 2] | p[pos + 3] << 8;
		pos += 4;
		if (kl > n - pos || vl > n - pos - kl)
			break;
		r[nr++] = (rec){p + pos, p + pos + kl, kl, vl};
		pos += kl + vl;
	}
	qsort(r, nr, sizeof *r, rec_cmp);
	snprintf(path, sizeof path, "%s.index", prefix);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_table_opts o = {.block_size = 256, .restart_interval = 3, .snappy = size & 1};
	ck_table_writer *w = ck_table_writer_new(fd, path, &o);
	for (size_t i = 0; i < nr; i++)
		if ((i == 0 || rec_cmp(&r[i - 1], &r[i]) != 0) &&
		    ck_table_writer_add(w, r[i].k, r[i].kl, r[i].v, r[i].vl) < 0)
			abort();
	if (ck_table_writer_finish(w) < 0)
		abort();
	ck_table_writer_free(w);
	close(fd);
	free(r);

	ck_bundle *b = ck_bundle_open(prefix);
	if (!b)
		return 0;
	char buf[32];
	size_t count = ck_bundle_count(b);
	for (size_t i = 0; i < count; i++) {
		const ck_bundle_entry *e = ck_bundle_at(b, i);
		ck_tf_dtype_name(e->tf_dtype, buf);
		ck_bundle_data_path(b, e->shard, path, sizeof path);
	}
	ck_bundle_index_stats(b);
	if (ck_bundle_check_data(b) == 0) {
		for (size_t i = 0; i < count; i++) {
			const ck_bundle_entry *e = ck_bundle_at(b, i);
			if (!e->supported || e->nbytes > FUZZ_MAX_READ)
				continue;
			void *dst = malloc(e->nbytes ? e->nbytes : 1);
			ck_bundle_read(b, i, dst, e->nbytes);
			free(dst);
		}
	}
	ck_bundle_close(b);
	return 0;
}
