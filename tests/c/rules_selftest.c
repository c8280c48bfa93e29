/* rules_selftest — unit checks of the rule language (src/rules.c) through its
 * API: pattern semantics, plans, hostile patterns and rule text; and of the
 * tensor operations (src/tensorops.c) against naive implementations. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "tensorops.h"
#include "util.h"
#include "check.h"


/* Map one name under the rule text; returns the first output name (static
 * buffer), "" if dropped, NULL on error. */
static const char *map1(const char *text, const char *name)
{
	static char out[512];
	rules *R = rules_parse(text, strlen(text), "t.rules");
	if (!R)
		return NULL;
	rules_tensor t = {name, CK_F32, 1, {2}};
	rules_plan *P = rules_plan_make(R, &t, 1, NULL, 0, "in");
	const char *res = NULL;
	if (P) {
		const rules_fate *f = rules_plan_fate(P, 0);
		snprintf(out, sizeof out, "%s", f->count ? rules_plan_output(P, f->first)->name : "");
		res = out;
	}
	rules_plan_free(P);
	rules_free(R);
	return res;
}

static int maps(const char *text, const char *name, const char *want)
{
	const char *got = map1(text, name);
	if (got && strcmp(got, want) == 0)
		return 1;
	fprintf(stderr, "  %s -> %s (wanted %s)\n", name, got ? got : "(error)", want);
	return 0;
}

static void patterns(void)
{
	CHECK("number captures lose leading zeros",
	      maps("rename block_{b:number} -> b.{b}", "block_000", "b.0") &&
		      maps("rename block_{b:number} -> b.{b}", "block_010", "b.10") &&
		      maps("rename h{n:number}/x -> h.{n}", "h11/x", "h.11"));
	CHECK("text captures take the shortest match",
	      maps("rename {a:text}_{b:text} -> {a}.{b}", "x_y_z", "x.y_z"));
	CHECK("text does not cross /", map1("rename {a:text} -> {a}", "x/y") == NULL);
	CHECK("* does not cross /", map1("keep a*", "ab/c") == NULL && maps("keep a*", "a", "a"));
	CHECK("**/ matches no part or several",
	      maps("drop **/x", "x", "") && maps("drop **/x", "a/b/x", "") &&
		      map1("drop **/x", "ax") == NULL);
	CHECK("/** matches one or more parts",
	      maps("drop a/**", "a/b", "") && maps("drop a/**", "a/b/c", "") &&
		      map1("drop a/**", "a") == NULL && map1("drop a/**", "a/") == NULL);
	CHECK("x/**/y", maps("drop x/**/y", "x/y", "") && maps("drop x/**/y", "x/a/b/y", "") &&
				map1("drop x/**/y", "x/ay") == NULL);
	CHECK("[optional] text", maps("keep [module/]x", "x", "x") &&
					 maps("keep [module/]x", "module/x", "module/x") &&
					 map1("keep [module/]x", "mod/x") == NULL);
	CHECK("word lists backtrack",
	      maps("rename {f:wi|wi_0|wi_1}/kernel -> {f}", "wi_0/kernel", "wi_0") &&
		      maps("rename {f:wi|wi_0|wi_1}/kernel -> {f}", "wi/kernel", "wi"));
	CHECK("word lists translate",
	      maps("let norm = gamma -> weight | beta -> bias\nrename ln/{norm} -> ln.{norm}", "ln/beta",
		   "ln.bias") &&
		      maps("rename {c:attn/c_attn->attn.c_attn}/w -> {c}", "attn/c_attn/w", "attn.c_attn"));
	CHECK("a let of kind number", maps("let n = number\nrename l_{n} -> l.{n}", "l_07", "l.7"));
	CHECK("matching is of the whole name", map1("keep abc", "abcd") == NULL &&
						       map1("keep bcd", "abcd") == NULL);
	CHECK("CRLF line ends", maps("keep a\r\nkeep b\r\n", "b", "b"));

	/* hostile: many stars against a long name that almost matches */
	char name[3001];
	memset(name, 'a', 3000);
	name[3000] = 0;
	CHECK("many stars on a long name end (memo)",
	      map1("keep *a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", name) == NULL);
	for (int i = 0; i < 3000; i += 2)
		name[i] = '/';
	CHECK("many ** on a long name end",
	      map1("keep **/**/**/**/**/**/**/**/**/**/**/**/**/**/**/b", name) == NULL);
}

/* Feed mutated rule files to the parser: it must fail cleanly or succeed. */
static void fuzz_parser(void)
{
	static const char base[] =
		"let n = number\nlet w = kernel -> weight | bias\n"
		"rename a/layer_{n}/{w} -> a.{n}.{w} transpose cast F32\n"
		"rename b/{x:q|k|v} -> b.{x}.{i} split 0 as i\n"
		"keep [m/]c/** reshape 2,-1\ndrop **/*_slot_*\nrefuse z/** \"no\"\n"
		"alias t.{n} = a.{n}.weight if-missing when a.0.bias\nrequire a.{n}.weight\n"
		"arg task = none\nif task = none | *qa*\ndrop d/{task}/**\n"
		"require a.0.weight \"task {task} needs {x}\"\nend\n";
	static const char alphabet[] = "{}[]*|\"#:->/ \n\tab0_=,.-";
	unsigned seed = 12345;
	for (int iter = 0; iter < 3000; iter++) {
		char buf[sizeof base + 64];
		size_t len = sizeof base - 1;
		memcpy(buf, base, len);
		int edits = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 6;
		for (int e = 0; e < edits; e++) {
			seed = seed * 1103515245 + 12345;
			size_t at = (seed >> 8) % len;
			seed = seed * 1103515245 + 12345;
			char c = alphabet[(seed >> 8) % (sizeof alphabet - 1)];
			if ((seed >> 20) & 1)
				buf[at] = c;
			else if (len > 1)
				memmove(buf + at, buf + at + 1, len-- - at - 1);
		}
		static const char *const args[] = {"task=squad"};
		rules *R = iter % 2 ? rules_parse(buf, len, "fuzz")
				    : rules_parse_args(buf, len, "fuzz", args, 1);
		if (R) {
			rules_tensor in[3] = {{"a/layer_1/kernel", CK_F32, 2, {2, 3}},
					      {"b/q", CK_F32, 2, {2, 2}},
					      {"c/x/y", CK_F16, 1, {4}}};
			rules_plan_free(rules_plan_make(R, in, 3, NULL, 0, "in"));
		}
		rules_free(R);
	}
	CHECK("3000 mutated rule files parse or fail cleanly (no crash, no leak under SAN)", 1);
}

static int emit_count;
static float emitted[64];
static int emit(void *ctx, size_t output, const void *buf, size_t n)
{
	(void)ctx;
	(void)output;
	if (n == sizeof(float) * 4 && emit_count < 2)
		memcpy(emitted + 4 * emit_count, buf, n);
	emit_count++;
	return 0;
}

static void plans(void)
{
	const char *text = "let part = a | b -> B\n"
			   "rename w -> w.{p} split 1 as part transpose\n"
			   "rename x -> x.{i} split 0 as i\n"
			   "alias y = x.1\n";
	/* "split 1 as part" with the new name using {p}: not captured */
	CHECK("split name must be used in the new name", rules_parse(text, strlen(text), "t") == NULL &&
							      strstr(ck_errmsg(), "t:2:"));
	text = "let part = a | b -> B\n"
	       "rename w -> w.{part} split 1 as part transpose\n"
	       "rename x -> x.{i} split 0 as i\n"
	       "alias y = x.1\n";
	rules *R = rules_parse(text, strlen(text), "t");
	CHECK("split rules parse", R != NULL);
	if (!R)
		return;
	rules_tensor in[2] = {{"w", CK_F32, 2, {2, 4}}, {"x", CK_F32, 2, {3, 2}}};
	rules_plan *P = rules_plan_make(R, in, 2, NULL, 0, "in");
	CHECK("split plan", P && rules_plan_output_count(P) == 5);
	if (P) {
		const rules_output *o = rules_plan_output(P, 1);
		CHECK("parts: translated word, shape after transpose",
		      strcmp(o->name, "w.B") == 0 && o->ndim == 2 && o->shape[0] == 2 &&
			      o->shape[1] == 2);
		CHECK("index split names", strcmp(rules_plan_output(P, 4)->name, "x.2") == 0);
		CHECK("splitting a later axis reorders data: not streamed",
		      !rules_plan_fate(P, 0)->streams && rules_plan_fate(P, 1)->streams);
		CHECK("alias", rules_plan_alias_count(P) == 1 &&
				       strcmp(rules_plan_alias(P, 0)->target, "x.1") == 0);
		/* w = [[0,1,2,3],[4,5,6,7]]: part a = [[0,1],[4,5]] transposed = [[0,4],[1,5]] */
		float w[8] = {0, 1, 2, 3, 4, 5, 6, 7};
		emit_count = 0;
		rules_work *W = rules_work_new();
		int rc = rules_plan_apply(P, W, 0, w, sizeof w, emit, NULL);
		rules_work_free(W);
		CHECK("apply split+transpose", rc == 0 && emit_count == 2 && emitted[0] == 0 &&
						       emitted[1] == 4 && emitted[2] == 1 &&
						       emitted[3] == 5 && emitted[4] == 2 &&
						       emitted[6] == 3 && emitted[7] == 7);
	}
	rules_plan_free(P);
	rules_free(R);
}

/* ---- tensor operations ------------------------------------------------------ */

static void naive_reverse(unsigned char *dst, const unsigned char *src, int nd,
			  const int64_t *shape, size_t es)
{
	size_t total = 1;
	for (int i = 0; i < nd; i++)
		total *= (size_t)shape[i];
	for (size_t k = 0; k < total; k++) {
		/* index of k in the source, then the offset in the reversed layout */
		size_t rem = k, idx[CK_MAX_DIMS];
		for (int i = nd - 1; i >= 0; i--) {
			idx[i] = rem % (size_t)shape[i];
			rem /= (size_t)shape[i];
		}
		size_t off = 0;
		for (int i = nd - 1; i >= 0; i--)
			off = off * (size_t)shape[i] + idx[i];
		memcpy(dst + off * es, src + k * es, es);
	}
}

static void reverse_axes(void)
{
	unsigned seed = 99;
	int good = 1;
	static const size_t sizes[] = {1, 2, 3, 4, 8, 16};
	for (int iter = 0; iter < 400 && good; iter++) {
		seed = seed * 1103515245 + 12345;
		int nd = (int)(seed >> 16) % 6;
		int64_t shape[CK_MAX_DIMS];
		size_t total = 1;
		for (int i = 0; i < nd; i++) {
			seed = seed * 1103515245 + 12345;
			shape[i] = (int64_t)((seed >> 16) % (iter < 50 ? 3 : 9));
			total *= (size_t)shape[i];
		}
		size_t es = sizes[iter % 6];
		unsigned char *src = malloc(total * es + 1), *a = malloc(total * es + 1),
			      *b = malloc(total * es + 1);
		for (size_t k = 0; k < total * es; k++)
			src[k] = (unsigned char)(k * 7 + 3);
		naive_reverse(a, src, nd, shape, es);
		good = tops_reverse_axes(b, src, nd, shape, es) == 0 && memcmp(a, b, total * es) == 0;
		free(src);
		free(a);
		free(b);
	}
	CHECK("axis reversal equals the naive one (400 random shapes, 0-5 axes)", good);
	/* a blocked 2-D case larger than a tile, odd sizes */
	int64_t shape[2] = {131, 67};
	float *src = malloc(131 * 67 * 4), *dst = malloc(131 * 67 * 4);
	for (int k = 0; k < 131 * 67; k++)
		src[k] = (float)k;
	tops_reverse_axes(dst, src, 2, shape, 4);
	int ok = 1;
	for (int r = 0; r < 131; r++)
		for (int c = 0; c < 67; c++)
			ok &= dst[c * 131 + r] == src[r * 67 + c];
	CHECK("blocked transpose 131x67", ok);
	free(src);
	free(dst);
}

static void conversions(void)
{
	int ok = 1;
	for (uint32_t h = 0; h < 65536; h++) {
		float f = tops_f16_to_f32((uint16_t)h);
		if (isnan(f))
			ok &= isnan(tops_f16_to_f32(tops_f32_to_f16(f)));
		else
			ok &= tops_f32_to_f16(f) == h;
	}
	CHECK("every F16 survives F16 -> F32 -> F16", ok);
	ok = 1;
	for (uint32_t h = 0; h < 65536; h++) {
		float f = tops_bf16_to_f32((uint16_t)h);
		if (isnan(f))
			ok &= isnan(tops_bf16_to_f32(tops_f32_to_bf16(f)));
		else
			ok &= tops_f32_to_bf16(f) == h;
	}
	CHECK("every BF16 survives BF16 -> F32 -> BF16", ok);
	CHECK("F16 reference values", tops_f16_to_f32(0x3c00) == 1.0f && tops_f16_to_f32(0x0001) == 0x1p-24f &&
					      tops_f16_to_f32(0x7bff) == 65504.0f &&
					      tops_f16_to_f32(0xc000) == -2.0f &&
					      isinf(tops_f16_to_f32(0x7c00)));
	CHECK("F32 -> F16 rounds to nearest even",
	      tops_f32_to_f16(1.0f + 0x1p-11f) == 0x3c00 && tops_f32_to_f16(1.0f + 0x3p-11f) == 0x3c02 &&
		      tops_f32_to_f16(65520.0f) == 0x7c00 && tops_f32_to_f16(65519.0f) == 0x7bff &&
		      tops_f32_to_f16(0x1p-25f) == 0 && tops_f32_to_f16(0x1.000002p-25f) == 1 &&
		      tops_f32_to_f16(0x3p-25f) == 2);
	CHECK("F32 -> BF16 rounds to nearest even",
	      tops_f32_to_bf16(1.0f + 0x1p-8f) == 0x3f80 && tops_f32_to_bf16(1.0f + 0x3p-8f) == 0x3f82);
	CHECK("cast table", tops_can_cast(CK_BF16, CK_F32) && tops_can_cast(CK_F16, CK_BF16) &&
				    tops_can_cast(CK_I64, CK_I64) && !tops_can_cast(CK_I64, CK_F32) &&
				    !tops_can_cast(CK_F64, CK_F16));
}

int main(void)
{
	patterns();
	fuzz_parser();
	plans();
	reverse_axes();
	conversions();
	return failures ? 1 : 0;
}
