/* src_torch.c — PyTorch checkpoints (zip and legacy torch.save files) as a
 * checkpoint source (torchload.h does the work). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source_backend.h"
#include "torchload.h"
#include "util.h"

typedef struct {
	tl_file *f;
	char *path;
	const char *prov[2];
	size_t *tied; /* tied[i]: the first tensor with i's very view, or i */
} torch_src;

static int torch_probe(const char *path)
{
	unsigned char head[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, head, sizeof head);
	close(fd);
	return n > 0 && tl_probe(head, (size_t)n) ? 2 : 0;
}

/* Tensors a and b by their view: storage, offset, dtype, shape, strides. */
static int cmp_layout(const tl_file *f, size_t a, size_t b)
{
	const tl_tensor *x = tl_at(f, a), *y = tl_at(f, b);
	const char *kx, *ky;
	uint64_t ox, oy;
	const int64_t *sx, *sy;
	tl_layout(f, a, &kx, &ox, &sx);
	tl_layout(f, b, &ky, &oy, &sy);
	int c = (kx == NULL) - (ky == NULL);
	if (c == 0 && kx)
		c = strcmp(kx, ky);
	if (c == 0)
		c = (ox > oy) - (ox < oy);
	if (c == 0)
		c = (int)x->dtype - (int)y->dtype;
	if (c == 0)
		c = x->ndim - y->ndim;
	for (int d = 0; c == 0 && d < x->ndim; d++) {
		c = (x->shape[d] > y->shape[d]) - (x->shape[d] < y->shape[d]);
		if (c == 0)
			c = (sx[d] > sy[d]) - (sx[d] < sy[d]);
	}
	return c;
}

static const tl_file *g_sort_f; /* qsort has no context argument in C11 */
static int cmp_view(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	int c = cmp_layout(g_sort_f, a, b);
	return c ? c : (a > b) - (a < b);
}

/* Tied weights: a tensor saved under two names is one view of one storage.
 * Sorting by view puts equal views next to each other, the first one first.
 * (A numpy array held in the pickle has no storage and is never tied.) */
static int find_tied(torch_src *s)
{
	size_t n = tl_count(s->f);
	size_t *order = ck_calloc(n ? n : 1, sizeof *order);
	s->tied = ck_calloc(n ? n : 1, sizeof *s->tied);
	if (!order || !s->tied) {
		free(order);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = s->tied[i] = i;
	g_sort_f = s->f;
	qsort(order, n, sizeof *order, cmp_view);
	for (size_t k = 1; k < n; k++) {
		const char *key;
		uint64_t off;
		const int64_t *st;
		tl_layout(s->f, order[k], &key, &off, &st);
		if (key && cmp_layout(s->f, order[k - 1], order[k]) == 0)
			s->tied[order[k]] = s->tied[order[k - 1]];
	}
	free(order);
	return 0;
}

static void torch_close(void *h)
{
	torch_src *s = h;
	tl_close(s->f);
	free(s->tied);
	free(s->path);
	free(s);
}

static void *torch_open(const char *path)
{
	torch_src *s = ck_calloc(1, sizeof *s);
	if (!s || !(s->path = ck_strdup(path)) || !(s->f = tl_open(path))) {
		if (s)
			free(s->path);
		free(s);
		return NULL;
	}
	s->prov[0] = s->path;
	if (find_tied(s) < 0) {
		torch_close(s);
		return NULL;
	}
	return s;
}

static const char *torch_label(void *h) { return ((torch_src *)h)->path; }
static size_t torch_count(void *h) { return tl_count(((torch_src *)h)->f); }

static void torch_entry(void *h, size_t i, ck_source_entry *e)
{
	torch_src *s = h;
	const tl_tensor *t = tl_at(s->f, i);
	e->name = t->name;
	e->supported = 1;
	e->dtype = t->dtype;
	e->type_name = ck_dtype_name(t->dtype);
	e->ndim = t->ndim;
	memcpy(e->shape, t->shape, sizeof e->shape);
	e->nbytes = t->nbytes;
	if (s->tied[i] != i)
		e->tied_to = tl_at(s->f, s->tied[i])->name;
}

static int torch_read(void *h, size_t i, void *buf, uint64_t n)
{
	(void)n; /* checked by ck_source_read */
	return tl_read(((torch_src *)h)->f, i, buf);
}

static const char *const *torch_provenance(void *h) { return ((torch_src *)h)->prov; }

static int torch_json_info(void *h, json_t *obj)
{
	return json_object_set_new(obj, "container", json_string(tl_format(((torch_src *)h)->f)))
		       ? ck_fail("out of memory")
		       : 0;
}

static int torch_json_entry(void *h, size_t i, json_t *obj)
{
	torch_src *s = h;
	const char *key;
	uint64_t offset;
	const int64_t *stride;
	tl_layout(s->f, i, &key, &offset, &stride);
	json_t *st = json_array();
	for (int d = 0; st && d < tl_at(s->f, i)->ndim; d++)
		json_array_append_new(st, json_integer(stride[d]));
	return json_object_set_new(obj, "storage", key ? json_string(key) : json_null()) |
			       json_object_set_new(obj, "storage_offset", json_integer((json_int_t)offset)) |
			       json_object_set_new(obj, "stride", st)
		       ? ck_fail("out of memory")
		       : 0;
}

static const json_t *torch_values(void *h) { return tl_values(((torch_src *)h)->f); }

const ck_source_ops ck_src_torch = {
	.format = "pytorch",
	.probe = torch_probe,
	.open = torch_open,
	.close = torch_close,
	.label = torch_label,
	.count = torch_count,
	.entry = torch_entry,
	.read = torch_read,
	.provenance = torch_provenance,
	.json_info = torch_json_info,
	.json_entry = torch_json_entry,
	.values = torch_values,
};
