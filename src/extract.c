/* extract.c — see extract.h. */
#include "extract.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "remap.h"
#include "safetensors.h"

/* sel[i]: 0 not chosen, 1 chosen, TIED chosen and written as an alias */
#define TIED 2

struct ck_extract {
	ck_source *s;
	char *sel;
	st_writer *w; /* the planned header */
	/* with a rule file: the plan, whose input slot[i] tensor i is */
	rules *R;
	rules_plan *P;
	rules_work *work;
	size_t *slot;
};

static int add_metadata(const ck_source *s, st_writer *w)
{
	if (st_writer_meta(w, "format", "pt") < 0 || st_writer_meta(w, "ckptconv.version", CK_VERSION) < 0)
		return -1;
	for (const char *const *p = ck_source_provenance(s); *p; p++) {
		char hex[65], key[4096];
		if (ck_sha256_file(*p, hex) < 0)
			return -1;
		snprintf(key, sizeof key, "%s%s", ST_SHA_PREFIX, ck_base_name(*p));
		if (st_writer_meta(w, key, hex) < 0)
			return -1;
	}
	return 0;
}

/* Declare the chosen tensors as they are; a second name as an alias. */
static int declare(const ck_source *s, const char *sel, st_writer *w)
{
	for (size_t i = 0; i < ck_source_count(s); i++) {
		const ck_source_entry *e = ck_source_at(s, i);
		if (!sel[i] || e->dtype == CK_STRING)
			continue;
		if (sel[i] == TIED) {
			char key[4096];
			if (snprintf(key, sizeof key, "%s%s", ST_ALIAS_PREFIX, e->name) >= (int)sizeof key)
				return ck_fail("%s: tensor %s: name too long", ck_source_label(s), e->name);
			if (st_writer_meta(w, key, e->tied_to) < 0)
				return -1;
		} else if (st_writer_add(w, e->name, e->dtype, e->ndim, e->shape) < 0) {
			return ck_fail("%s: %s", ck_source_label(s), ck_errmsg());
		}
	}
	return 0;
}

/* Plan the rules over the stream the chosen tensors would make (in its
 * order, second names as its aliases), declare the planned header, and
 * unchoose the tensors the rules drop. */
static int plan_rules(ck_extract *x, const char *path, const char *const *args, size_t nargs)
{
	size_t n = ck_source_count(x->s), nin = 0, nal = 0;
	rules_tensor *in = ck_calloc(n ? n : 1, sizeof *in);
	rules_alias *al = ck_calloc(n ? n : 1, sizeof *al);
	size_t *src = ck_calloc(n ? n : 1, sizeof *src); /* plan input -> tensor */
	x->slot = ck_calloc(n ? n : 1, sizeof *x->slot);
	x->work = rules_work_new();
	char hex[65];
	int rc = in && al && src && x->slot && x->work ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const ck_source_entry *e = ck_source_at(x->s, i);
		if (!x->sel[i] || e->dtype == CK_STRING)
			continue;
		if (x->sel[i] == TIED) {
			al[nal++] = (rules_alias){e->name, e->tied_to};
			continue;
		}
		in[nin] = (rules_tensor){e->name, e->dtype, e->ndim, {0}};
		memcpy(in[nin].shape, e->shape, sizeof in[nin].shape);
		x->slot[i] = nin;
		src[nin++] = i;
	}
	if (rc == 0 && !(x->R = remap_load(path, args, nargs, hex)))
		rc = -1;
	if (rc == 0 && !(x->P = rules_plan_make(x->R, in, nin, al, nal, ck_source_label(x->s))))
		rc = -1;
	if (rc == 0)
		rc = remap_declare(x->P, x->w, path, hex);
	for (size_t j = 0; rc == 0 && j < nin; j++)
		if (rules_plan_fate(x->P, j)->dropped)
			x->sel[src[j]] = 0;
	free(in);
	free(al);
	free(src);
	return rc;
}

ck_extract *ck_extract_new(ck_source *s, const char *chosen, const char *rules,
			   const char *const *args, size_t nargs, int write)
{
	ck_extract *x = ck_calloc(1, sizeof *x);
	size_t n = ck_source_count(s);
	if (!x || !(x->sel = ck_malloc(n)))
		goto fail;
	x->s = s;
	for (size_t i = 0; i < n; i++) {
		const ck_source_entry *e = ck_source_at(s, i);
		x->sel[i] = (char)(chosen ? chosen[i] != 0 : 1);
		if (x->sel[i] && !e->supported) {
			ck_fail("%s: tensor %s: type %s cannot be extracted (choose other "
				"tensors with NAME or --match)",
				ck_source_label(s), e->name, e->type_name);
			goto fail;
		}
	}
	/* a second name of chosen data is an alias; alone it is a tensor */
	for (size_t i = 0; i < n; i++) {
		const ck_source_entry *e = ck_source_at(s, i);
		long t = e->tied_to ? ck_source_find(s, e->tied_to) : -1;
		if (x->sel[i] && t >= 0 && x->sel[t])
			x->sel[i] = TIED;
	}
	if (ck_source_check(s) < 0)
		goto fail;
	if (!write)
		return x;
	if (!(x->w = st_writer_new()) || add_metadata(s, x->w) < 0 ||
	    (rules ? plan_rules(x, rules, args, nargs) : declare(s, x->sel, x->w)) < 0)
		goto fail;
	return x;
fail:
	ck_extract_free(x);
	return NULL;
}

void ck_extract_free(ck_extract *x)
{
	if (!x)
		return;
	st_writer_free(x->w);
	rules_plan_free(x->P);
	rules_free(x->R);
	rules_work_free(x->work);
	free(x->slot);
	free(x->sel);
	free(x);
}

static int put_tensor(ck_extract *x, size_t i, const void *data, size_t n)
{
	if (!x->P)
		return st_writer_write(x->w, data, n);
	return rules_plan_apply(x->P, x->work, x->slot[i], data, n, remap_emit, x->w);
}

#define PREFETCH_AHEAD (64u << 20) /* bytes of the next chosen tensors asked for in advance */

/* A tensor the format stores as is is checked and written straight from the
 * page cache; the others are read into one buffer, as large as the largest
 * of them, reused. The kernel is asked to read ahead the next chosen
 * tensors, which need not be adjacent. */
static int copy_tensors(ck_extract *x, int write, uint64_t *count, uint64_t *bytes)
{
	ck_source *s = x->s;
	const char *sel = x->sel;
	size_t n = ck_source_count(s), ahead_to = 0;
	uint64_t max = 0, ahead = 0;
	for (size_t i = 0; i < n; i++)
		if (sel[i] == 1 && ck_source_at(s, i)->nbytes > max)
			max = ck_source_at(s, i)->nbytes;
	if (max > SIZE_MAX)
		return ck_fail("%s: tensor too large for memory", ck_source_label(s));
	void *buf = NULL;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (sel[i] != 1) /* a tied name's data is its first name's */
			continue;
		const ck_source_entry *e = ck_source_at(s, i);
		/* ahead: bytes asked for of the chosen tensors after this one */
		if (ahead_to <= i) {
			ck_source_prefetch(s, i);
			ahead_to = i + 1;
			ahead = 0;
		} else {
			ahead -= e->nbytes;
		}
		for (; ahead_to < n && ahead < PREFETCH_AHEAD; ahead_to++)
			if (sel[ahead_to] == 1) {
				ck_source_prefetch(s, ahead_to);
				ahead += ck_source_at(s, ahead_to)->nbytes;
			}
		ck_source_view v;
		const void *data = NULL;
		rc = ck_source_map(s, i, &v);
		if (rc == 1) {
			data = v.data;
			rc = 0;
		} else if (rc == 0) {
			if (!buf && !(buf = ck_malloc((size_t)max)))
				rc = -1;
			else
				rc = ck_source_read(s, i, buf, e->nbytes);
			data = buf;
		}
		if (rc == 0) {
			(*count)++;
			*bytes += e->nbytes;
			if (e->dtype == CK_STRING) {
				if (write)
					fprintf(stderr, "%s: note: %s: string tensor %s verified and skipped\n",
						cli_name(), ck_source_label(s), e->name);
			} else if (write) {
				rc = put_tensor(x, i, data, (size_t)e->nbytes);
			}
		}
		ck_source_unmap(s, &v);
	}
	free(buf);
	return rc;
}

int ck_extract_run(ck_extract *x, ck_put_fn put, void *ctx, const char *label,
		   uint64_t *count, uint64_t *bytes)
{
	*count = *bytes = 0;
	if (x->w && st_writer_begin_put(x->w, put, ctx, label) < 0)
		return -1;
	if (copy_tensors(x, x->w != NULL, count, bytes) < 0)
		return -1;
	if (x->P && rules_plan_emit_made(x->P, remap_emit, x->w) < 0)
		return -1;
	return x->w ? st_writer_end(x->w) : 0;
}
