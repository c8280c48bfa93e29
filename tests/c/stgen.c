/* stgen — write a safetensors stream for tests, to stdout.
 *
 *   stgen [--meta KEY=VALUE]... [--reverse] [--truncate N] [--many N PREFIX DTYPE SHAPE]
 *         [NAME:DTYPE:SHAPE[:FILL]]...
 *
 * SHAPE is comma-separated ("" for a scalar); NAME may contain ':' (the last
 * fields are split off). FILL: rand (default; deterministic bits seeded by
 * the name), special (floats: NaNs with payloads, infinities, subnormals,
 * values that overflow or round half-way in narrower types, then random
 * bits; 16-bit types cycle through all 65536 patterns), seq (byte i is
 * i mod 251), zero. --many adds N tensors PREFIX0, PREFIX1, ... --reverse
 * lays the data out in reverse header order; --truncate drops the last N
 * bytes of the stream. Data is generated in chunks, so sizes over 4 GiB
 * need no memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtype.h"
#include "util.h"

typedef struct {
	char *name;
	ck_dtype dtype;
	int ndim;
	int64_t shape[CK_MAX_DIMS];
	const char *fill;
	uint64_t nbytes, begin;
} spec;

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static void die(const char *msg, const char *arg)
{
	fprintf(stderr, "stgen: %s%s\n", msg, arg ? arg : "");
	exit(2);
}

static void parse_shape(const char *s, spec *t)
{
	t->ndim = 0;
	while (*s) {
		if (t->ndim == CK_MAX_DIMS)
			die("too many dimensions", NULL);
		char *end;
		t->shape[t->ndim++] = strtoll(s, &end, 10);
		if (end == s || (*end && *end != ','))
			die("bad shape ", s);
		s = *end ? end + 1 : end;
	}
}

static void add(spec **v, size_t *n, size_t *cap, spec t)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		*v = realloc(*v, *cap * sizeof **v);
		if (!*v)
			die("out of memory", NULL);
	}
	if (ck_shape_nbytes(t.dtype, t.ndim, t.shape, &t.nbytes) < 0)
		die("shape overflows: ", t.name);
	(*v)[(*n)++] = t;
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Special values, as bit patterns, for the float types. */
static const uint32_t f32_special[] = {
	0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001,
	0xff800001, 0x7fa00000, 0x7fffffff, 0xffffffff, 0x7fc00001, 0x7f802000, 0x00000001,
	0x007fffff, 0x00800000, 0x7f7fffff, 0xff7fffff, 0x477fe000, 0x477fefff, 0x477ff000,
	0x477ff001, 0x47800000, 0x33800000, 0x33000000, 0x33000001, 0x33400000, 0x38800000,
	0x387fffff, 0x387ff000, 0x3f808000, 0x3f818000, 0x3f807fff, 0x3f808001, 0x7f7f8000,
	0x00008000, 0x00018000, 0x3f800000, 0xc7c35000, 0x3f801000, 0x3f803000, 0x3f802fff,
};
static const uint64_t f64_special[] = {
	0x0000000000000000, 0x8000000000000000, 0x7ff0000000000000, 0xfff0000000000000,
	0x7ff8000000000000, 0xfff8000000000001, 0x7ff0000000000001, 0x7ff4000000000000,
	0x7fffffffffffffff, 0x7ff8000020000000, 0x0000000000000001, 0x000fffffffffffff,
	0x0010000000000000, 0x7fefffffffffffff, 0x47efffffe0000000, 0x47efffffefffffff,
	0x47effffff0000000, 0x36a0000000000000, 0x3690000000000000, 0x3690000000000001,
	0x3ff0000010000000, 0x3ff0000030000000, 0x3ff0000010000001, 0x3ff0100000000001,
	0x3ff0020000000001, 0x40effe0000000000, 0x40efff0000000000, 0x40effeffffffffff,
};

static void fill(const spec *t, uint64_t off, unsigned char *buf, size_t n, uint64_t *rng)
{
	size_t es = ck_dtype_size(t->dtype);
	if (strcmp(t->fill, "zero") == 0) {
		memset(buf, 0, n);
	} else if (strcmp(t->fill, "seq") == 0) {
		for (size_t i = 0; i < n; i++)
			buf[i] = (unsigned char)((off + i) % 251);
	} else if (strcmp(t->fill, "special") == 0 && es == 2) {
		for (size_t i = 0; i < n; i += 2) {
			uint16_t v = (uint16_t)((off + i) / 2);
			memcpy(buf + i, &v, 2);
		}
	} else if (strcmp(t->fill, "special") == 0 && (t->dtype == CK_F32 || t->dtype == CK_F64)) {
		size_t ns = t->dtype == CK_F32 ? sizeof f32_special / 4 : sizeof f64_special / 8;
		for (size_t i = 0; i < n; i += es) {
			uint64_t k = (off + i) / es;
			const void *src = t->dtype == CK_F32 ? (const void *)&f32_special[k % ns]
							     : (const void *)&f64_special[k % ns];
			uint64_t r = splitmix(rng);
			if (k >= 4 * ns) /* after the specials: random bits */
				src = &r;
			memcpy(buf + i, src, es);
		}
	} else {
		if (t->dtype == CK_BOOL) {
			for (size_t i = 0; i < n; i++)
				buf[i] = (unsigned char)(splitmix(rng) & 1);
			return;
		}
		for (size_t i = 0; i < n; i += 8) {
			uint64_t r = splitmix(rng);
			memcpy(buf + i, &r, n - i < 8 ? n - i : 8);
		}
	}
}

int main(int argc, char **argv)
{
	spec *t = NULL;
	size_t n = 0, cap = 0;
	char **meta = NULL;
	size_t nmeta = 0;
	int reverse = 0;
	uint64_t truncate = 0;
	meta = calloc((size_t)argc, sizeof *meta);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--meta") == 0 && i + 1 < argc) {
			meta[nmeta++] = argv[++i];
		} else if (strcmp(argv[i], "--reverse") == 0) {
			reverse = 1;
		} else if (strcmp(argv[i], "--truncate") == 0 && i + 1 < argc) {
			truncate = strtoull(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--many") == 0 && i + 4 < argc) {
			long count = atol(argv[i + 1]);
			spec s = {.fill = "rand"};
			if (ck_dtype_parse(argv[i + 3], &s.dtype) < 0)
				die("bad dtype ", argv[i + 3]);
			parse_shape(argv[i + 4], &s);
			for (long k = 0; k < count; k++) {
				char name[256];
				snprintf(name, sizeof name, "%s%ld", argv[i + 2], k);
				s.name = strdup(name);
				add(&t, &n, &cap, s);
			}
			i += 4;
		} else {
			/* NAME:DTYPE:SHAPE[:FILL], split from the right */
			static const char *fills[] = {"rand", "special", "seq", "zero"};
			char *a = strdup(argv[i]);
			spec s = {.fill = "rand"};
			char *c = strrchr(a, ':');
			for (int k = 0; c && k < 4; k++)
				if (strcmp(c + 1, fills[k]) == 0) {
					s.fill = fills[k];
					*c = 0;
					c = strrchr(a, ':');
					break;
				}
			if (!c)
				die("bad tensor spec ", argv[i]);
			const char *shape = c + 1;
			*c = 0;
			c = strrchr(a, ':');
			if (!c)
				die("bad tensor spec ", argv[i]);
			const char *dt = c + 1;
			*c = 0;
			s.name = a;
			if (ck_dtype_parse(dt, &s.dtype) < 0)
				die("bad dtype ", dt);
			parse_shape(shape, &s);
			add(&t, &n, &cap, s);
		}
	}
	uint64_t pos = 0;
	for (size_t k = 0; k < n; k++) {
		spec *s = &t[reverse ? n - 1 - k : k];
		s->begin = pos;
		pos += s->nbytes;
	}
	char *hdr = NULL;
	size_t hlen = 0;
	FILE *h = open_memstream(&hdr, &hlen);
	fputc('{', h);
	if (nmeta) {
		fputs("\"__metadata__\":{", h);
		for (size_t k = 0; k < nmeta; k++) {
			char *kv = strdup(meta[k]), *eq = strchr(kv, '=');
			if (!eq)
				die("--meta needs KEY=VALUE: ", meta[k]);
			*eq = 0;
			if (k)
				fputc(',', h);
			json_string(h, kv);
			fputc(':', h);
			json_string(h, eq + 1);
			free(kv);
		}
		fputc('}', h);
	}
	for (size_t k = 0; k < n; k++) {
		if (k || nmeta)
			fputc(',', h);
		json_string(h, t[k].name);
		fprintf(h, ":{\"dtype\":\"%s\",\"shape\":[", ck_dtype_name(t[k].dtype));
		for (int d = 0; d < t[k].ndim; d++)
			fprintf(h, "%s%lld", d ? "," : "", (long long)t[k].shape[d]);
		fprintf(h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)t[k].begin,
			(unsigned long long)(t[k].begin + t[k].nbytes));
	}
	fputc('}', h);
	while (ftell(h) % 8)
		fputc(' ', h);
	fclose(h);

	uint64_t total = 8 + hlen + pos, emitted = 0, limit = total - (truncate < total ? truncate : total);
	unsigned char len8[8];
	for (int i = 0; i < 8; i++)
		len8[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
	size_t bufsize = 1u << 20;
	unsigned char *buf = malloc(bufsize);
#define EMIT(p, len)                                                                  \
	do {                                                                          \
		uint64_t m_ = (len) < limit - emitted ? (len) : limit - emitted;       \
		if (m_ && fwrite((p), 1, (size_t)m_, stdout) != m_)                    \
			die("write error", NULL);                                     \
		emitted += m_;                                                        \
	} while (0)
	EMIT(len8, 8);
	EMIT(hdr, hlen);
	for (size_t k = 0; k < n; k++) {
		spec *s = &t[reverse ? n - 1 - k : k];
		uint64_t rng = hash(s->name);
		for (uint64_t off = 0; off < s->nbytes; off += bufsize) {
			size_t m = s->nbytes - off < bufsize ? (size_t)(s->nbytes - off) : bufsize;
			fill(s, off, buf, m, &rng);
			EMIT(buf, m);
		}
	}
	if (fflush(stdout) != 0)
		die("write error", NULL);
	free(buf);
	free(hdr);
	for (size_t k = 0; k < n; k++)
		free(t[k].name);
	free(t);
	free(meta);
	return 0;
}
