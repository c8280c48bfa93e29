/* st_make — write a safetensors stream for tests, with the project's writer.
 *
 *   st_make [-m KEY=VALUE]... [-a NAME=TARGET]... TENSOR... > out.safetensors
 *
 * TENSOR is NAME:DTYPE:SHAPE[:FILL], SHAPE comma-separated (empty: scalar).
 * FILL: "count" (default: element k holds k+1, converted to the dtype; for
 * BF16/F16 via round-to-nearest), "bits" (16-bit types: element k holds the
 * bit pattern k), or @FILE (the raw little-endian bytes of FILE). -a adds a
 * ckptconv.alias.NAME = TARGET entry. Data follows in argument order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safetensors.h"
#include "tensorops.h"
#include "util.h"

typedef struct {
	char *name;
	ck_dtype dtype;
	int ndim;
	int64_t shape[CK_MAX_DIMS];
	const char *fill;
} spec;

static int die(const char *what)
{
	fprintf(stderr, "st_make: %s: %s\n", what, ck_errmsg());
	return 1;
}

static int parse_spec(char *arg, spec *s)
{
	char *c1 = strchr(arg, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c1 || !c2)
		return -1;
	*c1 = *c2 = 0;
	char *c3 = strchr(c2 + 1, ':');
	if (c3)
		*c3 = 0;
	s->name = arg;
	s->fill = c3 ? c3 + 1 : "count";
	if (ck_dtype_parse(c1 + 1, &s->dtype) < 0)
		return -1;
	for (char *d = c2 + 1; *d;) {
		char *comma = strchr(d, ',');
		if (comma)
			*comma = 0;
		uint64_t v;
		if (s->ndim == CK_MAX_DIMS || ck_parse_u64(d, &v) < 0)
			return -1;
		s->shape[s->ndim++] = (int64_t)v;
		if (!comma)
			break;
		d = comma + 1;
	}
	return 0;
}

static void put_count(unsigned char *p, ck_dtype t, uint64_t k)
{
	double v = (double)(k + 1);
	float f = (float)v;
	uint16_t h;
	switch (t) {
	case CK_F64: memcpy(p, &v, 8); break;
	case CK_F32: memcpy(p, &f, 4); break;
	case CK_F16: h = tops_f32_to_f16(f); memcpy(p, &h, 2); break;
	case CK_BF16: h = tops_f32_to_bf16(f); memcpy(p, &h, 2); break;
	default: {
		uint64_t u = k + 1;
		memcpy(p, &u, ck_dtype_size(t)); /* little-endian host */
	}
	}
}

int main(int argc, char **argv)
{
	st_writer *w = st_writer_new();
	spec *specs = calloc((size_t)argc, sizeof *specs);
	int n = 0;
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-m") == 0 || strcmp(argv[i], "-a") == 0) && i + 1 < argc) {
			int alias = argv[i][1] == 'a';
			char *kv = argv[++i], *eq = strchr(kv, '=');
			if (!eq)
				return fprintf(stderr, "st_make: expected KEY=VALUE\n"), 2;
			*eq = 0;
			char key[1024];
			snprintf(key, sizeof key, "%s%s", alias ? ST_ALIAS_PREFIX : "", kv);
			if (st_writer_meta(w, key, eq + 1) < 0)
				return die(kv);
		} else if (parse_spec(argv[i], &specs[n]) < 0) {
			return fprintf(stderr, "st_make: bad tensor %s\n", argv[i]), 2;
		} else if (st_writer_add(w, specs[n].name, specs[n].dtype, specs[n].ndim,
					 specs[n].shape) < 0) {
			return die(argv[i]);
		} else {
			n++;
		}
	}
	if (st_writer_begin(w, STDOUT_FILENO, "stdout") < 0)
		return die("header");
	for (int i = 0; i < n; i++) {
		spec *s = &specs[i];
		uint64_t numel, nbytes;
		ck_shape_numel(s->ndim, s->shape, &numel);
		ck_shape_nbytes(s->dtype, s->ndim, s->shape, &nbytes);
		unsigned char *buf = NULL;
		if (s->fill[0] == '@') {
			size_t len;
			if (ck_read_file(s->fill + 1, 1u << 30, (char **)&buf, &len) < 0)
				return die(s->fill + 1);
			if (len != nbytes)
				return fprintf(stderr, "st_make: %s: %zu bytes, need %llu\n", s->fill + 1,
					       len, (unsigned long long)nbytes), 1;
		} else {
			size_t es = ck_dtype_size(s->dtype);
			buf = malloc(nbytes ? nbytes : 1);
			for (uint64_t k = 0; k < numel; k++) {
				if (strcmp(s->fill, "bits") == 0 && es == 2) {
					uint16_t h = (uint16_t)k;
					memcpy(buf + 2 * k, &h, 2);
				} else {
					put_count(buf + k * es, s->dtype, k);
				}
			}
		}
		if (st_writer_write(w, buf, (size_t)nbytes) < 0)
			return die(s->name);
		free(buf);
	}
	if (st_writer_end(w) < 0)
		return die("end");
	st_writer_free(w);
	free(specs);
	return 0;
}
