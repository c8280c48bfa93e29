/* safetensors.c — see safetensors.h. */
#include "safetensors.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* ---- shared helpers ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Returns the first name that occurs twice, or NULL. names is reordered. */
static const char *find_duplicate(char **names, size_t n)
{
	qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 1; i < n; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			return names[i];
	return NULL;
}

/* ---- reader ---- */

struct st_reader {
	int fd;
	char *label;
	st_tensor *t;
	size_t n;
	st_meta *meta;
	size_t nmeta;
	size_t *order; /* tensor indices sorted by begin */
	size_t next;   /* position in order[] of the tensor after the current */
	long cur;      /* current tensor, -1 before the first */
	uint64_t left; /* unread bytes of the current tensor */
	uint64_t data_size;
};

static int parse_entry(st_reader *r, const char *name, json_t *v, st_tensor *t)
{
	json_t *dt = json_object_get(v, "dtype");
	json_t *sh = json_object_get(v, "shape");
	json_t *off = json_object_get(v, "data_offsets");
	if (!json_is_object(v) || !json_is_string(dt) || !json_is_array(sh) ||
	    !json_is_array(off) || json_array_size(off) != 2)
		return ck_fail("%s: tensor %s: malformed header entry", r->label, name);
	if (ck_dtype_parse(json_string_value(dt), &t->dtype) < 0)
		return ck_fail("%s: tensor %s: unsupported dtype %s", r->label, name,
			       json_string_value(dt));
	if (json_array_size(sh) > CK_MAX_DIMS)
		return ck_fail("%s: tensor %s: %zu dimensions (at most %d supported)", r->label,
			       name, json_array_size(sh), CK_MAX_DIMS);
	t->ndim = (int)json_array_size(sh);
	for (int i = 0; i < t->ndim; i++) {
		json_t *d = json_array_get(sh, (size_t)i);
		if (!json_is_integer(d) || json_integer_value(d) < 0)
			return ck_fail("%s: tensor %s: bad shape", r->label, name);
		t->shape[i] = json_integer_value(d);
	}
	json_t *b = json_array_get(off, 0), *e = json_array_get(off, 1);
	if (!json_is_integer(b) || !json_is_integer(e) || json_integer_value(b) < 0 ||
	    json_integer_value(e) < json_integer_value(b))
		return ck_fail("%s: tensor %s: bad data_offsets", r->label, name);
	t->begin = (uint64_t)json_integer_value(b);
	t->end = (uint64_t)json_integer_value(e);
	uint64_t nbytes;
	if (ck_shape_nbytes(t->dtype, t->ndim, t->shape, &nbytes) < 0)
		return ck_fail("%s: tensor %s: shape size overflows", r->label, name);
	if (t->end - t->begin != nbytes)
		return ck_fail("%s: tensor %s: data_offsets span %llu bytes but the shape needs %llu",
			       r->label, name, (unsigned long long)(t->end - t->begin),
			       (unsigned long long)nbytes);
	t->name = ck_strdup(name);
	return t->name ? 0 : -1;
}

static st_reader *g_sort_reader; /* qsort has no context argument in C11 */
static int cmp_begin(const void *a, const void *b)
{
	const st_tensor *x = &g_sort_reader->t[*(const size_t *)a];
	const st_tensor *y = &g_sort_reader->t[*(const size_t *)b];
	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	/* zero-size tensors share their offset with the next tensor: they come
	 * first, then header order */
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int parse_header(st_reader *r, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return ck_fail("%s: header is not valid JSON: %s (at byte %d)", r->label, jerr.text,
			       jerr.position);
	int rc = 0;
	if (!json_is_object(root)) {
		rc = ck_fail("%s: header is not a JSON object", r->label);
		goto out;
	}
	size_t cap = json_object_size(root);
	r->t = ck_calloc(cap, sizeof *r->t);
	if (!r->t) {
		rc = -1;
		goto out;
	}
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v) {
		if (strcmp(key, "__metadata__") == 0) {
			if (!json_is_object(v)) {
				rc = ck_fail("%s: __metadata__ is not an object", r->label);
				goto out;
			}
			r->meta = ck_calloc(json_object_size(v), sizeof *r->meta);
			if (!r->meta) {
				rc = -1;
				goto out;
			}
			const char *mk;
			json_t *mv;
			json_object_foreach(v, mk, mv) {
				if (!json_is_string(mv)) {
					rc = ck_fail("%s: __metadata__ value of %s is not a string",
						     r->label, mk);
					goto out;
				}
				st_meta *m = &r->meta[r->nmeta++];
				m->key = ck_strdup(mk);
				m->value = ck_strdup(json_string_value(mv));
				if (!m->key || !m->value) {
					rc = -1;
					goto out;
				}
			}
			continue;
		}
		if (parse_entry(r, key, v, &r->t[r->n]) < 0) {
			rc = -1;
			goto out;
		}
		r->n++;
	}
	r->order = ck_calloc(r->n, sizeof *r->order);
	if (!r->order) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < r->n; i++)
		r->order[i] = i;
	g_sort_reader = r;
	qsort(r->order, r->n, sizeof *r->order, cmp_begin);
	uint64_t pos = 0;
	for (size_t i = 0; i < r->n; i++) {
		const st_tensor *t = &r->t[r->order[i]];
		if (t->begin != pos) {
			rc = ck_fail("%s: tensor %s: data_offsets %s the previous tensor (begin %llu, expected %llu)",
				     r->label, t->name, t->begin < pos ? "overlap" : "leave a gap after",
				     (unsigned long long)t->begin, (unsigned long long)pos);
			goto out;
		}
		pos = t->end;
	}
	r->data_size = pos;
out:
	json_decref(root);
	return rc;
}

int st_header_length(const unsigned char b[8], const char *label, uint64_t *hlen)
{
	*hlen = 0;
	for (int i = 7; i >= 0; i--)
		*hlen = *hlen << 8 | b[i];
	if (*hlen < 2 || *hlen > ST_MAX_HEADER)
		return ck_fail("%s: safetensors header length %llu is out of range (2..%u)", label,
			       (unsigned long long)*hlen, ST_MAX_HEADER);
	return 0;
}

st_reader *st_reader_open(int fd, const char *label)
{
	st_reader *r = ck_calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->fd = fd;
	r->cur = -1;
	r->label = ck_strdup(label ? label : "-");
	if (!r->label)
		goto fail;
	unsigned char lenbuf[8];
	if (ck_read_full(fd, lenbuf, 8, r->label) < 0) {
		ck_fail("%s: not a safetensors stream (shorter than 8 bytes)", r->label);
		goto fail;
	}
	uint64_t hlen;
	if (st_header_length(lenbuf, r->label, &hlen) < 0)
		goto fail;
	char *text = ck_malloc((size_t)hlen);
	if (!text)
		goto fail;
	if (ck_read_full(fd, text, (size_t)hlen, r->label) < 0) {
		ck_fail("%s: truncated safetensors header", r->label);
		free(text);
		goto fail;
	}
	int rc = parse_header(r, text, (size_t)hlen);
	free(text);
	if (rc < 0)
		goto fail;
	return r;
fail:
	st_reader_free(r);
	return NULL;
}

st_reader *st_reader_parse(const char *text, size_t len, const char *label)
{
	st_reader *r = ck_calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->fd = -1;
	r->cur = -1;
	r->label = ck_strdup(label ? label : "-");
	if (r->label && parse_header(r, text, len) == 0)
		return r;
	st_reader_free(r);
	return NULL;
}

void st_reader_free(st_reader *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->t[i].name);
	for (size_t i = 0; i < r->nmeta; i++) {
		free(r->meta[i].key);
		free(r->meta[i].value);
	}
	free(r->t);
	free(r->meta);
	free(r->order);
	free(r->label);
	free(r);
}

size_t st_count(const st_reader *r) { return r->n; }
const st_tensor *st_at(const st_reader *r, size_t i) { return i < r->n ? &r->t[i] : NULL; }
size_t st_meta_count(const st_reader *r) { return r->nmeta; }
const st_meta *st_meta_at(const st_reader *r, size_t i) { return i < r->nmeta ? &r->meta[i] : NULL; }
uint64_t st_data_size(const st_reader *r) { return r->data_size; }
const char *st_label(const st_reader *r) { return r->label; }

long st_find(const st_reader *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->t[i].name, name) == 0)
			return (long)i;
	return -1;
}

const char *st_meta_get(const st_reader *r, const char *key)
{
	for (size_t i = 0; i < r->nmeta; i++)
		if (strcmp(r->meta[i].key, key) == 0)
			return r->meta[i].value;
	return NULL;
}

static int skip_bytes(st_reader *r, uint64_t n)
{
	char buf[65536];
	while (n) {
		size_t k = n < sizeof buf ? (size_t)n : sizeof buf;
		if (ck_read_full(r->fd, buf, k, r->label) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

size_t st_data_order(const st_reader *r, size_t k) { return r->order[k]; }

long st_next(st_reader *r, int *err)
{
	*err = 0;
	if (r->left && skip_bytes(r, r->left) < 0) {
		*err = 1;
		return -1;
	}
	r->left = 0;
	if (r->next >= r->n) {
		char c;
		ssize_t k;
		do
			k = read(r->fd, &c, 1);
		while (k < 0 && errno == EINTR);
		if (k != 0) {
			*err = 1;
			ck_fail(k < 0 ? "%s: read error after the last tensor"
				      : "%s: trailing bytes after the last tensor",
				r->label);
		}
		r->cur = -1;
		return -1;
	}
	r->cur = (long)r->order[r->next++];
	r->left = r->t[r->cur].end - r->t[r->cur].begin;
	return r->cur;
}

int st_read(st_reader *r, void *buf, size_t n)
{
	if (r->cur < 0 || n > r->left)
		return ck_fail("%s: read past the end of a tensor", r->label);
	if (ck_read_full(r->fd, buf, n, r->label) < 0)
		return ck_fail("%s: tensor %s: stream ends before its data is complete", r->label,
			       r->t[r->cur].name);
	r->left -= n;
	return 0;
}

int st_read_all(st_reader *r, void **buf)
{
	*buf = NULL;
	if (r->cur < 0)
		return ck_fail("%s: no current tensor", r->label);
	uint64_t n = r->left;
	if (n == 0)
		return 0;
	if (n > SIZE_MAX)
		return ck_fail("%s: tensor %s too large for this machine", r->label,
			       r->t[r->cur].name);
	void *p = ck_malloc((size_t)n);
	if (!p)
		return ck_fail("%s: tensor %s: cannot allocate %llu bytes", r->label,
			       r->t[r->cur].name, (unsigned long long)n);
	if (st_read(r, p, (size_t)n) < 0) {
		free(p);
		return -1;
	}
	*buf = p;
	return 0;
}

/* ---- writer ---- */

#define WBUF_SIZE (1u << 20)

struct st_writer {
	st_tensor *t;
	size_t n, cap;
	st_meta *meta;
	size_t nmeta, metacap;
	uint64_t total;   /* declared data bytes */
	uint64_t written; /* data bytes accepted so far */
	int fd;         /* st_writer_begin's */
	ck_put_fn put;  /* where the bytes go; NULL before the header */
	void *put_ctx;
	char *label;
	unsigned char *buf;
	size_t buflen;
};

st_writer *st_writer_new(void)
{
	st_writer *w = ck_calloc(1, sizeof *w);
	if (w)
		w->fd = -1;
	return w;
}

void st_writer_free(st_writer *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++)
		free(w->t[i].name);
	for (size_t i = 0; i < w->nmeta; i++) {
		free(w->meta[i].key);
		free(w->meta[i].value);
	}
	free(w->t);
	free(w->meta);
	free(w->label);
	free(w->buf);
	free(w);
}

size_t st_writer_count(const st_writer *w) { return w->n; }

/* Strict UTF-8 check (the header must be valid UTF-8 for every reader). */
static int valid_utf8(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s++;
		int more;
		unsigned min;
		if (c < 0x80)
			continue;
		else if ((c & 0xe0) == 0xc0)
			more = 1, min = 0x80, c &= 0x1f;
		else if ((c & 0xf0) == 0xe0)
			more = 2, min = 0x800, c &= 0x0f;
		else if ((c & 0xf8) == 0xf0)
			more = 3, min = 0x10000, c &= 0x07;
		else
			return 0;
		for (int i = 0; i < more; i++) {
			if ((*s & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (*s++ & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
	}
	return 1;
}

int st_writer_add(st_writer *w, const char *name, ck_dtype dtype, int ndim,
		  const int64_t *shape)
{
	if (!valid_utf8((const unsigned char *)name))
		return ck_fail("tensor name is not valid UTF-8");
	if (strcmp(name, "__metadata__") == 0)
		return ck_fail("tensor name __metadata__ is reserved");
	if (dtype == CK_STRING || (unsigned)dtype >= CK_DTYPE_COUNT)
		return ck_fail("tensor %s: dtype %s cannot be streamed", name, ck_dtype_name(dtype));
	uint64_t nbytes, end;
	if (ndim < 0 || ndim > CK_MAX_DIMS ||
	    ck_shape_nbytes(dtype, ndim, shape, &nbytes) < 0 ||
	    ck_add_u64(w->total, nbytes, &end) < 0 || end > (uint64_t)INT64_MAX)
		return ck_fail("tensor %s: bad shape or size overflow", name);
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		st_tensor *t = ck_realloc(w->t, cap * sizeof *t);
		if (!t)
			return -1;
		w->t = t;
		w->cap = cap;
	}
	st_tensor *t = &w->t[w->n];
	memset(t, 0, sizeof *t);
	t->name = ck_strdup(name);
	if (!t->name)
		return -1;
	t->dtype = dtype;
	t->ndim = ndim;
	if (ndim)
		memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
	t->begin = w->total;
	t->end = end;
	w->total = end;
	w->n++;
	return 0;
}

int st_writer_meta(st_writer *w, const char *key, const char *value)
{
	if (!valid_utf8((const unsigned char *)key) || !valid_utf8((const unsigned char *)value))
		return ck_fail("metadata %s is not valid UTF-8", key);
	for (size_t i = 0; i < w->nmeta; i++)
		if (strcmp(w->meta[i].key, key) == 0) {
			char *v = ck_strdup(value);
			if (!v)
				return -1;
			free(w->meta[i].value);
			w->meta[i].value = v;
			return 0;
		}
	if (w->nmeta == w->metacap) {
		size_t cap = w->metacap ? 2 * w->metacap : 8;
		st_meta *m = ck_realloc(w->meta, cap * sizeof *m);
		if (!m)
			return -1;
		w->meta = m;
		w->metacap = cap;
	}
	st_meta *m = &w->meta[w->nmeta];
	m->key = ck_strdup(key);
	m->value = ck_strdup(value);
	if (!m->key || !m->value) {
		free(m->key);
		free(m->value);
		return -1;
	}
	w->nmeta++;
	return 0;
}

int st_writer_meta_from(st_writer *w, const st_reader *r)
{
	for (size_t i = 0; i < st_meta_count(r); i++)
		if (st_writer_meta(w, st_meta_at(r, i)->key, st_meta_at(r, i)->value) < 0)
			return -1;
	return 0;
}

/* JSON string as serde_json writes it: escapes for " \ and control
 * characters, non-ASCII left as raw UTF-8. */
static void json_str(ck_buf *b, const char *s)
{
	ck_buf_put(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		switch (*p) {
		case '"': ck_buf_put(b, "\\\"", 2); break;
		case '\\': ck_buf_put(b, "\\\\", 2); break;
		case '\n': ck_buf_put(b, "\\n", 2); break;
		case '\r': ck_buf_put(b, "\\r", 2); break;
		case '\t': ck_buf_put(b, "\\t", 2); break;
		case '\b': ck_buf_put(b, "\\b", 2); break;
		case '\f': ck_buf_put(b, "\\f", 2); break;
		default:
			if (*p < 0x20) {
				snprintf(esc, sizeof esc, "\\u%04x", *p);
				ck_buf_str(b, esc);
			} else {
				ck_buf_put(b, p, 1);
			}
		}
	}
	ck_buf_put(b, "\"", 1);
}

char *st_writer_header(st_writer *w, size_t *len)
{
	ck_buf b = {0};
	char num[64];
	ck_buf_put(&b, "{", 1);
	int first = 1;
	if (w->nmeta) {
		ck_buf_str(&b, "\"__metadata__\":{");
		for (size_t i = 0; i < w->nmeta; i++) {
			if (i)
				ck_buf_put(&b, ",", 1);
			json_str(&b, w->meta[i].key);
			ck_buf_put(&b, ":", 1);
			json_str(&b, w->meta[i].value);
		}
		ck_buf_put(&b, "}", 1);
		first = 0;
	}
	for (size_t i = 0; i < w->n; i++) {
		const st_tensor *t = &w->t[i];
		if (!first)
			ck_buf_put(&b, ",", 1);
		first = 0;
		json_str(&b, t->name);
		ck_buf_str(&b, ":{\"dtype\":\"");
		ck_buf_str(&b, ck_dtype_name(t->dtype));
		ck_buf_str(&b, "\",\"shape\":[");
		for (int d = 0; d < t->ndim; d++) {
			snprintf(num, sizeof num, "%s%lld", d ? "," : "", (long long)t->shape[d]);
			ck_buf_str(&b, num);
		}
		snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}",
			 (unsigned long long)t->begin, (unsigned long long)t->end);
		ck_buf_str(&b, num);
	}
	ck_buf_put(&b, "}", 1);
	/* pad with spaces so the data starts 8-byte aligned */
	while (!b.failed && b.len % 8)
		ck_buf_put(&b, " ", 1);
	if (b.failed) {
		free(b.p);
		ck_fail("out of memory building the safetensors header");
		return NULL;
	}
	*len = b.len;
	return b.p;
}

static int put_fd(void *ctx, const void *buf, size_t n)
{
	st_writer *w = ctx;
	return ck_write_full(w->fd, buf, n, w->label);
}

int st_writer_begin(st_writer *w, int fd, const char *label)
{
	w->fd = fd;
	return st_writer_begin_put(w, put_fd, w, label);
}

int st_writer_begin_put(st_writer *w, ck_put_fn put, void *ctx, const char *label)
{
	char **names = ck_calloc(w->n, sizeof *names);
	if (!names)
		return -1;
	for (size_t i = 0; i < w->n; i++)
		names[i] = w->t[i].name;
	const char *dup = find_duplicate(names, w->n);
	if (dup) {
		ck_fail("%s: tensor %s: name occurs twice", label, dup);
		free(names);
		return -1;
	}
	free(names);
	size_t hlen;
	char *h = st_writer_header(w, &hlen);
	if (!h)
		return -1;
	if (hlen > ST_MAX_HEADER) {
		free(h);
		return ck_fail("%s: header would be %zu bytes, over the %u-byte limit", label, hlen,
			       ST_MAX_HEADER);
	}
	unsigned char lenbuf[8];
	for (int i = 0; i < 8; i++)
		lenbuf[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
	w->label = ck_strdup(label);
	w->buf = ck_malloc(WBUF_SIZE);
	w->put = put;
	w->put_ctx = ctx;
	int rc = (!w->label || !w->buf || put(ctx, lenbuf, 8) < 0 || put(ctx, h, hlen) < 0) ? -1 : 0;
	free(h);
	return rc;
}

static int flush(st_writer *w)
{
	if (w->buflen && w->put(w->put_ctx, w->buf, w->buflen) < 0)
		return -1;
	w->buflen = 0;
	return 0;
}

int st_writer_write(st_writer *w, const void *buf, size_t n)
{
	if (!w->put)
		return ck_fail("safetensors writer: data before header");
	if (n > w->total - w->written)
		return ck_fail("%s: more data than the header declares", w->label);
	w->written += n;
	if (n >= WBUF_SIZE / 2) {
		if (flush(w) < 0)
			return -1;
		return w->put(w->put_ctx, buf, n);
	}
	if (w->buflen + n > WBUF_SIZE && flush(w) < 0)
		return -1;
	memcpy(w->buf + w->buflen, buf, n);
	w->buflen += n;
	return 0;
}

int st_writer_end(st_writer *w)
{
	if (!w->put)
		return ck_fail("safetensors writer: end before header");
	if (flush(w) < 0)
		return -1;
	if (w->written != w->total)
		return ck_fail("%s: %llu data bytes written, header declares %llu", w->label,
			       (unsigned long long)w->written, (unsigned long long)w->total);
	return 0;
}
