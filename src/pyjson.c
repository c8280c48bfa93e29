/* pyjson.c — see pyjson.h. */
#include "pyjson.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static void indent(ck_buf *b, int flags, int level)
{
	if (flags & PYJSON_ONE_LINE)
		return;
	ck_buf_put(b, "\n", 1);
	for (int i = 0; i < level; i++)
		ck_buf_put(b, "  ", 2);
}

/* ---- floats --------------------------------------------------------------- */

/* Significant digits and decimal exponent of "%.*e" text: "d.ddde±X". */
static void split_e(const char *s, char *digits, int *exp10)
{
	int n = 0;
	for (; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9')
			digits[n++] = *s;
	digits[n] = 0;
	*exp10 = *s == 'e' ? atoi(s + 1) : 0;
}

/* The p-digit decimal one unit above (dir 1) or below (dir -1) digits, as
 * "%.*e" text; 0 if the neighbour has a different number of digits. */
static int neighbour(const char *digits, int exp10, int neg, int dir, char *out, size_t len)
{
	char d[32];
	size_t n = strlen(digits);
	memcpy(d, digits, n + 1);
	size_t i = n;
	while (i > 0) {
		i--;
		if (dir > 0 && d[i] < '9') {
			d[i]++;
			break;
		}
		if (dir < 0 && d[i] > '0') {
			d[i]--;
			break;
		}
		d[i] = dir > 0 ? '0' : '9';
		if (i == 0)
			return 0; /* carried out of the first digit */
	}
	if (d[0] == '0')
		return 0;
	snprintf(out, len, "%s%c%s%se%+d", neg ? "-" : "", d[0], n > 1 ? "." : "", d + 1, exp10);
	return 1;
}

int pyjson_repr_double(double x, char *out, size_t len)
{
	if (!isfinite(x))
		return -1;
	int neg = signbit(x) != 0;
	if (x == 0) {
		snprintf(out, len, "%s0.0", neg ? "-" : "");
		return 0;
	}
	/* Shortest digit string that reads back as x (what Python's repr and
	 * dtoa mode 0 give): the correctly rounded p-digit decimal for the
	 * smallest p that round-trips, or, where the rounding interval is lopsided
	 * (powers of two), its neighbour in the last digit. */
	char s[48], digits[32] = "";
	int exp10 = 0, found = 0;
	for (int p = 1; p <= 17 && !found; p++) {
		snprintf(s, sizeof s, "%.*e", p - 1, x);
		if (strtod(s, NULL) == x) {
			split_e(s, digits, &exp10);
			found = 1;
			break;
		}
		char d[32], up[48], down[48];
		int e;
		split_e(s, d, &e);
		int okup = neighbour(d, e, neg, 1, up, sizeof up) && strtod(up, NULL) == x;
		int okdown = neighbour(d, e, neg, -1, down, sizeof down) && strtod(down, NULL) == x;
		if (okup && okdown) {
			long double lx = x;
			okup = fabsl(strtold(up, NULL) - lx) <= fabsl(strtold(down, NULL) - lx);
			okdown = !okup;
		}
		if (okup || okdown) {
			split_e(okup ? up : down, digits, &exp10);
			found = 1;
		}
	}
	if (!found) /* unreachable: 17 digits always round-trip */
		return -1;
	size_t nd = strlen(digits);
	while (nd > 1 && digits[nd - 1] == '0')
		digits[--nd] = 0;
	int decpt = exp10 + 1; /* x = 0.DIGITS * 10^decpt */
	char r[64];
	size_t k = 0;
	if (neg)
		r[k++] = '-';
	if (decpt <= -4 || decpt > 16) {
		r[k++] = digits[0];
		if (nd > 1) {
			r[k++] = '.';
			memcpy(r + k, digits + 1, nd - 1);
			k += nd - 1;
		}
		snprintf(r + k, sizeof r - k, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
	} else if (decpt <= 0) {
		r[k++] = '0';
		r[k++] = '.';
		for (int i = 0; i < -decpt; i++)
			r[k++] = '0';
		memcpy(r + k, digits, nd + 1);
	} else if ((size_t)decpt >= nd) {
		memcpy(r + k, digits, nd);
		k += nd;
		for (size_t i = nd; i < (size_t)decpt; i++)
			r[k++] = '0';
		memcpy(r + k, ".0", 3);
	} else {
		memcpy(r + k, digits, (size_t)decpt);
		k += (size_t)decpt;
		r[k++] = '.';
		memcpy(r + k, digits + decpt, nd - (size_t)decpt + 1);
	}
	if (strlen(r) + 1 > len)
		return -1;
	memcpy(out, r, strlen(r) + 1);
	return 0;
}

/* ---- strings -------------------------------------------------------------- */

static void put_u16(ck_buf *b, unsigned v)
{
	static const char hex[] = "0123456789abcdef";
	char e[6] = {'\\', 'u', hex[(v >> 12) & 15], hex[(v >> 8) & 15], hex[(v >> 4) & 15],
		     hex[v & 15]};
	ck_buf_put(b, e, 6);
}

/* A JSON string literal with ensure_ascii escaping: printable ASCII as is,
 * the usual short escapes, everything else \uXXXX. */
static void put_string(ck_buf *b, const char *s, size_t n)
{
	ck_buf_put(b, "\"", 1);
	size_t i = 0;
	while (i < n && !b->failed) {
		unsigned char c = (unsigned char)s[i];
		size_t run = i;
		while (run < n && (unsigned char)s[run] >= 0x20 && (unsigned char)s[run] < 0x7f &&
		       s[run] != '"' && s[run] != '\\')
			run++;
		if (run > i) {
			ck_buf_put(b, s + i, run - i);
			i = run;
			continue;
		}
		const char *esc = NULL;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		}
		if (esc) {
			ck_buf_str(b, esc);
			i++;
			continue;
		}
		if (c < 0x80) {
			put_u16(b, c);
			i++;
			continue;
		}
		/* Decode one UTF-8 sequence (jansson only holds valid UTF-8; check
		 * anyway). */
		int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : -1;
		if (extra < 0 || c > 0xf4 || (size_t)extra >= n - i) {
			b->failed = 1;
			ck_fail("invalid UTF-8 in a JSON string");
			return;
		}
		unsigned cp = c & (0x3fu >> extra);
		for (int k = 1; k <= extra; k++) {
			unsigned char cc = (unsigned char)s[i + (size_t)k];
			if ((cc & 0xc0) != 0x80) {
				b->failed = 1;
				ck_fail("invalid UTF-8 in a JSON string");
				return;
			}
			cp = (cp << 6) | (cc & 0x3f);
		}
		i += (size_t)extra + 1;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			put_u16(b, 0xd800 + (cp >> 10));
			put_u16(b, 0xdc00 + (cp & 0x3ff));
		} else {
			put_u16(b, cp);
		}
	}
	ck_buf_put(b, "\"", 1);
}

/* ---- values --------------------------------------------------------------- */

typedef struct {
	const char *key;
	const json_t *value;
	long long num; /* the key as an integer, for integer-keyed objects */
} member;

static int cmp_key(const void *a, const void *b)
{
	return strcmp(((const member *)a)->key, ((const member *)b)->key);
}

static int cmp_num(const void *a, const void *b)
{
	long long x = ((const member *)a)->num, y = ((const member *)b)->num;
	return (x > y) - (x < y);
}

static int key_as_int(const char *k, long long *v)
{
	char *end;
	if (!*k)
		return -1;
	*v = strtoll(k, &end, 10);
	return *end ? -1 : 0;
}

static void dump(ck_buf *b, const json_t *v, int flags, int level, int int_keys);

static void dump_object(ck_buf *b, const json_t *v, int flags, int level, int int_keys)
{
	size_t n = json_object_size(v);
	if (n == 0) {
		ck_buf_put(b, "{}", 2);
		return;
	}
	member *m = ck_calloc(n, sizeof *m);
	if (!m) {
		b->failed = 1;
		return;
	}
	size_t i = 0;
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)v, key, val)
	{
		m[i].key = key;
		m[i].value = val;
		if (int_keys && key_as_int(key, &m[i].num) < 0) {
			b->failed = 1;
			ck_fail("id2label: key \"%s\" is not an integer", key);
		}
		i++;
	}
	if (int_keys)
		qsort(m, n, sizeof *m, cmp_num);
	else if (flags & PYJSON_SORT_KEYS)
		qsort(m, n, sizeof *m, cmp_key);
	ck_buf_put(b, "{", 1);
	for (i = 0; i < n && !b->failed; i++) {
		indent(b, flags, level + 1);
		put_string(b, m[i].key, strlen(m[i].key));
		ck_buf_put(b, ": ", 2);
		int child_int = level == 0 && (flags & PYJSON_ID2LABEL_INT_KEYS) &&
				strcmp(m[i].key, "id2label") == 0 && json_is_object(m[i].value);
		dump(b, m[i].value, flags, level + 1, child_int);
		if (i + 1 < n)
			ck_buf_put(b, (flags & PYJSON_ONE_LINE) ? ", " : ",", (flags & PYJSON_ONE_LINE) ? 2 : 1);
	}
	indent(b, flags, level);
	ck_buf_put(b, "}", 1);
	free(m);
}

static void dump(ck_buf *b, const json_t *v, int flags, int level, int int_keys)
{
	if (b->failed)
		return;
	if (level >= PYJSON_MAX_DEPTH) {
		b->failed = 1;
		ck_fail("JSON nested deeper than %d levels", PYJSON_MAX_DEPTH);
		return;
	}
	char num[64];
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		dump_object(b, v, flags, level, int_keys);
		break;
	case JSON_ARRAY: {
		size_t n = json_array_size(v);
		if (n == 0) {
			ck_buf_put(b, "[]", 2);
			break;
		}
		ck_buf_put(b, "[", 1);
		for (size_t i = 0; i < n && !b->failed; i++) {
			indent(b, flags, level + 1);
			dump(b, json_array_get(v, i), flags, level + 1, 0);
			if (i + 1 < n)
				ck_buf_put(b, (flags & PYJSON_ONE_LINE) ? ", " : ",", (flags & PYJSON_ONE_LINE) ? 2 : 1);
		}
		indent(b, flags, level);
		ck_buf_put(b, "]", 1);
		break;
	}
	case JSON_STRING:
		put_string(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		ck_buf_str(b, num);
		break;
	case JSON_REAL:
		if (pyjson_repr_double(json_real_value(v), num, sizeof num) < 0) {
			b->failed = 1;
			ck_fail("a JSON number is not finite");
			break;
		}
		ck_buf_str(b, num);
		break;
	case JSON_TRUE:
		ck_buf_str(b, "true");
		break;
	case JSON_FALSE:
		ck_buf_str(b, "false");
		break;
	case JSON_NULL:
		ck_buf_str(b, "null");
		break;
	}
}

int pyjson_dumps(const json_t *v, int flags, char **text, size_t *len)
{
	ck_buf b = {0};
	dump(&b, v, flags, 0, 0);
	if (!(flags & PYJSON_ONE_LINE))
		ck_buf_put(&b, "\n", 1);
	if (b.failed) {
		free(b.p);
		return -1;
	}
	*text = b.p;
	*len = b.len;
	return 0;
}

int pyjson_write_file(const json_t *v, int flags, const char *path)
{
	char *text;
	size_t len;
	if (pyjson_dumps(v, flags, &text, &len) < 0)
		return -1;
	ck_out *o = ck_out_open(path);
	if (!o) {
		free(text);
		return -1;
	}
	int rc = ck_write_full(ck_out_fd(o), text, len, ck_out_path(o));
	free(text);
	if (rc < 0) {
		ck_out_abort(o);
		return -1;
	}
	return ck_out_commit(o);
}
