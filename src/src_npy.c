/* src_npy.c — a single .npy file as a checkpoint source (npy.h does the
 * work): one tensor, named after the file without its directory and its
 * .npy extension. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npy.h"
#include "source_backend.h"
#include "util.h"

typedef struct {
	npy_file *f;
	char *name;
	const char *prov[2];
} npy_src;

static int npy_probe(const char *path)
{
	char head[6];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, head, sizeof head);
	close(fd);
	return n == 6 && memcmp(head, "\x93NUMPY", 6) == 0 ? 2 : 0;
}

static void *npy_src_open(const char *path)
{
	npy_src *s = ck_calloc(1, sizeof *s);
	if (!s || !(s->f = npy_open(path))) {
		free(s);
		return NULL;
	}
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t n = strlen(base);
	if (n > 4 && strcmp(base + n - 4, ".npy") == 0)
		n -= 4;
	if (!(s->name = ck_malloc(n + 1))) {
		npy_close(s->f);
		free(s);
		return NULL;
	}
	memcpy(s->name, base, n);
	s->name[n] = 0;
	s->prov[0] = npy_label(s->f);
	return s;
}

static void npy_src_close(void *h)
{
	npy_src *s = h;
	npy_close(s->f);
	free(s->name);
	free(s);
}

static const char *npy_src_label(void *h) { return npy_label(((npy_src *)h)->f); }
static size_t npy_src_count(void *h) { (void)h; return 1; }

static void npy_src_entry(void *h, size_t i, ck_source_entry *e)
{
	npy_src *s = h;
	const npy_header *hd = npy_info(s->f);
	(void)i;
	e->name = s->name;
	e->supported = 1;
	e->dtype = hd->dtype;
	e->type_name = ck_dtype_name(hd->dtype);
	e->ndim = hd->ndim;
	memcpy(e->shape, hd->shape, sizeof e->shape);
	e->nbytes = hd->nbytes;
}

static int npy_src_read(void *h, size_t i, void *buf, uint64_t n)
{
	(void)i;
	(void)n; /* checked by ck_source_read */
	return npy_read(((npy_src *)h)->f, buf);
}

static const char *const *npy_src_provenance(void *h) { return ((npy_src *)h)->prov; }

static int npy_src_json_info(void *h, json_t *obj)
{
	const npy_header *hd = npy_info(((npy_src *)h)->f);
	char v[16];
	snprintf(v, sizeof v, "%d.%d", hd->major, hd->minor);
	return json_object_set_new(obj, "npy_version", json_string(v)) |
			       json_object_set_new(obj, "fortran_order", json_boolean(hd->fortran)) |
			       json_object_set_new(obj, "big_endian", json_boolean(hd->big_endian)) |
			       json_object_set_new(obj, "data_offset", json_integer((json_int_t)hd->data_offset))
		       ? ck_fail("out of memory")
		       : 0;
}

const ck_source_ops ck_src_npy = {
	.format = "npy",
	.probe = npy_probe,
	.open = npy_src_open,
	.close = npy_src_close,
	.label = npy_src_label,
	.count = npy_src_count,
	.entry = npy_src_entry,
	.read = npy_src_read,
	.provenance = npy_src_provenance,
	.json_info = npy_src_json_info,
};
