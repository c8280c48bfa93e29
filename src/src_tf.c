/* src_tf.c — the TF V2 tensor bundle back-end of source.h (ckpt_path.h
 * resolves the argument, bundle.h does the work). */
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "ckpt_path.h"
#include "source_backend.h"
#include "util.h"

typedef struct {
	ck_bundle *b;
	char *prefix;
	const char *prov[2]; /* the .index, NULL */
	char **files;        /* the .index, each data shard, NULL */
	char (*tname)[32];   /* type names of unsupported entries */
} tf_src;

static void *tf_open(const char *path)
{
	tf_src *t = ck_calloc(1, sizeof *t);
	if (!t)
		return NULL;
	if (ck_tf_resolve(path, &t->prefix) < 0 || !(t->b = ck_bundle_open(t->prefix))) {
		free(t->prefix);
		free(t);
		return NULL;
	}
	t->prov[0] = ck_bundle_index_path(t->b);
	t->tname = ck_calloc(ck_bundle_count(t->b), sizeof *t->tname);
	if (!t->tname) {
		ck_bundle_close(t->b);
		free(t->prefix);
		free(t);
		return NULL;
	}
	return t;
}

static void tf_close(void *h)
{
	tf_src *t = h;
	for (char **f = t->files; f && *f; f++)
		free(*f);
	free(t->files);
	ck_bundle_close(t->b);
	free(t->tname);
	free(t->prefix);
	free(t);
}

static const char *tf_label(void *h) { return ((tf_src *)h)->prefix; }
static size_t tf_count(void *h) { return ck_bundle_count(((tf_src *)h)->b); }

static void tf_entry(void *h, size_t i, ck_source_entry *out)
{
	tf_src *t = h;
	const ck_bundle_entry *e = ck_bundle_at(t->b, i);
	out->name = e->name;
	out->supported = e->supported;
	out->dtype = e->dtype;
	out->type_name = e->supported ? ck_dtype_name(e->dtype) : ck_tf_dtype_name(e->tf_dtype, t->tname[i]);
	out->ndim = e->ndim;
	memcpy(out->shape, e->shape, sizeof out->shape);
	out->nbytes = e->nbytes;
}

static int tf_check(void *h) { return ck_bundle_check_data(((tf_src *)h)->b); }

static int tf_read(void *h, size_t i, void *buf, uint64_t n)
{
	return ck_bundle_read(((tf_src *)h)->b, i, buf, n);
}

static int tf_map(void *h, size_t i, ck_source_view *v)
{
	return ck_bundle_map(((tf_src *)h)->b, i, &v->data, &v->map, &v->maplen);
}

static void tf_prefetch(void *h, size_t i) { ck_bundle_prefetch(((tf_src *)h)->b, i); }

static const char *const *tf_provenance(void *h) { return ((tf_src *)h)->prov; }

static const char *const *tf_files(void *h)
{
	tf_src *t = h;
	if (t->files)
		return (const char *const *)t->files;
	int n = ck_bundle_num_shards(t->b);
	char **f = ck_calloc((size_t)n + 2, sizeof *f);
	if (!f)
		return NULL;
	f[0] = ck_strdup(ck_bundle_index_path(t->b));
	for (int i = 0; i < n && f[i]; i++) {
		char path[4096];
		f[i + 1] = ck_bundle_data_path(t->b, i, path, sizeof path) < 0 ? NULL : ck_strdup(path);
	}
	if (!f[n]) {
		for (int i = 0; i <= n; i++)
			free(f[i]);
		free(f);
		return NULL;
	}
	t->files = f;
	return (const char *const *)f;
}

static int tf_json_info(void *h, json_t *obj)
{
	tf_src *t = h;
	ck_table_stats st = ck_bundle_index_stats(t->b);
	json_t *comp = json_pack("{s:I,s:I}", "none", (json_int_t)st.blocks_by_type[0], "snappy",
				 (json_int_t)st.blocks_by_type[1]);
	int rc = json_object_set_new(obj, "prefix", json_string(t->prefix)) |
		 json_object_set_new(obj, "index", json_string(ck_bundle_index_path(t->b))) |
		 json_object_set_new(obj, "num_shards", json_integer(ck_bundle_num_shards(t->b))) |
		 json_object_set_new(obj, "index_data_blocks", json_integer((json_int_t)st.data_blocks)) |
		 json_object_set_new(obj, "index_block_compression", comp);
	return rc ? ck_fail("%s: cannot build JSON (names must be UTF-8)", t->prefix) : 0;
}

static json_t *shape_json(int ndim, const int64_t *v)
{
	json_t *a = json_array();
	for (int d = 0; a && d < ndim; d++)
		json_array_append_new(a, json_integer(v[d]));
	return a;
}

static int tf_json_entry(void *h, size_t i, json_t *obj)
{
	tf_src *t = h;
	const ck_bundle_entry *e = ck_bundle_at(t->b, i);
	char tn[32];
	json_t *slices = json_array();
	for (size_t k = 0; slices && k < e->nslices; k++) {
		const ck_bundle_slice *s = &e->slices[k];
		int64_t len[CK_MAX_DIMS];
		for (int d = 0; d < e->ndim; d++)
			len[d] = s->length[d] < 0 ? e->shape[d] : s->length[d];
		json_array_append_new(
			slices, json_pack("{s:o,s:o,s:i,s:I,s:I,s:I}", "start",
					  shape_json(e->ndim, s->start), "shape", shape_json(e->ndim, len),
					  "shard", (int)s->shard, "offset", (json_int_t)s->offset, "size",
					  (json_int_t)s->size, "crc32c", (json_int_t)s->crc32c));
	}
	int rc = json_object_set_new(obj, "tf_dtype", json_string(ck_tf_dtype_name(e->tf_dtype, tn))) |
		 json_object_set_new(obj, "shard", json_integer(e->shard)) |
		 json_object_set_new(obj, "offset", json_integer((json_int_t)e->offset)) |
		 json_object_set_new(obj, "size", json_integer((json_int_t)e->size)) |
		 json_object_set_new(obj, "crc32c", json_integer((json_int_t)e->crc32c)) |
		 json_object_set_new(obj, "slices", slices);
	return rc ? ck_fail("%s: tensor %s: cannot build JSON", t->prefix, e->name) : 0;
}

const ck_source_ops ck_src_tf = {
	.format = "tf-bundle",
	.probe = ck_tf_probe,
	.open = tf_open,
	.close = tf_close,
	.label = tf_label,
	.count = tf_count,
	.entry = tf_entry,
	.check = tf_check,
	.read = tf_read,
	.map = tf_map,
	.prefetch = tf_prefetch,
	.provenance = tf_provenance,
	.files = tf_files,
	.json_info = tf_json_info,
	.json_entry = tf_json_entry,
};
