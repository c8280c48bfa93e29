/* rules.c — see rules.h; the language is described in models/RULES.md.
 *
 * A pattern compiles to a short list of tokens (literal text, `*`, `**`,
 * captures). Matching is a backtracking search over those tokens with an
 * explicit stack and a memo of failed (token, position) pairs, so it needs
 * no recursion and takes at most tokens x length^2 steps on any name. */
#include "rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invfreq.h"
#include "tensorops.h"
#include "util.h"

#define MAX_TOKS 64       /* tokens in one pattern */
#define MAX_CAPS 16       /* captures in one pattern */
#define MAX_WORDS 256     /* words in one word set */
#define MAX_LETS 256      /* `let` definitions in one file */
#define MAX_IDENT 32      /* length of a capture or set name */
#define MAX_LINE_TOKS 64  /* words on one rule line */
#define MAX_PIECES 65536  /* outputs of one split */
#define MAX_ARG_VALUE 256 /* characters of an `arg` value */

/* ---- compiled form ------------------------------------------------------ */

enum {
	T_LIT,    /* literal text */
	T_OPT,    /* [text]: the text or nothing */
	T_STAR,   /* *: any text inside one name part */
	T_DIRS,   /* ** before a slash: any number of whole parts */
	T_ALL,    /* ** at the end: the rest of the name (at least one character) */
	T_NUMBER, /* {x:number} */
	T_TEXT,   /* {x:text} */
	T_SET,    /* {x:a|b} or {x} with `let x = a | b` */
};

typedef struct {
	char **from; /* words as they appear in input names */
	char **to;   /* as written into output names (NULL: unchanged) */
	int n;
} wordset;

typedef struct {
	char *name;
	int kind; /* T_NUMBER, T_TEXT or T_SET */
	wordset *set;
	int is_arg; /* `arg`: a one-word set, the value given or the default */
} letdef;

typedef struct {
	int kind;
	char *lit; /* T_LIT, T_OPT */
	size_t len;
	const wordset *set; /* T_SET */
	int cap;            /* capture slot, -1 if not captured */
} tok;

typedef struct {
	char *name;
	int kind;
	const wordset *set;
} capdef;

typedef struct {
	char *text; /* as written, for messages */
	tok *t;
	int n;
	capdef cap[MAX_CAPS];
	int ncap;
	wordset **owned; /* inline word sets */
	int nowned;
} pattern;

enum { P_LIT, P_CAP, P_SPLIT };
typedef struct {
	int kind;
	char *lit;
	int cap;
} tpart;

typedef struct {
	tpart *p;
	int n;
} tmpl;

enum { OP_TRANSPOSE, OP_SQUEEZE, OP_RESHAPE, OP_CAST, OP_SPLIT, OP_COUNT };
static const char *const op_names[OP_COUNT] = {"transpose", "squeeze", "reshape", "cast", "split"};

typedef struct {
	int kind;
	int axis;      /* split */
	int ndim;      /* reshape */
	int64_t dims[CK_MAX_DIMS];
	ck_dtype dtype; /* cast */
} op;

enum { R_KEEP, R_RENAME, R_DROP, R_REFUSE, R_ALIAS, R_REQUIRE, R_COPY, R_MAKE };
enum { MAKE_EYE = 1, MAKE_ZEROS, MAKE_INV_FREQ };

/* One size of a `make` shape: a number, or axis `dim` of the output `ref`. */
typedef struct {
	int64_t n;
	char *ref;
	int dim;
} msize;

typedef struct {
	int kind, line;
	pattern pat;
	tmpl tpl; /* rename: the new name; alias: the alias name */
	op ops[OP_COUNT];
	int nops;
	char *split_name;
	const wordset *split_set; /* split into these parts; NULL: one per index */
	char *msg;                /* refuse; require (optional) */
	int if_missing;           /* alias, copy, make */
	char *when;               /* alias, copy, make: only if this tensor is produced */
	int rank;                 /* keep/rename: only tensors of rank-1 axes (0: any) */
	pattern over;             /* copy ... over PATTERN: one copy per number it captures */
	int has_over;
	int make;                 /* make: MAKE_EYE, MAKE_ZEROS or MAKE_INV_FREQ */
	msize size[CK_MAX_DIMS];  /* make: the shape (inv_freq: DIM alone) */
	int nsize;
	float base;               /* make ... inv_freq BASE */
	char *cond;               /* keep, rename, drop: counts only when the input has */
	int cond_unless;          /* (unless: has not) the tensor cond */
} rule;

struct rules {
	char *label;
	rule *r;
	size_t n, cap;
	letdef lets[MAX_LETS];
	int nlets;
};

/* ---- small helpers ------------------------------------------------------ */

typedef struct {
	const char *label;
	int line;
	rules *R;
	const char *const *args; /* NAME=VALUE, from the caller */
	size_t nargs;
	unsigned char *arg_used;
	int if_line;  /* line of the open `if`, 0 outside a block */
	int if_true;  /* the open block's condition holds */
} parser;

static int perr(const parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(const parser *ps, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return ck_fail("%s:%d: %s", ps->label, ps->line, msg);
}

static int is_ident(const char *s, size_t n)
{
	if (n == 0 || n > MAX_IDENT)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			 (i > 0 && c >= '0' && c <= '9');
		if (!ok)
			return 0;
	}
	return 1;
}

/* Characters with a meaning in patterns; never literal. */
static int is_special(char c)
{
	return c == '{' || c == '}' || c == '[' || c == ']' || c == '*' || c == '|' || c == '"';
}

static char *dupn(const char *s, size_t n)
{
	char *p = ck_malloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = 0;
	}
	return p;
}

static void wordset_free(wordset *w)
{
	if (!w)
		return;
	for (int i = 0; i < w->n; i++) {
		free(w->from[i]);
		free(w->to[i]);
	}
	free(w->from);
	free(w->to);
	free(w);
}

static const char *trim(const char *s, size_t *n)
{
	while (*n && (*s == ' ' || *s == '\t'))
		s++, (*n)--;
	while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
		(*n)--;
	return s;
}

static int check_word(const parser *ps, const char *w, size_t n)
{
	if (n == 0)
		return perr(ps, "empty word in a word list (two | in a row?)");
	for (size_t i = 0; i < n; i++)
		if (is_special(w[i]) || (unsigned char)w[i] <= ' ')
			return perr(ps, "word '%.*s' contains '%c'", (int)n, w, w[i]);
	return 0;
}

/* "a | b -> c | d" into a word set. */
static wordset *parse_words(const parser *ps, const char *s, size_t len)
{
	wordset *w = ck_calloc(1, sizeof *w);
	/* one spare slot: a failure may leave a half-built word at index n */
	if (!w || !(w->from = ck_calloc(MAX_WORDS + 1, sizeof *w->from)) ||
	    !(w->to = ck_calloc(MAX_WORDS + 1, sizeof *w->to))) {
		wordset_free(w);
		return NULL;
	}
	const char *end = s + len;
	while (1) {
		const char *bar = memchr(s, '|', (size_t)(end - s));
		const char *altend = bar ? bar : end;
		size_t n = (size_t)(altend - s);
		const char *alt = trim(s, &n);
		if (w->n == MAX_WORDS) {
			perr(ps, "more than %d words in one word list", MAX_WORDS);
			goto fail;
		}
		const char *arrow = NULL;
		for (size_t i = 0; i + 1 < n; i++)
			if (alt[i] == '-' && alt[i + 1] == '>') {
				arrow = alt + i;
				break;
			}
		size_t fn = arrow ? (size_t)(arrow - alt) : n;
		const char *from = trim(alt, &fn);
		if (check_word(ps, from, fn) < 0)
			goto fail;
		w->from[w->n] = dupn(from, fn);
		if (!w->from[w->n])
			goto fail;
		if (arrow) {
			size_t tn = (size_t)(alt + n - (arrow + 2));
			const char *to = trim(arrow + 2, &tn);
			if (check_word(ps, to, tn) < 0 || !(w->to[w->n] = dupn(to, tn)))
				goto fail;
		}
		for (int i = 0; i < w->n; i++)
			if (strcmp(w->from[i], w->from[w->n]) == 0) {
				perr(ps, "word '%s' is listed twice", w->from[i]);
				w->n++;
				goto fail;
			}
		w->n++;
		if (!bar)
			break;
		s = bar + 1;
	}
	return w;
fail:
	free(w->from[w->n]);
	free(w->to[w->n]);
	wordset_free(w);
	return NULL;
}

static const letdef *find_let(const rules *R, const char *name, size_t n)
{
	for (int i = 0; i < R->nlets; i++)
		if (strlen(R->lets[i].name) == n && memcmp(R->lets[i].name, name, n) == 0)
			return &R->lets[i];
	return NULL;
}

/* ---- patterns ----------------------------------------------------------- */

static void pattern_free(pattern *p)
{
	for (int i = 0; i < p->n; i++)
		free(p->t[i].lit);
	for (int i = 0; i < p->ncap; i++)
		free(p->cap[i].name);
	for (int i = 0; i < p->nowned; i++)
		wordset_free(p->owned[i]);
	free(p->owned);
	free(p->t);
	free(p->text);
}

static int add_tok(const parser *ps, pattern *p, int kind, const char *lit, size_t len,
		   const wordset *set, int cap)
{
	if (p->n == MAX_TOKS)
		return perr(ps, "pattern %s is too complex (more than %d parts)", p->text, MAX_TOKS);
	tok *t = &p->t[p->n];
	memset(t, 0, sizeof *t);
	t->kind = kind;
	t->set = set;
	t->cap = cap;
	if (lit) {
		if (!(t->lit = dupn(lit, len)))
			return -1;
		t->len = len;
	}
	p->n++;
	return 0;
}

static int find_cap(const pattern *p, const char *name, size_t n)
{
	for (int i = 0; i < p->ncap; i++)
		if (strlen(p->cap[i].name) == n && memcmp(p->cap[i].name, name, n) == 0)
			return i;
	return -1;
}

/* The inside of {...}: "name", "name:number", "name:text", "name:set",
 * "name:a|b->c", or an uncaptured "a|b". */
static int parse_capture(const parser *ps, pattern *p, const char *c, size_t n)
{
	const char *colon = memchr(c, ':', n);
	const char *bar = memchr(c, '|', n);
	const char *name = c, *kind = NULL;
	size_t namelen = n, kindlen = 0;
	if (colon) {
		namelen = (size_t)(colon - c);
		kind = colon + 1;
		kindlen = n - namelen - 1;
	} else if (bar) {
		namelen = 0; /* {a|b}: a choice that is not captured */
		kind = c;
		kindlen = n;
	} else {
		kind = c;
		kindlen = n;
	}
	if (namelen && !is_ident(name, namelen))
		return perr(ps, "'{%.*s}': '%.*s' is not a usable name (letters, digits, _)", (int)n,
			    c, (int)namelen, name);
	if (namelen && find_cap(p, name, namelen) >= 0)
		return perr(ps, "{%.*s} is captured twice in %s", (int)namelen, name, p->text);
	int tk;
	const wordset *set = NULL;
	int has_words = memchr(kind, '|', kindlen) != NULL;
	for (size_t i = 0; i + 1 < kindlen; i++)
		has_words |= kind[i] == '-' && kind[i + 1] == '>';
	if (kindlen == 6 && memcmp(kind, "number", 6) == 0) {
		tk = T_NUMBER;
	} else if (kindlen == 4 && memcmp(kind, "text", 4) == 0) {
		tk = T_TEXT;
	} else if (has_words) {
		wordset *w = parse_words(ps, kind, kindlen);
		if (!w)
			return -1;
		p->owned[p->nowned++] = w;
		tk = T_SET;
		set = w;
	} else {
		const letdef *l = find_let(ps->R, kind, kindlen);
		if (!l)
			return perr(ps, "{%.*s}: there is no 'let %.*s = ...' above this line "
				    "(or write {%.*s:number}, {%.*s:text}, {%.*s:a|b})",
				    (int)n, c, (int)kindlen, kind, (int)kindlen, kind, (int)kindlen,
				    kind, (int)kindlen, kind);
		tk = l->kind;
		set = l->set;
	}
	int cap = -1;
	if (namelen) {
		if (p->ncap == MAX_CAPS)
			return perr(ps, "more than %d captures in %s", MAX_CAPS, p->text);
		cap = p->ncap;
		if (!(p->cap[cap].name = dupn(name, namelen)))
			return -1;
		p->cap[cap].kind = tk;
		p->cap[cap].set = set;
		p->ncap++;
	} else if (tk != T_SET) {
		return perr(ps, "{%.*s} needs a name: {NAME:%.*s}", (int)n, c, (int)kindlen, kind);
	}
	return add_tok(ps, p, tk, NULL, 0, set, cap);
}

static int parse_pattern(const parser *ps, const char *text, pattern *p)
{
	memset(p, 0, sizeof *p);
	size_t n = strlen(text);
	p->text = ck_strdup(text);
	p->t = ck_calloc(MAX_TOKS, sizeof *p->t);
	p->owned = ck_calloc(MAX_TOKS, sizeof *p->owned);
	char *lit = ck_malloc(n + 1);
	size_t litlen = 0;
	int rc = -1;
	if (!p->text || !p->t || !p->owned || !lit)
		goto out;
#define FLUSH()                                                                        \
	do {                                                                           \
		if (litlen && add_tok(ps, p, T_LIT, lit, litlen, NULL, -1) < 0)         \
			goto out;                                                      \
		litlen = 0;                                                            \
	} while (0)
	for (size_t i = 0; i < n;) {
		char c = text[i];
		if (c == '{') {
			const char *close = memchr(text + i + 1, '}', n - i - 1);
			const char *open = memchr(text + i + 1, '{', n - i - 1);
			if (!close || (open && open < close)) {
				perr(ps, "'{' without a matching '}' in %s", text);
				goto out;
			}
			FLUSH();
			if (parse_capture(ps, p, text + i + 1, (size_t)(close - text - i - 1)) < 0)
				goto out;
			i = (size_t)(close - text) + 1;
		} else if (c == '[') {
			const char *close = memchr(text + i + 1, ']', n - i - 1);
			if (!close || close == text + i + 1) {
				perr(ps, "'[' needs optional text and a closing ']' in %s", text);
				goto out;
			}
			for (const char *q = text + i + 1; q < close; q++)
				if (is_special(*q)) {
					perr(ps, "'[...]' holds plain text only, not '%c', in %s", *q,
					     text);
					goto out;
				}
			FLUSH();
			if (add_tok(ps, p, T_OPT, text + i + 1, (size_t)(close - text - i - 1), NULL,
				    -1) < 0)
				goto out;
			i = (size_t)(close - text) + 1;
		} else if (c == '*' && i + 1 < n && text[i + 1] == '*') {
			int starts_part = i == 0 || text[i - 1] == '/';
			if (!starts_part || (i + 2 < n && text[i + 2] != '/')) {
				perr(ps, "'**' must stand for whole parts of the name (**/x, x/**/y, x/**) in %s",
				     text);
				goto out;
			}
			FLUSH();
			if (i + 2 == n) {
				if (add_tok(ps, p, T_ALL, NULL, 0, NULL, -1) < 0)
					goto out;
				i += 2;
			} else {
				if (add_tok(ps, p, T_DIRS, NULL, 0, NULL, -1) < 0)
					goto out;
				i += 3;
			}
		} else if (c == '*') {
			FLUSH();
			if (add_tok(ps, p, T_STAR, NULL, 0, NULL, -1) < 0)
				goto out;
			i++;
		} else if (is_special(c)) {
			perr(ps, "unexpected '%c' in %s", c, text);
			goto out;
		} else {
			lit[litlen++] = c;
			i++;
		}
	}
	FLUSH();
#undef FLUSH
	rc = 0;
out:
	free(lit);
	return rc;
}

/* ---- matching ----------------------------------------------------------- */

typedef struct {
	size_t b, e;
	int word;
} capval;

typedef struct {
	size_t pos, state, end;
	int word;
} frame;

typedef struct {
	frame fr[MAX_TOKS + 1];
	unsigned char *memo;
	size_t memocap;
} matcher;

/* The next way token t can match s at pos, after those already tried
 * (recorded in *state, 0 at first). Sets *end (and *word for sets). */
static int next_way(const tok *t, const char *s, size_t len, size_t pos, size_t *state,
		    size_t *end, int *word)
{
	size_t k = *state;
	switch (t->kind) {
	case T_LIT:
		if (k == 0 && len - pos >= t->len && memcmp(s + pos, t->lit, t->len) == 0) {
			*state = 1;
			*end = pos + t->len;
			return 1;
		}
		return 0;
	case T_OPT:
		if (k == 0) {
			*state = 1;
			if (len - pos >= t->len && memcmp(s + pos, t->lit, t->len) == 0) {
				*end = pos + t->len;
				return 1;
			}
			k = 1;
		}
		if (k == 1) {
			*state = 2;
			*end = pos;
			return 1;
		}
		return 0;
	case T_STAR:
	case T_TEXT:
	case T_NUMBER: {
		/* k characters taken so far; shortest first */
		size_t take = t->kind == T_STAR ? k : k + 1;
		if (pos + take > len)
			return 0;
		if (take > 0) {
			char c = s[pos + take - 1];
			if (t->kind == T_NUMBER ? (c < '0' || c > '9') : c == '/')
				return 0;
		}
		*state = k + 1;
		*end = pos + take;
		return 1;
	}
	case T_DIRS:
		/* nothing, then each prefix ending in '/' */
		if (k == 0) {
			*state = pos + 1;
			*end = pos;
			return 1;
		}
		for (size_t q = k - 1; q < len; q++)
			if (s[q] == '/') {
				*state = q + 2;
				*end = q + 1;
				return 1;
			}
		return 0;
	case T_ALL:
		if (k == 0 && pos < len) {
			*state = 1;
			*end = len;
			return 1;
		}
		return 0;
	case T_SET:
		for (; k < (size_t)t->set->n; k++) {
			const char *w = t->set->from[k];
			size_t wl = strlen(w);
			if (len - pos >= wl && memcmp(s + pos, w, wl) == 0) {
				*state = k + 1;
				*end = pos + wl;
				*word = (int)k;
				return 1;
			}
		}
		return 0;
	}
	return 0;
}

/* 1 if p matches all of s (caps filled), 0 if not, -1 on error. */
static int match(matcher *m, const pattern *p, const char *s, capval *caps)
{
	size_t len = strlen(s);
	uint64_t bits;
	if (ck_mul_u64((uint64_t)p->n + 1, (uint64_t)len + 1, &bits) < 0 || bits / 8 + 1 > SIZE_MAX)
		return ck_fail("tensor name too long");
	size_t bytes = (size_t)(bits / 8 + 1);
	if (bytes > m->memocap) {
		unsigned char *q = ck_realloc(m->memo, bytes);
		if (!q)
			return -1;
		m->memo = q;
		m->memocap = bytes;
	}
	memset(m->memo, 0, bytes);
#define FAILED(k, pos) (m->memo[((k) * (len + 1) + (pos)) / 8] & (1u << (((k) * (len + 1) + (pos)) % 8)))
#define MARK(k, pos) (m->memo[((k) * (len + 1) + (pos)) / 8] |= (unsigned char)(1u << (((k) * (len + 1) + (pos)) % 8)))
	int k = 0;
	m->fr[0].pos = 0;
	m->fr[0].state = 0;
	while (k >= 0) {
		frame *f = &m->fr[k];
		if (k == p->n) {
			if (f->pos == len) {
				for (int i = 0; i < p->n; i++)
					if (p->t[i].cap >= 0) {
						capval *c = &caps[p->t[i].cap];
						c->b = m->fr[i].pos;
						c->e = m->fr[i].end;
						c->word = m->fr[i].word;
					}
				return 1;
			}
			k--;
			continue;
		}
		size_t end;
		int word = -1;
		int found = 0;
		while (next_way(&p->t[k], s, len, f->pos, &f->state, &end, &word)) {
			if (!FAILED((size_t)k + 1, end)) {
				found = 1;
				break;
			}
		}
		if (!found) {
			MARK((size_t)k, f->pos);
			k--;
			continue;
		}
		f->end = end;
		f->word = word;
		k++;
		m->fr[k].pos = end;
		m->fr[k].state = 0;
	}
#undef FAILED
#undef MARK
	return 0;
}

/* The text a capture writes into an output name. */
static void cap_text(const capdef *cd, const char *s, const capval *v, const char **out,
		     size_t *n)
{
	if (cd->kind == T_SET && cd->set->to[v->word]) {
		*out = cd->set->to[v->word];
		*n = strlen(*out);
		return;
	}
	size_t b = v->b;
	if (cd->kind == T_NUMBER) /* block_000 -> 0 */
		while (v->e - b > 1 && s[b] == '0')
			b++;
	*out = s + b;
	*n = v->e - b;
}

/* ---- templates ---------------------------------------------------------- */

static void tmpl_free(tmpl *t)
{
	for (int i = 0; i < t->n; i++)
		free(t->p[i].lit);
	free(t->p);
}

static int parse_template(const parser *ps, const char *text, tmpl *t, const pattern *p,
			  const char *split_name)
{
	size_t n = strlen(text);
	memset(t, 0, sizeof *t);
	t->p = ck_calloc(n, sizeof *t->p); /* never more parts than characters */
	if (!t->p)
		return -1;
	for (size_t i = 0; i < n;) {
		tpart *part = &t->p[t->n];
		if (text[i] == '{') {
			const char *close = memchr(text + i + 1, '}', n - i - 1);
			if (!close)
				return perr(ps, "'{' without a matching '}' in %s", text);
			const char *name = text + i + 1;
			size_t nl = (size_t)(close - name);
			int cap = find_cap(p, name, nl);
			if (cap >= 0) {
				part->kind = P_CAP;
				part->cap = cap;
			} else if (split_name && strlen(split_name) == nl &&
				   memcmp(split_name, name, nl) == 0) {
				part->kind = P_SPLIT;
			} else {
				return perr(ps, "{%.*s} in %s is not captured by %s", (int)nl, name,
					    text, p->text);
			}
			t->n++;
			i = (size_t)(close - text) + 1;
			continue;
		}
		size_t j = i;
		while (j < n && text[j] != '{' && !is_special(text[j]))
			j++;
		if (j == i)
			return perr(ps, "unexpected '%c' in the name %s", text[i], text);
		part->kind = P_LIT;
		if (!(part->lit = dupn(text + i, j - i)))
			return -1;
		t->n++;
		i = j;
	}
	if (t->n == 0)
		return perr(ps, "empty name");
	return 0;
}

/* Render t for a match of p on s; split_val is the split piece's text. */
static char *render(const tmpl *t, const pattern *p, const char *s, const capval *caps,
		    const char *split_val)
{
	size_t total = 1;
	for (int pass = 0; pass < 2; pass++) {
		char *out = pass ? ck_malloc(total) : NULL;
		if (pass && !out)
			return NULL;
		size_t at = 0;
		for (int i = 0; i < t->n; i++) {
			const char *txt;
			size_t n;
			if (t->p[i].kind == P_LIT) {
				txt = t->p[i].lit;
				n = strlen(txt);
			} else if (t->p[i].kind == P_SPLIT) {
				txt = split_val;
				n = strlen(txt);
			} else {
				cap_text(&p->cap[t->p[i].cap], s, &caps[t->p[i].cap], &txt, &n);
			}
			if (pass)
				memcpy(out + at, txt, n);
			at += n;
		}
		if (pass) {
			out[at] = 0;
			return out;
		}
		total = at + 1;
	}
	return NULL;
}

/* ---- rule lines --------------------------------------------------------- */

static void rule_free(rule *r)
{
	pattern_free(&r->pat);
	tmpl_free(&r->tpl);
	free(r->split_name);
	free(r->msg);
	free(r->cond);
	free(r->when);
	pattern_free(&r->over);
	for (int i = 0; i < r->nsize; i++)
		free(r->size[i].ref);
}

void rules_free(rules *R)
{
	if (!R)
		return;
	for (size_t i = 0; i < R->n; i++)
		rule_free(&R->r[i]);
	for (int i = 0; i < R->nlets; i++) {
		free(R->lets[i].name);
		wordset_free(R->lets[i].set);
	}
	free(R->r);
	free(R->label);
	free(R);
}

const char *rules_label(const rules *R) { return R->label; }

typedef struct {
	char *s;
	int quoted;
} word;

/* Split a line into words in place; a word starting with # starts a comment,
 * "..." is one word. */
static int split_line(const parser *ps, char *line, word *w, int *nw)
{
	*nw = 0;
	char *p = line;
	while (1) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			return 0;
		if (*nw == MAX_LINE_TOKS)
			return perr(ps, "more than %d words on one line", MAX_LINE_TOKS);
		if (*p == '"') {
			char *close = strchr(p + 1, '"');
			if (!close)
				return perr(ps, "text in quotes is missing its closing '\"'");
			if (close[1] && close[1] != ' ' && close[1] != '\t')
				return perr(ps, "write a space after the closing '\"'");
			*close = 0;
			w[*nw].s = p + 1;
			w[*nw].quoted = 1;
			(*nw)++;
			p = close + 1;
			continue;
		}
		w[*nw].s = p;
		w[*nw].quoted = 0;
		(*nw)++;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = 0;
	}
}

static int parse_int(const char *s, long lo, long hi, long *v)
{
	char *end;
	if (!*s)
		return -1;
	long x = strtol(s, &end, 10);
	if (*end || x < lo || x > hi)
		return -1;
	*v = x;
	return 0;
}

/* The operations after a rule's names. */
static int parse_ops(const parser *ps, rule *r, word *w, int nw)
{
	int seen[OP_COUNT] = {0};
	for (int i = 0; i < nw; i++) {
		if (w[i].quoted)
			return perr(ps, "unexpected text in quotes \"%s\"", w[i].s);
		op *o = &r->ops[r->nops];
		memset(o, 0, sizeof *o);
		const char *name = w[i].s;
		if (strcmp(name, "rank") == 0) { /* a condition, not an operation */
			long v;
			if (r->rank || i + 1 == nw || parse_int(w[i + 1].s, 0, CK_MAX_DIMS, &v) < 0)
				return perr(ps, "rank needs a number of axes, once: rank 2");
			r->rank = (int)v + 1;
			i++;
			continue;
		}
		int k;
		for (k = 0; k < OP_COUNT; k++)
			if (strcmp(name, op_names[k]) == 0)
				break;
		if (k == OP_COUNT)
			return perr(ps, "unknown operation '%s' (known: transpose, squeeze, reshape, cast, split)",
				    name);
		if (seen[k])
			return perr(ps, "'%s' is given twice", name);
		seen[k] = 1;
		o->kind = k;
		if (k == OP_RESHAPE) {
			if (++i == nw)
				return perr(ps, "reshape needs the new shape, e.g. reshape 768,12,64");
			char *dims = w[i].s;
			int infer = 0;
			for (char *tokp = dims;;) {
				char *comma = strchr(tokp, ',');
				if (comma)
					*comma = 0;
				long v;
				if (o->ndim == CK_MAX_DIMS || parse_int(tokp, -1, INT32_MAX, &v) < 0)
					return perr(ps, "reshape: bad shape (sizes separated by commas, one may be -1, 0 keeps an input size)");
				if (v == -1 && infer++)
					return perr(ps, "reshape: only one size may be -1");
				o->dims[o->ndim++] = v;
				if (!comma)
					break;
				tokp = comma + 1;
			}
		} else if (k == OP_CAST) {
			if (++i == nw)
				return perr(ps, "cast needs a type, e.g. cast F32");
			char up[16];
			size_t l = strlen(w[i].s);
			if (l >= sizeof up)
				return perr(ps, "cast: unknown type %s", w[i].s);
			for (size_t j = 0; j <= l; j++)
				up[j] = (char)(w[i].s[j] >= 'a' && w[i].s[j] <= 'z' ? w[i].s[j] - 32
										      : w[i].s[j]);
			if (ck_dtype_parse(up, &o->dtype) < 0)
				return perr(ps, "cast: unknown type %s (F32, F16, BF16, F64, ...)", w[i].s);
		} else if (k == OP_SPLIT) {
			long axis;
			if (i + 3 >= nw || parse_int(w[i + 1].s, 0, CK_MAX_DIMS - 1, &axis) < 0 ||
			    strcmp(w[i + 2].s, "as") != 0)
				return perr(ps, "split needs an axis and a name: split 0 as NAME");
			const char *nm = w[i + 3].s;
			if (!is_ident(nm, strlen(nm)))
				return perr(ps, "split: '%s' is not a usable name", nm);
			o->axis = (int)axis;
			const letdef *l = find_let(ps->R, nm, strlen(nm));
			if (l && l->kind == T_TEXT)
				return perr(ps, "split: %s is text; split by a number or a word list", nm);
			r->split_set = l && l->kind == T_SET ? l->set : NULL;
			if (!(r->split_name = ck_strdup(nm)))
				return -1;
			i += 3;
		}
		r->nops++;
	}
	return 0;
}

/* ---- arguments and conditions ------------------------------------------- */

static const letdef *find_arg(const rules *R, const char *name)
{
	const letdef *l = find_let(R, name, strlen(name));
	return l && l->is_arg ? l : NULL;
}

/* `arg NAME = DEFAULT`: {NAME} is one word, the caller's NAME=VALUE or the
 * default. */
static int parse_arg(parser *ps, word *w, int nw)
{
	rules *R = ps->R;
	if (nw != 4 || strcmp(w[2].s, "=") != 0)
		return perr(ps, "write: arg NAME = DEFAULT");
	const char *name = w[1].s, *value = w[3].s;
	if (!is_ident(name, strlen(name)) || strcmp(name, "number") == 0 ||
	    strcmp(name, "text") == 0)
		return perr(ps, "arg: '%s' is not a usable name", name);
	if (find_let(R, name, strlen(name)))
		return perr(ps, "%s is defined twice", name);
	if (R->nlets == MAX_LETS)
		return perr(ps, "more than %d let and arg lines", MAX_LETS);
	size_t nl = strlen(name);
	for (size_t i = 0; i < ps->nargs; i++)
		if (strncmp(ps->args[i], name, nl) == 0 && ps->args[i][nl] == '=') {
			value = ps->args[i] + nl + 1;
			ps->arg_used[i] = 1;
		}
	if (strlen(value) > MAX_ARG_VALUE)
		return perr(ps, "arg %s: value longer than %d characters", name, MAX_ARG_VALUE);
	if (check_word(ps, value, strlen(value)) < 0)
		return -1;
	wordset *set = ck_calloc(1, sizeof *set);
	if (!set || !(set->from = ck_calloc(1, sizeof *set->from)) ||
	    !(set->to = ck_calloc(1, sizeof *set->to)) || !(set->from[0] = ck_strdup(value))) {
		wordset_free(set);
		return -1;
	}
	set->n = 1;
	letdef *l = &R->lets[R->nlets];
	memset(l, 0, sizeof *l);
	l->kind = T_SET;
	l->is_arg = 1;
	l->set = set;
	if (!(l->name = ck_strdup(name))) {
		wordset_free(l->set);
		return -1;
	}
	R->nlets++;
	return 0;
}

/* `*` matches any text (possibly none); everything else itself. */
static int glob_match(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat == *s) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == 0;
}

/* `if ARG = word | word ...` opens a block whose rules count only when the
 * argument is one of the words (`*` in a word matches any text). */
static int parse_if(parser *ps, word *w, int nw)
{
	if (ps->if_line)
		return perr(ps, "if inside the if block of line %d (blocks do not nest; end it first)",
			    ps->if_line);
	if (nw < 4 || strcmp(w[2].s, "=") != 0)
		return perr(ps, "write: if ARG = word | word ...");
	const letdef *a = find_arg(ps->R, w[1].s);
	if (!a)
		return perr(ps, "if %s: there is no 'arg %s = ...' above this line", w[1].s, w[1].s);
	const char *value = a->set->from[0];
	int hit = 0, expect_word = 1;
	for (int i = 3; i < nw; i++) {
		/* words and bars, with or without blanks between them */
		for (char *p = w[i].s; *p;) {
			if (*p == '|') {
				if (expect_word)
					return perr(ps, "if: a word is missing before '|'");
				expect_word = 1;
				p++;
				continue;
			}
			if (!expect_word)
				return perr(ps, "if: words are separated by '|'");
			char *bar = strchr(p, '|');
			size_t n = bar ? (size_t)(bar - p) : strlen(p);
			char word_[RULES_MAX_LINE + 1];
			memcpy(word_, p, n);
			word_[n] = 0;
			for (size_t k = 0; k < n; k++)
				if ((is_special(word_[k]) && word_[k] != '*') || (unsigned char)word_[k] <= ' ')
					return perr(ps, "if: word '%s' contains '%c'", word_, word_[k]);
			hit |= glob_match(word_, value);
			expect_word = 0;
			p += n;
		}
	}
	if (expect_word)
		return perr(ps, "if: a word is missing after '|'");
	ps->if_line = ps->line;
	ps->if_true = hit;
	return 0;
}

/* A message with {ARG} replaced by the argument's value. */
static char *expand_args(const parser *ps, const char *msg)
{
	size_t cap = strlen(msg) + 1, n = 0;
	for (const char *p = msg; *p; p++)
		if (*p == '{')
			cap += MAX_ARG_VALUE;
	char *out = ck_malloc(cap);
	if (!out)
		return NULL;
	for (const char *p = msg; *p;) {
		const char *close = *p == '{' ? strchr(p, '}') : NULL;
		if (close) {
			char name[MAX_IDENT + 1];
			size_t nl = (size_t)(close - p - 1);
			const letdef *a = NULL;
			if (nl <= MAX_IDENT) {
				memcpy(name, p + 1, nl);
				name[nl] = 0;
				a = find_arg(ps->R, name);
			}
			if (a) {
				size_t vl = strlen(a->set->from[0]);
				memcpy(out + n, a->set->from[0], vl);
				n += vl;
				p = close + 1;
				continue;
			}
		}
		out[n++] = *p++;
	}
	out[n] = 0;
	return out;
}

/* [if-missing] [when NAME] after alias, copy and make. */
static int parse_made_opts(const parser *ps, rule *r, word *w, int nw, const char *use)
{
	for (int i = 0; i < nw; i++) {
		if (strcmp(w[i].s, "if-missing") == 0 && !r->if_missing) {
			r->if_missing = 1;
		} else if (strcmp(w[i].s, "when") == 0 && !r->when && i + 1 < nw) {
			const char *c = w[++i].s;
			for (const char *q = c; *q; q++)
				if (is_special(*q))
					return perr(ps, "... when NAME: a plain tensor name, not %s", c);
			if (!(r->when = ck_strdup(c)))
				return -1;
		} else {
			return perr(ps, "%s", use);
		}
	}
	return 0;
}

/* make's shape: sizes separated by commas, each a number or NAME:AXIS. */
static int parse_sizes(const parser *ps, rule *r, char *text)
{
	for (char *t = text;;) {
		char *comma = strchr(t, ',');
		if (comma)
			*comma = 0;
		if (r->nsize == CK_MAX_DIMS)
			return perr(ps, "make: more than %d sizes", CK_MAX_DIMS);
		msize *z = &r->size[r->nsize];
		char *colon = strrchr(t, ':');
		long v;
		if (colon) {
			*colon = 0;
			if (!*t || parse_int(colon + 1, 0, CK_MAX_DIMS - 1, &v) < 0)
				return perr(ps, "make: bad size %s:%s (a number or NAME:AXIS)", t, colon + 1);
			for (const char *q = t; *q; q++)
				if (is_special(*q))
					return perr(ps, "make: %s is not a plain tensor name", t);
			if (!(z->ref = ck_strdup(t)))
				return -1;
			z->dim = (int)v;
		} else {
			if (parse_int(t, 1, INT32_MAX, &v) < 0)
				return perr(ps, "make: bad size %s (a number or NAME:AXIS)", t);
			z->n = v;
		}
		r->nsize++;
		if (!comma)
			return 0;
		t = comma + 1;
	}
}

/* A trailing "when ORIGINAL" or "unless ORIGINAL" of keep, rename and drop
 * (a plain name of the checkpoint), taken off the words. */
static int parse_cond(const parser *ps, rule *r, word *w, int *nw)
{
	if (*nw < 4 || w[*nw - 2].quoted ||
	    (strcmp(w[*nw - 2].s, "when") != 0 && strcmp(w[*nw - 2].s, "unless") != 0))
		return 0;
	for (const char *q = w[*nw - 1].s; *q; q++)
		if (is_special(*q))
			return perr(ps, "%s %s: a plain tensor name of the checkpoint, no pattern",
				    w[*nw - 2].s, w[*nw - 1].s);
	r->cond_unless = w[*nw - 2].s[0] == 'u';
	if (!(r->cond = ck_strdup(w[*nw - 1].s)))
		return -1;
	*nw -= 2;
	return 0;
}

static int parse_line(parser *ps, char *line)
{
	word w[MAX_LINE_TOKS];
	int nw;
	if (split_line(ps, line, w, &nw) < 0)
		return -1;
	if (nw == 0)
		return 0;
	const char *kw = w[0].s;
	rules *R = ps->R;
	for (int i = 0; i < nw; i++)
		if (w[i].quoted && !((strcmp(kw, "refuse") == 0 || strcmp(kw, "require") == 0) && i == 2) &&
		    !(strcmp(kw, "require") == 0 && i == 4 && strcmp(w[2].s, "when") == 0))
			return perr(ps, "text in quotes is only used for the message of refuse and require");

	if (strcmp(kw, "if") == 0)
		return parse_if(ps, w, nw);
	if (strcmp(kw, "end") == 0) {
		if (nw != 1)
			return perr(ps, "write: end");
		if (!ps->if_line)
			return perr(ps, "end without an if");
		ps->if_line = 0;
		return 0;
	}
	if (ps->if_line && (strcmp(kw, "let") == 0 || strcmp(kw, "arg") == 0))
		return perr(ps, "%s inside an if block (line %d): define it above the block", kw,
			    ps->if_line);
	if (strcmp(kw, "arg") == 0)
		return parse_arg(ps, w, nw);

	if (strcmp(kw, "let") == 0) {
		if (nw < 4 || strcmp(w[2].s, "=") != 0)
			return perr(ps, "write: let NAME = word | word -> new | ...");
		const char *name = w[1].s;
		if (!is_ident(name, strlen(name)) || strcmp(name, "number") == 0 ||
		    strcmp(name, "text") == 0)
			return perr(ps, "let: '%s' is not a usable name", name);
		if (find_let(R, name, strlen(name)))
			return perr(ps, "let %s is defined twice", name);
		if (R->nlets == MAX_LETS)
			return perr(ps, "more than %d let lines", MAX_LETS);
		letdef *l = &R->lets[R->nlets];
		memset(l, 0, sizeof *l);
		if (nw == 4 && strcmp(w[3].s, "number") == 0) {
			l->kind = T_NUMBER;
		} else if (nw == 4 && strcmp(w[3].s, "text") == 0) {
			l->kind = T_TEXT;
		} else {
			/* the words were split at blanks; join them back */
			size_t len = 0;
			for (int i = 3; i < nw; i++)
				len += strlen(w[i].s) + 1;
			char *joined = ck_malloc(len);
			if (!joined)
				return -1;
			joined[0] = 0;
			for (int i = 3; i < nw; i++) {
				if (i > 3)
					strcat(joined, " ");
				strcat(joined, w[i].s);
			}
			l->set = parse_words(ps, joined, strlen(joined));
			free(joined);
			if (!l->set)
				return -1;
			l->kind = T_SET;
		}
		if (!(l->name = ck_strdup(name))) {
			wordset_free(l->set);
			return -1;
		}
		R->nlets++;
		return 0;
	}

	if (R->n == R->cap) {
		size_t cap = R->cap ? 2 * R->cap : 64;
		rule *nr = ck_realloc(R->r, cap * sizeof *nr);
		if (!nr)
			return -1;
		R->r = nr;
		R->cap = cap;
	}
	rule *r = &R->r[R->n];
	memset(r, 0, sizeof *r);
	r->line = ps->line;
	int rc = -1;
	if ((strcmp(kw, "keep") == 0 || strcmp(kw, "rename") == 0 || strcmp(kw, "drop") == 0) &&
	    parse_cond(ps, r, w, &nw) < 0)
		goto out;

	if (strcmp(kw, "keep") == 0 || strcmp(kw, "rename") == 0) {
		int is_rename = kw[0] == 'r';
		r->kind = is_rename ? R_RENAME : R_KEEP;
		int nfixed = is_rename ? 4 : 2;
		if (nw < nfixed || (is_rename && strcmp(w[2].s, "->") != 0)) {
			perr(ps, is_rename ? "write: rename OLD -> NEW [operations] [when|unless ORIGINAL]"
					   : "write: keep NAME [operations] [when|unless ORIGINAL]");
			goto out;
		}
		if (parse_pattern(ps, w[1].s, &r->pat) < 0 || parse_ops(ps, r, w + nfixed, nw - nfixed) < 0)
			goto out;
		if (r->split_name && find_cap(&r->pat, r->split_name, strlen(r->split_name)) >= 0) {
			perr(ps, "split: {%s} is already captured by %s", r->split_name, r->pat.text);
			goto out;
		}
		if (!is_rename && r->split_name) {
			perr(ps, "split makes several tensors: use rename with {%s} in the new name",
			     r->split_name);
			goto out;
		}
		if (is_rename) {
			if (parse_template(ps, w[3].s, &r->tpl, &r->pat, r->split_name) < 0)
				goto out;
			int uses_split = 0;
			for (int i = 0; i < r->tpl.n; i++)
				uses_split |= r->tpl.p[i].kind == P_SPLIT;
			if (r->split_name && !uses_split) {
				perr(ps, "split: the new name %s must contain {%s}", w[3].s,
				     r->split_name);
				goto out;
			}
		}
	} else if (strcmp(kw, "drop") == 0) {
		r->kind = R_DROP;
		if (nw != 2) {
			perr(ps, "write: drop NAME [when|unless ORIGINAL]");
			goto out;
		}
		if (parse_pattern(ps, w[1].s, &r->pat) < 0)
			goto out;
	} else if (strcmp(kw, "refuse") == 0) {
		r->kind = R_REFUSE;
		if (nw != 3 || !w[2].quoted || !w[2].s[0]) {
			perr(ps, "write: refuse NAME \"why it cannot be converted\"");
			goto out;
		}
		if (parse_pattern(ps, w[1].s, &r->pat) < 0 || !(r->msg = expand_args(ps, w[2].s)))
			goto out;
	} else if (strcmp(kw, "alias") == 0) {
		r->kind = R_ALIAS;
		const char *use = "write: alias NEW = EXISTING [if-missing] [when NAME]";
		if (nw < 4 || strcmp(w[2].s, "=") != 0) {
			perr(ps, "%s", use);
			goto out;
		}
		if (parse_made_opts(ps, r, w + 4, nw - 4, use) < 0 ||
		    parse_pattern(ps, w[3].s, &r->pat) < 0 ||
		    parse_template(ps, w[1].s, &r->tpl, &r->pat, NULL) < 0)
			goto out;
	} else if (strcmp(kw, "copy") == 0) {
		r->kind = R_COPY;
		const char *use = "write: copy NEW = EXISTING [over PATTERN] [if-missing] [when NAME]";
		if (nw < 4 || strcmp(w[2].s, "=") != 0) {
			perr(ps, "%s", use);
			goto out;
		}
		int at = 4;
		if (at + 1 < nw && strcmp(w[at].s, "over") == 0) {
			if (parse_pattern(ps, w[at + 1].s, &r->over) < 0)
				goto out;
			r->has_over = 1;
			if (r->over.ncap != 1 || r->over.cap[0].kind != T_NUMBER) {
				perr(ps, "copy ... over PATTERN: the pattern captures one {NAME:number}");
				goto out;
			}
			if (!(r->split_name = ck_strdup(r->over.cap[0].name)))
				goto out;
			at += 2;
		}
		if (parse_made_opts(ps, r, w + at, nw - at, use) < 0 ||
		    parse_pattern(ps, w[3].s, &r->pat) < 0)
			goto out;
		if (r->split_name && find_cap(&r->pat, r->split_name, strlen(r->split_name)) >= 0) {
			perr(ps, "copy: {%s} is captured by %s and by the over pattern", r->split_name,
			     r->pat.text);
			goto out;
		}
		if (parse_template(ps, w[1].s, &r->tpl, &r->pat, r->split_name) < 0)
			goto out;
		int uses = 0;
		for (int i = 0; i < r->tpl.n; i++)
			uses |= r->tpl.p[i].kind == P_SPLIT;
		if (r->split_name && !uses) {
			perr(ps, "copy: the new name %s must contain {%s}", w[1].s, r->split_name);
			goto out;
		}
	} else if (strcmp(kw, "make") == 0) {
		r->kind = R_MAKE;
		const char *use = "write: make NEW eye|zeros SIZE[,SIZE...] [if-missing] [when NAME], "
				  "or make NEW inv_freq BASE DIM [if-missing] [when NAME]";
		int inv = nw >= 5 && strcmp(w[2].s, "inv_freq") == 0;
		if (nw < 4 || (!inv && strcmp(w[2].s, "eye") != 0 && strcmp(w[2].s, "zeros") != 0)) {
			perr(ps, "%s", use);
			goto out;
		}
		r->make = inv ? MAKE_INV_FREQ : w[2].s[0] == 'e' ? MAKE_EYE : MAKE_ZEROS;
		if (inv) {
			char *end;
			double base = strtod(w[3].s, &end);
			if (*end || !(base > 0) || base > 3.4e38) {
				perr(ps, "make ... inv_freq: BASE %s is not a positive number", w[3].s);
				goto out;
			}
			r->base = (float)base;
		}
		if (parse_sizes(ps, r, w[3 + inv].s) < 0 ||
		    parse_made_opts(ps, r, w + 4 + inv, nw - 4 - inv, use) < 0)
			goto out;
		if (r->make == MAKE_EYE && r->nsize > 2) {
			perr(ps, "make ... eye: one size (square) or two");
			goto out;
		}
		if (inv && r->nsize != 1) {
			perr(ps, "make ... inv_freq: one DIM");
			goto out;
		}
		int refs = 0;
		for (int i = 0; i < r->nsize; i++)
			refs += r->size[i].ref != NULL;
		if (!refs) {
			perr(ps, "make: at least one size must be an axis of a tensor (NAME:AXIS), which gives its type and place");
			goto out;
		}
		for (const char *q = w[1].s; *q; q++)
			if (is_special(*q)) {
				perr(ps, "make: the new name is a plain tensor name, not %s", w[1].s);
				goto out;
			}
		if (parse_pattern(ps, w[1].s, &r->pat) < 0)
			goto out;
	} else if (strcmp(kw, "require") == 0) {
		r->kind = R_REQUIRE;
		const char *use = "write: require NAME [when NAME] [\"what is missing\"]";
		int nm = nw;
		if (nm >= 4 && strcmp(w[2].s, "when") == 0 && !w[2].quoted) {
			if (parse_made_opts(ps, r, w + 2, 2, use) < 0)
				goto out;
			memmove(w + 2, w + 4, (size_t)(nw - 4) * sizeof *w);
			nm -= 2;
		}
		if ((nm != 2 && nm != 3) || (nm == 3 && (!w[2].quoted || !w[2].s[0]))) {
			perr(ps, "%s", use);
			goto out;
		}
		if (parse_pattern(ps, w[1].s, &r->pat) < 0 ||
		    (nm == 3 && !(r->msg = expand_args(ps, w[2].s))))
			goto out;
		if (r->pat.ncap > 1 || (r->pat.ncap == 1 && r->pat.cap[0].kind != T_NUMBER)) {
			perr(ps, "require: at most one capture, and it must be a number");
			goto out;
		}
		for (int i = 0; i < r->pat.n; i++)
			if (r->pat.t[i].kind != T_LIT && r->pat.t[i].kind != T_NUMBER) {
				perr(ps, "require: only names and one {NAME:number}");
				goto out;
			}
	} else {
		perr(ps, "unknown rule '%s' (a line starts with let, arg, if, end, keep, rename, drop, refuse, alias, copy, make or require)",
		     kw);
		goto out;
	}
	if (ps->if_line && !ps->if_true) {
		rule_free(r); /* checked, but its block is not taken */
		return 0;
	}
	R->n++;
	return 0;
out:
	rule_free(r);
	return rc;
}

rules *rules_parse(const char *text, size_t len, const char *label)
{
	return rules_parse_args(text, len, label, NULL, 0);
}

rules *rules_parse_args(const char *text, size_t len, const char *label, const char *const *args,
			size_t nargs)
{
	rules *R = ck_calloc(1, sizeof *R);
	char *line = ck_malloc(RULES_MAX_LINE + 1);
	unsigned char *used = ck_calloc(nargs ? nargs : 1, 1);
	if (!R || !line || !used || !(R->label = ck_strdup(label))) {
		free(line);
		free(used);
		rules_free(R);
		return NULL;
	}
	parser ps = {R->label, 0, R, args, nargs, used, 0, 0};
	for (size_t i = 0; i < nargs; i++) {
		const char *eq = strchr(args[i], '=');
		if (!eq || !is_ident(args[i], (size_t)(eq - args[i]))) {
			ck_fail("%s: argument %s: want NAME=VALUE", label, args[i]);
			goto fail;
		}
	}
	if (len > RULES_MAX_FILE) {
		ck_fail("%s: rule file too large (%zu bytes, limit %u)", label, len, RULES_MAX_FILE);
		goto fail;
	}
	for (size_t pos = 0, next; pos < len; pos = next) {
		ps.line++;
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - text - pos) : len - pos;
		next = pos + n + 1;
		if (n && text[pos + n - 1] == '\r')
			n--;
		if (n > RULES_MAX_LINE) {
			perr(&ps, "line longer than %d bytes", RULES_MAX_LINE);
			goto fail;
		}
		if (memchr(text + pos, 0, n)) {
			perr(&ps, "NUL byte: this is not a text file");
			goto fail;
		}
		memcpy(line, text + pos, n);
		line[n] = 0;
		if (parse_line(&ps, line) < 0)
			goto fail;
	}
	if (ps.if_line) {
		ck_fail("%s:%d: this if has no end", label, ps.if_line);
		goto fail;
	}
	for (size_t i = 0; i < nargs; i++)
		if (!used[i]) {
			ck_fail("%s: argument %.*s: the rule file has no 'arg %.*s = ...'", label,
				(int)(strchr(args[i], '=') - args[i]), args[i],
				(int)(strchr(args[i], '=') - args[i]), args[i]);
			goto fail;
		}
	free(used);
	free(line);
	return R;
fail:
	free(used);
	free(line);
	rules_free(R);
	return NULL;
}

/* ---- planning ----------------------------------------------------------- */

struct rules_plan {
	const rules *R;
	char *label;
	size_t nin;
	rules_tensor *in; /* names owned */
	const rule **rule_of;
	rules_fate *fate;
	rules_output *out;
	size_t nout, outcap;
	rules_alias *alias; /* strings owned */
	const rule **alias_rule;
	size_t nalias, aliascap;
	matcher m;
	unsigned char *off; /* per rule: its when/unless ORIGINAL does not hold here */
};

typedef struct {
	int ndim;
	int64_t shape[CK_MAX_DIMS];
	ck_dtype dtype;
} tinfo;

static void shape_text(const tinfo *t, char *buf, size_t n)
{
	char s[256];
	ck_shape_format(t->ndim, t->shape, s, sizeof s);
	snprintf(buf, n, "[%s]", s);
}

static int count_non1(const tinfo *t)
{
	int k = 0;
	for (int i = 0; i < t->ndim; i++)
		k += t->shape[i] != 1;
	return k;
}

/* What op o does to the shape/dtype t; *why explains a failure. For a split
 * also the piece count; *reorders is set when bytes change order. */
static int op_shape(const rule *r, const op *o, tinfo *t, uint64_t *pieces, int *reorders,
		    char *why, size_t whylen)
{
	char sh[300];
	switch (o->kind) {
	case OP_TRANSPOSE:
		if (count_non1(t) >= 2)
			*reorders = 1;
		for (int i = 0; i < t->ndim / 2; i++) {
			int64_t x = t->shape[i];
			t->shape[i] = t->shape[t->ndim - 1 - i];
			t->shape[t->ndim - 1 - i] = x;
		}
		return 0;
	case OP_SQUEEZE: {
		int k = 0;
		for (int i = 0; i < t->ndim; i++)
			if (t->shape[i] != 1)
				t->shape[k++] = t->shape[i];
		t->ndim = k;
		return 0;
	}
	case OP_RESHAPE: {
		uint64_t numel, known;
		int infer = -1;
		ck_shape_numel(t->ndim, t->shape, &numel);
		for (int i = 0; i < o->ndim; i++)
			if (o->dims[i] < 0)
				infer = i;
		int64_t dims[CK_MAX_DIMS];
		memcpy(dims, o->dims, sizeof dims);
		/* 0 keeps an input axis's size, matched from the front before the
		 * -1 and from the back after it (reshape 0,-1 merges all but the
		 * first axis, whatever the sizes): one rule for every model size. */
		known = 1;
		for (int i = 0; i < o->ndim; i++) {
			if (dims[i] == 0) {
				int j = infer >= 0 && i > infer ? t->ndim - (o->ndim - i) : i;
				if (j < 0 || j >= t->ndim)
					goto bad_reshape;
				dims[i] = t->shape[j];
			}
			if (dims[i] >= 0 && ck_mul_u64(known, (uint64_t)dims[i], &known) < 0)
				known = UINT64_MAX;
		}
		if (infer >= 0) {
			if (known == 0 || numel % known)
				goto bad_reshape;
			dims[infer] = (int64_t)(numel / known);
		} else if (known != numel) {
			goto bad_reshape;
		}
		t->ndim = o->ndim;
		memcpy(t->shape, dims, sizeof dims);
		return 0;
	bad_reshape:
		shape_text(t, sh, sizeof sh);
		tinfo want = {o->ndim, {0}, t->dtype};
		memcpy(want.shape, o->dims, sizeof want.shape);
		char wsh[300];
		shape_text(&want, wsh, sizeof wsh);
		snprintf(why, whylen, "cannot reshape %.150s (%llu elements) to %.150s", sh,
			 (unsigned long long)numel, wsh);
		return -1;
	}
	case OP_CAST:
		if (!tops_can_cast(t->dtype, o->dtype)) {
			snprintf(why, whylen, "cannot cast %s to %s", ck_dtype_name(t->dtype),
				 ck_dtype_name(o->dtype));
			return -1;
		}
		t->dtype = o->dtype;
		return 0;
	case OP_SPLIT: {
		shape_text(t, sh, sizeof sh);
		if (o->axis >= t->ndim) {
			snprintf(why, whylen, "split: shape %s has no axis %d", sh, o->axis);
			return -1;
		}
		uint64_t outer = 1;
		for (int i = 0; i < o->axis; i++)
			outer *= (uint64_t)t->shape[i];
		int64_t a = t->shape[o->axis];
		if (r->split_set) {
			int n = r->split_set->n;
			if (a % n) {
				snprintf(why, whylen, "split: axis %d of shape %s (size %lld) does not divide into %d parts",
					 o->axis, sh, (long long)a, n);
				return -1;
			}
			t->shape[o->axis] = a / n;
			*pieces = (uint64_t)n;
		} else {
			if (a == 0 || a > MAX_PIECES) {
				snprintf(why, whylen, "split: axis %d of shape %s has size %lld (1 to %d pieces allowed)",
					 o->axis, sh, (long long)a, MAX_PIECES);
				return -1;
			}
			for (int i = o->axis; i + 1 < t->ndim; i++)
				t->shape[i] = t->shape[i + 1];
			t->ndim--;
			*pieces = (uint64_t)a;
		}
		if (outer > 1 && *pieces > 1)
			*reorders = 1;
		return 0;
	}
	}
	return 0;
}

void rules_plan_free(rules_plan *P)
{
	if (!P)
		return;
	for (size_t i = 0; i < P->nin; i++)
		free((char *)P->in[i].name);
	for (size_t i = 0; i < P->nout; i++)
		free(P->out[i].name);
	for (size_t i = 0; i < P->nalias; i++) {
		free((char *)P->alias[i].name);
		free((char *)P->alias[i].target);
	}
	free(P->in);
	free(P->rule_of);
	free(P->fate);
	free(P->out);
	free(P->off);
	free(P->alias);
	free(P->alias_rule);
	free(P->label);
	free(P->m.memo);
	free(P);
}

const rules_fate *rules_plan_fate(const rules_plan *P, size_t i) { return &P->fate[i]; }
size_t rules_plan_output_count(const rules_plan *P) { return P->nout; }
const rules_output *rules_plan_output(const rules_plan *P, size_t i) { return &P->out[i]; }
size_t rules_plan_alias_count(const rules_plan *P) { return P->nalias; }
const rules_alias *rules_plan_alias(const rules_plan *P, size_t i) { return &P->alias[i]; }

/* The one keep/rename/drop/refuse rule that matches name (a tensor of ndim
 * axes; -1: any, for an alias); errors name the tensor (what = "tensor" or
 * "alias"). */
static const rule *find_rule(rules_plan *P, const char *what, const char *name, int ndim,
			     capval *caps)
{
	const rules *R = P->R;
	const rule *hit = NULL, *rank_miss = NULL;
	capval tmp[MAX_CAPS];
	for (size_t i = 0; i < R->n; i++) {
		const rule *r = &R->r[i];
		if (r->kind == R_ALIAS || r->kind == R_REQUIRE || r->kind == R_COPY || r->kind == R_MAKE ||
		    P->off[i])
			continue;
		if (r->rank && ndim >= 0 && ndim != r->rank - 1) {
			int m = match(&P->m, &r->pat, name, tmp);
			if (m < 0)
				return NULL;
			if (m && !rank_miss)
				rank_miss = r;
			continue;
		}
		int m = match(&P->m, &r->pat, name, hit ? tmp : caps);
		if (m < 0)
			return NULL;
		if (!m)
			continue;
		if (hit) {
			ck_fail("%s: %s %s: matched by two rules, %s:%d and %s:%d", P->label, what, name,
				R->label, hit->line, R->label, r->line);
			return NULL;
		}
		hit = r;
	}
	if (!hit && rank_miss)
		ck_fail("%s: %s %s: has %d axes, which no rule for it takes (%s:%d takes %d)", P->label,
			what, name, ndim, R->label, rank_miss->line, rank_miss->rank - 1);
	else if (!hit)
		ck_fail("%s: %s %s: no rule matches it (%s)", P->label, what, name, R->label);
	else if (hit->kind == R_REFUSE) {
		ck_fail("%s: %s %s: %s (%s:%d)", P->label, what, name, hit->msg, R->label, hit->line);
		return NULL;
	}
	return hit;
}

static int add_output(rules_plan *P, char *name, const tinfo *t, size_t input)
{
	if (!name)
		return -1;
	if (!*name) {
		free(name);
		return ck_fail("%s: tensor %s: the rule makes an empty name (%s:%d)", P->label,
			       P->in[input].name, P->R->label, P->rule_of[input]->line);
	}
	if (P->nout == P->outcap) {
		size_t cap = P->outcap ? 2 * P->outcap : 64;
		rules_output *o = ck_realloc(P->out, cap * sizeof *o);
		if (!o) {
			free(name);
			return -1;
		}
		P->out = o;
		P->outcap = cap;
	}
	rules_output *o = &P->out[P->nout++];
	memset(o, 0, sizeof *o);
	o->name = name;
	o->dtype = t->dtype;
	o->ndim = t->ndim;
	memcpy(o->shape, t->shape, sizeof o->shape);
	o->input = input;
	return 0;
}

static int add_alias(rules_plan *P, char *name, const char *target, const rule *r)
{
	char *tg = ck_strdup(target);
	if (!name || !tg) {
		free(name);
		free(tg);
		return -1;
	}
	if (P->nalias == P->aliascap) {
		size_t cap = P->aliascap ? 2 * P->aliascap : 16;
		rules_alias *a = ck_realloc(P->alias, cap * sizeof *a);
		const rule **ar = a ? ck_realloc(P->alias_rule, cap * sizeof *ar) : NULL;
		if (a)
			P->alias = a;
		if (!ar) {
			free(name);
			free(tg);
			return -1;
		}
		P->alias_rule = ar;
		P->aliascap = cap;
	}
	P->alias[P->nalias].name = name;
	P->alias[P->nalias].target = tg;
	P->alias_rule[P->nalias] = r;
	P->nalias++;
	return 0;
}

/* Plan the outputs of input i under rule r (a keep or rename). */
static int plan_input(rules_plan *P, size_t i, const rule *r, const capval *caps)
{
	const rules_tensor *x = &P->in[i];
	rules_fate *f = &P->fate[i];
	tinfo t = {x->ndim, {0}, x->dtype};
	memcpy(t.shape, x->shape, sizeof t.shape);
	uint64_t pieces = 1;
	int reorders = 0;
	char why[512];
	for (int k = 0; k < r->nops; k++)
		if (op_shape(r, &r->ops[k], &t, &pieces, &reorders, why, sizeof why) < 0)
			return ck_fail("%s: tensor %s: %s (%s:%d)", P->label, x->name, why,
				       P->R->label, r->line);
	f->first = P->nout;
	f->count = (size_t)pieces;
	f->streams = !reorders;
	f->from = x->dtype;
	f->to = t.dtype;
	if (r->kind == R_KEEP)
		return add_output(P, ck_strdup(x->name), &t, i);
	for (uint64_t p = 0; p < pieces; p++) {
		char num[24];
		const char *val = num;
		if (r->split_set)
			val = r->split_set->to[p] ? r->split_set->to[p] : r->split_set->from[p];
		else
			snprintf(num, sizeof num, "%llu", (unsigned long long)p);
		if (add_output(P, render(&r->tpl, &r->pat, x->name, caps, r->split_name ? val : NULL),
			       &t, i) < 0)
			return -1;
	}
	return 0;
}

static const rules_output *g_sort_out; /* qsort has no context argument in C11 */
static int cmp_out(const void *a, const void *b)
{
	int c = strcmp(g_sort_out[*(const size_t *)a].name, g_sort_out[*(const size_t *)b].name);
	if (c)
		return c;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static const rules_alias *g_sort_alias;
static int cmp_alias(const void *a, const void *b)
{
	int c = strcmp(g_sort_alias[*(const size_t *)a].name, g_sort_alias[*(const size_t *)b].name);
	if (c)
		return c;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* Index of the output called name in the sorted order, or -1. */
static long find_output(const rules_plan *P, const size_t *sorted, const char *name)
{
	size_t lo = 0, hi = P->nout;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(P->out[sorted[mid]].name, name);
		if (c == 0)
			return (long)sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static const rules_tensor *g_sort_in;
static int cmp_in(const void *a, const void *b)
{
	return strcmp(g_sort_in[*(const size_t *)a].name, g_sort_in[*(const size_t *)b].name);
}

/* The stream's own aliases, carried through renames without operations. */
/* ---- copy and make: outputs written beside an input's own ---------------- */

typedef struct {
	rules_output *v;
	size_t n, cap;
} outvec;

static int made_exists(const rules_plan *P, const size_t *sorted, const outvec *x, const char *name)
{
	if (find_output(P, sorted, name) >= 0)
		return 1;
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->v[i].name, name) == 0)
			return 1;
	return 0;
}

/* Add name (owned) unless it exists: then skip it with if-missing, else fail. */
static int add_made(rules_plan *P, const size_t *sorted, outvec *x, const rule *r, char *name,
		    const rules_output *like, int made)
{
	if (!name)
		return -1;
	if (made_exists(P, sorted, x, name)) {
		if (r->if_missing) {
			free(name);
			return 0;
		}
		ck_fail("%s: %s %s: a tensor of that name is produced too (%s:%d; add if-missing if that is expected)",
			P->label, r->kind == R_COPY ? "copy" : "make", name, P->R->label, r->line);
		free(name);
		return -1;
	}
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 16;
		rules_output *v = ck_realloc(x->v, cap * sizeof *v);
		if (!v) {
			free(name);
			return -1;
		}
		x->v = v;
		x->cap = cap;
	}
	rules_output *o = &x->v[x->n++];
	*o = *like;
	o->name = name;
	o->made = made;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The numbers the over pattern of r captures in the output names (first
 * nout outputs), ascending, each once. */
static int over_values(rules_plan *P, const rule *r, size_t nout, uint32_t **vals, size_t *nv)
{
	*nv = 0;
	*vals = ck_calloc(nout ? nout : 1, sizeof **vals);
	if (!*vals)
		return -1;
	for (size_t o = 0; o < nout; o++) {
		capval c[MAX_CAPS];
		const char *name = P->out[o].name;
		int m = match(&P->m, &r->over, name, c);
		if (m < 0)
			return -1;
		if (!m)
			continue;
		uint64_t v = 0;
		for (size_t q = c[0].b; q < c[0].e && v <= MAX_PIECES; q++)
			v = v * 10 + (uint64_t)(name[q] - '0');
		if (v > MAX_PIECES)
			return ck_fail("%s: output %s: %s over %s: number above %d (%s:%d)", P->label,
				       name, "copy", r->over.text, MAX_PIECES, P->R->label, r->line);
		(*vals)[(*nv)++] = (uint32_t)v;
	}
	qsort(*vals, *nv, sizeof **vals, cmp_u32);
	size_t k = 0;
	for (size_t i = 0; i < *nv; i++)
		if (k == 0 || (*vals)[k - 1] != (*vals)[i])
			(*vals)[k++] = (*vals)[i];
	*nv = k;
	return 0;
}

static int plan_copy(rules_plan *P, const size_t *sorted, outvec *x, const rule *r, size_t nout)
{
	uint32_t *vals = NULL;
	size_t nv = 1;
	if (r->has_over && over_values(P, r, nout, &vals, &nv) < 0) {
		free(vals);
		return -1;
	}
	int rc = 0;
	for (size_t o = 0; o < nout && rc == 0; o++) {
		capval caps[MAX_CAPS];
		int m = match(&P->m, &r->pat, P->out[o].name, caps);
		if (m <= 0) {
			rc = m;
			continue;
		}
		const rules_output *src = &P->out[o];
		for (size_t k = 0; k < nv && rc == 0; k++) {
			char num[16];
			if (vals)
				snprintf(num, sizeof num, "%u", vals[k]);
			char *name = render(&r->tpl, &r->pat, src->name, caps, vals ? num : NULL);
			if (name && r->if_missing && made_exists(P, sorted, x, name)) {
				free(name);
				continue;
			}
			if (name && P->fate[src->input].count != 1) {
				free(name);
				rc = ck_fail("%s: copy of %s: it is one of the %zu pieces of tensor %s; only a tensor's one output can be copied (%s:%d)",
					     P->label, src->name, P->fate[src->input].count,
					     P->in[src->input].name, P->R->label, r->line);
				break;
			}
			rc = add_made(P, sorted, x, r, name, src, RULES_COPY);
		}
	}
	free(vals);
	return rc;
}

static int plan_make(rules_plan *P, const size_t *sorted, outvec *x, const rule *r)
{
	rules_output like = {0};
	const rules_output *first = NULL;
	like.ndim = r->make == MAKE_EYE && r->nsize == 1 ? 2 : r->nsize;
	for (int i = 0; i < r->nsize; i++) {
		int64_t d = r->size[i].n;
		if (r->size[i].ref) {
			long k = find_output(P, sorted, r->size[i].ref);
			if (k < 0) /* nothing to size it by: not made (a require says what is missing) */
				return 0;
			const rules_output *o = &P->out[k];
			if (r->size[i].dim >= o->ndim)
				return ck_fail("%s: make %s: %s has no axis %d (%s:%d)", P->label,
					       r->pat.text, o->name, r->size[i].dim, P->R->label, r->line);
			d = o->shape[r->size[i].dim];
			if (!first)
				first = o;
		}
		like.shape[i] = d;
	}
	if (like.ndim == 2 && r->nsize == 1)
		like.shape[1] = like.shape[0];
	if (r->make == MAKE_INV_FREQ) { /* F32 [ceil(DIM/2)], as torch computes it */
		if (like.shape[0] < 1 || like.shape[0] > INVFREQ_MAX_DIM)
			return ck_fail("%s: make %s: inv_freq DIM %lld is not 1 to %d (%s:%d)", P->label,
				       r->pat.text, (long long)like.shape[0], INVFREQ_MAX_DIM,
				       P->R->label, r->line);
		like.dim = like.shape[0];
		like.base = r->base;
		like.shape[0] = (int64_t)invfreq_count((long)like.dim);
		like.dtype = CK_F32;
		like.input = first->input;
		return add_made(P, sorted, x, r, ck_strdup(r->pat.text), &like, RULES_INV_FREQ);
	}
	ck_dtype dt = first->dtype;
	if (dt != CK_F32 && dt != CK_F16 && dt != CK_BF16 && dt != CK_F64)
		return ck_fail("%s: make %s: %s is %s; made tensors are floating point (%s:%d)",
			       P->label, r->pat.text, first->name, ck_dtype_name(dt), P->R->label,
			       r->line);
	uint64_t nb;
	if (ck_shape_nbytes(dt, like.ndim, like.shape, &nb) < 0 || nb > SIZE_MAX)
		return ck_fail("%s: make %s: shape too large (%s:%d)", P->label, r->pat.text,
			       P->R->label, r->line);
	like.dtype = dt;
	like.input = first->input;
	return add_made(P, sorted, x, r, ck_strdup(r->pat.text), &like,
			r->make == MAKE_EYE ? RULES_EYE : RULES_ZEROS);
}

/* Plan the copy and make rules over the outputs so far, then put each made
 * output right after the outputs of its input: outputs are written in
 * order, and a made one is written when its input's data has come. */
static int plan_made_outputs(rules_plan *P, size_t **sorted)
{
	const rules *R = P->R;
	outvec x = {0};
	size_t nout = P->nout;
	int rc = 0;
	for (size_t ri = 0; ri < R->n && rc == 0; ri++) {
		const rule *r = &R->r[ri];
		if ((r->kind != R_COPY && r->kind != R_MAKE) ||
		    (r->when && find_output(P, *sorted, r->when) < 0))
			continue;
		rc = r->kind == R_COPY ? plan_copy(P, *sorted, &x, r, nout) : plan_make(P, *sorted, &x, r);
	}
	if (rc < 0 || x.n == 0)
		goto done;
	size_t total = nout + x.n;
	rules_output *out = ck_calloc(total, sizeof *out);
	size_t *srt = ck_calloc(total, sizeof *srt);
	if (!out || !srt) {
		free(out);
		free(srt);
		rc = -1;
		goto done;
	}
	size_t k = 0;
	for (size_t i = 0; i < P->nin; i++) {
		rules_fate *f = &P->fate[i];
		size_t first = k;
		for (size_t j = 0; j < f->count; j++)
			out[k++] = P->out[f->first + j];
		for (size_t j = 0; j < x.n; j++)
			if (x.v[j].input == i) {
				out[k++] = x.v[j];
				x.v[j].name = NULL; /* moved */
				f->made++;
			}
		f->first = first;
		if (f->made)
			f->streams = 0; /* the whole tensor, then its copies */
	}
	free(P->out);
	P->out = out;
	P->nout = P->outcap = total;
	for (size_t i = 0; i < total; i++)
		srt[i] = i;
	g_sort_out = P->out;
	qsort(srt, total, sizeof *srt, cmp_out);
	free(*sorted);
	*sorted = srt;
done:
	for (size_t j = 0; j < x.n; j++)
		free(x.v[j].name);
	free(x.v);
	return rc;
}

static int plan_input_aliases(rules_plan *P, const rules_alias *in_alias, size_t n)
{
	if (!n)
		return 0;
	size_t *byname = ck_calloc(P->nin, sizeof *byname);
	if (!byname)
		return -1;
	for (size_t i = 0; i < P->nin; i++)
		byname[i] = i;
	g_sort_in = P->in;
	qsort(byname, P->nin, sizeof *byname, cmp_in);
	int rc = 0;
	for (size_t a = 0; a < n && rc == 0; a++) {
		const char *name = in_alias[a].name, *target = in_alias[a].target;
		long ti = -1;
		size_t lo = 0, hi = P->nin;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = strcmp(P->in[byname[mid]].name, target);
			if (c == 0) {
				ti = (long)byname[mid];
				break;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (ti < 0) {
			rc = ck_fail("%s: alias %s: its tensor %s is not in the input", P->label, name,
				     target);
			break;
		}
		capval caps[MAX_CAPS];
		const rule *r = find_rule(P, "alias", name, -1, caps);
		if (!r) {
			rc = -1;
			break;
		}
		if (r->kind == R_DROP)
			continue;
		const rule *tr = P->rule_of[ti];
		if (!tr || tr->kind == R_DROP) {
			rc = ck_fail("%s: alias %s is kept (%s:%d) but its tensor %s is dropped", P->label,
				     name, P->R->label, r->line, target);
		} else if (r->nops || tr->nops) {
			rc = ck_fail("%s: alias %s of %s: operations on tied tensors are not supported (%s:%d, %s:%d)",
				     P->label, name, target, P->R->label, r->line, P->R->label,
				     tr->line);
		} else {
			char *out = r->kind == R_KEEP ? ck_strdup(name)
						      : render(&r->tpl, &r->pat, name, caps, NULL);
			rc = add_alias(P, out, P->out[P->fate[ti].first].name, r);
		}
	}
	free(byname);
	return rc;
}

/* `require` lines: the name is produced; with {n:number}, for n = 0..N-1
 * without gaps, and the same N for every line using that capture name. */
static int check_requires(rules_plan *P, const size_t *sorted)
{
	const rules *R = P->R;
	size_t total = P->nout + P->nalias;
	uint32_t *vals = ck_calloc(total ? total : 1, sizeof *vals);
	const char **first_name = ck_calloc(R->n ? R->n : 1, sizeof *first_name);
	size_t *first_n = ck_calloc(R->n ? R->n : 1, sizeof *first_n);
	int *first_line = ck_calloc(R->n ? R->n : 1, sizeof *first_line);
	int rc = (vals && first_name && first_n && first_line) ? 0 : -1;
	size_t ngroups = 0;
	for (size_t i = 0; i < R->n && rc == 0; i++) {
		const rule *r = &R->r[i];
		if (r->kind != R_REQUIRE || (r->when && find_output(P, sorted, r->when) < 0))
			continue;
		if (r->pat.ncap == 0) {
			int found = find_output(P, sorted, r->pat.text) >= 0;
			for (size_t a = 0; a < P->nalias && !found; a++)
				found = strcmp(P->alias[a].name, r->pat.text) == 0;
			if (!found && r->msg)
				rc = ck_fail("%s: %s (%s:%d)", P->label, r->msg, R->label, r->line);
			else if (!found)
				rc = ck_fail("%s: required tensor %s is not produced (%s:%d)", P->label,
					     r->pat.text, R->label, r->line);
			continue;
		}
		size_t nv = 0;
		capval c[MAX_CAPS];
		for (size_t k = 0; k < total && rc == 0; k++) {
			const char *name = k < P->nout ? P->out[k].name : P->alias[k - P->nout].name;
			int m = match(&P->m, &r->pat, name, c);
			if (m < 0)
				rc = -1;
			if (m <= 0)
				continue;
			uint64_t v = 0;
			for (size_t q = c[0].b; q < c[0].e && v <= total; q++)
				v = v * 10 + (uint64_t)(name[q] - '0');
			vals[nv++] = v > total ? (uint32_t)total + 1 : (uint32_t)v;
		}
		if (rc)
			break;
		const char *cn = r->pat.cap[0].name;
		if (nv == 0 && r->msg) {
			rc = ck_fail("%s: %s (%s:%d)", P->label, r->msg, R->label, r->line);
			break;
		}
		if (nv == 0) {
			rc = ck_fail("%s: required tensor %s is not produced for any %s (%s:%d)", P->label,
				     r->pat.text, cn, R->label, r->line);
			break;
		}
		/* mark which of 0..nv-1 occur */
		unsigned char *seen = ck_calloc(nv, 1);
		if (!seen) {
			rc = -1;
			break;
		}
		for (size_t k = 0; k < nv; k++)
			if (vals[k] < nv)
				seen[vals[k]] = 1;
		size_t count = 0;
		while (count < nv && seen[count])
			count++;
		free(seen);
		if (count < nv) {
			rc = ck_fail("%s: required tensor %s is missing for %s = %zu (%s:%d)", P->label,
				     r->pat.text, cn, count, R->label, r->line);
			break;
		}
		size_t g;
		for (g = 0; g < ngroups; g++)
			if (strcmp(first_name[g], cn) == 0)
				break;
		if (g == ngroups) {
			first_name[g] = cn;
			first_n[g] = count;
			first_line[g] = r->line;
			ngroups++;
		} else if (first_n[g] != count) {
			size_t lo = count < first_n[g] ? count : first_n[g];
			rc = ck_fail("%s: required tensors disagree on %s: %s:%d finds %zu, %s:%d finds %zu (missing for %s = %zu)",
				     P->label, cn, R->label, first_line[g], first_n[g], R->label, r->line,
				     count, cn, lo);
		}
	}
	free(vals);
	free(first_name);
	free(first_n);
	free(first_line);
	return rc;
}

rules_plan *rules_plan_make(const rules *R, const rules_tensor *in, size_t n,
			    const rules_alias *in_aliases, size_t n_aliases, const char *label)
{
	rules_plan *P = ck_calloc(1, sizeof *P);
	if (!P)
		return NULL;
	P->R = R;
	P->label = ck_strdup(label ? label : "-");
	P->in = ck_calloc(n, sizeof *P->in);
	P->rule_of = ck_calloc(n, sizeof *P->rule_of);
	P->fate = ck_calloc(n, sizeof *P->fate);
	size_t *sorted = NULL;
	if (!P->label || !P->in || !P->rule_of || !P->fate)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		P->in[i] = in[i];
		if (!(P->in[i].name = ck_strdup(in[i].name)))
			goto fail;
		P->nin++;
	}
	/* A rule that does not count matches nothing (each input still has
	 * exactly one rule). */
	if (!(P->off = ck_calloc(R->n ? R->n : 1, 1)))
		goto fail;
	for (size_t ri = 0; ri < R->n; ri++) {
		const rule *r = &R->r[ri];
		size_t i = 0;
		while (r->cond && i < n && strcmp(in[i].name, r->cond) != 0)
			i++;
		P->off[ri] = r->cond && (i < n) == r->cond_unless;
	}
	for (size_t i = 0; i < n; i++) {
		if (in[i].dtype == CK_STRING) /* never streamed: nothing to map */
			continue;
		capval caps[MAX_CAPS];
		const rule *r = find_rule(P, "tensor", in[i].name, in[i].ndim, caps);
		if (!r)
			goto fail;
		P->rule_of[i] = r;
		P->fate[i].rule_line = r->line;
		P->fate[i].first = P->nout;
		if (r->kind == R_DROP)
			P->fate[i].dropped = 1;
		else if (plan_input(P, i, r, caps) < 0)
			goto fail;
	}

	/* no two outputs with one name */
	sorted = ck_calloc(P->nout ? P->nout : 1, sizeof *sorted);
	if (!sorted)
		goto fail;
	for (size_t i = 0; i < P->nout; i++)
		sorted[i] = i;
	g_sort_out = P->out;
	qsort(sorted, P->nout, sizeof *sorted, cmp_out);
	for (size_t i = 1; i < P->nout; i++) {
		const rules_output *a = &P->out[sorted[i - 1]], *b = &P->out[sorted[i]];
		if (strcmp(a->name, b->name) == 0) {
			ck_fail("%s: tensors %s and %s both become %s (%s:%d, %s:%d)", label,
				P->in[a->input].name, P->in[b->input].name, a->name, R->label,
				P->rule_of[a->input]->line, R->label, P->rule_of[b->input]->line);
			goto fail;
		}
	}

	if (plan_made_outputs(P, &sorted) < 0 || plan_input_aliases(P, in_aliases, n_aliases) < 0)
		goto fail;
	/* alias rules, in file order, over the tensors produced */
	for (size_t ri = 0; ri < R->n; ri++) {
		const rule *r = &R->r[ri];
		if (r->kind != R_ALIAS || (r->when && find_output(P, sorted, r->when) < 0))
			continue;
		for (size_t o = 0; o < P->nout; o++) {
			capval caps[MAX_CAPS];
			int m = match(&P->m, &r->pat, P->out[o].name, caps);
			if (m < 0)
				goto fail;
			if (!m)
				continue;
			char *name = render(&r->tpl, &r->pat, P->out[o].name, caps, NULL);
			if (!name)
				goto fail;
			if (find_output(P, sorted, name) >= 0) {
				if (r->if_missing) {
					free(name);
					continue;
				}
				ck_fail("%s: alias %s: a tensor of that name is produced too (%s:%d; add if-missing if that is expected)",
					label, name, R->label, r->line);
				free(name);
				goto fail;
			}
			if (add_alias(P, name, P->out[o].name, r) < 0)
				goto fail;
		}
	}
	if (P->nalias) {
		size_t *as = ck_calloc(P->nalias, sizeof *as);
		if (!as)
			goto fail;
		for (size_t i = 0; i < P->nalias; i++)
			as[i] = i;
		g_sort_alias = P->alias;
		qsort(as, P->nalias, sizeof *as, cmp_alias);
		for (size_t i = 0; i < P->nalias; i++) {
			const rules_alias *a = &P->alias[as[i]];
			int dup = i > 0 && strcmp(P->alias[as[i - 1]].name, a->name) == 0;
			if (dup || find_output(P, sorted, a->name) >= 0) {
				ck_fail("%s: alias %s is made twice (%s:%d%s)", label, a->name, R->label,
					P->alias_rule[as[i]]->line,
					dup ? ", and by another alias" : ", and is also a tensor");
				free(as);
				goto fail;
			}
		}
		free(as);
	}
	if (check_requires(P, sorted) < 0)
		goto fail;
	free(sorted);
	return P;
fail:
	free(sorted);
	rules_plan_free(P);
	return NULL;
}

/* ---- applying ----------------------------------------------------------- */

/* Four buffers: two for the operations before a split (ping-pong), two for
 * those after it, which must not overwrite the tensor being split. */
struct rules_work {
	void *buf[4];
	size_t cap[4];
};

rules_work *rules_work_new(void) { return ck_calloc(1, sizeof(rules_work)); }

void rules_work_free(rules_work *W)
{
	if (!W)
		return;
	for (int i = 0; i < 4; i++)
		free(W->buf[i]);
	free(W);
}

/* Buffer `first` or `first + 1`, whichever is not cur, with room for n bytes. */
static void *grab(rules_work *W, int first, const void *cur, size_t n)
{
	int k = W->buf[first] == cur ? first + 1 : first;
	if (W->cap[k] < n) {
		free(W->buf[k]);
		W->buf[k] = NULL;
		W->cap[k] = 0;
		if (!(W->buf[k] = ck_malloc(n)))
			return NULL;
		W->cap[k] = n;
	}
	return W->buf[k];
}

/* Run ops[from..to) of r on *buf, updating t; new data goes to the work
 * buffers first, first+1. */
static int run_ops(const rule *r, int from, int to, tinfo *t, const void **buf, rules_work *W,
		   int first)
{
	for (int k = from; k < to; k++) {
		const op *o = &r->ops[k];
		uint64_t numel;
		ck_shape_numel(t->ndim, t->shape, &numel);
		if (o->kind == OP_TRANSPOSE && count_non1(t) >= 2) {
			size_t es = ck_dtype_size(t->dtype);
			void *nb = grab(W, first, *buf, (size_t)numel * es);
			if (!nb || tops_reverse_axes(nb, *buf, t->ndim, t->shape, es) < 0)
				return -1;
			*buf = nb;
		} else if (o->kind == OP_CAST && o->dtype != t->dtype) {
			void *nb = grab(W, first, *buf, (size_t)numel * ck_dtype_size(o->dtype));
			if (!nb)
				return -1;
			tops_cast(nb, o->dtype, *buf, t->dtype, (size_t)numel);
			*buf = nb;
		}
		uint64_t pieces;
		int reorders;
		char why[8];
		op_shape(r, o, t, &pieces, &reorders, why, sizeof why); /* validated by the plan */
	}
	return 0;
}

#define BAND_BYTES (4u << 20) /* a band of a streamed transpose, before casts */

/* A rule that transposes a matrix (two axes other than size 1), casts and
 * reshapes, without splitting, can emit its output a band of rows at a
 * time: casts are elementwise, so they commute with the transpose, and
 * memory is the input plus two bands, not the input plus its transpose.
 * Returns 1 when done so, 0 when the rule is not of that kind. */
static int apply_banded(const rule *r, rules_work *W, const tinfo *in, const void *data,
			size_t output, rules_emit_fn emit, void *ctx)
{
	tinfo t = *in;
	size_t R = 0, C = 0; /* the matrix the transpose sees */
	int transposes = 0;
	for (int k = 0; k < r->nops; k++) {
		const op *o = &r->ops[k];
		if (o->kind == OP_TRANSPOSE && count_non1(&t) >= 2) {
			if (count_non1(&t) != 2 || transposes++)
				return 0;
			for (int i = 0, nd = 0; i < t.ndim; i++)
				if (t.shape[i] != 1)
					*(nd++ ? &C : &R) = (size_t)t.shape[i];
		} else if (o->kind != OP_TRANSPOSE && o->kind != OP_CAST && o->kind != OP_SQUEEZE &&
			   o->kind != OP_RESHAPE) {
			return 0;
		}
		uint64_t pieces;
		int reorders;
		char why[8];
		op_shape(r, o, &t, &pieces, &reorders, why, sizeof why);
	}
	if (!transposes || R == 0 || C == 0)
		return 0;
	size_t es = ck_dtype_size(in->dtype);
	size_t step = BAND_BYTES / (R * es) & ~(size_t)7; /* output rows per band */
	if (step < 8)
		step = 8;
	for (size_t c0 = 0; c0 < C; c0 += step) {
		size_t c1 = C - c0 < step ? C : c0 + step, n = (c1 - c0) * R;
		void *band = grab(W, 0, NULL, n * es);
		if (!band)
			return -1;
		tops_transpose_band(band, data, R, C, c0, c1, es);
		const void *cur = band;
		ck_dtype dt = in->dtype;
		for (int k = 0; k < r->nops; k++) {
			const op *o = &r->ops[k];
			if (o->kind != OP_CAST || o->dtype == dt)
				continue;
			void *nb = grab(W, 0, cur, n * ck_dtype_size(o->dtype));
			if (!nb)
				return -1;
			tops_cast(nb, o->dtype, cur, dt, n);
			cur = nb;
			dt = o->dtype;
		}
		if (emit(ctx, output, cur, n * ck_dtype_size(dt)) < 0)
			return -1;
	}
	return 1;
}

#define MADE_CHUNK 16384 /* elements of a made tensor generated at a time */

/* Write output o, an identity matrix or zeros, a chunk at a time; inverse
 * frequencies (at most INVFREQ_MAX_DIM / 2 floats) at once. */
static int emit_made(const rules_output *o, size_t index, rules_emit_fn emit, void *ctx)
{
	if (o->made == RULES_INV_FREQ) {
		float *v = ck_malloc((size_t)o->shape[0] * sizeof *v);
		if (!v)
			return -1;
		invfreq_fill(v, o->base, (long)o->dim);
		int rc = emit(ctx, index, v, (size_t)o->shape[0] * sizeof *v);
		free(v);
		return rc;
	}
	static const unsigned char one_f32[4] = {0x00, 0x00, 0x80, 0x3f}, one_f16[2] = {0x00, 0x3c},
				   one_bf16[2] = {0x80, 0x3f},
				   one_f64[8] = {0, 0, 0, 0, 0, 0, 0xf0, 0x3f};
	const unsigned char *one = o->dtype == CK_F32 ? one_f32 : o->dtype == CK_F16 ? one_f16
				 : o->dtype == CK_BF16 ? one_bf16 : one_f64;
	size_t es = ck_dtype_size(o->dtype);
	uint64_t numel, cols = o->ndim == 2 ? (uint64_t)o->shape[1] : 0;
	ck_shape_numel(o->ndim, o->shape, &numel); /* validated by the plan */
	unsigned char *buf = ck_malloc(MADE_CHUNK * es);
	if (!buf)
		return -1;
	int rc = 0;
	for (uint64_t at = 0; at < numel && rc == 0;) {
		size_t n = numel - at < MADE_CHUNK ? (size_t)(numel - at) : MADE_CHUNK;
		memset(buf, 0, n * es);
		/* (i, i) of a [rows, cols] matrix is element i * (cols + 1) */
		for (size_t k = 0; o->made == RULES_EYE && k < n; k++) {
			uint64_t e = at + k;
			if (e % (cols + 1) == 0 && e / (cols + 1) < (uint64_t)o->shape[0])
				memcpy(buf + k * es, one, es);
		}
		rc = emit(ctx, index, buf, n * es);
		at += n;
	}
	free(buf);
	return rc;
}

static int apply_own(const rules_plan *P, rules_work *W, size_t input, const void *data,
		     size_t nbytes, size_t first, rules_emit_fn emit, void *ctx);

int rules_plan_apply(const rules_plan *P, rules_work *W, size_t input, const void *data,
		     size_t nbytes, rules_emit_fn emit, void *ctx)
{
	const rules_fate *f = &P->fate[input];
	const rule *r = P->rule_of[input];
	if (!r || f->dropped || f->count == 0)
		return 0;
	if (apply_own(P, W, input, data, nbytes, f->first, emit, ctx) < 0)
		return -1;
	for (size_t k = f->first + f->count; k < f->first + f->count + f->made; k++) {
		const rules_output *o = &P->out[k];
		/* a copy is its input's one output, computed again */
		int rc = o->made == RULES_COPY ? apply_own(P, W, input, data, nbytes, k, emit, ctx)
					       : emit_made(o, k, emit, ctx);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* The input's own outputs, from first on. */
static int apply_own(const rules_plan *P, rules_work *W, size_t input, const void *data,
		     size_t nbytes, size_t first, rules_emit_fn emit, void *ctx)
{
	const rule *r = P->rule_of[input];
	const rules_tensor *x = &P->in[input];
	tinfo t = {x->ndim, {0}, x->dtype};
	memcpy(t.shape, x->shape, sizeof t.shape);
	uint64_t need;
	if (ck_shape_nbytes(t.dtype, t.ndim, t.shape, &need) < 0 || need != nbytes)
		return ck_fail("%s: tensor %s: %zu bytes of data for shape and dtype that need %llu",
			       P->label, x->name, nbytes, (unsigned long long)need);
	int split = r->nops;
	for (int k = 0; k < r->nops; k++)
		if (r->ops[k].kind == OP_SPLIT)
			split = k;
	if (split == r->nops) {
		int rc = apply_banded(r, W, &t, data, first, emit, ctx);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
	const void *buf = data;
	if (run_ops(r, 0, split, &t, &buf, W, 0) < 0)
		return -1;
	if (split == r->nops) {
		uint64_t out;
		ck_shape_nbytes(t.dtype, t.ndim, t.shape, &out);
		return emit(ctx, first, buf, (size_t)out);
	}
	const op *o = &r->ops[split];
	size_t es = ck_dtype_size(t.dtype);
	uint64_t outer = 1, inner = es, axis = (uint64_t)t.shape[o->axis];
	for (int i = 0; i < o->axis; i++)
		outer *= (uint64_t)t.shape[i];
	for (int i = o->axis + 1; i < t.ndim; i++)
		inner *= (uint64_t)t.shape[i];
	uint64_t width = r->split_set ? axis / (uint64_t)r->split_set->n : 1;
	tinfo pt = t;
	uint64_t pieces;
	int reorders;
	char why[8];
	op_shape(r, o, &pt, &pieces, &reorders, why, sizeof why);
	for (uint64_t p = 0; p < pieces; p++) {
		void *piece = grab(W, 2, NULL, (size_t)(outer * width * inner));
		if (!piece)
			return -1;
		tops_slice(piece, buf, outer, axis, inner, p * width, width);
		tinfo qt = pt;
		const void *qb = piece;
		if (run_ops(r, split + 1, r->nops, &qt, &qb, W, 2) < 0)
			return -1;
		uint64_t out;
		ck_shape_nbytes(qt.dtype, qt.ndim, qt.shape, &out);
		if (emit(ctx, first + (size_t)p, qb, (size_t)out) < 0)
			return -1;
	}
	return 0;
}
