/* pickle.c — see pickle.h. */
#include "pickle.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct pk_doc {
	pk_obj **all;
	size_t n, cap;
	pk_obj *root;
};

typedef struct {
	pk_doc *d;
	const unsigned char *buf;
	size_t len, pos, op; /* op: offset of the opcode being run */
	const char *label;
	const char *const *allowed;
	int truncated;
	pk_obj **stack;
	size_t sp, scap;
	size_t *marks;
	size_t nmarks, mcap;
	uint64_t *mkeys; /* memo: index + 1, 0 = empty slot */
	pk_obj **mvals;
	size_t mcount, mslots;
	pk_obj *none, *yes, *no, *small[256];
} vm;

const char *pk_kind_name(int kind)
{
	static const char *names[] = {"None", "bool",  "int",    "int", "float",
				      "str",  "bytes", "list",   "tuple", "set",
				      "dict", "global", "object", "persistent id"};
	return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

/* A printable, one-line rendering of a name from the file for messages. */
static const char *printable(const char *s, char *buf, size_t cap)
{
	size_t j = 0, i = 0;
	for (; s[i] && j + 4 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[j++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (s[i]) {
		memcpy(buf + j, "...", 3);
		j += 3;
	}
	buf[j] = 0;
	return buf;
}

static int bad(vm *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(vm *m, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return ck_fail("%s: pickle: at byte %zu: %s", m->label, m->op, msg);
}

/* ---- objects ---- */

static pk_obj *new_obj(vm *m, int kind, size_t extra)
{
	pk_doc *d = m->d;
	if (d->n >= PK_MAX_OBJECTS) {
		bad(m, "more than %u objects", PK_MAX_OBJECTS);
		return NULL;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 256;
		pk_obj **a = ck_realloc(d->all, cap * sizeof *a);
		if (!a)
			return NULL;
		d->all = a;
		d->cap = cap;
	}
	pk_obj *o = ck_calloc(1, sizeof *o + extra);
	if (!o)
		return NULL;
	o->kind = (uint8_t)kind;
	o->id = (uint32_t)d->n;
	d->all[d->n++] = o;
	return o;
}

static pk_obj *new_str(vm *m, int kind, const void *p, size_t n)
{
	pk_obj *o = new_obj(m, kind, n + 1);
	if (!o)
		return NULL;
	o->u.s.p = (char *)(o + 1);
	memcpy(o->u.s.p, p, n);
	o->u.s.p[n] = 0;
	o->u.s.n = n;
	return o;
}

static pk_obj *new_int(vm *m, int64_t v)
{
	if (v >= 0 && v < 256 && m->small[v])
		return m->small[v];
	pk_obj *o = new_obj(m, PK_INT, 0);
	if (!o)
		return NULL;
	o->u.i = v;
	if (v >= 0 && v < 256)
		m->small[v] = o;
	return o;
}

static pk_obj *new_bool(vm *m, int v)
{
	pk_obj **slot = v ? &m->yes : &m->no;
	if (!*slot && (*slot = new_obj(m, PK_BOOL, 0)))
		(*slot)->u.i = v;
	return *slot;
}

static pk_obj *new_none(vm *m)
{
	if (!m->none)
		m->none = new_obj(m, PK_NONE, 0);
	return m->none;
}

static int seq_push(pk_obj *o, pk_obj *v)
{
	if (o->u.seq.n == o->u.seq.cap) {
		size_t cap = o->u.seq.cap ? 2 * o->u.seq.cap : 4;
		pk_obj **a = ck_realloc(o->u.seq.v, cap * sizeof *a);
		if (!a)
			return -1;
		o->u.seq.v = a;
		o->u.seq.cap = cap;
	}
	o->u.seq.v[o->u.seq.n++] = v;
	return 0;
}

static pk_obj *new_seq(vm *m, int kind, pk_obj **items, size_t n)
{
	pk_obj *o = new_obj(m, kind, 0);
	if (!o)
		return NULL;
	if (n) {
		o->u.seq.v = ck_malloc(n * sizeof *items);
		if (!o->u.seq.v)
			return NULL;
		memcpy(o->u.seq.v, items, n * sizeof *items);
		o->u.seq.n = o->u.seq.cap = n;
	}
	return o;
}

static pk_obj *new_global(vm *m, const char *mod, size_t ml, const char *name, size_t nl)
{
	if (ml == 0 || nl == 0 || ml > 1024 || nl > 1024 || memchr(mod, 0, ml) || memchr(name, 0, nl)) {
		bad(m, "malformed global name");
		return NULL;
	}
	/* Python 2 module names, as Python 3's unpickler maps them. */
	const char *qm = mod;
	size_t qml = ml;
	if (ml == 11 && memcmp(mod, "__builtin__", 11) == 0)
		qm = "builtins", qml = 8;
	else if (ml == 8 && memcmp(mod, "copy_reg", 8) == 0)
		qm = "copyreg", qml = 7;
	pk_obj *o = new_obj(m, PK_GLOBAL, ml + 1 + nl + 1 + qml + 1 + nl + 1);
	if (!o)
		return NULL;
	char *p = (char *)(o + 1);
	o->u.g.module = p;
	memcpy(p, mod, ml);
	p += ml;
	*p++ = 0;
	o->u.g.name = p;
	memcpy(p, name, nl);
	p += nl;
	*p++ = 0;
	o->u.g.qual = p;
	memcpy(p, qm, qml);
	p[qml] = '.';
	memcpy(p + qml + 1, name, nl);
	p[qml + 1 + nl] = 0;
	return o;
}

int pk_is_global(const pk_obj *o, const char *qual)
{
	return o && o->kind == PK_GLOBAL && strcmp(o->u.g.qual, qual) == 0;
}

int pk_is_call(const pk_obj *o, const char *qual)
{
	return o && o->kind == PK_CALL && pk_is_global(o->u.call.fn, qual);
}

/* ---- the stack, marks and memo ---- */

static size_t base(const vm *m) { return m->nmarks ? m->marks[m->nmarks - 1] : 0; }

static int push(vm *m, pk_obj *o)
{
	if (!o)
		return -1;
	if (m->sp == m->scap) {
		if (m->scap >= PK_MAX_STACK)
			return bad(m, "more than %u values on the stack", PK_MAX_STACK);
		size_t cap = m->scap ? 2 * m->scap : 64;
		pk_obj **s = ck_realloc(m->stack, cap * sizeof *s);
		if (!s)
			return -1;
		m->stack = s;
		m->scap = cap;
	}
	m->stack[m->sp++] = o;
	return 0;
}

static pk_obj *pop(vm *m)
{
	if (m->sp <= base(m)) {
		bad(m, "stack underflow");
		return NULL;
	}
	return m->stack[--m->sp];
}

static pk_obj *top(vm *m)
{
	if (m->sp <= base(m)) {
		bad(m, "stack underflow");
		return NULL;
	}
	return m->stack[m->sp - 1];
}

static int mark(vm *m)
{
	if (m->nmarks == m->mcap) {
		if (m->mcap >= PK_MAX_MARKS)
			return bad(m, "more than %u nested MARKs", PK_MAX_MARKS);
		size_t cap = m->mcap ? 2 * m->mcap : 16;
		size_t *a = ck_realloc(m->marks, cap * sizeof *a);
		if (!a)
			return -1;
		m->marks = a;
		m->mcap = cap;
	}
	m->marks[m->nmarks++] = m->sp;
	return 0;
}

/* Pop everything above the last MARK: *items points into the stack (valid
 * until the next push), *n is their count. */
static int pop_mark(vm *m, pk_obj ***items, size_t *n)
{
	*items = NULL;
	*n = 0;
	if (!m->nmarks)
		return bad(m, "no MARK to pop to");
	size_t b = m->marks[--m->nmarks];
	*items = m->stack ? m->stack + b : NULL;
	*n = m->sp - b;
	m->sp = b;
	return 0;
}

static size_t memo_slot(const vm *m, uint64_t key)
{
	size_t mask = m->mslots - 1;
	size_t h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & mask;
	while (m->mkeys[h] && m->mkeys[h] != key)
		h = (h + 1) & mask;
	return h;
}

static int memo_put(vm *m, uint64_t idx, pk_obj *o)
{
	if (!o)
		return -1;
	if (idx > UINT32_MAX)
		return bad(m, "memo index %llu out of range", (unsigned long long)idx);
	if (2 * (m->mcount + 1) > m->mslots) {
		size_t slots = m->mslots ? 2 * m->mslots : 256;
		uint64_t *k = ck_calloc(slots, sizeof *k);
		pk_obj **v = ck_calloc(slots, sizeof *v);
		if (!k || !v) {
			free(k);
			free(v);
			return -1;
		}
		uint64_t *ok = m->mkeys;
		pk_obj **ov = m->mvals;
		size_t oslots = m->mslots;
		m->mkeys = k;
		m->mvals = v;
		m->mslots = slots;
		for (size_t i = 0; i < oslots; i++)
			if (ok[i]) {
				size_t h = memo_slot(m, ok[i]);
				m->mkeys[h] = ok[i];
				m->mvals[h] = ov[i];
			}
		free(ok);
		free(ov);
	}
	size_t h = memo_slot(m, idx + 1);
	if (!m->mkeys[h]) {
		m->mkeys[h] = idx + 1;
		m->mcount++;
	}
	m->mvals[h] = o;
	return 0;
}

static int memo_get(vm *m, uint64_t idx)
{
	if (m->mslots && idx <= UINT32_MAX) {
		size_t h = memo_slot(m, idx + 1);
		if (m->mkeys[h])
			return push(m, m->mvals[h]);
	}
	return bad(m, "memo index %llu was never stored", (unsigned long long)idx);
}

/* ---- reading operands ---- */

static int need(vm *m, uint64_t n)
{
	if (n > m->len - m->pos) {
		m->truncated = 1;
		return bad(m, "input ends inside an opcode (wants %llu more bytes, %zu left)",
			   (unsigned long long)n, m->len - m->pos);
	}
	return 0;
}

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int arg_uint(vm *m, int n, uint64_t *v)
{
	if (need(m, (uint64_t)n) < 0)
		return -1;
	*v = le(m->buf + m->pos, n);
	m->pos += (size_t)n;
	return 0;
}

/* A newline-terminated text operand (protocol 0). */
static int arg_line(vm *m, const char **s, size_t *n)
{
	const unsigned char *p = m->buf + m->pos;
	const unsigned char *nl = memchr(p, '\n', m->len - m->pos);
	if (!nl) {
		/* defined on failure too: gcc 14 cannot see that bad() returns -1 */
		*s = NULL;
		*n = 0;
		m->truncated = 1;
		return bad(m, "input ends inside a text operand");
	}
	*s = (const char *)p;
	*n = (size_t)(nl - p);
	m->pos += *n + 1;
	return 0;
}

static int parse_i64(const char *s, size_t n, int64_t *v)
{
	size_t i = 0;
	int neg = 0;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	if (i == n)
		return -1;
	uint64_t acc = 0;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || ck_mul_u64(acc, 10, &acc) < 0 ||
		    ck_add_u64(acc, (uint64_t)(s[i] - '0'), &acc) < 0)
			return -1;
	}
	if (acc > (uint64_t)INT64_MAX + (uint64_t)neg)
		return -1;
	*v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	return 0;
}

static int op_text_int(vm *m, int is_long)
{
	const char *s;
	size_t n;
	int64_t v;
	if (arg_line(m, &s, &n) < 0)
		return -1;
	if (!is_long && n == 2 && s[0] == '0' && (s[1] == '0' || s[1] == '1'))
		return push(m, new_bool(m, s[1] == '1'));
	if (is_long && n && s[n - 1] == 'L')
		n--;
	if (parse_i64(s, n, &v) < 0)
		return bad(m, "integer literal malformed or beyond 64 bits");
	return push(m, new_int(m, v));
}

/* Two's-complement little-endian (LONG1 / LONG4). */
static int op_long(vm *m, uint64_t n)
{
	if (need(m, n) < 0)
		return -1;
	const unsigned char *p = m->buf + m->pos;
	m->pos += (size_t)n;
	if (n == 0)
		return push(m, new_int(m, 0));
	unsigned char fill = (p[n - 1] & 0x80) ? 0xff : 0x00;
	uint64_t sig = n; /* drop redundant sign bytes */
	while (sig > 1 && p[sig - 1] == fill && ((p[sig - 2] & 0x80) == (fill & 0x80)))
		sig--;
	if (sig <= 8) {
		uint64_t v = le(p, (int)sig);
		if (sig < 8 && fill)
			v |= ~0ull << (8 * sig);
		return push(m, new_int(m, (int64_t)v));
	}
	return push(m, new_str(m, PK_BIGINT, p, (size_t)sig));
}

static int op_bytes(vm *m, int kind, uint64_t n)
{
	if (need(m, n) < 0)
		return -1;
	pk_obj *o = new_str(m, kind, m->buf + m->pos, (size_t)n);
	m->pos += (size_t)n;
	return push(m, o);
}

static size_t put_utf8(char *out, uint32_t c)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0'
	     : c >= 'a' && c <= 'f' ? c - 'a' + 10
	     : c >= 'A' && c <= 'F' ? c - 'A' + 10
				    : -1;
}

/* STRING: a quoted Python 2 repr with backslash escapes. */
static int op_text_string(vm *m)
{
	const char *s;
	size_t n;
	if (arg_line(m, &s, &n) < 0)
		return -1;
	if (n < 2 || (s[0] != '\'' && s[0] != '"') || s[n - 1] != s[0])
		return bad(m, "STRING operand is not quoted");
	s++;
	n -= 2;
	char *out = ck_malloc(n + 1);
	if (!out)
		return -1;
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 == n) {
			out[j++] = s[i];
			continue;
		}
		char c = s[++i];
		const char *simple = strchr("\\'\"abfnrtv", c);
		if (c && simple) {
			static const char to[] = "\\'\"\a\b\f\n\r\t\v";
			out[j++] = to[simple - "\\'\"abfnrtv"];
		} else if (c == 'x' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			out[j++] = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		} else if (c >= '0' && c <= '7') {
			int v = 0, k = 0;
			for (; k < 3 && i < n && s[i] >= '0' && s[i] <= '7'; k++, i++)
				v = v * 8 + (s[i] - '0');
			i--;
			out[j++] = (char)v;
		} else {
			out[j++] = '\\';
			out[j++] = c;
		}
	}
	pk_obj *o = new_str(m, PK_STR, out, j);
	free(out);
	return push(m, o);
}

/* UNICODE: raw-unicode-escape (\uXXXX, \UXXXXXXXX; other bytes Latin-1). */
static int op_text_unicode(vm *m)
{
	const char *s;
	size_t n;
	if (arg_line(m, &s, &n) < 0)
		return -1;
	char *out = ck_malloc(2 * n + 1);
	if (!out)
		return -1;
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		int w = 0;
		if (s[i] == '\\' && i + 1 < n && (s[i + 1] == 'u' || s[i + 1] == 'U'))
			w = s[i + 1] == 'u' ? 4 : 8;
		if (w && i + 2 + (size_t)w <= n) {
			uint32_t c = 0;
			int ok = 1;
			for (int k = 0; k < w; k++) {
				int h = hexval(s[i + 2 + (size_t)k]);
				ok &= h >= 0;
				c = c << 4 | (uint32_t)(h < 0 ? 0 : h);
			}
			if (!ok || c > 0x10ffff) {
				free(out);
				return bad(m, "bad \\u escape in UNICODE operand");
			}
			j += put_utf8(out + j, c);
			i += 1 + (size_t)w;
		} else {
			j += put_utf8(out + j, (unsigned char)s[i]);
		}
	}
	pk_obj *o = new_str(m, PK_STR, out, j);
	free(out);
	return push(m, o);
}

static int op_text_float(vm *m)
{
	const char *s;
	size_t n;
	if (arg_line(m, &s, &n) < 0)
		return -1;
	char tmp[64];
	if (n == 0 || n >= sizeof tmp)
		return bad(m, "malformed FLOAT operand");
	memcpy(tmp, s, n);
	tmp[n] = 0;
	char *end;
	double v = strtod(tmp, &end);
	if (*end)
		return bad(m, "malformed FLOAT operand");
	pk_obj *o = new_obj(m, PK_FLOAT, 0);
	if (o)
		o->u.f = v;
	return push(m, o);
}

/* ---- calls, objects and containers ---- */

static int is_allowed(const vm *m, const char *qual)
{
	for (const char *const *a = m->allowed; a && *a; a++)
		if (strcmp(*a, qual) == 0)
			return 1;
	return 0;
}

static int fill_from(vm *m, pk_obj *dst, pk_obj *src)
{
	if (src->kind != PK_LIST && src->kind != PK_TUPLE && src->kind != PK_SET)
		return bad(m, "%s built from a %s", pk_kind_name(dst->kind), pk_kind_name(src->kind));
	for (size_t i = 0; i < src->u.seq.n; i++) {
		pk_obj *it = src->u.seq.v[i];
		if (dst->kind != PK_DICT) {
			if (seq_push(dst, it) < 0)
				return -1;
			continue;
		}
		if ((it->kind != PK_TUPLE && it->kind != PK_LIST) || it->u.seq.n != 2)
			return bad(m, "OrderedDict built from something other than pairs");
		if (seq_push(dst, it->u.seq.v[0]) < 0 || seq_push(dst, it->u.seq.v[1]) < 0)
			return -1;
	}
	return 0;
}

/* bytes from a str holding code points < 256 (Latin-1) or taken as UTF-8. */
static int encode_bytes(vm *m, pk_obj *s, pk_obj *enc)
{
	const char *e = enc ? enc->u.s.p : "utf-8";
	if (strcmp(e, "utf-8") == 0 || strcmp(e, "utf8") == 0)
		return push(m, new_str(m, PK_BYTES, s->u.s.p, s->u.s.n));
	if (strcmp(e, "latin1") != 0 && strcmp(e, "latin-1") != 0 && strcmp(e, "iso-8859-1") != 0)
		return bad(m, "unsupported encoding in _codecs.encode");
	const unsigned char *p = (const unsigned char *)s->u.s.p;
	unsigned char *out = ck_malloc(s->u.s.n + 1);
	if (!out)
		return -1;
	size_t j = 0;
	for (size_t i = 0; i < s->u.s.n; i++) {
		if (p[i] < 0x80) {
			out[j++] = p[i];
		} else if ((p[i] == 0xc2 || p[i] == 0xc3) && i + 1 < s->u.s.n &&
			   (p[i + 1] & 0xc0) == 0x80) {
			out[j++] = (unsigned char)((p[i] & 0x03) << 6 | (p[i + 1] & 0x3f));
			i++;
		} else {
			free(out);
			return bad(m, "character beyond Latin-1 in _codecs.encode");
		}
	}
	pk_obj *o = new_str(m, PK_BYTES, out, j);
	free(out);
	return push(m, o);
}

/* The plain-data constructors interpreted here; 1 if handled. */
static int data_call(vm *m, const char *q, pk_obj *args, int *rc)
{
	pk_obj **a = args->u.seq.v;
	size_t n = args->u.seq.n;
	int kind = strcmp(q, "collections.OrderedDict") == 0 ? PK_DICT
		 : strcmp(q, "builtins.set") == 0 || strcmp(q, "builtins.frozenset") == 0 ? PK_SET
											  : -1;
	if (kind >= 0) {
		pk_obj *o = new_obj(m, kind, 0);
		*rc = !o ? -1 : n > 1 ? bad(m, "%s with %zu arguments", q, n)
			      : n == 1 ? fill_from(m, o, a[0])
				       : 0;
		if (*rc == 0)
			*rc = push(m, o);
		return 1;
	}
	if (strcmp(q, "_codecs.encode") == 0 || strcmp(q, "builtins.bytearray") == 0) {
		if (n == 0)
			*rc = push(m, new_str(m, PK_BYTES, "", 0));
		else if (n == 1 && a[0]->kind == PK_BYTES)
			*rc = push(m, a[0]);
		else if (n <= 2 && a[0]->kind == PK_STR && (n == 1 || a[1]->kind == PK_STR))
			*rc = encode_bytes(m, a[0], n == 2 ? a[1] : NULL);
		else
			*rc = bad(m, "unsupported arguments to %s", q);
		return 1;
	}
	return 0;
}

static int do_call(vm *m, pk_obj *fn, pk_obj *args, pk_obj *kwargs, int newobj, const char *op)
{
	char pb[160];
	if (!fn || !args)
		return -1;
	if (fn->kind != PK_GLOBAL)
		return bad(m, "%s of a %s (only globals can be called)", op, pk_kind_name(fn->kind));
	if (args->kind != PK_TUPLE)
		return bad(m, "%s arguments are a %s, not a tuple", op, pk_kind_name(args->kind));
	int rc;
	if (!kwargs && data_call(m, fn->u.g.qual, args, &rc))
		return rc;
	if (!newobj && !is_allowed(m, fn->u.g.qual))
		return bad(m, "refusing to call %s: not an allowed global (the file may be malicious)",
			   printable(fn->u.g.qual, pb, sizeof pb));
	pk_obj *o = new_obj(m, PK_CALL, 0);
	if (!o)
		return -1;
	o->flags = newobj ? PK_NEWOBJ : 0;
	o->u.call.fn = fn;
	o->u.call.args = args;
	o->u.call.kwargs = kwargs;
	return push(m, o);
}

static int do_build(vm *m)
{
	pk_obj *state = pop(m), *o = top(m);
	if (!state || !o)
		return -1;
	if (o->kind == PK_CALL)
		o->u.call.state = state;
	else if (o->kind == PK_DICT)
		o->u.seq.state = state;
	else
		return bad(m, "BUILD on a %s", pk_kind_name(o->kind));
	return 0;
}

/* The container SETITEMS / APPENDS add to: the object itself, or the items
 * of an inert object (a dict or list subclass). */
static pk_obj *item_target(vm *m, pk_obj *o, int kind, const char *op)
{
	if (!o)
		return NULL;
	if (o->kind == kind)
		return o;
	if (o->kind == PK_CALL) {
		if (!o->u.call.items)
			o->u.call.items = new_obj(m, kind, 0);
		if (o->u.call.items && o->u.call.items->kind == kind)
			return o->u.call.items;
		if (!o->u.call.items)
			return NULL;
	}
	bad(m, "%s on a %s", op, pk_kind_name(o->kind));
	return NULL;
}

static int add_items(vm *m, pk_obj *target, pk_obj **items, size_t n)
{
	if (!target)
		return -1;
	if (target->kind == PK_DICT && n % 2)
		return bad(m, "SETITEMS with an odd number of values");
	for (size_t i = 0; i < n; i++)
		if (seq_push(target, items[i]) < 0)
			return -1;
	return 0;
}

static int op_global(vm *m, int inst)
{
	const char *mod, *name;
	size_t ml, nl;
	if (arg_line(m, &mod, &ml) < 0 || arg_line(m, &name, &nl) < 0)
		return -1;
	pk_obj *g = new_global(m, mod, ml, name, nl);
	if (!g)
		return -1;
	if (!inst)
		return push(m, g);
	pk_obj **items;
	size_t n;
	if (pop_mark(m, &items, &n) < 0)
		return -1;
	return do_call(m, g, new_seq(m, PK_TUPLE, items, n), NULL, 0, "INST");
}

/* ---- the machine ---- */

static int step(vm *m, int *done)
{
	uint64_t u;
	int64_t iv;
	pk_obj *a, *b, *c, **items;
	size_t n;
	m->op = m->pos;
	if (need(m, 1) < 0)
		return -1;
	unsigned char opc = m->buf[m->pos++];
	switch (opc) {
	case '(': /* MARK */
		return mark(m);
	case '.': /* STOP */
		if (m->nmarks || m->sp != 1)
			return bad(m, "STOP with %zu values on the stack and %zu open MARKs", m->sp,
				   m->nmarks);
		m->d->root = m->stack[0];
		*done = 1;
		return 0;
	case '0': /* POP */
		if (m->sp > base(m)) {
			m->sp--;
			return 0;
		}
		return pop_mark(m, &items, &n);
	case '1': /* POP_MARK */
		return pop_mark(m, &items, &n);
	case '2': /* DUP */
		return (a = top(m)) ? push(m, a) : -1;
	case 'F':
		return op_text_float(m);
	case 'I':
		return op_text_int(m, 0);
	case 'L':
		return op_text_int(m, 1);
	case 'J': /* BININT */
		if (arg_uint(m, 4, &u) < 0)
			return -1;
		return push(m, new_int(m, (int32_t)(uint32_t)u));
	case 'K': /* BININT1 */
		if (arg_uint(m, 1, &u) < 0)
			return -1;
		return push(m, new_int(m, (int64_t)u));
	case 'M': /* BININT2 */
		if (arg_uint(m, 2, &u) < 0)
			return -1;
		return push(m, new_int(m, (int64_t)u));
	case 0x8a: /* LONG1 */
		return arg_uint(m, 1, &u) < 0 ? -1 : op_long(m, u);
	case 0x8b: /* LONG4 */
		if (arg_uint(m, 4, &u) < 0)
			return -1;
		if ((int32_t)(uint32_t)u < 0)
			return bad(m, "negative LONG4 length");
		return op_long(m, u);
	case 'N':
		return push(m, new_none(m));
	case 0x88:
		return push(m, new_bool(m, 1));
	case 0x89:
		return push(m, new_bool(m, 0));
	case 'G': /* BINFLOAT, big-endian */
		if (need(m, 8) < 0)
			return -1;
		u = 0;
		for (int i = 0; i < 8; i++)
			u = u << 8 | m->buf[m->pos + (size_t)i];
		m->pos += 8;
		if ((a = new_obj(m, PK_FLOAT, 0)))
			memcpy(&a->u.f, &u, 8);
		return push(m, a);
	case 'S':
		return op_text_string(m);
	case 'V':
		return op_text_unicode(m);
	case 'T': /* BINSTRING */
		if (arg_uint(m, 4, &u) < 0)
			return -1;
		if ((int32_t)(uint32_t)u < 0)
			return bad(m, "negative BINSTRING length");
		return op_bytes(m, PK_STR, u);
	case 'U': /* SHORT_BINSTRING */
	case 0x8c: /* SHORT_BINUNICODE */
		return arg_uint(m, 1, &u) < 0 ? -1 : op_bytes(m, PK_STR, u);
	case 'X': /* BINUNICODE */
		return arg_uint(m, 4, &u) < 0 ? -1 : op_bytes(m, PK_STR, u);
	case 0x8d: /* BINUNICODE8 */
		return arg_uint(m, 8, &u) < 0 ? -1 : op_bytes(m, PK_STR, u);
	case 'C': /* SHORT_BINBYTES */
		return arg_uint(m, 1, &u) < 0 ? -1 : op_bytes(m, PK_BYTES, u);
	case 'B': /* BINBYTES */
		return arg_uint(m, 4, &u) < 0 ? -1 : op_bytes(m, PK_BYTES, u);
	case 0x8e: /* BINBYTES8 */
	case 0x96: /* BYTEARRAY8 */
		return arg_uint(m, 8, &u) < 0 ? -1 : op_bytes(m, PK_BYTES, u);
	case ')':
		return push(m, new_seq(m, PK_TUPLE, NULL, 0));
	case ']':
		return push(m, new_seq(m, PK_LIST, NULL, 0));
	case '}':
		return push(m, new_seq(m, PK_DICT, NULL, 0));
	case 0x8f:
		return push(m, new_seq(m, PK_SET, NULL, 0));
	case 't': /* TUPLE */
	case 'l': /* LIST */
	case 'd': /* DICT */
	case 0x91: /* FROZENSET */
		if (pop_mark(m, &items, &n) < 0)
			return -1;
		if (opc == 'd' && n % 2)
			return bad(m, "DICT with an odd number of values");
		return push(m, new_seq(m, opc == 't' ? PK_TUPLE : opc == 'l' ? PK_LIST
						: opc == 'd'		 ? PK_DICT
									 : PK_SET,
				       items, n));
	case 0x85: /* TUPLE1..3 */
	case 0x86:
	case 0x87:
		n = (size_t)(opc - 0x84);
		if (m->sp < base(m) + n)
			return bad(m, "stack underflow");
		m->sp -= n;
		return push(m, new_seq(m, PK_TUPLE, m->stack + m->sp, n));
	case 'a': /* APPEND */
		if (!(a = pop(m)))
			return -1;
		return add_items(m, item_target(m, top(m), PK_LIST, "APPEND"), &a, 1);
	case 'e': /* APPENDS */
		if (pop_mark(m, &items, &n) < 0)
			return -1;
		return add_items(m, item_target(m, top(m), PK_LIST, "APPENDS"), items, n);
	case 's': /* SETITEM */
		if (m->sp < base(m) + 2)
			return bad(m, "stack underflow");
		m->sp -= 2;
		return add_items(m, item_target(m, top(m), PK_DICT, "SETITEM"), m->stack + m->sp, 2);
	case 'u': /* SETITEMS */
		if (pop_mark(m, &items, &n) < 0)
			return -1;
		return add_items(m, item_target(m, top(m), PK_DICT, "SETITEMS"), items, n);
	case 0x90: /* ADDITEMS */
		if (pop_mark(m, &items, &n) < 0)
			return -1;
		if (!(a = top(m)))
			return -1;
		if (a->kind != PK_SET)
			return bad(m, "ADDITEMS on a %s", pk_kind_name(a->kind));
		return add_items(m, a, items, n);
	case 'g': /* GET */
	case 'p': /* PUT */
	{
		const char *s;
		if (arg_line(m, &s, &n) < 0)
			return -1;
		if (parse_i64(s, n, &iv) < 0 || iv < 0)
			return bad(m, "malformed memo index");
		if (opc == 'g')
			return memo_get(m, (uint64_t)iv);
		return memo_put(m, (uint64_t)iv, top(m));
	}
	case 'h': /* BINGET */
		return arg_uint(m, 1, &u) < 0 ? -1 : memo_get(m, u);
	case 'j': /* LONG_BINGET */
		return arg_uint(m, 4, &u) < 0 ? -1 : memo_get(m, u);
	case 'q': /* BINPUT */
		return arg_uint(m, 1, &u) < 0 ? -1 : memo_put(m, u, top(m));
	case 'r': /* LONG_BINPUT */
		return arg_uint(m, 4, &u) < 0 ? -1 : memo_put(m, u, top(m));
	case 0x94: /* MEMOIZE */
		return memo_put(m, m->mcount, top(m));
	case 'c':
		return op_global(m, 0);
	case 'i':
		return op_global(m, 1);
	case 0x93: /* STACK_GLOBAL */
		b = pop(m);
		a = pop(m);
		if (!a || !b)
			return -1;
		if (a->kind != PK_STR || b->kind != PK_STR)
			return bad(m, "STACK_GLOBAL operands are not strings");
		return push(m, new_global(m, a->u.s.p, a->u.s.n, b->u.s.p, b->u.s.n));
	case 'R': /* REDUCE */
		b = pop(m);
		a = pop(m);
		return do_call(m, a, b, NULL, 0, "REDUCE");
	case 'o': /* OBJ */
		if (pop_mark(m, &items, &n) < 0)
			return -1;
		if (n == 0)
			return bad(m, "OBJ without a class");
		a = items[0];
		return do_call(m, a, new_seq(m, PK_TUPLE, items + 1, n - 1), NULL, 0, "OBJ");
	case 0x81: /* NEWOBJ */
		b = pop(m);
		a = pop(m);
		return do_call(m, a, b, NULL, 1, "NEWOBJ");
	case 0x92: /* NEWOBJ_EX */
		c = pop(m);
		b = pop(m);
		a = pop(m);
		if (c && c->kind != PK_DICT)
			return bad(m, "NEWOBJ_EX keyword arguments are not a dict");
		return do_call(m, a, b, c, 1, "NEWOBJ_EX");
	case 'b':
		return do_build(m);
	case 'P': /* PERSID */
	{
		const char *s;
		if (arg_line(m, &s, &n) < 0)
			return -1;
		a = new_str(m, PK_STR, s, n);
		goto persid;
	}
	case 'Q': /* BINPERSID */
		a = pop(m);
	persid:
		if (!a || !(b = new_obj(m, PK_PERSID, 0)))
			return -1;
		b->u.pid = a;
		return push(m, b);
	case 0x80: /* PROTO */
		if (arg_uint(m, 1, &u) < 0)
			return -1;
		if (u > 5)
			return bad(m, "unsupported pickle protocol %llu", (unsigned long long)u);
		return 0;
	case 0x95: /* FRAME: a length prefix; the opcodes follow as usual */
		return arg_uint(m, 8, &u) < 0 ? -1 : need(m, u);
	case 0x82:
	case 0x83:
	case 0x84:
		return bad(m, "extension-registry opcode (EXT%d) refused", opc == 0x82 ? 1 : opc == 0x83 ? 2 : 4);
	case 0x97:
	case 0x98:
		return bad(m, "out-of-band buffer opcode refused");
	default:
		return bad(m, "unknown opcode 0x%02x", opc);
	}
}

int pk_load(const void *buf, size_t len, const char *label, const char *const *allowed,
	    pk_doc **out, size_t *consumed)
{
	*out = NULL;
	vm m;
	memset(&m, 0, sizeof m);
	m.buf = buf;
	m.len = len;
	m.label = label ? label : "-";
	m.allowed = allowed;
	m.d = ck_calloc(1, sizeof *m.d);
	if (!m.d)
		return -1;
	int done = 0, rc = 0;
	while (!done && rc == 0)
		rc = step(&m, &done);
	free(m.stack);
	free(m.marks);
	free(m.mkeys);
	free(m.mvals);
	if (rc < 0) {
		pk_free(m.d);
		return m.truncated ? PK_TRUNCATED : -1;
	}
	*out = m.d;
	if (consumed)
		*consumed = m.pos;
	return 0;
}

void pk_free(pk_doc *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		pk_obj *o = d->all[i];
		if (o->kind == PK_LIST || o->kind == PK_TUPLE || o->kind == PK_SET ||
		    o->kind == PK_DICT)
			free(o->u.seq.v);
		free(o);
	}
	free(d->all);
	free(d);
}

pk_obj *pk_root(const pk_doc *d) { return d->root; }
size_t pk_object_count(const pk_doc *d) { return d->n; }
pk_obj *pk_object(const pk_doc *d, size_t id) { return id < d->n ? d->all[id] : NULL; }
