/* npy.c — see npy.h. */
#include "npy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strided.h"
#include "util.h"

/* ---- the header dict literal ---- */

typedef struct {
	const char *p, *end;
	const char *label;
} lex;

static void skip_ws(lex *l)
{
	while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' || *l->p == '\n' || *l->p == '\r'))
		l->p++;
}

static int expect(lex *l, char c, const char *what)
{
	skip_ws(l);
	if (l->p >= l->end || *l->p != c)
		return ck_fail("%s: npy header: expected %s", l->label, what);
	l->p++;
	return 0;
}

/* A quoted string without escapes: 'abc' or "abc". */
static int parse_str(lex *l, char *out, size_t cap)
{
	skip_ws(l);
	if (l->p >= l->end || (*l->p != '\'' && *l->p != '"'))
		return ck_fail("%s: npy header: expected a string", l->label);
	char q = *l->p++;
	size_t n = 0;
	while (l->p < l->end && *l->p != q) {
		unsigned char c = (unsigned char)*l->p;
		if (c == '\\' || c < 0x20 || c >= 0x7f)
			return ck_fail("%s: npy header: unsupported character in a string", l->label);
		if (n + 1 >= cap)
			return ck_fail("%s: npy header: string too long", l->label);
		out[n++] = *l->p++;
	}
	if (l->p >= l->end)
		return ck_fail("%s: npy header: unterminated string", l->label);
	l->p++;
	out[n] = 0;
	return 0;
}

static int parse_bool(lex *l, int *v)
{
	skip_ws(l);
	size_t left = (size_t)(l->end - l->p);
	if (left >= 4 && memcmp(l->p, "True", 4) == 0) {
		*v = 1;
		l->p += 4;
		return 0;
	}
	if (left >= 5 && memcmp(l->p, "False", 5) == 0) {
		*v = 0;
		l->p += 5;
		return 0;
	}
	return ck_fail("%s: npy header: fortran_order must be True or False", l->label);
}

/* (d0, d1, ...) with the Python one-tuple comma: (3,) — and the long
 * suffix old Python 2 writers put on integers: (3L, 4L). */
static int parse_shape(lex *l, npy_header *h)
{
	if (expect(l, '(', "'(' starting the shape") < 0)
		return -1;
	h->ndim = 0;
	int commas = 0;
	for (;;) {
		skip_ws(l);
		if (l->p < l->end && *l->p == ')') {
			l->p++;
			break;
		}
		if (l->p >= l->end || *l->p < '0' || *l->p > '9')
			return ck_fail("%s: npy header: shape must be a tuple of non-negative integers",
				       l->label);
		uint64_t v = 0;
		while (l->p < l->end && *l->p >= '0' && *l->p <= '9') {
			if (ck_mul_u64(v, 10, &v) < 0 || ck_add_u64(v, (uint64_t)(*l->p - '0'), &v) < 0 ||
			    v > (uint64_t)INT64_MAX)
				return ck_fail("%s: npy header: shape dimension too large", l->label);
			l->p++;
		}
		if (l->p < l->end && (*l->p == 'L' || *l->p == 'l'))
			l->p++;
		if (h->ndim == CK_MAX_DIMS)
			return ck_fail("%s: npy header: more than %d dimensions", l->label, CK_MAX_DIMS);
		h->shape[h->ndim++] = (int64_t)v;
		skip_ws(l);
		if (l->p < l->end && *l->p == ',') {
			l->p++;
			commas++;
			continue;
		}
		if (l->p < l->end && *l->p == ')') {
			l->p++;
			break;
		}
		return ck_fail("%s: npy header: malformed shape tuple", l->label);
	}
	if (h->ndim == 1 && commas == 0)
		return ck_fail("%s: npy header: shape (N) is not a tuple (write (N,))", l->label);
	return 0;
}

static int parse_descr(const char *d, npy_header *h, const char *label)
{
	const char *s = d;
	char order = 0;
	if (*s == '<' || *s == '>' || *s == '|' || *s == '=')
		order = *s++;
	char kind = *s ? *s++ : 0;
	int size = 0;
	for (; *s >= '0' && *s <= '9' && size < 1000; s++)
		size = size * 10 + (*s - '0');
	if (kind == 'O')
		return ck_fail("%s: object array (dtype %s): its data is a pickle of Python objects; refused",
			       label, d);
	if (kind == 'S' || kind == 'a' || kind == 'U' || kind == 'V')
		return ck_fail("%s: dtype %s (strings or raw records) is not a numeric type; not supported",
			       label, d);
	if (kind == 'c' || kind == 'M' || kind == 'm')
		return ck_fail("%s: dtype %s (complex or datetime) is not supported", label, d);
	static const struct {
		char kind;
		int size;
		ck_dtype t;
	} map[] = {
		{'b', 1, CK_BOOL}, {'i', 1, CK_I8},  {'i', 2, CK_I16}, {'i', 4, CK_I32},
		{'i', 8, CK_I64},  {'u', 1, CK_U8},  {'u', 2, CK_U16}, {'u', 4, CK_U32},
		{'u', 8, CK_U64},  {'f', 2, CK_F16}, {'f', 4, CK_F32}, {'f', 8, CK_F64},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!*s && map[i].kind == kind && map[i].size == size) {
			h->dtype = map[i].t;
			h->big_endian = order == '>' && size > 1;
			return 0;
		}
	return ck_fail("%s: unsupported dtype '%s'", label, d);
}

static int parse_dict(const char *text, size_t len, npy_header *h, const char *label)
{
	lex l = {text, text + len, label};
	char key[32], descr[64];
	int seen_descr = 0, seen_fortran = 0, seen_shape = 0;
	if (expect(&l, '{', "'{' starting the header dict") < 0)
		return -1;
	for (;;) {
		skip_ws(&l);
		if (l.p < l.end && *l.p == '}') {
			l.p++;
			break;
		}
		if (parse_str(&l, key, sizeof key) < 0 || expect(&l, ':', "':' after a key") < 0)
			return -1;
		if (strcmp(key, "descr") == 0 && !seen_descr) {
			skip_ws(&l);
			if (l.p < l.end && *l.p == '[')
				return ck_fail("%s: structured dtype (a list descr) is not supported", label);
			if (parse_str(&l, descr, sizeof descr) < 0)
				return -1;
			seen_descr = 1;
		} else if (strcmp(key, "fortran_order") == 0 && !seen_fortran) {
			if (parse_bool(&l, &h->fortran) < 0)
				return -1;
			seen_fortran = 1;
		} else if (strcmp(key, "shape") == 0 && !seen_shape) {
			if (parse_shape(&l, h) < 0)
				return -1;
			seen_shape = 1;
		} else {
			return ck_fail("%s: npy header: unexpected or repeated key '%s'", label, key);
		}
		skip_ws(&l);
		if (l.p < l.end && *l.p == ',') {
			l.p++;
			continue;
		}
		if (expect(&l, '}', "',' or '}' after a value") < 0)
			return -1;
		break;
	}
	skip_ws(&l);
	if (l.p != l.end)
		return ck_fail("%s: npy header: unexpected bytes after the dict", label);
	if (!seen_descr || !seen_fortran || !seen_shape)
		return ck_fail("%s: npy header: missing %s", label,
			       !seen_descr ? "'descr'" : !seen_fortran ? "'fortran_order'" : "'shape'");
	return parse_descr(descr, h, label);
}

/* Magic, version and header length; checks the header fits in the file. */
static int parse_prefix(const unsigned char *b, size_t buflen, uint64_t file_size, npy_header *h,
			size_t *prefix, uint64_t *hlen, const char *label)
{
	if (buflen < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
		return ck_fail("%s: not a .npy file (bad magic)", label);
	h->major = b[6];
	h->minor = b[7];
	if (h->major < 1 || h->major > 3 || h->minor != 0)
		return ck_fail("%s: unsupported .npy format version %d.%d", label, h->major, h->minor);
	*prefix = h->major == 1 ? 10 : 12;
	if (buflen < *prefix)
		return ck_fail("%s: truncated .npy header", label);
	*hlen = h->major == 1 ? (uint64_t)(b[8] | b[9] << 8)
			      : (uint64_t)b[8] | (uint64_t)b[9] << 8 | (uint64_t)b[10] << 16 |
					(uint64_t)b[11] << 24;
	if (*hlen > file_size - *prefix)
		return ck_fail("%s: .npy header length %llu runs past the end of the file (%llu bytes)",
			       label, (unsigned long long)*hlen, (unsigned long long)file_size);
	if (*hlen > NPY_MAX_HEADER)
		return ck_fail("%s: .npy header length %llu is larger than %u bytes", label,
			       (unsigned long long)*hlen, NPY_MAX_HEADER);
	return 0;
}

int npy_parse(const void *buf, size_t buflen, uint64_t file_size, npy_header *h,
	      const char *label)
{
	const unsigned char *b = buf;
	size_t prefix;
	uint64_t hlen;
	memset(h, 0, sizeof *h);
	if (buflen > file_size)
		buflen = (size_t)file_size;
	if (parse_prefix(b, buflen, file_size, h, &prefix, &hlen, label) < 0)
		return -1;
	if (buflen < prefix + hlen)
		return ck_fail("%s: truncated .npy header", label);
	if (parse_dict((const char *)b + prefix, (size_t)hlen, h, label) < 0)
		return -1;
	h->data_offset = prefix + hlen;
	if (ck_shape_nbytes(h->dtype, h->ndim, h->shape, &h->nbytes) < 0)
		return ck_fail("%s: shape product overflows", label);
	uint64_t have = file_size - h->data_offset;
	if (have < h->nbytes)
		return ck_fail("%s: data truncated: the shape needs %llu bytes, the file has %llu",
			       label, (unsigned long long)h->nbytes, (unsigned long long)have);
	if (have > h->nbytes)
		return ck_fail("%s: %llu unexpected bytes after the data", label,
			       (unsigned long long)(have - h->nbytes));
	return 0;
}

/* ---- files ---- */

struct npy_file {
	int fd;
	char *label;
	npy_header h;
};

npy_file *npy_open(const char *path)
{
	npy_file *f = ck_calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->fd = -1;
	f->label = ck_strdup(path);
	if (!f->label)
		goto fail;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (f->fd < 0 || fstat(f->fd, &st) < 0) {
		ck_fail("%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		ck_fail("%s: not a regular file", path);
		goto fail;
	}
	uint64_t size = (uint64_t)st.st_size;
	unsigned char pre[12];
	size_t n = size < sizeof pre ? (size_t)size : sizeof pre, prefix;
	uint64_t hlen;
	if (ck_pread_full(f->fd, pre, n, 0, path) < 0 ||
	    parse_prefix(pre, n, size, &f->h, &prefix, &hlen, path) < 0)
		goto fail;
	unsigned char *hdr = ck_malloc(prefix + (size_t)hlen);
	if (!hdr)
		goto fail;
	int rc = ck_pread_full(f->fd, hdr, prefix + (size_t)hlen, 0, path);
	if (rc == 0)
		rc = npy_parse(hdr, prefix + (size_t)hlen, size, &f->h, path);
	free(hdr);
	if (rc < 0)
		goto fail;
	return f;
fail:
	npy_close(f);
	return NULL;
}

void npy_close(npy_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	free(f->label);
	free(f);
}

const npy_header *npy_info(const npy_file *f) { return &f->h; }
const char *npy_label(const npy_file *f) { return f->label; }

int npy_read(npy_file *f, void *dst)
{
	const npy_header *h = &f->h;
	size_t es = ck_dtype_size(h->dtype);
	int64_t stride[CK_MAX_DIMS];
	/* An empty array reads nothing; its other dimensions may be anything
	 * and their strides would overflow. */
	if (h->nbytes == 0)
		return 0;
	/* Fortran order is C order of the reversed shape: describe it as a
	 * view with column-major strides and gather it into C order. */
	int64_t acc = 1;
	for (int i = 0; i < h->ndim; i++) {
		int k = h->fortran ? i : h->ndim - 1 - i;
		stride[k] = acc;
		acc *= h->shape[k] ? h->shape[k] : 1;
	}
	if (sv_read(f->fd, h->data_offset, dst, es, h->ndim, h->shape, stride, 0, f->label) < 0)
		return -1;
	if (h->big_endian)
		sv_byteswap(dst, h->nbytes / es, es);
	return 0;
}

int npy_read_range(npy_file *f, uint64_t first, uint64_t count, void *dst)
{
	const npy_header *h = &f->h;
	size_t es = ck_dtype_size(h->dtype);
	uint64_t numel = h->nbytes / es, end;
	int multi = 0;
	for (int i = 0; i < h->ndim; i++)
		multi += h->shape[i] > 1;
	if (h->fortran && multi > 1)
		return ck_fail("%s: range reads need C order", f->label);
	if (ck_add_u64(first, count, &end) < 0 || end > numel)
		return ck_fail("%s: range [%llu, +%llu) outside the %llu elements", f->label,
			       (unsigned long long)first, (unsigned long long)count,
			       (unsigned long long)numel);
	if (ck_pread_full(f->fd, dst, (size_t)(count * es), h->data_offset + first * es, f->label) < 0)
		return -1;
	if (h->big_endian)
		sv_byteswap(dst, count, es);
	return 0;
}
