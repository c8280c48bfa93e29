/* tensorlist.c — see tensorlist.h. */
#include "tensorlist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int tensor_list_read(const char *path, tensor_list *out)
{
	int stdin_ = strcmp(path, "-") == 0;
	int fd = stdin_ ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_fail("%s: %s", path, strerror(errno));
	char *text = NULL;
	size_t len = 0;
	int rc = ck_read_fd(fd, path, TL_MAX_BYTES, &text, &len);
	if (!stdin_)
		close(fd);
	if (rc < 0)
		return -1;
	rc = tensor_list_parse(path, text, len, out);
	free(text);
	return rc;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const tl_tensor *)a)->name, ((const tl_tensor *)b)->name);
}

static int parse_shape(const char *s, size_t n, tl_tensor *t)
{
	t->ndim = 0;
	if (n == 0)
		return 0;
	size_t i = 0;
	for (;;) {
		if (t->ndim == CK_MAX_DIMS)
			return -1;
		uint64_t v = 0;
		size_t start = i;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (ck_mul_u64(v, 10, &v) < 0 || ck_add_u64(v, (uint64_t)(s[i] - '0'), &v) < 0)
				return -1;
			i++;
		}
		if (i == start || v > INT64_MAX)
			return -1;
		t->shape[t->ndim++] = (int64_t)v;
		if (i == n)
			return 0;
		if (s[i] != ',')
			return -1;
		i++;
	}
}

int tensor_list_parse(const char *label, const char *text, size_t len, tensor_list *out)
{
	tensor_list tl = {0};
	size_t cap = 0;
	ck_lines L = {.text = text, .len = len};
	const char *s;
	size_t n;
	while (ck_line_next(&L, &s, &n) > 0) {
		size_t line = L.line;
		const char *t1 = memchr(s, '\t', n);
		const char *t2 = t1 ? memchr(t1 + 1, '\t', n - (size_t)(t1 + 1 - s)) : NULL;
		/* tensor-remap --list adds a 4th column "=TARGET" to tied names */
		const char *t3 = t2 ? memchr(t2 + 1, '\t', n - (size_t)(t2 + 1 - s)) : NULL;
		const char *end = s + n;
		if (t3 && t3[1] == '=' && !memchr(t3 + 1, '\t', n - (size_t)(t3 + 1 - s)))
			end = t3;
		else if (t3)
			t2 = NULL;
		if (!t2 || t1 == s) {
			tensor_list_free(&tl);
			return ck_fail("%s: line %zu: not NAME<TAB>DTYPE<TAB>SHAPE[<TAB>=TARGET]", label, line);
		}
		for (const char *c = s; c < t1; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f) {
				tensor_list_free(&tl);
				return ck_fail("%s: line %zu: control character in the tensor name", label,
					       line);
			}
		if (tl.n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			tl_tensor *v = ck_realloc(tl.v, ncap * sizeof *v);
			if (!v) {
				tensor_list_free(&tl);
				return -1;
			}
			tl.v = v;
			cap = ncap;
		}
		tl_tensor *t = &tl.v[tl.n++]; /* counted now so that errors free it */
		memset(t, 0, sizeof *t);
		char dt[16];
		size_t dlen = (size_t)(t2 - t1 - 1);
		if (dlen >= sizeof dt) {
			tensor_list_free(&tl);
			return ck_fail("%s: line %zu: unknown dtype", label, line);
		}
		memcpy(dt, t1 + 1, dlen);
		dt[dlen] = 0;
		if (strcmp(dt, "STRING") == 0)
			t->dtype = CK_STRING; /* TF string tensors, as ckpt-ls lists them */
		else if (ck_dtype_parse(dt, &t->dtype) < 0) {
			tensor_list_free(&tl);
			return ck_fail("%s: line %zu: unknown dtype \"%s\"", label, line, dt);
		}
		if (parse_shape(t2 + 1, (size_t)(end - (t2 + 1)), t) < 0) {
			tensor_list_free(&tl);
			return ck_fail("%s: line %zu: bad shape (want comma-separated sizes)", label,
				       line);
		}
		uint64_t numel;
		if (ck_shape_numel(t->ndim, t->shape, &numel) < 0 ||
		    ck_mul_u64(numel, 8, &numel) < 0) {
			tensor_list_free(&tl);
			return ck_fail("%s: line %zu: shape size overflows", label, line);
		}
		t->name = ck_malloc((size_t)(t1 - s) + 1);
		if (!t->name) {
			tensor_list_free(&tl);
			return -1;
		}
		memcpy(t->name, s, (size_t)(t1 - s));
		t->name[t1 - s] = 0;
		if (end != s + n) {
			size_t alen = (size_t)(s + n - (end + 2));
			if (alen == 0 || !(t->alias_of = ck_malloc(alen + 1))) {
				tensor_list_free(&tl);
				return alen ? -1 : ck_fail("%s: line %zu: empty alias target", label, line);
			}
			memcpy(t->alias_of, end + 2, alen);
			t->alias_of[alen] = 0;
		}
	}
	/* Unique names; a sorted copy finds duplicates in n log n. */
	if (tl.n > 1) {
		tl_tensor *sorted = ck_malloc(tl.n * sizeof *sorted);
		if (!sorted) {
			tensor_list_free(&tl);
			return -1;
		}
		memcpy(sorted, tl.v, tl.n * sizeof *sorted);
		qsort(sorted, tl.n, sizeof *sorted, cmp_name);
		for (size_t i = 1; i < tl.n; i++)
			if (strcmp(sorted[i - 1].name, sorted[i].name) == 0) {
				int rc = ck_fail("%s: tensor %s: listed twice", label, sorted[i].name);
				free(sorted);
				tensor_list_free(&tl);
				return rc;
			}
		free(sorted);
	}
	*out = tl;
	return 0;
}

void tensor_list_free(tensor_list *tl)
{
	for (size_t i = 0; i < tl->n; i++) {
		free(tl->v[i].name);
		free(tl->v[i].alias_of);
	}
	free(tl->v);
	tl->v = NULL;
	tl->n = 0;
}

const tl_tensor *tensor_list_find(const tensor_list *tl, const char *name)
{
	for (size_t i = 0; i < tl->n; i++)
		if (strcmp(tl->v[i].name, name) == 0)
			return &tl->v[i];
	return NULL;
}
