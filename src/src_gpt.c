/* src_gpt.c — the OpenAI GPT release folder as a checkpoint source
 * (openai_gpt.h does the work and documents the names). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openai_gpt.h"
#include "source_backend.h"
#include "util.h"

typedef struct {
	og_folder *g;
	char *dir;
	char **prov; /* the two JSON files and every params_N.npy, NULL */
} gpt_src;

static int gpt_probe(const char *path) { return og_probe(path) ? 2 : 0; }

static void gpt_close(void *h)
{
	gpt_src *s = h;
	og_close(s->g);
	for (size_t i = 0; s->prov && s->prov[i]; i++)
		free(s->prov[i]);
	free(s->prov);
	free(s->dir);
	free(s);
}

static char *path_of(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = ck_malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static void *gpt_open(const char *path)
{
	gpt_src *s = ck_calloc(1, sizeof *s);
	if (!s)
		return NULL;
	if (!(s->dir = ck_strdup(path)) || !(s->g = og_open(path)))
		goto fail;
	size_t n = 2;
	while (og_file(s->g, n - 2))
		n++;
	if (!(s->prov = ck_calloc(n + 1, sizeof *s->prov)) ||
	    !(s->prov[0] = path_of(path, "params_shapes.json")) ||
	    !(s->prov[1] = path_of(path, "parameters_names.json")))
		goto fail;
	for (size_t i = 2; i < n; i++)
		if (!(s->prov[i] = ck_strdup(og_file(s->g, i - 2))))
			goto fail;
	return s;
fail:
	gpt_close(s);
	return NULL;
}

static const char *gpt_label(void *h) { return ((gpt_src *)h)->dir; }
static size_t gpt_count(void *h) { return og_count(((gpt_src *)h)->g); }

static void gpt_entry(void *h, size_t i, ck_source_entry *e)
{
	const og_tensor *t = og_at(((gpt_src *)h)->g, i);
	e->name = t->name;
	e->supported = 1;
	e->dtype = t->dtype;
	e->type_name = ck_dtype_name(t->dtype);
	e->ndim = t->ndim;
	memcpy(e->shape, t->shape, sizeof e->shape);
	e->nbytes = t->nbytes;
}

static int gpt_read(void *h, size_t i, void *buf, uint64_t n)
{
	(void)n; /* checked by ck_source_read */
	return og_read(((gpt_src *)h)->g, i, buf);
}

static const char *const *gpt_provenance(void *h)
{
	return (const char *const *)((gpt_src *)h)->prov;
}

static int gpt_json_entry(void *h, size_t i, json_t *obj)
{
	const og_tensor *t = og_at(((gpt_src *)h)->g, i);
	return json_object_set_new(obj, "flat_offset", json_integer((json_int_t)t->first))
		       ? ck_fail("out of memory")
		       : 0;
}

const ck_source_ops ck_src_openai_gpt = {
	.format = "openai-gpt",
	.probe = gpt_probe,
	.open = gpt_open,
	.close = gpt_close,
	.label = gpt_label,
	.count = gpt_count,
	.entry = gpt_entry,
	.read = gpt_read,
	.provenance = gpt_provenance,
	.json_entry = gpt_json_entry,
};
