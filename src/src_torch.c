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
	return s;
}

static void torch_close(void *h)
{
	torch_src *s = h;
	tl_close(s->f);
	free(s->path);
	free(s);
}

static const char *torch_label(void *h) { return ((torch_src *)h)->path; }
static size_t torch_count(void *h) { return tl_count(((torch_src *)h)->f); }

static void torch_entry(void *h, size_t i, ck_source_entry *e)
{
	const tl_tensor *t = tl_at(((torch_src *)h)->f, i);
	e->name = t->name;
	e->supported = 1;
	e->dtype = t->dtype;
	e->type_name = ck_dtype_name(t->dtype);
	e->ndim = t->ndim;
	memcpy(e->shape, t->shape, sizeof e->shape);
	e->nbytes = t->nbytes;
}

static int torch_read(void *h, size_t i, void *buf, uint64_t n)
{
	torch_src *s = h;
	const tl_tensor *t = tl_at(s->f, i);
	if (n != t->nbytes)
		return ck_fail("%s: tensor %s: read of %llu bytes, it has %llu", s->path, t->name,
			       (unsigned long long)n, (unsigned long long)t->nbytes);
	return tl_read(s->f, i, buf);
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
