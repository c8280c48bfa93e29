/* src_st.c — a .safetensors file as a checkpoint source (stfile.h). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source_backend.h"
#include "stfile.h"
#include "util.h"

typedef struct {
	stf_file *f;
	char *path;
	const char *prov[2];
	json_t *values; /* {"__metadata__": {...}} */
} st_src;

/* 8-byte header length that fits the file, then '{'; an existing file named
 * *.safetensors that is not one is still ours, so its error is specific. */
static int stf_probe(const char *path)
{
	size_t plen = strlen(path);
	int by_name = plen >= 12 && strcmp(path + plen - 12, ".safetensors") == 0;
	unsigned char head[9];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, head, sizeof head) : -1;
	close(fd);
	if (n < 0)
		return 0;
	if (n != 9 || head[8] != '{')
		return by_name;
	uint64_t len = 0;
	for (int i = 7; i >= 0; i--)
		len = len << 8 | head[i];
	return len >= 2 && len <= ST_MAX_HEADER && len <= (uint64_t)st.st_size - 8 ? 2 : by_name;
}

static void stf_src_close(void *h)
{
	st_src *s = h;
	stf_close(s->f);
	json_decref(s->values);
	free(s->path);
	free(s);
}

static void *stf_src_open(const char *path)
{
	st_src *s = ck_calloc(1, sizeof *s);
	if (!s)
		return NULL;
	if (!(s->path = ck_strdup(path)) || !(s->f = stf_open(path))) {
		stf_src_close(s);
		return NULL;
	}
	s->prov[0] = s->path;
	const st_reader *r = stf_header(s->f);
	json_t *meta = json_object();
	s->values = meta ? json_pack("{s:o}", "__metadata__", meta) : NULL;
	for (size_t i = 0; s->values && i < st_meta_count(r); i++)
		if (json_object_set_new(meta, st_meta_at(r, i)->key,
					json_string(st_meta_at(r, i)->value)) < 0) {
			json_decref(s->values);
			s->values = NULL;
		}
	if (!s->values) {
		ck_fail("%s: cannot represent the metadata as JSON", path);
		stf_src_close(s);
		return NULL;
	}
	return s;
}

static const char *stf_label(void *h) { return ((st_src *)h)->path; }
static size_t st_src_count(void *h) { return st_count(stf_header(((st_src *)h)->f)); }

static void stf_entry(void *h, size_t i, ck_source_entry *e)
{
	const st_tensor *t = st_at(stf_header(((st_src *)h)->f), i);
	e->name = t->name;
	e->supported = 1;
	e->dtype = t->dtype;
	e->type_name = ck_dtype_name(t->dtype);
	e->ndim = t->ndim;
	memcpy(e->shape, t->shape, sizeof e->shape);
	e->nbytes = t->end - t->begin;
}

static int st_src_read(void *h, size_t i, void *buf, uint64_t n)
{
	(void)n; /* checked by ck_source_read */
	return stf_read(((st_src *)h)->f, i, buf);
}

static const char *const *stf_provenance(void *h) { return ((st_src *)h)->prov; }

static int stf_json_entry(void *h, size_t i, json_t *obj)
{
	const st_tensor *t = st_at(stf_header(((st_src *)h)->f), i);
	return json_object_set_new(obj, "data_offsets",
				   json_pack("[I,I]", (json_int_t)t->begin, (json_int_t)t->end))
		       ? ck_fail("out of memory")
		       : 0;
}

static const json_t *stf_values(void *h) { return ((st_src *)h)->values; }

const ck_source_ops ck_src_safetensors = {
	.format = "safetensors",
	.probe = stf_probe,
	.open = stf_src_open,
	.close = stf_src_close,
	.label = stf_label,
	.count = st_src_count,
	.entry = stf_entry,
	.read = st_src_read,
	.provenance = stf_provenance,
	.json_entry = stf_json_entry,
	.values = stf_values,
};
