/* hfshard.c — see hfshard.h. */
#include "hfshard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int hf_parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *unit;
		uint64_t mult;
		int bits_if_lower_b;
	} units[] = {
		{"GIB", 1ull << 30, 0}, {"MIB", 1ull << 20, 0}, {"KIB", 1ull << 10, 0},
		{"GB", 1000000000ull, 1}, {"MB", 1000000ull, 1}, {"KB", 1000ull, 1},
	};
	size_t n = strlen(s), digits = 0;
	while (digits < n && s[digits] >= '0' && s[digits] <= '9')
		digits++;
	if (digits == 0 || digits > 19)
		return -1;
	char num[20];
	memcpy(num, s, digits);
	num[digits] = 0;
	uint64_t v;
	if (ck_parse_u64(num, &v) < 0)
		return -1;
	const char *u = s + digits;
	if (!*u) {
		*bytes = v;
		return 0;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcasecmp(u, units[i].unit) != 0)
			continue;
		if (ck_mul_u64(v, units[i].mult, &v) < 0)
			return -1;
		if (units[i].bits_if_lower_b && u[strlen(u) - 1] == 'b')
			v /= 8;
		*bytes = v;
		return 0;
	}
	return -1;
}

size_t hf_plan_shards(const uint64_t *sizes, size_t n, uint64_t max, size_t *shard)
{
	size_t k = 0, in_shard = 0;
	uint64_t used = 0;
	for (size_t i = 0; i < n; i++) {
		/* used + size > max, without overflow */
		if (in_shard && (used > max || sizes[i] > max - used)) {
			k++;
			in_shard = 0;
			used = 0;
		}
		shard[i] = k;
		in_shard++;
		used = used + sizes[i] < used ? UINT64_MAX : used + sizes[i];
	}
	return k + 1;
}

char *hf_shard_name(const char *path, size_t k, size_t n)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	const char *dot = strrchr(base, '.');
	size_t stem = dot && dot != base ? (size_t)(dot - path) : strlen(path);
	char mid[64];
	int m = snprintf(mid, sizeof mid, "-%05zu-of-%05zu", k, n);
	size_t len = strlen(path) + (size_t)m + 1;
	char *s = ck_malloc(len);
	if (s)
		snprintf(s, len, "%.*s%s%s", (int)stem, path, mid, path + stem);
	return s;
}

/* ---- JSON as Python's json module writes it with ensure_ascii ---- */

/* Decode one UTF-8 sequence (input is valid UTF-8). */
static uint32_t utf8_next(const unsigned char **s)
{
	const unsigned char *p = *s;
	uint32_t c = *p++;
	int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
	if (more)
		c &= 0x3fu >> more;
	while (more-- && (*p & 0xc0) == 0x80)
		c = c << 6 | (*p++ & 0x3f);
	*s = p;
	return c;
}

static void json_str(ck_buf *b, const char *s)
{
	char esc[16];
	ck_buf_put(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		uint32_t c = utf8_next(&p);
		switch (c) {
		case '"': ck_buf_str(b, "\\\""); continue;
		case '\\': ck_buf_str(b, "\\\\"); continue;
		case '\n': ck_buf_str(b, "\\n"); continue;
		case '\r': ck_buf_str(b, "\\r"); continue;
		case '\t': ck_buf_str(b, "\\t"); continue;
		case '\b': ck_buf_str(b, "\\b"); continue;
		case '\f': ck_buf_str(b, "\\f"); continue;
		}
		if (c >= 0x20 && c < 0x7f) {
			char ch = (char)c;
			ck_buf_put(b, &ch, 1);
		} else if (c < 0x10000) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			ck_buf_str(b, esc);
		} else {
			c -= 0x10000;
			snprintf(esc, sizeof esc, "\\u%04x\\u%04x", 0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff));
			ck_buf_str(b, esc);
		}
	}
	ck_buf_put(b, "\"", 1);
}

typedef struct {
	const char *name, *file;
} entry;

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

char *hf_index_json(uint64_t total, size_t n, const char *const *names,
		    const char *const *files, size_t *len)
{
	entry *e = ck_calloc(n, sizeof *e);
	if (!e)
		return NULL;
	for (size_t i = 0; i < n; i++)
		e[i] = (entry){names[i], files[i]};
	qsort(e, n, sizeof *e, cmp_entry);
	ck_buf b = {0};
	char num[32];
	snprintf(num, sizeof num, "%llu", (unsigned long long)total);
	ck_buf_str(&b, "{\n  \"metadata\": {\n    \"total_size\": ");
	ck_buf_str(&b, num);
	ck_buf_str(&b, "\n  },\n  \"weight_map\": {");
	for (size_t i = 0; i < n; i++) {
		ck_buf_str(&b, i ? ",\n    " : "\n    ");
		json_str(&b, e[i].name);
		ck_buf_str(&b, ": ");
		json_str(&b, e[i].file);
	}
	ck_buf_str(&b, n ? "\n  }\n}\n" : "}\n}\n");
	free(e);
	if (b.failed) {
		free(b.p);
		ck_fail("out of memory writing the index");
		return NULL;
	}
	*len = b.len;
	return b.p;
}
