/* source.c — see source.h; format back-ends in source_backend.h. */
#include "source.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "source_backend.h"
#include "util.h"

/* The formats, in the order ties are broken. Add a row per back-end. */
static const ck_source_ops *const backends[] = {
	&ck_src_tf, &ck_src_torch, &ck_src_npy, &ck_src_safetensors, &ck_src_openai_gpt,
};
#define N_BACKENDS (sizeof backends / sizeof backends[0])

struct ck_source {
	const ck_source_ops *ops;
	void *h;
	ck_source_entry *e;
	size_t n;
	size_t *by_name; /* indices sorted by name, built on first find */
};

ck_source *ck_source_open(const char *path)
{
	const ck_source_ops *ops = NULL;
	int best = 0;
	for (size_t i = 0; i < N_BACKENDS; i++) {
		int p = backends[i]->probe(path);
		if (p > best) {
			best = p;
			ops = backends[i];
		}
	}
	if (!ops) {
		ck_fail("%s: not a checkpoint format this tool reads", path);
		return NULL;
	}
	ck_source *s = ck_calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->ops = ops;
	s->h = ops->open(path);
	if (!s->h) {
		free(s);
		return NULL;
	}
	s->n = ops->count(s->h);
	s->e = ck_calloc(s->n, sizeof *s->e);
	if (!s->e) {
		ck_source_close(s);
		return NULL;
	}
	for (size_t i = 0; i < s->n; i++)
		ops->entry(s->h, i, &s->e[i]);
	return s;
}

void ck_source_close(ck_source *s)
{
	if (!s)
		return;
	s->ops->close(s->h);
	free(s->e);
	free(s->by_name);
	free(s);
}

const char *ck_source_format(const ck_source *s) { return s->ops->format; }
const char *ck_source_label(const ck_source *s) { return s->ops->label(s->h); }
size_t ck_source_count(const ck_source *s) { return s->n; }
const ck_source_entry *ck_source_at(const ck_source *s, size_t i) { return i < s->n ? &s->e[i] : NULL; }

static const ck_source *g_sort; /* qsort has no context argument in C11 */
static int cmp_name(const void *a, const void *b)
{
	return strcmp(g_sort->e[*(const size_t *)a].name, g_sort->e[*(const size_t *)b].name);
}

long ck_source_find(const ck_source *s, const char *name)
{
	if (!s->by_name) {
		size_t *v = ck_calloc(s->n, sizeof *v);
		if (!v) { /* fall back to a scan */
			for (size_t i = 0; i < s->n; i++)
				if (strcmp(s->e[i].name, name) == 0)
					return (long)i;
			return -1;
		}
		for (size_t i = 0; i < s->n; i++)
			v[i] = i;
		g_sort = s;
		qsort(v, s->n, sizeof *v, cmp_name);
		((ck_source *)s)->by_name = v;
	}
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->e[s->by_name[mid]].name, name);
		if (c == 0)
			return (long)s->by_name[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int ck_source_check(ck_source *s) { return s->ops->check ? s->ops->check(s->h) : 0; }

int ck_source_read(ck_source *s, size_t i, void *buf, uint64_t n)
{
	if (i >= s->n)
		return ck_fail("%s: no tensor #%zu", ck_source_label(s), i);
	if (!s->e[i].supported)
		return ck_fail("%s: tensor %s: type %s is not supported", ck_source_label(s),
			       s->e[i].name, s->e[i].type_name);
	if (n != s->e[i].nbytes)
		return ck_fail("%s: tensor %s: read of %llu bytes, it has %llu", ck_source_label(s),
			       s->e[i].name, (unsigned long long)n, (unsigned long long)s->e[i].nbytes);
	return s->ops->read(s->h, i, buf, n);
}

int ck_source_map(ck_source *s, size_t i, ck_source_view *v)
{
	memset(v, 0, sizeof *v);
	if (i >= s->n || !s->e[i].supported || !s->ops->map)
		return 0;
	return s->ops->map(s->h, i, v);
}

void ck_source_unmap(ck_source *s, ck_source_view *v)
{
	(void)s;
	if (v->map)
		munmap(v->map, v->maplen);
	memset(v, 0, sizeof *v);
}

void ck_source_prefetch(ck_source *s, size_t i)
{
	if (i < s->n && s->ops->prefetch)
		s->ops->prefetch(s->h, i);
}

const char *const *ck_source_provenance(const ck_source *s) { return s->ops->provenance(s->h); }

const char *const *ck_source_files(const ck_source *s)
{
	return s->ops->files ? s->ops->files(s->h) : s->ops->provenance(s->h);
}

int ck_source_json_info(const ck_source *s, json_t *obj)
{
	return s->ops->json_info ? s->ops->json_info(s->h, obj) : 0;
}

int ck_source_json_entry(const ck_source *s, size_t i, json_t *obj)
{
	return s->ops->json_entry && i < s->n ? s->ops->json_entry(s->h, i, obj) : 0;
}

const json_t *ck_source_values(const ck_source *s)
{
	return s->ops->values ? s->ops->values(s->h) : NULL;
}
