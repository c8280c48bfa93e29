/* fuzz_rules — the tensor rule language (rules.c: patterns, templates,
 * operations, require lines) and the tensor-list parser (tensorlist.c),
 * then planning the listed tensors under the rules and applying the plan
 * to (zero) data of every tensor small enough, checking each output has the
 * size its planned shape says.
 *
 * Input: rule text %%%% tensor list (NAME<TAB>DTYPE<TAB>SHAPE lines). */
#include "fuzz.h"
#include "rules.h"
#include "tensorlist.h"

typedef struct {
	const rules_plan *P;
} emit_ctx;

static int emit(void *ctx, size_t output, const void *buf, size_t n)
{
	const rules_plan *P = ((emit_ctx *)ctx)->P;
	const rules_output *o = rules_plan_output(P, output);
	uint64_t want;
	if (ck_shape_nbytes(o->dtype, o->ndim, o->shape, &want) < 0 || want != n)
		abort(); /* the data disagrees with the plan */
	if (n)
		fuzz_sink ^= ((const uint8_t *)buf)[0] ^ ((const uint8_t *)buf)[n - 1];
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t rn, ln;
	char *rtext = fuzz_strpart(data, size, 0, &rn);
	char *ltext = fuzz_strpart(data, size, 1, &ln);
	rules *R = rules_parse(rtext, rn, "t.rules");
	tensor_list tl = {0};
	int have_list = tensor_list_parse("t.list", ltext, ln, &tl) == 0;
	if (have_list)
		for (size_t i = 0; i < tl.n; i++)
			if (tensor_list_find(&tl, tl.v[i].name) != &tl.v[i])
				abort();
	if (R && have_list) {
		rules_label(R);
		rules_tensor *in = calloc(tl.n + 1, sizeof *in);
		for (size_t i = 0; i < tl.n; i++) {
			in[i].name = tl.v[i].name;
			in[i].dtype = tl.v[i].dtype;
			in[i].ndim = tl.v[i].ndim;
			memcpy(in[i].shape, tl.v[i].shape, sizeof in[i].shape);
		}
		rules_plan *P = rules_plan_make(R, in, tl.n, NULL, 0, "t.list");
		if (P) {
			for (size_t i = 0; i < rules_plan_alias_count(P); i++)
				rules_plan_alias(P, i);
			rules_work *W = rules_work_new();
			emit_ctx c = {P};
			for (size_t i = 0; i < tl.n; i++) {
				const rules_fate *f = rules_plan_fate(P, i);
				uint64_t nb;
				if (in[i].dtype == CK_STRING ||
				    ck_shape_nbytes(in[i].dtype, in[i].ndim, in[i].shape, &nb) < 0 ||
				    nb > (1u << 20) || f->count == 0)
					continue;
				void *buf = calloc(1, nb + 1);
				rules_plan_apply(P, W, i, buf, (size_t)nb, emit, &c);
				free(buf);
			}
			rules_work_free(W);
			rules_plan_free(P);
		}
		free(in);
	}
	tensor_list_free(&tl);
	rules_free(R);
	free(rtext);
	free(ltext);
	return 0;
}
