/* gin.c — see gin.h. */
#include "gin.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

enum {
	MAX_BRACKETS = 64, /* nesting inside one binding's value */
	MAX_MACRO_CHAIN = 16,
};

typedef struct {
	char *key, *value;
	size_t line;
} binding;

struct gin_file {
	char *label;
	binding *b;
	size_t n, cap;
};

void gin_free(gin_file *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++) {
		free(g->b[i].key);
		free(g->b[i].value);
	}
	free(g->b);
	free(g->label);
	free(g);
}

static int is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '/';
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f'; }

static int starts_word(const char *s, size_t n, const char *w)
{
	size_t k = strlen(w);
	return n > k && memcmp(s, w, k) == 0 && is_space(s[k]);
}

/* Scan one physical line of a value into v: drop a # comment, track quotes
 * and brackets. *more is set when the value continues on the next line. */
static int scan_value_line(const gin_file *g, size_t line, const char *s, size_t n, ck_buf *v,
			   int *depth, int *more)
{
	size_t i = 0, end = n;
	char quote = 0;
	for (; i < n; i++) {
		char c = s[i];
		if (quote) {
			if (c == '\\' && i + 1 < n)
				i++;
			else if (c == quote)
				quote = 0;
			continue;
		}
		if (c == '#') {
			end = i;
			break;
		}
		if (c == '\'' || c == '"')
			quote = c;
		else if (c == '[' || c == '(' || c == '{') {
			if (++*depth > MAX_BRACKETS)
				return ck_fail("%s: line %zu: brackets nested too deeply", g->label, line);
		} else if (c == ']' || c == ')' || c == '}') {
			if (--*depth < 0)
				return ck_fail("%s: line %zu: unbalanced '%c'", g->label, line, c);
		}
	}
	if (quote)
		return ck_fail("%s: line %zu: string not closed on its line", g->label, line);
	while (end > 0 && is_space(s[end - 1]))
		end--;
	*more = *depth > 0;
	if (end > 0 && s[end - 1] == '\\') {
		end--;
		*more = 1;
	}
	if (v->len)
		ck_buf_put(v, " ", 1);
	ck_buf_put(v, s, end);
	return v->failed ? -1 : 0;
}

static int add_binding(gin_file *g, const char *key, size_t klen, ck_buf *value, size_t line)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		binding *b = ck_realloc(g->b, cap * sizeof *b);
		if (!b)
			return -1;
		g->b = b;
		g->cap = cap;
	}
	char *k = ck_malloc(klen + 1);
	if (!k)
		return -1;
	memcpy(k, key, klen);
	k[klen] = 0;
	g->b[g->n].key = k;
	g->b[g->n].value = value->p ? value->p : ck_strdup("");
	g->b[g->n].line = line;
	value->p = NULL;
	if (!g->b[g->n].value) {
		free(k);
		return -1;
	}
	g->n++;
	return 0;
}

gin_file *gin_parse(const char *label, const char *text, size_t len)
{
	gin_file *g = ck_calloc(1, sizeof *g);
	if (!g || !(g->label = ck_strdup(label))) {
		free(g);
		return NULL;
	}
	ck_lines L = {.text = text, .len = len, .label = label};
	const char *s, *c;
	size_t n, cn;
	int got;
	while ((got = ck_line_next(&L, &s, &n)) > 0) {
		size_t line = L.line;
		while (n && is_space(*s))
			s++, n--;
		if (n == 0 || *s == '#' || starts_word(s, n, "import") || starts_word(s, n, "from") ||
		    starts_word(s, n, "include"))
			continue;
		size_t k = 0;
		while (k < n && is_key_char(s[k]))
			k++;
		size_t eq = k;
		while (eq < n && is_space(s[eq]))
			eq++;
		if (k == 0 || eq == n || s[eq] != '=' || (s[0] >= '0' && s[0] <= '9')) {
			ck_fail("%s: line %zu: not a gin binding (KEY = VALUE)", label, line);
			goto fail;
		}
		size_t first = line;
		ck_buf v = {0};
		int depth = 0, more = 0;
		if (scan_value_line(g, line, s + eq + 1, n - eq - 1, &v, &depth, &more) < 0) {
			free(v.p);
			goto fail;
		}
		while (more && (got = ck_line_next(&L, &c, &cn)) > 0)
			if (scan_value_line(g, L.line, c, cn, &v, &depth, &more) < 0) {
				free(v.p);
				goto fail;
			}
		if (got < 0) {
			free(v.p);
			goto fail;
		}
		if (more) {
			free(v.p);
			ck_fail("%s: line %zu: value of %.*s does not end", label, first, (int)k, s);
			goto fail;
		}
		if (add_binding(g, s, k, &v, first) < 0) {
			free(v.p);
			goto fail;
		}
	}
	if (got < 0)
		goto fail;
	return g;
fail:
	gin_free(g);
	return NULL;
}

/* ---- values ----------------------------------------------------------------- */

typedef struct {
	const gin_file *g;
	const binding *b; /* the binding being read (for messages) */
	const char *key;  /* the key asked for */
	const char *s;
	size_t i;
	int macros; /* %macro references followed so far */
} reader;

static const binding *find(const gin_file *g, const char *key, size_t klen)
{
	for (size_t i = g->n; i-- > 0;)
		if (strlen(g->b[i].key) == klen && memcmp(g->b[i].key, key, klen) == 0)
			return &g->b[i];
	return NULL;
}

static json_t *bad(reader *r, const char *what)
{
	ck_fail("%s: line %zu: %s: %s", r->g->label, r->b->line, r->key, what);
	return NULL;
}

static void skip_ws(reader *r)
{
	while (is_space(r->s[r->i]) || r->s[r->i] == '\n')
		r->i++;
}

static json_t *value(reader *r, int depth);

static json_t *macro(reader *r, int depth)
{
	size_t start = ++r->i;
	while (is_key_char(r->s[r->i]))
		r->i++;
	if (r->i == start)
		return bad(r, "'%' without a macro name");
	const binding *m = find(r->g, r->s + start, r->i - start);
	if (!m) {
		ck_fail("%s: line %zu: %s: %%%.*s is not bound in the file", r->g->label, r->b->line,
			r->key, (int)(r->i - start), r->s + start);
		return NULL;
	}
	if (++r->macros > MAX_MACRO_CHAIN)
		return bad(r, "too many %macro references (a cycle?)");
	reader sub = {r->g, m, r->key, m->value, 0, r->macros};
	json_t *v = value(&sub, depth);
	if (v) {
		skip_ws(&sub);
		if (sub.s[sub.i]) {
			json_decref(v);
			return bad(&sub, "unexpected text after the value");
		}
	}
	r->macros = sub.macros;
	return v;
}

static json_t *string(reader *r)
{
	char q = r->s[r->i++];
	ck_buf out = {0};
	for (;;) {
		char c = r->s[r->i];
		if (!c) {
			free(out.p);
			return bad(r, "string not closed");
		}
		r->i++;
		if (c == q)
			break;
		if (c == '\\') {
			char e = r->s[r->i++];
			switch (e) {
			case '\\': case '\'': case '"': c = e; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			default:
				free(out.p);
				return bad(r, "unsupported escape in a string");
			}
		}
		ck_buf_put(&out, &c, 1);
		if (out.failed) {
			free(out.p);
			return NULL;
		}
	}
	json_t *v = json_stringn(out.p ? out.p : "", out.len);
	free(out.p);
	if (!v)
		return bad(r, "string is not valid UTF-8");
	return v;
}

static json_t *number(reader *r)
{
	const char *s = r->s + r->i;
	size_t n = 0;
	int real = 0;
	if (s[n] == '+' || s[n] == '-')
		n++;
	size_t digits = 0;
	for (;; n++) {
		char c = s[n];
		if (c >= '0' && c <= '9')
			digits++;
		else if (c == '.')
			real = 1;
		else if ((c == 'e' || c == 'E') && digits) {
			real = 1;
			if (s[n + 1] == '+' || s[n + 1] == '-')
				n++;
		} else
			break;
	}
	if (!digits)
		return bad(r, "not a literal value");
	char tmp[64];
	if (n >= sizeof tmp)
		return bad(r, "number too long");
	memcpy(tmp, s, n);
	tmp[n] = 0;
	char *end;
	errno = 0;
	json_t *v;
	if (real) {
		double d = strtod(tmp, &end);
		if (*end || !isfinite(d))
			return bad(r, "not a finite number");
		v = json_real(d);
	} else {
		long long x = strtoll(tmp, &end, 10);
		if (*end || errno == ERANGE)
			return bad(r, "integer out of range");
		v = json_integer(x);
	}
	r->i += n;
	if (!v)
		ck_fail("out of memory");
	return v;
}

static json_t *list(reader *r, int depth)
{
	char close = r->s[r->i] == '[' ? ']' : ')';
	r->i++;
	json_t *a = json_array();
	if (!a)
		return NULL;
	for (;;) {
		skip_ws(r);
		if (r->s[r->i] == close) {
			r->i++;
			return a;
		}
		json_t *e = value(r, depth + 1);
		if (!e || json_array_append_new(a, e) < 0) {
			json_decref(a);
			return NULL;
		}
		skip_ws(r);
		if (r->s[r->i] == ',')
			r->i++;
		else if (r->s[r->i] != close) {
			json_decref(a);
			return bad(r, "expected ',' or the end of the list");
		}
	}
}

static int word(reader *r, const char *w)
{
	size_t n = strlen(w);
	if (strncmp(r->s + r->i, w, n) == 0 && !is_key_char(r->s[r->i + n])) {
		r->i += n;
		return 1;
	}
	return 0;
}

static json_t *value(reader *r, int depth)
{
	if (depth > MAX_BRACKETS)
		return bad(r, "nested too deeply");
	skip_ws(r);
	char c = r->s[r->i];
	if (c == '%')
		return macro(r, depth);
	if (c == '\'' || c == '"')
		return string(r);
	if (c == '[' || c == '(')
		return list(r, depth);
	if (c == '@')
		return bad(r, "a @configurable reference, not a literal value");
	if (word(r, "True"))
		return json_true();
	if (word(r, "False"))
		return json_false();
	if (word(r, "None"))
		return json_null();
	return number(r);
}

int gin_get(const gin_file *g, const char *key, json_t **out)
{
	const binding *b = find(g, key, strlen(key));
	if (!b)
		return 0;
	reader r = {g, b, key, b->value, 0, 0};
	json_t *v = value(&r, 0);
	if (!v)
		return -1;
	skip_ws(&r);
	if (r.s[r.i]) {
		json_decref(v);
		bad(&r, "unexpected text after the value");
		return -1;
	}
	*out = v;
	return 1;
}
