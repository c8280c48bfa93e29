/* vocabmap.c — see vocabmap.h. */
#include "vocabmap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MAX_STEPS 64
#define MAX_PATH 1024

enum { S_APPEND, S_REMOVE };

typedef struct {
	int kind;
	char text[VOCABMAP_MAX_TEXT + 1];
	long long min_id;                        /* append: only from this id on */
	char unless[VOCABMAP_MAX_TEXT + 1];      /* append: not if the token has it */
} step;

struct vocabmap {
	char *label;
	char from[MAX_PATH + 1]; /* "" = the document itself */
	step s[MAX_STEPS];
	int n;
};

static int perr(const char *label, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(const char *label, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return ck_fail("%s:%d: %s", label, line, msg);
}

/* A text argument: printable, no blanks, not too long. */
static int copy_text(const char *label, int line, char *dst, const char *src)
{
	size_t n = strlen(src);
	if (n == 0 || n > VOCABMAP_MAX_TEXT)
		return perr(label, line, "text '%s': want 1 to %d bytes", src, VOCABMAP_MAX_TEXT);
	memcpy(dst, src, n + 1);
	return 0;
}

static int parse_line(vocabmap *m, int line, char *text, int *have_from)
{
	char *w[8];
	int nw = 0;
	for (char *p = strtok(text, " \t"); p; p = strtok(NULL, " \t")) {
		if (*p == '#')
			break;
		if (nw == 8)
			return perr(m->label, line, "too many words");
		w[nw++] = p;
	}
	if (nw == 0)
		return 0;
	if (strcmp(w[0], "from") == 0) {
		if (nw != 2 || *have_from)
			return perr(m->label, line, "write one line: from PATH");
		if (strlen(w[1]) > MAX_PATH)
			return perr(m->label, line, "from: path too long");
		strcpy(m->from, w[1]);
		*have_from = 1;
		return 0;
	}
	if (m->n == MAX_STEPS)
		return perr(m->label, line, "more than %d lines", MAX_STEPS);
	step *s = &m->s[m->n];
	memset(s, 0, sizeof *s);
	if (strcmp(w[0], "remove") == 0) {
		if (nw != 2)
			return perr(m->label, line, "write: remove TEXT");
		s->kind = S_REMOVE;
		if (copy_text(m->label, line, s->text, w[1]) < 0)
			return -1;
	} else if (strcmp(w[0], "append") == 0) {
		if (nw < 2)
			return perr(m->label, line, "write: append TEXT [min-id N] [unless-contains TEXT]");
		s->kind = S_APPEND;
		if (copy_text(m->label, line, s->text, w[1]) < 0)
			return -1;
		for (int i = 2; i < nw; i += 2) {
			if (i + 1 == nw)
				return perr(m->label, line, "%s needs a value", w[i]);
			if (strcmp(w[i], "min-id") == 0) {
				char *end;
				long long v = strtoll(w[i + 1], &end, 10);
				if (*end || end == w[i + 1] || v < 0)
					return perr(m->label, line, "min-id %s: want a number", w[i + 1]);
				s->min_id = v;
			} else if (strcmp(w[i], "unless-contains") == 0) {
				if (copy_text(m->label, line, s->unless, w[i + 1]) < 0)
					return -1;
			} else {
				return perr(m->label, line, "append: unknown condition %s (min-id, unless-contains)",
					    w[i]);
			}
		}
	} else {
		return perr(m->label, line, "unknown line '%s' (from, append, remove)", w[0]);
	}
	m->n++;
	return 0;
}

vocabmap *vocabmap_parse(const char *text, size_t len, const char *label)
{
	vocabmap *m = ck_calloc(1, sizeof *m);
	char *line = ck_malloc(len + 1);
	if (!m || !line || !(m->label = ck_strdup(label)))
		goto fail;
	if (len > VOCABMAP_MAX_FILE) {
		ck_fail("%s: too large for a vocabulary map (%zu bytes)", label, len);
		goto fail;
	}
	if (memchr(text, 0, len)) {
		ck_fail("%s: NUL byte: not a text file", label);
		goto fail;
	}
	int have_from = 0, lineno = 0;
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - text - pos) : len - pos;
		memcpy(line, text + pos, n);
		line[n] = 0;
		if (n && line[n - 1] == '\r')
			line[n - 1] = 0;
		pos += n + 1;
		if (parse_line(m, ++lineno, line, &have_from) < 0)
			goto fail;
	}
	free(line);
	return m;
fail:
	free(line);
	vocabmap_free(m);
	return NULL;
}

void vocabmap_free(vocabmap *m)
{
	if (!m)
		return;
	free(m->label);
	free(m);
}

/* Rewrite token (len bytes) into a new malloc'd string. */
static char *rewrite(const vocabmap *m, const char *token, size_t len, long long id)
{
	size_t cap = len + 1;
	for (int i = 0; i < m->n; i++)
		if (m->s[i].kind == S_APPEND)
			cap += strlen(m->s[i].text);
	char *cur = ck_malloc(cap), *tmp = ck_malloc(cap);
	if (!cur || !tmp) {
		free(cur);
		free(tmp);
		return NULL;
	}
	memcpy(cur, token, len);
	cur[len] = 0;
	for (int i = 0; i < m->n; i++) {
		const step *s = &m->s[i];
		if (s->kind == S_APPEND) {
			if (id >= s->min_id && !(s->unless[0] && strstr(cur, s->unless)))
				strcat(cur, s->text);
			continue;
		}
		size_t tl = strlen(s->text), o = 0;
		for (const char *p = cur; *p;) {
			if (strncmp(p, s->text, tl) == 0) {
				p += tl;
			} else {
				tmp[o++] = *p++;
			}
		}
		tmp[o] = 0;
		memcpy(cur, tmp, o + 1);
	}
	free(tmp);
	return cur;
}

json_t *vocabmap_apply(const vocabmap *m, const json_t *doc, const char *label)
{
	const json_t *table = doc;
	for (const char *p = m->from; *p && table;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		char key[MAX_PATH + 1];
		memcpy(key, p, n);
		key[n] = 0;
		table = json_is_object(table) ? json_object_get(table, key) : NULL;
		if (!table) {
			ck_fail("%s: no member %.*s (%s: from %s)", label, (int)(p + n - m->from), m->from,
				m->label, m->from);
			return NULL;
		}
		p = slash ? slash + 1 : p + n;
	}
	if (!json_is_object(table)) {
		ck_fail("%s: %s is not a token -> id object (%s)", label, m->from[0] ? m->from : "the document",
			m->label);
		return NULL;
	}
	json_t *out = json_object();
	if (!out) {
		ck_fail("out of memory");
		return NULL;
	}
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)table, key, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			ck_fail("%s: token \"%s\": id is not a non-negative integer", label, key);
			json_decref(out);
			return NULL;
		}
		char *t = rewrite(m, key, strlen(key), json_integer_value(v));
		if (!t || json_object_set_new(out, t, json_incref(v)) < 0) {
			if (t)
				ck_fail("%s: token \"%s\": not valid UTF-8 after rewriting", label, key);
			free(t);
			json_decref(out);
			return NULL;
		}
		free(t);
	}
	return out;
}
