/* cfgmap.c — see cfgmap.h; the map syntax is in docs/config-map.md. */
#include "cfgmap.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gin.h"
#include "pyjson.h"
#include "util.h"

enum {
	MAP_MAX_BYTES = 1 << 20,
	MAX_TOKENS = 64,       /* per map line */
	MAX_EXPR_DEPTH = 16,   /* brackets in a derive expression */
	MAX_LIST = 1 << 16,    /* elements a derive may build */
	MAX_LABELS = 1 << 16,  /* num_labels */
	SHOW = 80,             /* characters of a value quoted in a message */
};

/* ---- growing arrays ------------------------------------------------------ */

static void *push_(void **v, size_t *n, size_t *cap, size_t size)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		void *p = ck_realloc(*v, c * size);
		if (!p)
			return NULL;
		*v = p;
		*cap = c;
	}
	char *e = (char *)*v + *n * size;
	memset(e, 0, size);
	(*n)++;
	return e;
}
#define VEC(T) struct { T *v; size_t n, cap; }
#define PUSH(vec) push_((void **)&(vec).v, &(vec).n, &(vec).cap, sizeof *(vec).v)

typedef VEC(char *) strvec;

static void strvec_free(strvec *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

/* ---- the map ------------------------------------------------------------- */

typedef enum { T_ANY, T_INT, T_SIZE, T_NUMBER, T_BOOL, T_STRING, T_LIST, T_OBJECT } vtype;

static const struct {
	const char *name, *what;
	vtype type;
} types[] = {
	{"any", "any value", T_ANY},           {"int", "an integer", T_INT},
	{"size", "a positive integer", T_SIZE}, {"number", "a number", T_NUMBER},
	{"bool", "true or false", T_BOOL},     {"string", "a string", T_STRING},
	{"list", "a list", T_LIST},            {"object", "an object", T_OBJECT},
};

typedef struct {
	char *key;
	vtype type;
	int nullable;
	int written;    /* field: written to config.json; param: read only */
	json_t *def;    /* default, or NULL */
	char *def_from; /* default: the value of this earlier key */
} field;

typedef struct {
	char *from, *to;
} rename_;

typedef struct {
	char *key;
	strvec bindings;
} ginkey;

typedef struct {
	json_t *match;
	json_t **out;
} row;

typedef struct {
	char *src;
	strvec outs;
	VEC(row) rows;
	size_t line;
} table;

typedef struct {
	char *key, *expr;
	size_t line;
	int weak; /* ?=: computed as a default, so any given value stands */
} derive;

typedef struct {
	char *key, *tensor; /* a name, or for count a pattern */
	int dim;            /* -1: count matching tensors; RANK_OF: rank in the checkpoint */
} shape;
enum { RANK_OF = -2 };

typedef struct {
	char *cls;
	strvec conds; /* tensor patterns; "!" in front: must be absent */
	char *note;   /* said (rq->notes) when the tensors pick this class */
} arch;

typedef struct {
	char *pattern, *cls;
	strvec keys;
	VEC(json_t *) vals;
} task;

struct cfgmap {
	char *path;
	char *model_type, *default_arch;
	VEC(field) fields;
	VEC(rename_) renames;
	strvec drops, needs, generation;
	int has_generation;
	VEC(ginkey) gins;
	VEC(table) tables;
	VEC(derive) derives;
	VEC(shape) shapes;
	VEC(arch) archs;
	VEC(task) tasks;
};

/* Keys every Hugging Face config knows; a map may declare them itself. */
static const struct {
	const char *key;
	vtype type;
	int nullable;
} generic_keys[] = {
	{"num_labels", T_SIZE, 0},     {"id2label", T_OBJECT, 0},    {"label2id", T_OBJECT, 0},
	{"finetuning_task", T_STRING, 1}, {"dtype", T_STRING, 1}, {"architectures", T_LIST, 1},
};

void cfgmap_free(cfgmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->fields.n; i++) {
		free(m->fields.v[i].key);
		free(m->fields.v[i].def_from);
		json_decref(m->fields.v[i].def);
	}
	free(m->fields.v);
	for (size_t i = 0; i < m->renames.n; i++) {
		free(m->renames.v[i].from);
		free(m->renames.v[i].to);
	}
	free(m->renames.v);
	strvec_free(&m->drops);
	strvec_free(&m->needs);
	strvec_free(&m->generation);
	for (size_t i = 0; i < m->gins.n; i++) {
		free(m->gins.v[i].key);
		strvec_free(&m->gins.v[i].bindings);
	}
	free(m->gins.v);
	for (size_t i = 0; i < m->tables.n; i++) {
		table *t = &m->tables.v[i];
		for (size_t r = 0; r < t->rows.n; r++) {
			json_decref(t->rows.v[r].match);
			for (size_t k = 0; k < t->outs.n; k++)
				json_decref(t->rows.v[r].out[k]);
			free(t->rows.v[r].out);
		}
		free(t->rows.v);
		free(t->src);
		strvec_free(&t->outs);
	}
	free(m->tables.v);
	for (size_t i = 0; i < m->derives.n; i++) {
		free(m->derives.v[i].key);
		free(m->derives.v[i].expr);
	}
	free(m->derives.v);
	for (size_t i = 0; i < m->shapes.n; i++) {
		free(m->shapes.v[i].key);
		free(m->shapes.v[i].tensor);
	}
	free(m->shapes.v);
	for (size_t i = 0; i < m->archs.n; i++) {
		free(m->archs.v[i].cls);
		free(m->archs.v[i].note);
		strvec_free(&m->archs.v[i].conds);
	}
	free(m->archs.v);
	for (size_t i = 0; i < m->tasks.n; i++) {
		task *t = &m->tasks.v[i];
		free(t->pattern);
		free(t->cls);
		strvec_free(&t->keys);
		for (size_t k = 0; k < t->vals.n; k++)
			json_decref(t->vals.v[k]);
		free(t->vals.v);
	}
	free(m->tasks.v);
	free(m->model_type);
	free(m->default_arch);
	free(m->path);
	free(m);
}

const char *cfgmap_model_type(const cfgmap *m) { return m->model_type; }
int cfgmap_has_generation(const cfgmap *m) { return m->has_generation; }

static const field *find_field(const cfgmap *m, const char *key)
{
	for (size_t i = 0; i < m->fields.n; i++)
		if (strcmp(m->fields.v[i].key, key) == 0)
			return &m->fields.v[i];
	return NULL;
}

/* A short printable form of a value for messages. */
static void show(const json_t *v, char *buf, size_t len)
{
	char *s = NULL;
	size_t n;
	if (!v || pyjson_dumps(v, PYJSON_ONE_LINE, &s, &n) < 0) {
		snprintf(buf, len, "(nothing)");
		return;
	}
	if (strlen(s) >= len && len > 4)
		snprintf(buf, len, "%.*s...", (int)(len - 4), s);
	else
		snprintf(buf, len, "%s", s);
	free(s);
}

static int type_ok(vtype t, int nullable, const json_t *v)
{
	if (json_is_null(v))
		return nullable || t == T_ANY;
	switch (t) {
	case T_ANY: return 1;
	case T_INT: return json_is_integer(v);
	case T_SIZE: return json_is_integer(v) && json_integer_value(v) > 0;
	case T_NUMBER: return json_is_number(v);
	case T_BOOL: return json_is_boolean(v);
	case T_STRING: return json_is_string(v);
	case T_LIST: return json_is_array(v);
	case T_OBJECT: return json_is_object(v);
	}
	return 0;
}

static const char *type_what(vtype t)
{
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (types[i].type == t)
			return types[i].what;
	return "?";
}

/* "ORIGIN: expected a positive integer, got "768"" when v does not fit. */
static int check_type(const field *f, const json_t *v, const char *origin)
{
	if (type_ok(f->type, f->nullable, v))
		return 0;
	char got[SHOW];
	show(v, got, sizeof got);
	return ck_fail("%s: expected %s%s, got %s", origin, type_what(f->type),
		       f->nullable ? " or null" : "", got);
}

/* ---- values during a translation ------------------------------------------ */

/* How firmly a value is known: a value may replace a weaker one; two
 * different values of the given kinds are a conflict. */
enum { S_DEFAULT, S_TENSOR, S_GIVEN, S_SET };

typedef struct {
	char *key;
	json_t *v;
	int strength;
	char *origin; /* "FILE: KEY" — where it came from */
} val;

typedef VEC(val) vals;

static void vals_free(vals *vs)
{
	for (size_t i = 0; i < vs->n; i++) {
		free(vs->v[i].key);
		free(vs->v[i].origin);
		json_decref(vs->v[i].v);
	}
	free(vs->v);
}

static val *vfind(const vals *vs, const char *key)
{
	for (size_t i = 0; i < vs->n; i++)
		if (strcmp(vs->v[i].key, key) == 0)
			return &vs->v[i];
	return NULL;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	char *s = NULL;
	if (vasprintf(&s, f, ap) < 0) {
		s = NULL;
		ck_fail("out of memory");
	}
	va_end(ap);
	return s;
}

/* Store v (a reference is taken over) under key, replacing what was there. */
static int vstore(vals *vs, const char *key, json_t *v, int strength, const char *origin)
{
	val *x = vfind(vs, key);
	char *o = ck_strdup(origin);
	if (!o) {
		json_decref(v);
		return -1;
	}
	if (!x) {
		if (!(x = PUSH(*vs)) || !(x->key = ck_strdup(key))) {
			if (x)
				vs->n--;
			free(o);
			json_decref(v);
			return -1;
		}
	}
	json_decref(x->v);
	free(x->origin);
	x->v = v;
	x->strength = strength;
	x->origin = o;
	return 0;
}

static int conflict(const val *x, const json_t *v, const char *origin)
{
	char a[SHOW], b[SHOW];
	show(x->v, a, sizeof a);
	show(v, b, sizeof b);
	return ck_fail("%s = %s, but %s = %s", x->origin, a, origin, b);
}

/* A value from the original, --set, the task or the tensors. It replaces a
 * default; --set replaces anything weaker; otherwise two different values
 * are a conflict. Declared keys are type-checked here, so that the message
 * names the file and key the value came from. */
static int give(const cfgmap *m, vals *vs, const char *key, json_t *v, int strength,
		const char *origin)
{
	const field *f = find_field(m, key);
	if (f && check_type(f, v, origin) < 0) {
		json_decref(v);
		return -1;
	}
	val *x = vfind(vs, key);
	if (x && x->strength > S_DEFAULT && !json_equal(x->v, v) &&
	    !(strength == S_SET && x->strength < S_SET)) {
		int rc = conflict(x, v, origin);
		json_decref(v);
		return rc;
	}
	if (x && json_equal(x->v, v) && x->strength >= strength) {
		json_decref(v);
		return 0;
	}
	return vstore(vs, key, v, strength, origin);
}

/* A value computed by a table or a derive from values whose weakest
 * strength is `strength`. It fills a missing or default key. When the key
 * was given: equal is fine; different is a conflict if the computation
 * rests on given values too, and otherwise the given value stands (as Hugging
 * Face lets a config.json's own value win over one computed from defaults). */
static int computed(vals *vs, const char *key, json_t *v, int strength, const char *origin)
{
	val *x = vfind(vs, key);
	if (x && x->strength > S_DEFAULT) {
		int same = json_equal(x->v, v);
		int rc = same || strength == S_DEFAULT ? 0 : conflict(x, v, origin);
		json_decref(v);
		return rc;
	}
	return vstore(vs, key, v, strength, origin);
}

/* ---- derive expressions ---------------------------------------------------- */

/* expr   := term { "+" term }
 * term   := factor { ("*" | "/" | "//") factor }
 * factor := JSON number | JSON string | true | false | null | KEY
 *         | len(KEY) | "[" [expr {"," expr}] "]" | "(" expr ")"
 * + adds integers or joins lists, * multiplies integers or repeats a list,
 * / divides integers exactly, // rounds down. With no values (checking the map) every KEY
 * reads as null and the result is null. */
typedef struct {
	const cfgmap *m;
	const char *where, *s;
	size_t i;
	const vals *vs;
	int strength, depth;
	const char *origin; /* origin of the first given value read, for messages */
} ex;

static json_t *ex_fail(ex *e, const char *what, const char *detail)
{
	ck_fail("%s: derive %s: %s%s", e->where, e->s, what, detail ? detail : "");
	return NULL;
}

static void ex_ws(ex *e)
{
	while (e->s[e->i] == ' ' || e->s[e->i] == '\t')
		e->i++;
}

static json_t *ex_sum(ex *e);

static int ex_name(ex *e, char *buf, size_t len)
{
	size_t n = 0;
	while (isalnum((unsigned char)e->s[e->i]) || e->s[e->i] == '_' || e->s[e->i] == '-' ||
	       e->s[e->i] == '.') {
		if (n + 1 >= len)
			return -1;
		buf[n++] = e->s[e->i++];
	}
	buf[n] = 0;
	return n ? 0 : -1;
}

static json_t *ex_lookup(ex *e, const char *name)
{
	if (!find_field(e->m, name))
		return ex_fail(e, "unknown key ", name);
	if (!e->vs)
		return json_null();
	const val *x = vfind(e->vs, name);
	if (!x || json_is_null(x->v))
		return ex_fail(e, "no value for ", name);
	if (x->strength < e->strength)
		e->strength = x->strength;
	if (!e->origin && x->strength > S_DEFAULT)
		e->origin = x->origin;
	return json_incref(x->v);
}

static json_t *ex_factor(ex *e)
{
	if (++e->depth > MAX_EXPR_DEPTH)
		return ex_fail(e, "nested too deeply", NULL);
	ex_ws(e);
	char c = e->s[e->i];
	json_t *v = NULL;
	if (c == '(') {
		e->i++;
		v = ex_sum(e);
		ex_ws(e);
		if (v && e->s[e->i++] != ')') {
			json_decref(v);
			v = ex_fail(e, "missing )", NULL);
		}
	} else if (c == '[') {
		e->i++;
		v = json_array();
		ex_ws(e);
		if (e->s[e->i] == ']')
			e->i++;
		else
			for (;;) {
				json_t *x = ex_sum(e);
				if (!x || json_array_append_new(v, x) < 0) {
					json_decref(v);
					v = NULL;
					break;
				}
				ex_ws(e);
				char d = e->s[e->i++];
				if (d == ']')
					break;
				if (d != ',') {
					json_decref(v);
					v = ex_fail(e, "expected , or ]", NULL);
					break;
				}
			}
	} else if (c == '"' || c == '-' || (c >= '0' && c <= '9')) {
		size_t start = e->i;
		if (c == '"') {
			for (e->i++; e->s[e->i] && e->s[e->i] != '"'; e->i++)
				if (e->s[e->i] == '\\' && e->s[e->i + 1])
					e->i++;
			if (e->s[e->i])
				e->i++;
		} else {
			/* digits, '.', and an exponent with its sign */
			for (e->i++;; e->i++) {
				char d = e->s[e->i], prev = e->s[e->i - 1];
				int sign = (d == '+' || d == '-') && (prev == 'e' || prev == 'E');
				if (!(d && (strchr("0123456789.eE", d) || sign)))
					break;
			}
		}
		json_error_t err;
		v = json_loadb(e->s + start, e->i - start, JSON_DECODE_ANY, &err);
		if (!v)
			v = ex_fail(e, "bad literal: ", err.text);
	} else {
		char name[128];
		if (ex_name(e, name, sizeof name) < 0)
			return ex_fail(e, "expected a value at: ", e->s + e->i);
		ex_ws(e);
		if (strcmp(name, "true") == 0)
			v = json_true();
		else if (strcmp(name, "false") == 0)
			v = json_false();
		else if (strcmp(name, "null") == 0)
			v = json_null();
		else if (strcmp(name, "len") == 0 && e->s[e->i] == '(') {
			e->i++;
			ex_ws(e);
			if (ex_name(e, name, sizeof name) < 0)
				return ex_fail(e, "len() wants a key", NULL);
			ex_ws(e);
			if (e->s[e->i++] != ')')
				return ex_fail(e, "missing ) after len(", NULL);
			json_t *x = ex_lookup(e, name);
			if (!x || !e->vs)
				return x;
			size_t n = json_is_array(x) ? json_array_size(x)
				   : json_is_object(x) ? json_object_size(x)
				   : json_is_string(x) ? json_string_length(x)
						       : (size_t)-1;
			json_decref(x);
			if (n == (size_t)-1)
				return ex_fail(e, "len() of a value without a length: ", name);
			v = json_integer((json_int_t)n);
		} else
			v = ex_lookup(e, name);
	}
	e->depth--;
	return v;
}

static json_t *ex_apply(ex *e, char op, json_t *a, json_t *b)
{
	json_t *r = NULL;
	if (!e->vs || json_is_null(a) || json_is_null(b)) {
		r = e->vs ? ex_fail(e, "null operand", NULL) : json_null();
		goto done;
	}
	int ia = json_is_integer(a), ib = json_is_integer(b);
	json_int_t x = ia ? json_integer_value(a) : 0, y = ib ? json_integer_value(b) : 0, z;
	if (ia && ib) {
		char num[96];
		if (op == '+' && !__builtin_add_overflow(x, y, &z))
			r = json_integer(z);
		else if (op == '*' && !__builtin_mul_overflow(x, y, &z))
			r = json_integer(z);
		else if (op == '/' && y != 0 && x % y == 0)
			r = json_integer(x / y);
		else if (op == 'f' && y > 0)
			r = json_integer(x / y - (x % y < 0));
		else if (op == 'f')
			r = ex_fail(e, "// by a number that is not positive", NULL);
		else if (op == '/') {
			snprintf(num, sizeof num, "%lld / %lld is not a whole number", (long long)x,
				 (long long)y);
			r = e->origin ? (ck_fail("%s: %s (derive %s)", e->origin, num, e->s), NULL)
				      : ex_fail(e, num, NULL);
		} else
			r = ex_fail(e, "integer overflow", NULL);
		goto done;
	}
	if (op == '+' && json_is_array(a) && json_is_array(b)) {
		if (json_array_size(a) + json_array_size(b) > MAX_LIST) {
			r = ex_fail(e, "list too long", NULL);
			goto done;
		}
		r = json_deep_copy(a);
		json_array_extend(r, b);
		goto done;
	}
	if (op == '*' && (json_is_array(a) ? ib : json_is_array(b) && ia)) {
		json_t *l = json_is_array(a) ? a : b;
		json_int_t k = json_is_array(a) ? y : x;
		if (k < 0 || (k > 0 && json_array_size(l) > MAX_LIST / (size_t)k)) {
			r = ex_fail(e, "bad list repeat count", NULL);
			goto done;
		}
		r = json_array();
		for (json_int_t i = 0; i < k; i++)
			json_array_extend(r, l);
		goto done;
	}
	r = ex_fail(e, "operands do not fit operator ", op == 'f' ? "//" : (char[]){op, 0});
done:
	json_decref(a);
	json_decref(b);
	return r;
}

static json_t *ex_term(ex *e)
{
	json_t *a = ex_factor(e);
	for (;;) {
		ex_ws(e);
		char op = e->s[e->i];
		if (!a || (op != '*' && op != '/'))
			return a;
		e->i++;
		if (op == '/' && e->s[e->i] == '/') { /* floor division: 'f' below */
			e->i++;
			op = 'f';
		}
		json_t *b = ex_factor(e);
		if (!b) {
			json_decref(a);
			return NULL;
		}
		a = ex_apply(e, op, a, b);
	}
}

static json_t *ex_sum(ex *e)
{
	json_t *a = ex_term(e);
	for (;;) {
		ex_ws(e);
		if (!a || e->s[e->i] != '+')
			return a;
		e->i++;
		json_t *b = ex_term(e);
		if (!b) {
			json_decref(a);
			return NULL;
		}
		a = ex_apply(e, '+', a, b);
	}
}

/* Evaluate expr; vs NULL only checks it. *strength gets the weakest
 * strength of the values read (S_SET when it reads none). */
static json_t *eval(const cfgmap *m, const char *where, const char *expr, const vals *vs,
		    int *strength, const char **origin)
{
	ex e = {m, where, expr, 0, vs, S_SET, 0, NULL};
	json_t *v = ex_sum(&e);
	ex_ws(&e);
	if (v && e.s[e.i]) {
		json_decref(v);
		return ex_fail(&e, "unexpected text at: ", e.s + e.i);
	}
	if (strength)
		*strength = e.strength;
	if (origin)
		*origin = e.origin;
	return v;
}

/* ---- reading the map ------------------------------------------------------ */

typedef struct {
	const char *s;
	size_t n;
} tok;

/* Split a line into tokens at blanks; a token may hold blanks inside "..."
 * or brackets (so JSON values are single tokens); a token starting with #
 * begins a comment. */
static int tokenize(const char *path, size_t line, const char *s, size_t n, tok *t, size_t *nt)
{
	size_t i = 0;
	*nt = 0;
	for (;;) {
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		if (i == n || s[i] == '#')
			return 0;
		if (*nt == MAX_TOKENS)
			return ck_fail("%s: line %zu: too many words", path, line);
		size_t start = i;
		int depth = 0, quote = 0;
		for (; i < n; i++) {
			char c = s[i];
			if (quote) {
				if (c == '\\' && i + 1 < n)
					i++;
				else if (c == '"')
					quote = 0;
			} else if (c == '"') {
				quote = 1;
			} else if (c == '[' || c == '{' || c == '(') {
				if (++depth > MAX_EXPR_DEPTH)
					return ck_fail("%s: line %zu: brackets nested too deeply", path, line);
			} else if (c == ']' || c == '}' || c == ')') {
				depth--;
			} else if ((c == ' ' || c == '\t' || c == '\r') && depth <= 0) {
				break;
			}
		}
		if (quote || depth > 0)
			return ck_fail("%s: line %zu: unclosed quote or bracket", path, line);
		t[*nt].s = s + start;
		t[(*nt)++].n = i - start;
	}
}

static char *tokdup(tok t)
{
	char *s = ck_malloc(t.n + 1);
	if (s) {
		memcpy(s, t.s, t.n);
		s[t.n] = 0;
	}
	return s;
}

static int tokeq(tok t, const char *w) { return t.n == strlen(w) && memcmp(t.s, w, t.n) == 0; }

static int is_name(tok t)
{
	if (t.n == 0 || !(isalpha((unsigned char)t.s[0]) || t.s[0] == '_'))
		return 0;
	for (size_t i = 0; i < t.n; i++)
		if (!(isalnum((unsigned char)t.s[i]) || t.s[i] == '_' || t.s[i] == '-' || t.s[i] == '.'))
			return 0;
	return !tokeq(t, "true") && !tokeq(t, "false") && !tokeq(t, "null");
}

/* A gin binding: [scope/...]configurable.parameter, each part a name. */
static int is_gin_binding(tok t)
{
	int start = 1;
	for (size_t i = 0; i < t.n; i++) {
		unsigned char c = (unsigned char)t.s[i];
		if (c == '/' || c == '.') {
			if (start)
				return 0;
			start = 1;
		} else if (isalpha(c) || c == '_' || (!start && isdigit(c))) {
			start = 0;
		} else {
			return 0;
		}
	}
	return t.n > 0 && !start;
}

static json_t *tokjson(const cfgmap *m, size_t line, tok t)
{
	json_error_t e;
	json_t *v = json_loadb(t.s, t.n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
	if (!v)
		ck_fail("%s: line %zu: %.*s is not a JSON value (%s)", m->path, line, (int)t.n, t.s,
			e.text);
	return v;
}

/* Push a copy of each token into s. */
static int push_words(strvec *s, const tok *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char **p = PUSH(*s);
		if (!p || !(*p = tokdup(t[i])))
			return -1;
	}
	return 0;
}

static int declared(const cfgmap *m, size_t line, const char *key)
{
	if (find_field(m, key))
		return 0;
	return ck_fail("%s: line %zu: %s is not declared by a field or param line", m->path, line,
		       key);
}

static int parse_field(cfgmap *m, size_t line, const tok *t, size_t nt, int written)
{
	if (nt != 4 || !is_name(t[1]))
		return ck_fail("%s: line %zu: want: %s KEY TYPE DEFAULT", m->path, line,
			       written ? "field" : "param");
	field *f = PUSH(m->fields);
	if (!f || !(f->key = tokdup(t[1])))
		return -1;
	f->written = written;
	for (size_t i = 0; i + 1 < m->fields.n; i++)
		if (strcmp(m->fields.v[i].key, f->key) == 0)
			return ck_fail("%s: line %zu: %s declared twice", m->path, line, f->key);
	tok ty = t[2];
	if (ty.n && ty.s[ty.n - 1] == '?') {
		f->nullable = 1;
		ty.n--;
	}
	size_t k = 0;
	while (k < sizeof types / sizeof types[0] && !tokeq(ty, types[k].name))
		k++;
	if (k == sizeof types / sizeof types[0])
		return ck_fail("%s: line %zu: unknown type %.*s (any, int, size, number, bool, "
			       "string, list, object; ? allows null)",
			       m->path, line, (int)t[2].n, t[2].s);
	f->type = types[k].type;
	if (is_name(t[3])) {
		if (!(f->def_from = tokdup(t[3])))
			return -1;
		const field *from = find_field(m, f->def_from);
		if (!from || from == f)
			return ck_fail("%s: line %zu: default %s is not a key declared above", m->path,
				       line, f->def_from);
		return 0;
	}
	if (!(f->def = tokjson(m, line, t[3])))
		return -1;
	char where[64];
	snprintf(where, sizeof where, "line %zu", line);
	if (check_type(f, f->def, where) < 0)
		return ck_fail("%s: %s", m->path, ck_errmsg());
	return 0;
}

static int parse_line(cfgmap *m, size_t line, const tok *t, size_t nt)
{
	tok d = t[0];
	if (tokeq(d, "model_type") || tokeq(d, "default-arch")) {
		char **dst = tokeq(d, "model_type") ? &m->model_type : &m->default_arch;
		if (nt != 2 || *dst)
			return ck_fail("%s: line %zu: want one %.*s line with one value", m->path, line,
				       (int)d.n, d.s);
		return (*dst = tokdup(t[1])) ? 0 : -1;
	}
	if (tokeq(d, "field") || tokeq(d, "param"))
		return parse_field(m, line, t, nt, tokeq(d, "field"));
	if (tokeq(d, "rename")) {
		if (nt != 4 || !tokeq(t[2], "->") || !is_name(t[1]) || !is_name(t[3]))
			return ck_fail("%s: line %zu: want: rename ORIGINAL -> KEY", m->path, line);
		rename_ *r = PUSH(m->renames);
		if (!r || !(r->from = tokdup(t[1])) || !(r->to = tokdup(t[3])))
			return -1;
		return declared(m, line, r->to);
	}
	if (tokeq(d, "drop") || tokeq(d, "need") || tokeq(d, "generation")) {
		strvec *s = tokeq(d, "drop") ? &m->drops : tokeq(d, "need") ? &m->needs : &m->generation;
		if (nt < 2 && !tokeq(d, "generation"))
			return ck_fail("%s: line %zu: want: %.*s KEY...", m->path, line, (int)d.n, d.s);
		if (tokeq(d, "generation"))
			m->has_generation = 1;
		if (push_words(s, t + 1, nt - 1) < 0)
			return -1;
		if (tokeq(d, "need"))
			for (size_t i = 1; i < nt; i++)
				if (declared(m, line, s->v[s->n - nt + i]) < 0)
					return -1;
		return 0;
	}
	if (tokeq(d, "gin")) {
		if (nt < 3)
			return ck_fail("%s: line %zu: want: gin KEY BINDING...", m->path, line);
		for (size_t i = 2; i < nt; i++)
			if (!is_gin_binding(t[i]))
				return ck_fail("%s: line %zu: %.*s is not a gin binding (scope/name.param)",
					       m->path, line, (int)t[i].n, t[i].s);
		ginkey *g = PUSH(m->gins);
		if (!g || !(g->key = tokdup(t[1])) || push_words(&g->bindings, t + 2, nt - 2) < 0)
			return -1;
		return declared(m, line, g->key);
	}
	if (tokeq(d, "table")) {
		if (nt < 4 || !tokeq(t[2], "->"))
			return ck_fail("%s: line %zu: want: table KEY -> KEY...", m->path, line);
		table *tb = PUSH(m->tables);
		if (!tb || !(tb->src = tokdup(t[1])) || push_words(&tb->outs, t + 3, nt - 3) < 0)
			return -1;
		tb->line = line;
		for (size_t i = 0; i < tb->outs.n; i++)
			if (declared(m, line, tb->outs.v[i]) < 0)
				return -1;
		return declared(m, line, tb->src);
	}
	if (tokeq(d, "row")) {
		if (!m->tables.n)
			return ck_fail("%s: line %zu: row before any table line", m->path, line);
		table *tb = &m->tables.v[m->tables.n - 1];
		if (nt != tb->outs.n + 3 || !tokeq(t[2], "->"))
			return ck_fail("%s: line %zu: want: row VALUE -> %zu value(s)", m->path, line,
				       tb->outs.n);
		row *r = PUSH(tb->rows);
		if (!r || !(r->out = ck_calloc(tb->outs.n, sizeof *r->out)) ||
		    !(r->match = tokjson(m, line, t[1])))
			return -1;
		for (size_t i = 0; i < tb->outs.n; i++)
			if (!(r->out[i] = tokjson(m, line, t[3 + i])))
				return -1;
		return 0;
	}
	if (tokeq(d, "derive")) {
		int weak = nt >= 4 && tokeq(t[2], "?=");
		if (nt < 4 || !(weak || tokeq(t[2], "=")) || !is_name(t[1]))
			return ck_fail("%s: line %zu: want: derive KEY = EXPRESSION (or ?=)", m->path, line);
		derive *dv = PUSH(m->derives);
		const char *end = t[nt - 1].s + t[nt - 1].n;
		if (!dv || !(dv->key = tokdup(t[1])) ||
		    !(dv->expr = tokdup((tok){t[3].s, (size_t)(end - t[3].s)})))
			return -1;
		dv->line = line;
		dv->weak = weak;
		if (declared(m, line, dv->key) < 0)
			return -1;
		char where[64];
		snprintf(where, sizeof where, "line %zu", line);
		json_t *v = eval(m, where, dv->expr, NULL, NULL, NULL);
		if (!v)
			return ck_fail("%s: %s", m->path, ck_errmsg());
		json_decref(v);
		return 0;
	}
	if (tokeq(d, "shape") || tokeq(d, "count") || tokeq(d, "rank")) {
		int is_count = !tokeq(d, "shape");
		if (nt != (is_count ? 3u : 4u))
			return ck_fail("%s: line %zu: want: %s", m->path, line,
				       tokeq(d, "rank")	 ? "rank KEY TENSOR"
				       : is_count	 ? "count KEY PATTERN"
							 : "shape KEY TENSOR DIM");
		shape *s = PUSH(m->shapes);
		if (!s || !(s->key = tokdup(t[1])) || !(s->tensor = tokdup(t[2])))
			return -1;
		s->dim = tokeq(d, "rank") ? RANK_OF : -1;
		if (!is_count) {
			uint64_t dim;
			char buf[8] = "";
			if (t[3].n < sizeof buf)
				memcpy(buf, t[3].s, t[3].n);
			if (ck_parse_u64(buf, &dim) < 0 || dim >= 16)
				return ck_fail("%s: line %zu: DIM must be 0..15", m->path, line);
			s->dim = (int)dim;
		}
		return declared(m, line, s->key);
	}
	if (tokeq(d, "arch")) {
		if (nt < 2 || !is_name(t[1]))
			return ck_fail("%s: line %zu: want: arch CLASS [TENSOR | !TENSOR]...", m->path,
				       line);
		arch *a = PUSH(m->archs);
		size_t nc = nt - 2;
		if (a && nc && t[nt - 1].s[0] == '"') { /* a note, the last word */
			json_t *v = tokjson(m, line, t[nt - 1]);
			if (!v || !json_is_string(v)) {
				json_decref(v);
				return v ? ck_fail("%s: line %zu: an arch note is a \"string\"", m->path, line) : -1;
			}
			a->note = ck_strdup(json_string_value(v));
			json_decref(v);
			if (!a->note)
				return -1;
			nc--;
		}
		return a && (a->cls = tokdup(t[1])) && push_words(&a->conds, t + 2, nc) == 0 ? 0 : -1;
	}
	if (tokeq(d, "task")) {
		if (nt < 3 || !is_name(t[2]))
			return ck_fail("%s: line %zu: want: task NAME CLASS [KEY=VALUE]...", m->path,
				       line);
		task *k = PUSH(m->tasks);
		if (!k || !(k->pattern = tokdup(t[1])) || !(k->cls = tokdup(t[2])))
			return -1;
		for (size_t i = 3; i < nt; i++) {
			const char *eq = memchr(t[i].s, '=', t[i].n);
			tok key = {t[i].s, eq ? (size_t)(eq - t[i].s) : 0};
			if (!eq || !is_name(key))
				return ck_fail("%s: line %zu: want KEY=VALUE, not %.*s", m->path, line,
					       (int)t[i].n, t[i].s);
			char **kp = PUSH(k->keys);
			json_t **vp = PUSH(k->vals);
			if (!kp || !vp || !(*kp = tokdup(key)) ||
			    !(*vp = tokjson(m, line, (tok){eq + 1, t[i].n - key.n - 1})))
				return -1;
			if (declared(m, line, *kp) < 0)
				return -1;
		}
		return 0;
	}
	return ck_fail("%s: line %zu: unknown directive %.*s", m->path, line, (int)d.n, d.s);
}

cfgmap *cfgmap_load(const char *dir)
{
	cfgmap *m = ck_calloc(1, sizeof *m);
	if (!m)
		return NULL;
	size_t plen = strlen(dir) + sizeof "/" CFGMAP_FILE;
	if (!(m->path = ck_malloc(plen))) {
		free(m);
		return NULL;
	}
	snprintf(m->path, plen, "%s/%s", dir, CFGMAP_FILE);
	char *text = NULL;
	size_t len;
	if (ck_read_file(m->path, MAP_MAX_BYTES, &text, &len) < 0)
		goto fail;
	/* The generic keys come first so that map lines may refer to them. */
	for (size_t i = 0; i < sizeof generic_keys / sizeof generic_keys[0]; i++) {
		field *f = PUSH(m->fields);
		if (!f || !(f->key = ck_strdup(generic_keys[i].key)))
			goto fail;
		f->type = generic_keys[i].type;
		f->nullable = generic_keys[i].nullable;
		f->written = 1;
	}
	ck_lines L = {.text = text, .len = len, .label = m->path};
	const char *s;
	size_t n;
	int more;
	while ((more = ck_line_next(&L, &s, &n)) > 0) {
		size_t line = L.line;
		tok t[MAX_TOKENS];
		size_t nt;
		if (tokenize(m->path, line, s, n, t, &nt) < 0)
			goto fail;
		if (nt == 0)
			continue;
		/* A map line may re-declare a generic key (e.g. a default dtype):
		 * drop the generic entry first. */
		if ((tokeq(t[0], "field") || tokeq(t[0], "param")) && nt > 1)
			for (size_t i = 0; i < sizeof generic_keys / sizeof generic_keys[0]; i++) {
				field *f = &m->fields.v[i];
				if (f->key[0] && tokeq(t[1], f->key))
					f->key[0] = 0; /* no longer found by name */
			}
		if (parse_line(m, line, t, nt) < 0)
			goto fail;
	}
	if (more < 0)
		goto fail;
	if (!m->model_type || !m->default_arch) {
		ck_fail("%s: needs a model_type line and a default-arch line", m->path);
		goto fail;
	}
	for (size_t i = 0; i < m->tables.n; i++)
		if (!m->tables.v[i].rows.n) {
			ck_fail("%s: line %zu: table without rows", m->path, m->tables.v[i].line);
			goto fail;
		}
	free(text);
	return m;
fail:
	free(text);
	cfgmap_free(m);
	return NULL;
}

/* ---- the translation -------------------------------------------------------- */

static const char *rename_of(const cfgmap *m, const char *key)
{
	for (size_t i = 0; i < m->renames.n; i++)
		if (strcmp(m->renames.v[i].from, key) == 0)
			return m->renames.v[i].to;
	/* transformers 4.56 renamed it; 4.57 and 5.x read dtype and warn about
	 * torch_dtype, so an HF config of any version gives dtype */
	if (strcmp(key, "torch_dtype") == 0)
		return "dtype";
	return key;
}

static int in(const strvec *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], key) == 0)
			return 1;
	return 0;
}

/* The member of doc at path ("a/b": member b of member a), or NULL with a
 * message. */
static json_t *member_at(json_t *doc, const char *label, const char *path)
{
	json_t *o = doc;
	for (const char *p = path; o;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		char key[256];
		if (n == 0 || n >= sizeof key) {
			ck_fail("%s: --at %s: empty or overlong member name", label, path);
			return NULL;
		}
		memcpy(key, p, n);
		key[n] = 0;
		o = json_is_object(o) ? json_object_get(o, key) : NULL;
		if (!o) {
			ck_fail("%s: no member %.*s (--at %s)", label, (int)(p + n - path), path, path);
			return NULL;
		}
		if (!slash)
			break;
		p = slash + 1;
	}
	return o;
}

/* A tensor in a checkpoint's values (ckpt-ls --values): not configuration. */
static int is_tensor_value(const json_t *v)
{
	return json_is_object(v) && json_object_get(v, "__tensor__") != NULL;
}

/* The original as JSON: every member is given under its (renamed) key. With
 * `at`, the object at that path in the document (a checkpoint's values),
 * whose tensors are left out. */
static int read_json(const cfgmap *m, vals *vs, const char *path, const char *at, const char *text,
		     size_t len, FILE *explain)
{
	json_error_t e;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
	if (!doc)
		return ck_fail("%s: line %d column %d: %s", path, e.line, e.column, e.text);
	char *label = at ? fmt("%s: %s", path, at) : fmt("%s", path);
	json_t *o = label && at ? member_at(doc, path, at) : doc;
	if (!label || !o)
		goto fail;
	if (!json_is_object(o)) {
		ck_fail("%s: not a JSON object", label);
		goto fail;
	}
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v)
	{
		if (strcmp(key, "transformers_version") == 0 || in(&m->drops, key))
			continue;
		if (at && is_tensor_value(v)) {
			if (explain)
				fprintf(explain, "%s: %s: a tensor, left out\n", label, key);
			continue;
		}
		char *origin = fmt("%s: %s", label, key);
		if (!origin)
			goto fail;
		if (strcmp(key, "model_type") == 0) {
			if (!json_is_string(v) || strcmp(json_string_value(v), m->model_type) != 0) {
				char got[SHOW];
				show(v, got, sizeof got);
				ck_fail("%s is %s, but %s makes \"%s\"", origin, got, m->path,
					m->model_type);
				free(origin);
				goto fail;
			}
			free(origin);
			continue;
		}
		int rc = give(m, vs, rename_of(m, key), json_incref(v), S_GIVEN, origin);
		free(origin);
		if (rc < 0)
			goto fail;
	}
	free(label);
	json_decref(doc);
	return 0;
fail:
	free(label);
	json_decref(doc);
	return -1;
}

/* The original as a gin file: the bindings the map's gin lines name. */
static int read_gin(const cfgmap *m, vals *vs, const char *path, const char *text, size_t len)
{
	gin_file *g = gin_parse(path, text, len);
	if (!g)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < m->gins.n && rc == 0; i++) {
		const ginkey *k = &m->gins.v[i];
		for (size_t b = 0; b < k->bindings.n; b++) {
			json_t *v;
			int found = gin_get(g, k->bindings.v[b], &v);
			if (found < 0) {
				rc = -1;
				break;
			}
			/* None is gin's "not set here" (T5 v1.1 binds
			 * LayerStack.norm_epsilon = None and sets the epsilon on
			 * its sublayer_rms_norm): the next binding, else the default */
			if (found && json_is_null(v)) {
				json_decref(v);
				continue;
			}
			if (found) {
				char *origin = fmt("%s: %s", path, k->bindings.v[b]);
				rc = origin ? give(m, vs, k->key, v, S_GIVEN, origin) : -1;
				if (!origin)
					json_decref(v);
				free(origin);
				break;
			}
		}
	}
	gin_free(g);
	return rc;
}

static int read_original(const cfgmap *m, vals *vs, const char *path, const char *at,
			 FILE *explain)
{
	char *text;
	size_t len;
	if (ck_read_file(path, at ? CFG_MAX_VALUES : CFG_MAX_BYTES, &text, &len) < 0)
		return -1;
	size_t i = 0;
	while (i < len && strchr(" \t\r\n", text[i]))
		i++;
	int rc;
	if (i < len && text[i] != '{' && m->gins.n && !at)
		rc = read_gin(m, vs, path, text, len);
	else
		rc = read_json(m, vs, path, at, text, len, explain);
	free(text);
	return rc;
}

static int apply_sets(const cfgmap *m, vals *vs, const cfg_request *rq)
{
	for (size_t i = 0; i < rq->nset; i++) {
		const char *s = rq->set[i], *eq = strchr(s, '=');
		if (!eq || eq == s)
			return ck_fail("--set %s: want KEY=VALUE", s);
		char *key = ck_malloc((size_t)(eq - s) + 1);
		if (!key)
			return -1;
		memcpy(key, s, (size_t)(eq - s));
		key[eq - s] = 0;
		json_t *v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
		if (!v)
			v = json_string(eq + 1); /* a bare word: a string */
		char *origin = fmt("--set %s", key);
		int rc = v && origin ? give(m, vs, rename_of(m, key), v, S_SET, origin)
				     : ck_fail("--set %s: value is not JSON or UTF-8 text", key);
		if (!origin)
			json_decref(v);
		free(origin);
		free(key);
		if (rc < 0)
			return -1;
	}
	if (rq->torch_dtype) {
		json_t *v = json_string(rq->torch_dtype);
		if (!v || give(m, vs, "dtype", v, S_SET, "--torch-dtype") < 0)
			return -1;
	}
	return 0;
}

/* --task: the class it wants (stored in *cls), finetuning_task and the
 * task's values. */
static int apply_task(const cfgmap *m, vals *vs, const char *name, const char **cls)
{
	char lower[128];
	size_t n = strlen(name);
	if (n == 0 || n >= sizeof lower)
		return ck_fail("--task: bad task name");
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	const task *t = NULL;
	for (size_t i = 0; i < m->tasks.n && !t; i++)
		if (fnmatch(m->tasks.v[i].pattern, lower, 0) == 0)
			t = &m->tasks.v[i];
	if (!t) {
		char known[512] = "";
		size_t k = 0;
		for (size_t i = 0; i < m->tasks.n && k < sizeof known; i++)
			k += (size_t)snprintf(known + k, sizeof known - k, "%s%s", i ? ", " : "",
					      m->tasks.v[i].pattern);
		return ck_fail("--task %s: %s knows no such task%s%s%s", name, m->path,
			       m->tasks.n ? " (known: " : "", known, m->tasks.n ? ")" : "");
	}
	*cls = t->cls;
	for (size_t i = 0; i <= t->keys.n; i++) {
		const char *key = i < t->keys.n ? t->keys.v[i] : "finetuning_task";
		json_t *v = i < t->keys.n ? json_incref(t->vals.v[i]) : json_string(lower);
		char *origin = fmt("--task %s: %s", lower, key);
		int rc = origin ? give(m, vs, key, v, S_GIVEN, origin) : -1;
		if (!origin)
			json_decref(v);
		free(origin);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int tensor_matches(const tensor_list *tl, const char *pattern)
{
	for (size_t i = 0; i < tl->n; i++)
		if (fnmatch(pattern, tl->v[i].name, 0) == 0)
			return 1;
	return 0;
}

static const char *torch_dtype_name(ck_dtype t)
{
	switch (t) {
	case CK_F16: return "float16";
	case CK_BF16: return "bfloat16";
	case CK_F32: return "float32";
	case CK_F64: return "float64";
	default: return NULL;
	}
}

/* rank lines: the number of axes of a tensor of the checkpoint itself. */
static int apply_ranks(const cfgmap *m, vals *vs, const cfg_request *rq)
{
	const char *label = rq->checkpoint_label ? rq->checkpoint_label : "checkpoint tensors";
	for (size_t i = 0; i < m->shapes.n; i++) {
		const shape *s = &m->shapes.v[i];
		const tl_tensor *t = s->dim == RANK_OF ? tensor_list_find(rq->checkpoint, s->tensor) : NULL;
		if (!t)
			continue;
		char *origin = fmt("%s: tensor %s has %d axes", label, t->name, t->ndim);
		int rc = origin ? give(m, vs, s->key, json_integer(t->ndim), S_TENSOR, origin) : -1;
		free(origin);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Sizes from tensor shapes, dtype, and the class the tensors make. */
static int apply_tensors(const cfgmap *m, vals *vs, const cfg_request *rq, const char **cls,
			 const char **note)
{
	const tensor_list *tl = rq->tensors;
	const char *label = rq->tensors_label ? rq->tensors_label : "tensors";
	for (size_t i = 0; i < m->shapes.n; i++) {
		const shape *s = &m->shapes.v[i];
		json_int_t n = 0;
		char *origin;
		if (s->dim == RANK_OF)
			continue;
		if (s->dim < 0) {
			for (size_t k = 0; k < tl->n; k++)
				n += fnmatch(s->tensor, tl->v[k].name, 0) == 0;
			if (n == 0)
				continue;
			origin = fmt("%s: %lld tensors %s", label, (long long)n, s->tensor);
		} else {
			const tl_tensor *t = tensor_list_find(tl, s->tensor);
			if (!t)
				continue;
			if (s->dim >= t->ndim)
				return ck_fail("%s: tensor %s: has %d dimensions, %s wants dimension %d",
					       label, t->name, t->ndim, m->path, s->dim);
			n = t->shape[s->dim];
			origin = fmt("%s: tensor %s dim %d", label, t->name, s->dim);
		}
		int rc = origin ? give(m, vs, s->key, json_integer(n), S_TENSOR, origin) : -1;
		free(origin);
		if (rc < 0)
			return -1;
	}
	for (size_t i = 0; i < tl->n; i++) {
		const char *dt = torch_dtype_name(tl->v[i].dtype);
		if (!dt)
			continue;
		val *x = vfind(vs, "dtype");
		if (x && x->strength == S_SET)
			break;
		/* The dtype of what we write, whatever the original config said. */
		char *origin = fmt("%s: tensor %s", label, tl->v[i].name);
		int rc = origin ? vstore(vs, "dtype", json_string(dt), S_TENSOR, origin) : -1;
		free(origin);
		if (rc < 0)
			return -1;
		break;
	}
	*cls = NULL;
	for (size_t i = 0; i < m->archs.n && !*cls; i++) {
		const arch *a = &m->archs.v[i];
		int ok = 1;
		for (size_t k = 0; k < a->conds.n && ok; k++) {
			const char *c = a->conds.v[k];
			ok = c[0] == '!' ? !tensor_matches(tl, c + 1) : tensor_matches(tl, c);
		}
		if (ok) {
			*cls = a->cls;
			*note = a->note;
		}
	}
	if (!*cls && m->archs.n)
		return ck_fail("%s: the tensors fit none of the arch lines of %s", label, m->path);
	if (!*cls)
		*cls = m->default_arch;
	return 0;
}

static int check_needs(const cfgmap *m, const vals *vs, const cfg_request *rq)
{
	char missing[512] = "";
	size_t k = 0, count = 0;
	for (size_t i = 0; i < m->needs.n; i++)
		if (!vfind(vs, m->needs.v[i]) && k < sizeof missing) {
			k += (size_t)snprintf(missing + k, sizeof missing - k, "%s%s", count ? ", " : "",
					      m->needs.v[i]);
			count++;
		}
	if (!count)
		return 0;
	return ck_fail("%s: not found: %s; give %s with --set KEY=VALUE%s",
		       rq->original ? rq->original : "no original config", missing,
		       count > 1 ? "them" : "it", rq->tensors ? "" : " or --tensors LIST");
}

static int apply_defaults(const cfgmap *m, vals *vs)
{
	for (size_t i = 0; i < m->fields.n; i++) {
		const field *f = &m->fields.v[i];
		if (!f->key[0] || vfind(vs, f->key) || (!f->def && !f->def_from))
			continue;
		if (f->def) {
			char *origin = fmt("%s: default %s", m->path, f->key);
			int rc = origin ? vstore(vs, f->key, json_deep_copy(f->def), S_DEFAULT, origin)
					: -1;
			free(origin);
			if (rc < 0)
				return -1;
			continue;
		}
		const val *from = vfind(vs, f->def_from);
		if (!from)
			continue;
		char *origin = fmt("%s: default %s = %s", m->path, f->key, f->def_from);
		if (!origin || vstore(vs, f->key, json_incref(from->v), from->strength, origin) < 0) {
			free(origin);
			return -1;
		}
		free(origin);
	}
	return 0;
}

static int apply_tables(const cfgmap *m, vals *vs)
{
	for (size_t i = 0; i < m->tables.n; i++) {
		const table *t = &m->tables.v[i];
		const val *src = vfind(vs, t->src);
		if (!src || json_is_null(src->v))
			continue;
		const row *r = NULL;
		for (size_t k = 0; k < t->rows.n && !r; k++)
			if (json_equal(t->rows.v[k].match, src->v))
				r = &t->rows.v[k];
		if (!r) {
			char got[SHOW], known[256] = "";
			show(src->v, got, sizeof got);
			size_t n = 0;
			for (size_t k = 0; k < t->rows.n && n < sizeof known; k++) {
				char one[SHOW];
				show(t->rows.v[k].match, one, sizeof one);
				n += (size_t)snprintf(known + n, sizeof known - n, "%s%s", k ? ", " : "",
						      one);
			}
			return ck_fail("%s: %s is not supported (known: %s)", src->origin, got, known);
		}
		int strength = src->strength;
		/* where the row's key came from too: a conflict names both sources */
		char *origin = fmt("%s, via %s: line %zu: table %s", src->origin, m->path, t->line,
				   t->src);
		if (!origin)
			return -1;
		for (size_t k = 0; k < t->outs.n; k++)
			if (computed(vs, t->outs.v[k], json_deep_copy(r->out[k]), strength, origin) < 0) {
				free(origin);
				return -1;
			}
		free(origin);
	}
	return 0;
}

static int apply_derives(const cfgmap *m, vals *vs)
{
	for (size_t i = 0; i < m->derives.n; i++) {
		const derive *d = &m->derives.v[i];
		char *where = fmt("%s: line %zu", m->path, d->line);
		if (!where)
			return -1;
		int strength;
		const char *origin;
		json_t *v = eval(m, where, d->expr, vs, &strength, &origin);
		char *o = v ? fmt("%s: derive %s = %s", where, d->key, d->expr) : NULL;
		int rc = o ? computed(vs, d->key, v, d->weak ? S_DEFAULT : strength, o) : -1;
		if (v && !o)
			json_decref(v);
		free(o);
		free(where);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* num_labels becomes id2label/label2id ("LABEL_0", ...) as Hugging Face
 * writes them; a given id2label must have that many labels. */
static int labels(vals *vs)
{
	val *n = vfind(vs, "num_labels");
	val *id2 = vfind(vs, "id2label");
	if (n) {
		json_int_t k = json_integer_value(n->v);
		if (k > MAX_LABELS)
			return ck_fail("%s: %lld labels is more than %d", n->origin, (long long)k,
				       MAX_LABELS);
		if (id2 && (json_int_t)json_object_size(id2->v) != k) {
			char a[SHOW];
			show(n->v, a, sizeof a);
			return ck_fail("%s has %zu labels, but %s = %s", id2->origin,
				       json_object_size(id2->v), n->origin, a);
		}
		if (!id2) {
			json_t *o = json_object();
			for (json_int_t i = 0; o && i < k; i++) {
				char key[32], lab[40];
				snprintf(key, sizeof key, "%lld", (long long)i);
				snprintf(lab, sizeof lab, "LABEL_%lld", (long long)i);
				json_object_set_new(o, key, json_string(lab));
			}
			if (!o || vstore(vs, "id2label", o, n->strength, n->origin) < 0)
				return -1;
			id2 = vfind(vs, "id2label");
		}
	}
	if (!id2 || vfind(vs, "label2id"))
		return 0;
	json_t *inv = json_object();
	const char *key;
	json_t *v;
	json_object_foreach(id2->v, key, v)
	{
		char *end;
		long long id = strtoll(key, &end, 10);
		if (!*key || *end || !json_is_string(v)) {
			json_decref(inv);
			return ck_fail("%s: want integer keys and label names", id2->origin);
		}
		json_object_set_new(inv, json_string_value(v), json_integer(id));
	}
	return vstore(vs, "label2id", inv, id2->strength, id2->origin);
}

static int cmp_val(const void *a, const void *b)
{
	return strcmp(((const val *)a)->key, ((const val *)b)->key);
}

int cfg_translate(const cfgmap *m, const cfg_request *rq, json_t **config, json_t **generation)
{
	vals vs = {0};
	json_t *out = NULL, *gen = NULL;
	const char *task_cls = NULL, *tensor_cls = NULL, *cls, *note = NULL;
	*config = NULL;
	if (generation)
		*generation = NULL;

	if ((rq->original && read_original(m, &vs, rq->original, rq->original_at, rq->explain) < 0) ||
	    apply_sets(m, &vs, rq) < 0)
		goto fail;
	if (rq->task && apply_task(m, &vs, rq->task, &task_cls) < 0)
		goto fail;
	if ((rq->checkpoint && apply_ranks(m, &vs, rq) < 0) ||
	    (rq->tensors && apply_tensors(m, &vs, rq, &tensor_cls, &note) < 0))
		goto fail;
	if (check_needs(m, &vs, rq) < 0 || apply_defaults(m, &vs) < 0 ||
	    apply_tables(m, &vs) < 0 || apply_derives(m, &vs) < 0 || labels(&vs) < 0)
		goto fail;
	for (size_t i = 0; i < vs.n; i++) {
		const field *f = find_field(m, vs.v[i].key);
		if (f && check_type(f, vs.v[i].v, vs.v[i].origin) < 0)
			goto fail;
	}

	/* The class: the checkpoint's tensors decide; a task must agree. */
	const val *given = vfind(&vs, "architectures");
	if (task_cls && tensor_cls && strcmp(task_cls, tensor_cls) != 0) {
		ck_fail("--task %s wants %s, but the tensors in %s make a %s", rq->task, task_cls,
			rq->tensors_label, tensor_cls);
		goto fail;
	}
	cls = tensor_cls ? tensor_cls : task_cls;
	json_t *archs = NULL;
	if (cls)
		archs = json_pack("[s]", cls);
	else if (given && json_is_array(given->v) && json_array_size(given->v) > 0) {
		for (size_t i = 0; i < json_array_size(given->v); i++)
			if (!json_is_string(json_array_get(given->v, i))) {
				ck_fail("%s: want a list of class names", given->origin);
				goto fail;
			}
		archs = json_incref(given->v);
	} else
		archs = json_pack("[s]", m->default_arch);

	out = json_object();
	if (!out || !archs || json_object_set_new(out, "architectures", archs) < 0 ||
	    json_object_set_new(out, "model_type", json_string(m->model_type)) < 0)
		goto fail;
	for (size_t i = 0; i < vs.n; i++) {
		const field *f = find_field(m, vs.v[i].key);
		const char *k = vs.v[i].key;
		if ((f && !f->written) || strcmp(k, "num_labels") == 0 ||
		    strcmp(k, "architectures") == 0)
			continue;
		if (json_object_set(out, k, vs.v[i].v) < 0)
			goto fail;
	}
	if (generation && m->has_generation) {
		gen = json_pack("{sb}", "_from_model_config", 1);
		for (size_t i = 0; gen && i < m->generation.n; i++) {
			json_t *v = json_object_get(out, m->generation.v[i]);
			if (v && !json_is_null(v) && json_object_set(gen, m->generation.v[i], v) < 0)
				goto fail;
		}
		if (!gen)
			goto fail;
	}
	if (rq->explain) {
		qsort(vs.v, vs.n, sizeof *vs.v, cmp_val);
		fprintf(rq->explain, "architectures = [\"%s\"]  (%s)\n",
			json_string_value(json_array_get(archs, 0)),
			tensor_cls ? rq->tensors_label : task_cls ? "--task" : given ? given->origin
									 : "default-arch");
		for (size_t i = 0; i < vs.n; i++) {
			const field *f = find_field(m, vs.v[i].key);
			char v[SHOW];
			show(vs.v[i].v, v, sizeof v);
			fprintf(rq->explain, "%s%s = %s  (%s)\n", f && !f->written ? "(param) " : "",
				vs.v[i].key, v, vs.v[i].origin);
		}
	}
	vals_free(&vs);
	*config = out;
	if (generation)
		*generation = gen;
	if (note && rq->notes && cls == tensor_cls) /* only on success: one line per problem */
		fprintf(rq->notes, "%s: %s: %s\n", rq->tensors_label, tensor_cls, note);
	return 0;
fail:
	json_decref(out);
	json_decref(gen);
	vals_free(&vs);
	return -1;
}
