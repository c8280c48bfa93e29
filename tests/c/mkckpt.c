/* mkckpt — make a TensorFlow V2 checkpoint from a small text spec, with the
 * bundle writer (src/bundle.h). For tests and benchmarks: values are
 * deterministic functions of the tensor name and element position, so
 * every run writes the same bytes, and writing runs at disk speed.
 *
 *   mkckpt [--expect OUT.safetensors] SPEC PREFIX
 *
 * writes PREFIX.index and PREFIX.data-*-of-*; with --expect, also the
 * safetensors file that `ckpt-extract PREFIX -o OUT` must produce, byte
 * for byte (same tensors, order, values and metadata), computed from the
 * generator alone: an independent check of reading and reassembly.
 *
 * SPEC ("-" = standard input) is line-based; '#' starts a comment.
 * Option lines start with '@':
 *   @shards N        number of data shards (default 1)
 *   @snappy          snappy-compress the index blocks
 *   @block_size B    index data-block size in bytes (default 262144; small
 *                    values give multi-block indexes)
 *   @big_endian      mark the header big-endian (readers must refuse it)
 * Every other line is one tensor:
 *   NAME DTYPE SHAPE [shard=S] [part=AXIS:N] [wholeext]
 * DTYPE: F32 F64 F16 BF16 I64 I32 I16 I8 U8 U16 U32 U64 BOOL STRING, or a TF
 *   type name (DT_COMPLEX64, DT_QINT8, DT_RESOURCE, ...) for types that
 *   cannot be converted (filled with arbitrary bytes; RESOURCE and VARIANT
 *   get one byte per element).
 * SHAPE: comma-separated dimensions, "-" for a scalar.
 * shard=S: the data shard (default: the tensor's line ordinal mod shards).
 * part=AXIS:N: save as a partitioned variable of N slices along AXIS, sized
 *   as TF's partitioners do (the first dim%N slices one longer); slice k
 *   goes to shard (S + k) mod shards. Extents of the other dimensions are
 *   written with explicit lengths, as TF's Python savers do, or, with
 *   wholeext, as "whole dimension" extents.
 * Values: element i of tensor NAME is a function of (NAME, i) where i is
 *   the row-major index in the full tensor: floats in [-4, 4), no NaN or
 *   Inf; integers are random bits; BOOL is 0 or 1; STRING element i is
 *   "NAME:i" repeated 1 to 3 times. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle.h"
#include "cli.h"
#include "safetensors.h"
#include "util.h"

static const char usage[] = "usage: mkckpt [--expect OUT.safetensors] SPEC PREFIX\n"
			    "Make a TF checkpoint from SPEC; see the top of tests/c/mkckpt.c.\n";

#define MAX_LINE 4096
#define CHUNK (4u << 20)

typedef struct {
	char *name;
	int tf_dtype;
	int ndim;
	int64_t shape[CK_MAX_DIMS];
	int shard;
	int part_axis, part_n; /* part_n 0 = not partitioned */
	int wholeext;
} tensor;

typedef struct {
	tensor *t;
	size_t n, cap;
	ck_bundle_writer_opts o;
} spec;

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t name_seed(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

/* Bytes per element as generated (TF size, or 1 for RESOURCE/VARIANT). */
static size_t gen_size(int tf_dtype)
{
	size_t s = ck_tf_dtype_size(tf_dtype);
	return s ? s : 1;
}

/* count elements starting at full-tensor index first, into out. */
static void gen(int tf_dtype, uint64_t seed, uint64_t first, size_t count, unsigned char *out)
{
	size_t es = gen_size(tf_dtype);
	for (size_t k = 0; k < count; k++) {
		uint64_t x = splitmix(seed ^ ((first + k) * 0xd1342543de82ef95ull));
		unsigned char *p = out + k * es;
		switch (tf_dtype) {
		case CK_TF_FLOAT: {
			float f = (float)((double)(x >> 40) / 16777216.0 * 8.0 - 4.0);
			memcpy(p, &f, 4);
			break;
		}
		case CK_TF_DOUBLE: {
			double d = (double)(x >> 11) / 9007199254740992.0 * 8.0 - 4.0;
			memcpy(p, &d, 8);
			break;
		}
		case CK_TF_HALF: { /* sign, exponent 2^-6..2^1, 10 random mantissa bits */
			uint16_t h = (uint16_t)(((x >> 20) & 0x8000) | ((9 + (x >> 32) % 8) << 10) | (x & 0x3ff));
			memcpy(p, &h, 2);
			break;
		}
		case CK_TF_BFLOAT16: { /* sign, exponent 2^-6..2^1, 7 random mantissa bits */
			uint16_t h = (uint16_t)(((x >> 20) & 0x8000) | ((121 + (x >> 32) % 8) << 7) | (x & 0x7f));
			memcpy(p, &h, 2);
			break;
		}
		case CK_TF_BOOL:
			*p = (unsigned char)(x & 1);
			break;
		default: /* integers and opaque types: random bits, little-endian */
			for (size_t b = 0; b < es; b++)
				p[b] = (unsigned char)(x >> (8 * (b % 8)));
		}
	}
}

static int parse_dtype(const char *s)
{
	ck_dtype c;
	if (strcmp(s, "STRING") == 0)
		return CK_TF_STRING;
	if (ck_dtype_parse(s, &c) == 0)
		return ck_tf_dtype_from_ck(c);
	return ck_tf_dtype_parse(s);
}

static int parse_int(const char *s, int64_t *v)
{
	uint64_t u;
	if (ck_parse_u64(s, &u) < 0 || u > INT64_MAX)
		return -1;
	*v = (int64_t)u;
	return 0;
}

static int parse_tensor(spec *sp, char **tok, int ntok, const char *where)
{
	if (ntok < 3)
		return ck_fail("%s: want NAME DTYPE SHAPE [options]", where);
	if (sp->n == sp->cap) {
		size_t cap = sp->cap ? 2 * sp->cap : 64;
		tensor *t = ck_realloc(sp->t, cap * sizeof *t);
		if (!t)
			return -1;
		sp->t = t;
		sp->cap = cap;
	}
	tensor *t = &sp->t[sp->n];
	memset(t, 0, sizeof *t);
	t->shard = -1;
	if ((t->tf_dtype = parse_dtype(tok[1])) < 0)
		return ck_fail("%s: unknown dtype %s", where, tok[1]);
	if (strcmp(tok[2], "-") != 0) {
		for (char *d = tok[2], *next; d; d = next) {
			next = strchr(d, ',');
			if (next)
				*next++ = 0;
			if (t->ndim == CK_MAX_DIMS || parse_int(d, &t->shape[t->ndim++]) < 0)
				return ck_fail("%s: bad shape", where);
		}
	}
	for (int i = 3; i < ntok; i++) {
		int64_t v, ax;
		char *colon;
		if (strncmp(tok[i], "shard=", 6) == 0 && parse_int(tok[i] + 6, &v) == 0 && v < 100000)
			t->shard = (int)v;
		else if (strncmp(tok[i], "part=", 5) == 0 && (colon = strchr(tok[i], ':'))) {
			*colon = 0;
			if (parse_int(tok[i] + 5, &ax) < 0 || parse_int(colon + 1, &v) < 0 ||
			    ax >= t->ndim || v < 1 || v > t->shape[ax])
				return ck_fail("%s: bad part=AXIS:N", where);
			t->part_axis = (int)ax;
			t->part_n = (int)v;
		} else if (strcmp(tok[i], "wholeext") == 0)
			t->wholeext = 1;
		else
			return ck_fail("%s: unknown option %s", where, tok[i]);
	}
	if (!(t->name = ck_strdup(tok[0])))
		return -1;
	sp->n++;
	return 0;
}

static int parse_spec(const char *path, spec *sp)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!f)
		return ck_fail("%s: %s", path, strerror(errno));
	char line[MAX_LINE], where[MAX_LINE + 32];
	int rc = 0, lineno = 0;
	while (rc == 0 && fgets(line, sizeof line, f)) {
		lineno++;
		snprintf(where, sizeof where, "%s:%d", path, lineno);
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		char *tok[16];
		int ntok = 0;
		for (char *p = strtok(line, " \t\r\n"); p && ntok < 16; p = strtok(NULL, " \t\r\n"))
			tok[ntok++] = p;
		int64_t v;
		if (ntok == 0)
			continue;
		if (strcmp(tok[0], "@shards") == 0 && ntok == 2 && parse_int(tok[1], &v) == 0 && v >= 1 && v <= 99999)
			sp->o.num_shards = (int)v;
		else if (strcmp(tok[0], "@snappy") == 0 && ntok == 1)
			sp->o.snappy = 1;
		else if (strcmp(tok[0], "@big_endian") == 0 && ntok == 1)
			sp->o.big_endian = 1;
		else if (strcmp(tok[0], "@block_size") == 0 && ntok == 2 && parse_int(tok[1], &v) == 0 && v >= 64)
			sp->o.block_size = (size_t)v;
		else if (tok[0][0] == '@')
			rc = ck_fail("%s: bad option line", where);
		else
			rc = parse_tensor(sp, tok, ntok, where);
	}
	if (f != stdin)
		fclose(f);
	for (size_t i = 0; rc == 0 && i < sp->n; i++) {
		tensor *t = &sp->t[i];
		if (t->shard < 0)
			t->shard = (int)(i % (size_t)sp->o.num_shards);
		if (t->shard >= sp->o.num_shards)
			rc = ck_fail("%s: tensor %s: shard %d of %d", path, t->name, t->shard, sp->o.num_shards);
	}
	return rc;
}

/* Stream the elements of box [start, start+len) of tensor t (row-major in
 * the box) into the writer, generating runs of the innermost dimension. */
static int write_box(ck_bundle_writer *w, const tensor *t, const int64_t *start, const int64_t *len,
		     unsigned char *buf)
{
	size_t es = gen_size(t->tf_dtype);
	uint64_t numel;
	if (ck_shape_numel(t->ndim, len, &numel) < 0)
		return -1;
	if (numel == 0)
		return 0;
	int64_t idx[CK_MAX_DIMS] = {0};
	int last = t->ndim - 1;
	uint64_t seed = name_seed(t->name), left = numel;
	size_t used = 0;
	while (left) {
		/* full-tensor index of the box element at idx */
		uint64_t base = 0;
		for (int d = 0; d < t->ndim; d++)
			base = base * (uint64_t)t->shape[d] + (uint64_t)(start[d] + idx[d]);
		uint64_t run = t->ndim ? (uint64_t)(len[last] - idx[last]) : 1;
		size_t cap = (CHUNK - used) / es;
		size_t k = run < cap ? (size_t)run : cap;
		gen(t->tf_dtype, seed, base, k, buf + used);
		used += k * es;
		left -= k;
		if (used + es > CHUNK || !left) {
			if (ck_bundle_writer_data(w, buf, used) < 0)
				return -1;
			used = 0;
		}
		if (t->ndim) {
			idx[last] += (int64_t)k;
			for (int d = last; d > 0 && idx[d] == len[d]; d--) {
				idx[d] = 0;
				idx[d - 1]++;
			}
		}
	}
	return 0;
}

/* The strings of box [start, start+len) of string tensor t, row-major in
 * the box, as one tensor (len = the shape) or as the slice of extents ext. */
static int write_strings(ck_bundle_writer *w, const tensor *t, const int64_t *start,
			 const int64_t *len, const int64_t *ext, int shard)
{
	uint64_t numel;
	if (ck_shape_numel(t->ndim, len, &numel) < 0 || numel > (1u << 24))
		return ck_fail("%s: string tensor too large", t->name);
	char **s = ck_calloc((size_t)numel, sizeof *s);
	size_t *slen = ck_calloc((size_t)numel, sizeof *slen);
	int rc = s && slen ? 0 : -1;
	uint64_t seed = name_seed(t->name);
	int64_t idx[CK_MAX_DIMS] = {0};
	for (uint64_t k = 0; rc == 0 && k < numel; k++) {
		uint64_t i = 0; /* full-tensor index of the box element at idx */
		for (int d = 0; d < t->ndim; d++)
			i = i * (uint64_t)t->shape[d] + (uint64_t)(start[d] + idx[d]);
		for (int d = t->ndim - 1; d >= 0 && ++idx[d] == len[d]; d--)
			idx[d] = 0;
		char one[MAX_LINE];
		int n = snprintf(one, sizeof one, "%s:%llu", t->name, (unsigned long long)i);
		int reps = 1 + (int)(splitmix(seed ^ i) % 3);
		if (!(s[k] = ck_malloc((size_t)n * 3 + 1)))
			rc = -1;
		for (int r = 0; rc == 0 && r < reps; r++)
			memcpy(s[k] + (size_t)r * (size_t)n, one, (size_t)n);
		slen[k] = (size_t)n * (size_t)reps;
	}
	if (rc == 0)
		rc = ext ? ck_bundle_writer_strings_slice(w, t->name, t->ndim, t->shape, start, ext, shard,
							  (const char *const *)s, slen)
			 : ck_bundle_writer_strings(w, t->name, t->ndim, t->shape, shard,
						    (const char *const *)s, slen);
	for (uint64_t k = 0; s && k < numel; k++)
		free(s[k]);
	free(s);
	free(slen);
	return rc;
}

static int write_tensor(ck_bundle_writer *w, const spec *sp, const tensor *t, unsigned char *buf)
{
	int64_t start[CK_MAX_DIMS] = {0}, len[CK_MAX_DIMS], extlen[CK_MAX_DIMS];
	memcpy(len, t->shape, sizeof len);
	if (!t->part_n && t->tf_dtype == CK_TF_STRING)
		return write_strings(w, t, start, len, NULL, t->shard);
	if (!t->part_n) {
		if (ck_bundle_writer_begin(w, t->name, t->tf_dtype, t->ndim, t->shape, t->shard) < 0 ||
		    write_box(w, t, start, len, buf) < 0)
			return -1;
		return ck_bundle_writer_end(w);
	}
	int ax = t->part_axis;
	int64_t dim = t->shape[ax], pos = 0;
	for (int k = 0; k < t->part_n; k++) {
		len[ax] = dim / t->part_n + (k < dim % t->part_n);
		start[ax] = pos;
		pos += len[ax];
		for (int d = 0; d < t->ndim; d++)
			extlen[d] = t->wholeext && d != ax ? -1 : len[d];
		int shard = (t->shard + k) % sp->o.num_shards;
		if (t->tf_dtype == CK_TF_STRING) {
			if (write_strings(w, t, start, len, extlen, shard) < 0)
				return -1;
			continue;
		}
		if (ck_bundle_writer_begin_slice(w, t->name, t->tf_dtype, t->ndim, t->shape, start,
						 extlen, shard) < 0 ||
		    write_box(w, t, start, len, buf) < 0 || ck_bundle_writer_end(w) < 0)
			return -1;
	}
	return 0;
}

static int cmp_tensor(const void *a, const void *b)
{
	return strcmp(((const tensor *)a)->name, ((const tensor *)b)->name);
}

/* What ckpt-extract must write: the convertible tensors in index (name)
 * order, the same metadata. */
static int write_expect(spec *sp, const char *prefix, const char *path, unsigned char *buf)
{
	qsort(sp->t, sp->n, sizeof *sp->t, cmp_tensor);
	st_writer *w = st_writer_new();
	char idx[4200], hex[65], key[4300];
	snprintf(idx, sizeof idx, "%s.index", prefix);
	const char *base = strrchr(idx, '/') ? strrchr(idx, '/') + 1 : idx;
	snprintf(key, sizeof key, "%s%s", ST_SHA_PREFIX, base);
	int rc = w && ck_sha256_file(idx, hex) == 0 && st_writer_meta(w, "format", "pt") == 0 &&
			 st_writer_meta(w, "ckptconv.version", CK_VERSION) == 0 &&
			 st_writer_meta(w, key, hex) == 0
		 ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < sp->n; i++) {
		ck_dtype c;
		const tensor *t = &sp->t[i];
		if (ck_tf_dtype_to_ck(t->tf_dtype, &c) == 0 && c != CK_STRING)
			rc = st_writer_add(w, t->name, c, t->ndim, t->shape);
	}
	ck_out *out = rc == 0 ? ck_out_open(path) : NULL;
	if (rc == 0 && (!out || st_writer_begin(w, ck_out_fd(out), path) < 0))
		rc = -1;
	for (size_t i = 0; rc == 0 && i < sp->n; i++) {
		ck_dtype c;
		const tensor *t = &sp->t[i];
		if (ck_tf_dtype_to_ck(t->tf_dtype, &c) < 0 || c == CK_STRING)
			continue;
		uint64_t numel, done = 0, seed = name_seed(t->name);
		size_t es = ck_dtype_size(c), per = CHUNK / es;
		ck_shape_numel(t->ndim, t->shape, &numel);
		while (rc == 0 && done < numel) {
			size_t k = numel - done < per ? (size_t)(numel - done) : per;
			gen(t->tf_dtype, seed, done, k, buf);
			rc = st_writer_write(w, buf, k * es);
			done += k;
		}
	}
	if (rc == 0)
		rc = st_writer_end(w);
	if (rc == 0)
		rc = ck_out_commit(out);
	else if (out)
		ck_out_abort(out);
	st_writer_free(w);
	return rc;
}

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	if (cli_std_options(argc, argv, usage))
		return CLI_OK;
	const char *expect = NULL;
	int a = 1;
	if (a + 1 < argc && strcmp(argv[a], "--expect") == 0) {
		expect = argv[a + 1];
		a += 2;
	}
	if (argc - a != 2)
		return cli_usage_error("want SPEC PREFIX");
	spec sp = {.o = {.num_shards = 1}};
	unsigned char *buf = ck_malloc(CHUNK);
	int rc = buf ? parse_spec(argv[a], &sp) : -1;
	ck_bundle_writer *w = rc == 0 ? ck_bundle_writer_open(argv[a + 1], &sp.o) : NULL;
	if (!w)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < sp.n; i++)
		rc = write_tensor(w, &sp, &sp.t[i], buf);
	if (rc == 0)
		rc = ck_bundle_writer_finish(w);
	if (rc == 0 && expect)
		rc = write_expect(&sp, argv[a + 1], expect, buf);
	int status = rc == 0 ? CLI_OK : cli_lib_error();
	ck_bundle_writer_free(w);
	for (size_t i = 0; i < sp.n; i++)
		free(sp.t[i].name);
	free(sp.t);
	free(buf);
	return status;
}
