/* openai_gpt.c — see openai_gpt.h. */
#include "openai_gpt.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "npy.h"
#include "util.h"

#define OG_MAX_JSON (1u << 20) /* the real files are 1.5 and 3.7 KB */
#define OG_MAX_FILES 1000
#define OG_MAX_PIECES 65536   /* the release has 146 */

struct og_folder {
	char *dir;
	npy_file **files;
	uint64_t *file_first; /* element offset of each file in the flat vector */
	size_t nfiles;
	ck_dtype dtype;
	og_tensor *t;
	size_t nt;
};

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = ck_malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

int og_probe(const char *dir)
{
	struct stat st;
	char *p = join(dir, "params_shapes.json");
	int ok = p && stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && stat(p, &st) == 0;
	free(p);
	return ok;
}

static json_t *load_json(const char *dir, const char *name)
{
	char *path = join(dir, name), *text = NULL;
	size_t len;
	json_t *j = NULL;
	if (path && ck_read_file(path, OG_MAX_JSON, &text, &len) == 0) {
		json_error_t err;
		j = json_loadb(text, len, 0, &err);
		if (!j)
			ck_fail("%s: invalid JSON: %s (line %d)", path, err.text, err.line);
		else if (!json_is_array(j)) {
			ck_fail("%s: expected a JSON list", path);
			json_decref(j);
			j = NULL;
		}
	}
	free(text);
	free(path);
	return j;
}

static int open_files(og_folder *g)
{
	uint64_t total = 0;
	for (size_t k = 0; k < OG_MAX_FILES; k++) {
		char name[32];
		snprintf(name, sizeof name, "params_%zu.npy", k);
		char *path = join(g->dir, name);
		struct stat st;
		if (!path)
			return -1;
		if (stat(path, &st) != 0) {
			free(path);
			break;
		}
		npy_file **fs = ck_realloc(g->files, (k + 1) * sizeof *fs);
		uint64_t *ff = fs ? ck_realloc(g->file_first, (k + 1) * sizeof *ff) : NULL;
		if (fs)
			g->files = fs;
		if (!ff) {
			free(path);
			return -1;
		}
		g->file_first = ff;
		npy_file *f = npy_open(path);
		free(path);
		if (!f)
			return -1;
		g->files[g->nfiles++] = f;
		const npy_header *h = npy_info(f);
		if (h->ndim != 1)
			return ck_fail("%s: expected a 1-D array, found %d dimensions", npy_label(f),
				       h->ndim);
		if (k == 0)
			g->dtype = h->dtype;
		else if (h->dtype != g->dtype)
			return ck_fail("%s: dtype %s differs from params_0.npy's %s", npy_label(f),
				       ck_dtype_name(h->dtype), ck_dtype_name(g->dtype));
		g->file_first[k] = total;
		if (ck_add_u64(total, (uint64_t)h->shape[0], &total) < 0)
			return ck_fail("%s: sizes overflow", npy_label(f));
	}
	if (g->nfiles == 0)
		return ck_fail("%s: no params_0.npy", g->dir);
	return 0;
}

/* Elements in all files. */
static uint64_t total_elements(const og_folder *g)
{
	const npy_header *h = npy_info(g->files[g->nfiles - 1]);
	return g->file_first[g->nfiles - 1] + (uint64_t)h->shape[0];
}

static int name_piece(og_folder *g, og_tensor *t, size_t k, json_t *names)
{
	char buf[32];
	const char *name = buf;
	size_t len;
	if (k == 0 || k == 1) {
		name = k == 0 ? "wpe" : "wte";
	} else if (k - 1 < json_array_size(names)) {
		json_t *n = json_array_get(names, k - 1);
		if (!json_is_string(n))
			return ck_fail("%s/parameters_names.json: entry %zu is not a string", g->dir, k - 1);
		name = json_string_value(n);
		if (strncmp(name, "model/", 6) == 0)
			name += 6;
	} else {
		snprintf(buf, sizeof buf, "piece_%zu", k);
	}
	len = strlen(name);
	if (len >= 2 && strcmp(name + len - 2, ":0") == 0)
		len -= 2;
	if (len == 0)
		return ck_fail("%s/parameters_names.json: entry %zu gives an empty name", g->dir, k - 1);
	if (!(t->name = ck_malloc(len + 1)))
		return -1;
	memcpy(t->name, name, len);
	t->name[len] = 0;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int check_unique(const og_folder *g)
{
	char **names = ck_malloc((g->nt ? g->nt : 1) * sizeof *names);
	if (!names)
		return -1;
	for (size_t i = 0; i < g->nt; i++)
		names[i] = g->t[i].name;
	qsort(names, g->nt, sizeof *names, cmp_name);
	int rc = 0;
	for (size_t i = 1; i < g->nt && rc == 0; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			rc = ck_fail("%s/parameters_names.json: tensor %s: named twice", g->dir, names[i]);
	free(names);
	return rc;
}

og_folder *og_open(const char *dir)
{
	og_folder *g = ck_calloc(1, sizeof *g);
	json_t *shapes = NULL, *names = NULL;
	if (!g || !(g->dir = ck_strdup(dir)))
		goto fail;
	if (!(shapes = load_json(dir, "params_shapes.json")) ||
	    !(names = load_json(dir, "parameters_names.json")) || open_files(g) < 0)
		goto fail;
	size_t n = json_array_size(shapes);
	if (n > OG_MAX_PIECES) {
		ck_fail("%s/params_shapes.json: %zu shapes (at most %d accepted)", dir, n, OG_MAX_PIECES);
		goto fail;
	}
	if (!(g->t = ck_calloc(n ? n : 1, sizeof *g->t)))
		goto fail;
	uint64_t pos = 0;
	for (size_t k = 0; k < n; k++) {
		og_tensor *t = &g->t[k];
		json_t *s = json_array_get(shapes, k);
		g->nt++;
		if (!json_is_array(s) || json_array_size(s) > CK_MAX_DIMS) {
			ck_fail("%s/params_shapes.json: shape %zu is not a list of at most %d sizes", dir,
				k, CK_MAX_DIMS);
			goto fail;
		}
		t->ndim = (int)json_array_size(s);
		for (int i = 0; i < t->ndim; i++) {
			json_t *d = json_array_get(s, (size_t)i);
			if (!json_is_integer(d) || json_integer_value(d) < 0) {
				ck_fail("%s/params_shapes.json: shape %zu has a bad size", dir, k);
				goto fail;
			}
			t->shape[i] = json_integer_value(d);
		}
		uint64_t numel;
		t->dtype = g->dtype;
		t->first = pos;
		if (ck_shape_numel(t->ndim, t->shape, &numel) < 0 ||
		    ck_shape_nbytes(t->dtype, t->ndim, t->shape, &t->nbytes) < 0 ||
		    ck_add_u64(pos, numel, &pos) < 0) {
			ck_fail("%s/params_shapes.json: shape %zu: size overflows", dir, k);
			goto fail;
		}
		if (name_piece(g, t, k, names) < 0)
			goto fail;
	}
	if (pos != total_elements(g)) {
		ck_fail("%s: params_*.npy hold %llu elements but params_shapes.json needs %llu", dir,
			(unsigned long long)total_elements(g), (unsigned long long)pos);
		goto fail;
	}
	if (check_unique(g) < 0)
		goto fail;
	json_decref(shapes);
	json_decref(names);
	return g;
fail:
	json_decref(shapes);
	json_decref(names);
	og_close(g);
	return NULL;
}

void og_close(og_folder *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nfiles; i++)
		npy_close(g->files[i]);
	for (size_t i = 0; i < g->nt; i++)
		free(g->t[i].name);
	free(g->files);
	free(g->file_first);
	free(g->t);
	free(g->dir);
	free(g);
}

size_t og_count(const og_folder *g) { return g->nt; }
const og_tensor *og_at(const og_folder *g, size_t i) { return i < g->nt ? &g->t[i] : NULL; }

int og_read(og_folder *g, size_t i, void *dst)
{
	if (i >= g->nt)
		return ck_fail("%s: no piece %zu", g->dir, i);
	const og_tensor *t = &g->t[i];
	size_t es = ck_dtype_size(t->dtype);
	uint64_t want = t->nbytes / es, at = t->first;
	unsigned char *out = dst;
	/* the last file starting at or before the piece */
	size_t lo = 0, hi = g->nfiles;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (g->file_first[mid] <= at)
			lo = mid;
		else
			hi = mid;
	}
	for (size_t k = lo; want && k < g->nfiles; k++) {
		uint64_t len = (uint64_t)npy_info(g->files[k])->shape[0];
		uint64_t off = at - g->file_first[k];
		if (off >= len)
			continue;
		uint64_t take = len - off < want ? len - off : want;
		if (npy_read_range(g->files[k], off, take, out) < 0)
			return -1;
		out += take * es;
		at += take;
		want -= take;
	}
	return 0;
}

const char *og_file(const og_folder *g, size_t k)
{
	return k < g->nfiles ? npy_label(g->files[k]) : NULL;
}
