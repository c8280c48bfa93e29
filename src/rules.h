/* rules.h — the tensor rule language of models/TYPE/tensors.rules (documented
 * for rule authors in models/RULES.md): parse a rule file, then plan what a
 * list of input tensors becomes (names, shapes, dtypes, aliases) and apply
 * that plan to tensor data.
 *
 * A plan is complete before any data is read: every input is matched by
 * exactly one rule (kept, renamed or dropped), no two outputs share a name,
 * and the file's `require` checks hold; otherwise rules_plan_make fails with
 * one message naming the tensor and the rule lines involved. */
#ifndef CK_RULES_H
#define CK_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "dtype.h"

#define RULES_MAX_FILE (1u << 20) /* a rule file is small text */
#define RULES_MAX_LINE 4096

typedef struct rules rules;

/* Parse rule text; label (the file name) prefixes errors: "LABEL:LINE: ...". */
rules *rules_parse(const char *text, size_t len, const char *label);
/* The same with the values of the file's `arg` lines, as "NAME=VALUE"
 * strings: each must name an `arg` of the file; the others keep their
 * defaults. They pick the `if` blocks that count and fill {NAME}. */
rules *rules_parse_args(const char *text, size_t len, const char *label, const char *const *args,
			size_t nargs);
void rules_free(rules *R);
const char *rules_label(const rules *R);

/* An input tensor as the planner sees it. STRING tensors (which appear only
 * in tensor lists, never in a stream) are skipped. */
typedef struct {
	const char *name;
	ck_dtype dtype;
	int ndim;
	int64_t shape[CK_MAX_DIMS];
} rules_tensor;

/* name is the same tensor as target (ckptconv.alias.<name> = <target>). */
typedef struct {
	const char *name, *target;
} rules_alias;

/* What became of one input tensor. */
typedef struct {
	size_t first, count; /* its outputs: rules_plan_output(first .. first+count-1) */
	int rule_line;       /* line of the rule that matched it (0: skipped STRING) */
	int dropped;         /* matched by a drop rule */
	int streams;         /* its data converts chunk by chunk (no reordering) */
	size_t made;         /* outputs of copy/make rules, after its own (first+count ..) */
	ck_dtype from, to;   /* element conversion of the streaming path */
} rules_fate;

/* How an output's data is made. */
enum { RULES_FROM_INPUT, RULES_COPY, RULES_EYE, RULES_ZEROS, RULES_INV_FREQ };

typedef struct {
	char *name;
	ck_dtype dtype;
	int ndim;
	int64_t shape[CK_MAX_DIMS];
	size_t input; /* the input it comes from, or (made) is written after */
	int made;     /* RULES_*: a copy of that input's only output, an identity, zeros,
		       * inverse frequencies */
	float base;   /* RULES_INV_FREQ: 1 / base ** (arange(0, dim, 2) / dim) */
	int64_t dim;
} rules_output;

typedef struct rules_plan rules_plan;

/* Plan inputs (in the order the data will come) under R. in_aliases are the
 * input stream's own aliases (names of inputs); they are carried through
 * when both sides are renamed without data operations. label names the
 * input in messages: "LABEL: tensor NAME: problem (RULES:LINE)". */
rules_plan *rules_plan_make(const rules *R, const rules_tensor *in, size_t n,
			    const rules_alias *in_aliases, size_t n_aliases, const char *label);
void rules_plan_free(rules_plan *P);

const rules_fate *rules_plan_fate(const rules_plan *P, size_t input);
size_t rules_plan_output_count(const rules_plan *P);
const rules_output *rules_plan_output(const rules_plan *P, size_t i);
size_t rules_plan_alias_count(const rules_plan *P);
const rules_alias *rules_plan_alias(const rules_plan *P, size_t i);

/* Scratch buffers for rules_plan_apply, reused from tensor to tensor (so the
 * pages are touched once, not once per tensor); they grow to a few times
 * the largest tensor. */
typedef struct rules_work rules_work;
rules_work *rules_work_new(void);
void rules_work_free(rules_work *W);

/* Apply the operations of input `input` to its whole data (nbytes of the
 * input's dtype and shape) and hand each output to emit(ctx, output index,
 * bytes, size), in order. data is not modified. */
typedef int (*rules_emit_fn)(void *ctx, size_t output, const void *buf, size_t n);
int rules_plan_apply(const rules_plan *P, rules_work *W, size_t input, const void *data,
		     size_t nbytes, rules_emit_fn emit, void *ctx);

#endif
