/* remap.c — see remap.h. */
#include "remap.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

rules *remap_load(const char *path, const char *const *args, size_t nargs, char hex[65])
{
	char *text;
	size_t len;
	if (ck_read_file(path, RULES_MAX_FILE, &text, &len) < 0)
		return NULL;
	unsigned char md[32];
	unsigned int mdlen = 0;
	if (EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
		free(text);
		ck_fail("%s: cannot compute SHA-256", path);
		return NULL;
	}
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	rules *R = rules_parse_args(text, len, path, args, nargs);
	free(text);
	return R;
}

static int meta_prefixed(st_writer *w, const char *prefix, const char *name, const char *value)
{
	size_t lp = strlen(prefix), ln = strlen(name);
	char *key = ck_malloc(lp + ln + 1);
	if (!key)
		return -1;
	memcpy(key, prefix, lp);
	memcpy(key + lp, name, ln + 1);
	int rc = st_writer_meta(w, key, value);
	free(key);
	return rc;
}

int remap_declare(const rules_plan *P, st_writer *w, const char *rules_path, const char *hex)
{
	for (size_t i = 0; i < rules_plan_output_count(P); i++) {
		const rules_output *x = rules_plan_output(P, i);
		if (st_writer_add(w, x->name, x->dtype, x->ndim, x->shape) < 0)
			return -1;
	}
	if (meta_prefixed(w, ST_SHA_PREFIX, ck_base_name(rules_path), hex) < 0 ||
	    st_writer_meta(w, "ckptconv.version", CK_VERSION) < 0)
		return -1;
	for (size_t i = 0; i < rules_plan_alias_count(P); i++) {
		const rules_alias *a = rules_plan_alias(P, i);
		if (meta_prefixed(w, ST_ALIAS_PREFIX, a->name, a->target) < 0)
			return -1;
	}
	return 0;
}

int remap_emit(void *ctx, size_t output, const void *buf, size_t n)
{
	(void)output;
	return n ? st_writer_write(ctx, buf, n) : 0;
}

void remap_report(const rules_plan *P, const rules_tensor *in, size_t n, const char *rules_path)
{
	size_t dropped = 0, skipped = 0;
	for (size_t i = 0; i < n; i++) {
		const rules_fate *f = rules_plan_fate(P, i);
		if (f->dropped) {
			fprintf(stderr, "%s: dropped %s (%s:%d)\n", cli_name(), in[i].name, rules_path,
				f->rule_line);
			dropped++;
		} else if (f->rule_line == 0) {
			fprintf(stderr, "%s: skipped %s (a STRING tensor is never in a stream)\n",
				cli_name(), in[i].name);
			skipped++;
		}
	}
	fprintf(stderr, "%s: %zu tensors in, %zu out, %zu aliases, %zu dropped%s\n", cli_name(), n,
		rules_plan_output_count(P), rules_plan_alias_count(P), dropped,
		skipped ? ", STRING tensors skipped" : "");
}
