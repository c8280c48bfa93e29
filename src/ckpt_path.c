/* ckpt_path.c — see ckpt_path.h. */
#include "ckpt_path.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "table.h"
#include "util.h"

#define STATE_FILE "checkpoint"
#define MAX_STATE (1u << 20)
#define MAX_LISTED 20

static int exists(const char *path, int want_dir)
{
	struct stat st;
	return stat(path, &st) == 0 && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
}

static char *concat(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = ck_malloc(la + lb + lc + 1);
	if (s) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb);
		memcpy(s + la + lb, c, lc + 1);
	}
	return s;
}

/* Whether P.index exists for prefix P. */
static int has_index(const char *prefix)
{
	char *p = concat(prefix, ".index", "");
	int r = p && exists(p, 0);
	free(p);
	return r;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Length of the prefix of a data file name "P.data-DDDDD-of-DDDDD", or -1. */
static long data_file_prefix(const char *s)
{
	const char *d = NULL;
	for (const char *p = strstr(s, ".data-"); p; p = strstr(p + 1, ".data-"))
		d = p;
	if (!d || d == s)
		return -1;
	const char *p = d + 6;
	size_t n = strspn(p, "0123456789");
	if (n < 5 || strncmp(p + n, "-of-", 4) != 0)
		return -1;
	p += n + 4;
	n = strspn(p, "0123456789");
	return n >= 5 && p[n] == 0 ? (long)(d - s) : -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_list(char **v);

/* The prefixes of the .index files in dir, sorted (NULL-terminated). */
static char **list_prefixes(const char *dir, size_t *count)
{
	*count = 0;
	DIR *d = opendir(dir);
	if (!d) {
		ck_fail("%s: cannot read directory", dir);
		return NULL;
	}
	size_t n = 0, cap = 8;
	char **v = ck_calloc(cap + 1, sizeof *v);
	int oom = !v;
	struct dirent *de;
	while (!oom && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len <= 6 || !ends_with(de->d_name, ".index"))
			continue;
		if (n == cap) {
			char **w = ck_realloc(v, (2 * cap + 1) * sizeof *v);
			if (!(oom = !w)) {
				v = w;
				cap *= 2;
			}
		}
		if (!oom && !(oom = !(v[n] = ck_strdup(de->d_name)))) {
			v[n][len - 6] = 0;
			v[++n] = NULL;
		}
	}
	closedir(d);
	if (oom) {
		free_list(v);
		return NULL;
	}
	qsort(v, n, sizeof *v, cmp_str);
	*count = n;
	return v;
}

static void free_list(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* "a, b, c" (at most MAX_LISTED names) into buf. */
static void join_list(char **v, size_t n, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; i < n && used < len; i++) {
		int w = i == MAX_LISTED ? snprintf(buf + used, len - used, ", ... (%zu in all)", n)
					: snprintf(buf + used, len - used, "%s%s", i ? ", " : "", v[i]);
		if (w < 0)
			break;
		used += (size_t)w;
		if (i == MAX_LISTED)
			break;
	}
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0'
	       : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
}

/* Undo text-format string escapes (\n \t \r \a \b \f \v \\ \' \" \? \ooo
 * \xhh) up to the closing quote; *stop = just past it. */
static int unescape(const char *p, const char *end, char quote, const char *label, char **out,
		    const char **stop)
{
	char *s = ck_malloc((size_t)(end - p) + 1);
	size_t n = 0;
	if (!s)
		return -1;
	while (p < end && *p != quote && *p != '\n') {
		int c = (unsigned char)*p++;
		if (c == '\\') {
			c = p < end ? (unsigned char)*p++ : -1;
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'a': c = '\a'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'v': c = '\v'; break;
			case '\\': case '\'': case '"': case '?': break;
			case 'x': case 'X':
				if (p >= end || hexval(*p) < 0)
					c = -1;
				else {
					c = hexval(*p++);
					if (p < end && hexval(*p) >= 0)
						c = c * 16 + hexval(*p++);
				}
				break;
			default:
				if (c >= '0' && c <= '7') {
					c -= '0';
					for (int k = 0; k < 2 && p < end && *p >= '0' && *p <= '7'; k++)
						c = c * 8 + (*p++ - '0');
					c &= 0xff;
				} else {
					c = -1;
				}
			}
			if (c < 0) {
				free(s);
				return ck_fail("%s: bad escape in model_checkpoint_path", label);
			}
		}
		if (c == 0) {
			free(s);
			return ck_fail("%s: NUL byte in model_checkpoint_path", label);
		}
		s[n++] = (char)c;
	}
	if (p >= end || *p != quote) {
		free(s);
		return ck_fail("%s: unterminated model_checkpoint_path string", label);
	}
	s[n] = 0;
	*out = s;
	*stop = p + 1;
	return 0;
}

int ck_tf_parse_state(const char *text, size_t len, const char *label, char **out)
{
	static const char field[] = "model_checkpoint_path";
	const char *end = text + len;
	for (const char *p = text; p < end; p++) {
		if ((size_t)(end - p) < sizeof field - 1 || memcmp(p, field, sizeof field - 1) != 0 ||
		    (p > text && !strchr(" \t\r\n{", p[-1])))
			continue;
		const char *q = p + sizeof field - 1;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q >= end || *q != ':')
			continue;
		q++;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q >= end || (*q != '"' && *q != '\''))
			return ck_fail("%s: model_checkpoint_path is not a quoted string", label);
		const char *stop;
		if (unescape(q + 1, end, *q, label, out, &stop) < 0)
			return -1;
		if (!**out) {
			free(*out);
			return ck_fail("%s: empty model_checkpoint_path", label);
		}
		return 0;
	}
	return ck_fail("%s: no model_checkpoint_path in this state file", label);
}

static int v1_error(const char *path)
{
	return ck_fail("%s: a TensorFlow V1 checkpoint (one table file, no .index): not supported; "
		       "re-save it with TF >= 0.12 to get the V2 format",
		       path);
}

static int resolve_dir(const char *arg, char **prefix)
{
	/* "d/" and "d" name the same directory: keep paths in messages tidy. */
	char *dir = ck_strdup(arg);
	if (!dir)
		return -1;
	for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
		dir[n - 1] = 0;
	char *state = concat(dir, "/", STATE_FILE);
	if (!state)
		return -1;
	size_t n;
	int rc = -1;
	if (!exists(state, 0)) {
		char **v = list_prefixes(dir, &n);
		if (!v)
			goto out;
		if (n == 1) {
			*prefix = concat(dir, "/", v[0]);
			rc = *prefix ? 0 : -1;
		} else if (n == 0) {
			ck_fail("%s: no '%s' state file and no .index file in this directory", dir,
				STATE_FILE);
		} else {
			char list[2048];
			join_list(v, n, list, sizeof list);
			ck_fail("%s: no '%s' state file to choose between the checkpoints here: %s",
				dir, STATE_FILE, list);
		}
		free_list(v);
		goto out;
	}
	char *text, *name = NULL;
	if (ck_read_file(state, MAX_STATE, &text, &n) < 0)
		goto out;
	rc = ck_tf_parse_state(text, n, state, &name);
	free(text);
	if (rc < 0)
		goto out;
	rc = -1;
	char *cand = name[0] == '/' ? ck_strdup(name) : concat(dir, "/", name), *local = NULL;
	if (cand && !has_index(cand) && name[0] == '/') {
		/* Copied from another machine: the same checkpoint next to the state file. */
		const char *base = strrchr(name, '/') + 1;
		local = *base ? concat(dir, "/", base) : NULL;
	}
	if (cand && has_index(cand)) {
		*prefix = cand;
		cand = NULL;
		rc = 0;
	} else if (local && has_index(local)) {
		*prefix = local;
		local = NULL;
		rc = 0;
	} else if (local && exists(local, 0) && ck_table_probe(local) == 1) {
		v1_error(local);
	} else if (cand) {
		char **v = list_prefixes(dir, &n);
		if (v) {
			char list[2048];
			join_list(v, n, list, sizeof list);
			ck_fail("%s: model_checkpoint_path \"%s\" names a checkpoint that is not there "
				"(no %s.index); %s%s",
				state, name, cand,
				n ? "checkpoints in this directory: " : "no .index file in this directory",
				list);
		}
		free_list(v);
	}
	free(cand);
	free(local);
	free(name);
out:
	free(state);
	free(dir);
	return rc;
}

int ck_tf_resolve(const char *arg, char **prefix)
{
	if (!*arg)
		return ck_fail("empty checkpoint path");
	if (exists(arg, 1))
		return resolve_dir(arg, prefix);
	size_t n = strlen(arg);
	long dp;
	if (ends_with(arg, ".index") && n > 6) {
		*prefix = ck_strdup(arg);
		if (*prefix)
			(*prefix)[n - 6] = 0;
		return *prefix ? 0 : -1;
	}
	if ((dp = data_file_prefix(arg)) > 0) {
		*prefix = ck_strdup(arg);
		if (*prefix)
			(*prefix)[dp] = 0;
		return *prefix ? 0 : -1;
	}
	if (has_index(arg)) {
		*prefix = ck_strdup(arg);
		return *prefix ? 0 : -1;
	}
	if (ends_with(arg, ".meta") && n > 5) { /* the graph file beside the bundle */
		char *p = ck_strdup(arg);
		if (p)
			p[n - 5] = 0;
		if (p && has_index(p)) {
			*prefix = p;
			return 0;
		}
		free(p);
	}
	if (exists(arg, 0) && ck_table_probe(arg) == 1)
		return v1_error(arg);
	if (exists(arg, 0))
		return ck_fail("%s: not a checkpoint (no %s.index beside it)", arg, arg);
	return ck_fail("%s: no such checkpoint (neither %s nor %s.index exists)", arg, arg, arg);
}

int ck_tf_probe(const char *arg)
{
	if (exists(arg, 1)) {
		char *state = concat(arg, "/", STATE_FILE);
		size_t n = 0;
		int r = state && exists(state, 0);
		free(state);
		if (!r) {
			char **v = list_prefixes(arg, &n);
			free_list(v);
		}
		return r || n ? 2 : 1;
	}
	if (ends_with(arg, ".index") || ends_with(arg, ".meta") || data_file_prefix(arg) > 0 ||
	    has_index(arg))
		return 2;
	if (exists(arg, 0))
		return ck_table_probe(arg) == 1 ? 2 : 0;
	return 1;
}
