/* tensor-remap — apply a rule file (models/RULES.md) to a safetensors
 * stream: rename, drop, transpose, squeeze, reshape, split, cast, alias.
 * The whole output header is planned from the input header before any
 * data moves, so every mapping error comes before the first output byte. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "remap.h"
#include "rules.h"
#include "safetensors.h"
#include "tensorlist.h"
#include "tensorops.h"
#include "util.h"

static const char usage[] =
	"usage: tensor-remap RULES [IN] [-o OUT] [--arg NAME=VALUE]... [--verbose] [--list [--needed]]\n"
	"\n"
	"Read a safetensors stream (IN, or stdin) and write it with the tensors\n"
	"renamed, dropped and transformed as the rule file RULES says (the rule\n"
	"language is described in models/RULES.md). Every input tensor must be\n"
	"matched by exactly one rule. Output goes to OUT (written atomically) or\n"
	"stdout, in input order; the metadata gains ckptconv.sha256.<RULES name>,\n"
	"and ckptconv.alias.<name> entries for tied tensors.\n"
	"\n"
	"  -o OUT       write to OUT instead of stdout\n"
	"  --arg NAME=VALUE  the value of the rule file's `arg NAME` (e.g. XLNet's\n"
	"               task=sts-b): it picks the rules of `if NAME = ...` blocks\n"
	"  --verbose    report dropped tensors and a summary on stderr\n"
	"  --list       dry run on a tensor list instead of a stream: IN has lines\n"
	"               NAME<TAB>DTYPE<TAB>SHAPE[<TAB>=TARGET] (as ckpt-ls prints them;\n"
	"               a target makes the line an alias of the input); prints the\n"
	"               mapped list the same way, then one line per alias with a\n"
	"               fourth column =TARGET. STRING tensors are skipped (they are\n"
	"               never in a stream).\n"
	"  --needed     with --list: print instead the input tensors the output is\n"
	"               made from (all but the dropped ones), as they came in: the\n"
	"               tensors to extract (ckpt-extract --names-from)\n"
	"  --help, --version\n";

#define CHUNK (4u << 20)

static int verbose;
static const char **g_args; /* --arg NAME=VALUE, for the rule file's `arg` lines */
static size_t g_nargs;

static rules *load_rules(const char *path, char hex[65])
{
	return remap_load(path, g_args, g_nargs, hex);
}

static void report(const rules_plan *P, const rules_tensor *in, size_t n, const char *rules_path)
{
	if (verbose)
		remap_report(P, in, n, rules_path);
}

/* ---- --list ------------------------------------------------------------- */

static int print_line(FILE *f, const char *name, ck_dtype dt, int ndim, const int64_t *shape,
		      const char *target)
{
	char s[CK_MAX_DIMS * 21 + 1];
	ck_shape_format(ndim, shape, s, sizeof s);
	return fprintf(f, "%s\t%s\t%s%s%s\n", name, ck_dtype_name(dt), s, target ? "\t=" : "",
		       target ? target : "") < 0 ? -1 : 0;
}

static int run_list(const char *rules_path, const char *in_path, const char *out_path, int needed)
{
	char hex[65];
	rules *R = load_rules(rules_path, hex);
	if (!R)
		return cli_lib_error();
	const char *label = in_path ? in_path : "stdin";
	tensor_list tl = {0};
	rules_tensor *in = NULL;
	rules_alias *in_aliases = NULL;
	size_t n = 0, n_aliases = 0;
	rules_plan *P = NULL;
	int rc = tensor_list_read(in_path ? in_path : "-", &tl);
	if (rc == 0 && (!(in = ck_calloc(tl.n, sizeof *in)) ||
			!(in_aliases = ck_calloc(tl.n, sizeof *in_aliases))))
		rc = -1;
	for (size_t i = 0; rc == 0 && i < tl.n; i++) {
		const tl_tensor *t = &tl.v[i];
		if (t->alias_of) {
			in_aliases[n_aliases].name = t->name;
			in_aliases[n_aliases++].target = t->alias_of;
			continue;
		}
		in[n].name = t->name;
		in[n].dtype = t->dtype;
		in[n].ndim = t->ndim;
		memcpy(in[n].shape, t->shape, sizeof in[n].shape);
		n++;
	}
	if (rc == 0 && !(P = rules_plan_make(R, in, n, in_aliases, n_aliases, label)))
		rc = -1;
	ck_out *o = NULL;
	FILE *f = NULL;
	if (rc == 0) {
		report(P, in, n, rules_path);
		o = ck_out_open(out_path);
		int dfd = o ? dup(ck_out_fd(o)) : -1;
		f = dfd >= 0 ? fdopen(dfd, "w") : NULL;
		if (!f) {
			if (dfd >= 0)
				close(dfd);
			rc = o ? ck_fail("%s: %s", ck_out_path(o), strerror(errno)) : -1;
		}
	}
	for (size_t i = 0; rc == 0 && needed && i < n; i++) {
		const rules_fate *x = rules_plan_fate(P, i);
		if (!x->dropped && x->rule_line)
			rc = print_line(f, in[i].name, in[i].dtype, in[i].ndim, in[i].shape, NULL);
	}
	/* a tied input name goes with its target: the rules see the stream's aliases */
	for (size_t k = 0; rc == 0 && needed && k < n_aliases; k++)
		for (size_t i = 0; i < n; i++) {
			const rules_fate *x = rules_plan_fate(P, i);
			if (strcmp(in[i].name, in_aliases[k].target) == 0) {
				if (!x->dropped && x->rule_line)
					rc = print_line(f, in_aliases[k].name, in[i].dtype, in[i].ndim,
							in[i].shape, in_aliases[k].target);
				break;
			}
		}
	for (size_t i = 0; rc == 0 && !needed && i < rules_plan_output_count(P); i++) {
		const rules_output *x = rules_plan_output(P, i);
		rc = print_line(f, x->name, x->dtype, x->ndim, x->shape, NULL);
	}
	for (size_t i = 0; rc == 0 && !needed && i < rules_plan_alias_count(P); i++) {
		const rules_alias *a = rules_plan_alias(P, i);
		for (size_t k = 0; k < rules_plan_output_count(P); k++) {
			const rules_output *x = rules_plan_output(P, k);
			if (strcmp(x->name, a->target) == 0) {
				rc = print_line(f, a->name, x->dtype, x->ndim, x->shape, a->target);
				break;
			}
		}
	}
	if (f && fclose(f) != 0 && rc == 0)
		rc = ck_fail("%s: write error: %s", ck_out_path(o), strerror(errno));
	if (o) {
		if (rc == 0)
			rc = ck_out_commit(o);
		else
			ck_out_abort(o);
	}
	rules_plan_free(P);
	free(in);
	free(in_aliases);
	tensor_list_free(&tl);
	rules_free(R);
	return rc == 0 ? CLI_OK : cli_lib_error();
}

/* ---- streams ------------------------------------------------------------ */

static const st_reader *g_sort_r;
static int cmp_offset(const void *a, const void *b)
{
	const st_tensor *x = st_at(g_sort_r, *(const size_t *)a);
	const st_tensor *y = st_at(g_sort_r, *(const size_t *)b);
	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* Copy one tensor chunk by chunk, converting elements if the plan casts. */
static int stream_tensor(st_reader *r, st_writer *w, const st_tensor *t, const rules_fate *f,
			 unsigned char *in, unsigned char *conv)
{
	size_t es = ck_dtype_size(f->from), eo = ck_dtype_size(f->to);
	size_t step = CHUNK / (es > eo ? es : eo) * es; /* input and output fit CHUNK */
	uint64_t left = t->end - t->begin;
	while (left) {
		size_t n = left < step ? (size_t)left : step;
		if (st_read(r, in, n) < 0)
			return -1;
		if (f->from == f->to) {
			if (st_writer_write(w, in, n) < 0)
				return -1;
		} else {
			tops_cast(conv, f->to, in, f->from, n / es);
			if (st_writer_write(w, conv, n / es * eo) < 0)
				return -1;
		}
		left -= n;
	}
	return 0;
}

static int run_stream(const char *rules_path, const char *in_path, const char *out_path)
{
	char hex[65];
	rules *R = load_rules(rules_path, hex);
	if (!R)
		return cli_lib_error();
	const char *label = in_path ? in_path : "stdin";
	int fd = in_path ? open(in_path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (fd < 0) {
		rules_free(R);
		return cli_error("%s: %s", label, strerror(errno));
	}
	ck_pipe_grow(fd);
	st_reader *r = st_reader_open(fd, label);
	size_t n = r ? st_count(r) : 0;
	size_t *order = NULL, *slot = NULL;
	rules_tensor *in = NULL;
	rules_alias *aliases = NULL;
	size_t naliases = 0;
	rules_plan *P = NULL;
	st_writer *w = NULL;
	ck_out *o = NULL;
	unsigned char *buf = NULL, *conv = NULL;
	void *whole = NULL; /* a whole tensor, reused: grows to the largest one */
	size_t whole_cap = 0;
	rules_work *work = NULL;
	int rc = r ? 0 : -1;
	if (rc == 0) {
		order = ck_calloc(n ? n : 1, sizeof *order);
		slot = ck_calloc(n ? n : 1, sizeof *slot);
		in = ck_calloc(n ? n : 1, sizeof *in);
		aliases = ck_calloc(st_meta_count(r) ? st_meta_count(r) : 1, sizeof *aliases);
		w = st_writer_new();
		buf = ck_malloc(CHUNK);
		conv = ck_malloc(CHUNK);
		work = rules_work_new();
		if (!order || !slot || !in || !aliases || !w || !buf || !conv || !work)
			rc = -1;
	}
	if (rc == 0) {
		/* plan in data order, which is the order outputs are written */
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		g_sort_r = r;
		qsort(order, n, sizeof *order, cmp_offset);
		for (size_t k = 0; k < n; k++) {
			const st_tensor *t = st_at(r, order[k]);
			slot[order[k]] = k;
			in[k].name = t->name;
			in[k].dtype = t->dtype;
			in[k].ndim = t->ndim;
			memcpy(in[k].shape, t->shape, sizeof in[k].shape);
		}
		size_t pl = strlen(ST_ALIAS_PREFIX);
		for (size_t i = 0; i < st_meta_count(r); i++) {
			const st_meta *m = st_meta_at(r, i);
			if (strncmp(m->key, ST_ALIAS_PREFIX, pl) == 0) {
				aliases[naliases].name = m->key + pl;
				aliases[naliases].target = m->value;
				naliases++;
			}
		}
		if (!(P = rules_plan_make(R, in, n, aliases, naliases, label)))
			rc = -1;
	}
	/* metadata: the input's (its aliases were re-planned), then ours */
	for (size_t i = 0; rc == 0 && i < st_meta_count(r); i++) {
		const st_meta *m = st_meta_at(r, i);
		if (strncmp(m->key, ST_ALIAS_PREFIX, strlen(ST_ALIAS_PREFIX)) != 0)
			rc = st_writer_meta(w, m->key, m->value);
	}
	if (rc == 0)
		rc = remap_declare(P, w, rules_path, hex);
	if (rc == 0) {
		report(P, in, n, rules_path);
		o = ck_out_open(out_path);
		if (o)
			ck_pipe_grow(ck_out_fd(o));
		if (!o || st_writer_begin(w, ck_out_fd(o), ck_out_path(o)) < 0)
			rc = -1;
	}
	for (size_t expect = 0; rc == 0;) {
		int err;
		long idx = st_next(r, &err);
		if (idx < 0) {
			rc = err ? -1 : 0;
			break;
		}
		size_t k = slot[idx];
		if (k != expect++) {
			rc = ck_fail("%s: tensor data out of the planned order", label);
			break;
		}
		const rules_fate *f = rules_plan_fate(P, k);
		const st_tensor *t = st_at(r, (size_t)idx);
		if (f->dropped)
			continue;
		if (f->streams) {
			rc = stream_tensor(r, w, t, f, buf, conv);
		} else {
			uint64_t n = t->end - t->begin;
			if (n > SIZE_MAX) {
				rc = ck_fail("%s: tensor %s too large for this machine", label, t->name);
				break;
			}
			if (n > whole_cap) {
				free(whole);
				whole_cap = 0;
				if (!(whole = ck_malloc((size_t)n))) {
					rc = -1;
					break;
				}
				whole_cap = (size_t)n;
			}
			rc = st_read(r, whole, (size_t)n);
			if (rc == 0)
				rc = rules_plan_apply(P, work, k, whole, (size_t)n, remap_emit, w);
		}
	}
	if (rc == 0)
		rc = rules_plan_emit_made(P, remap_emit, w);
	if (rc == 0)
		rc = st_writer_end(w);
	if (o) {
		if (rc == 0)
			rc = ck_out_commit(o);
		else
			ck_out_abort(o);
	}
	if (in_path)
		close(fd);
	free(buf);
	free(conv);
	free(whole);
	rules_work_free(work);
	st_writer_free(w);
	rules_plan_free(P);
	free(aliases);
	free(in);
	free(slot);
	free(order);
	st_reader_free(r);
	rules_free(R);
	return rc == 0 ? CLI_OK : cli_lib_error();
}

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	if (cli_std_options(argc, argv, usage))
		return CLI_OK;
	const char *pos[2] = {NULL, NULL}, *out = NULL;
	int npos = 0, list = 0, needed = 0, opts = 1;
	const char **args = calloc((size_t)argc, sizeof *args);
	if (!args)
		return cli_error("out of memory");
	g_args = args;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (opts && strcmp(a, "--") == 0) {
			opts = 0;
		} else if (opts && strcmp(a, "-o") == 0) {
			if (++i == argc)
				return cli_usage_error("-o needs a file name");
			out = argv[i];
		} else if (opts && (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0)) {
			verbose = 1;
		} else if (opts && strcmp(a, "--list") == 0) {
			list = 1;
		} else if (opts && strcmp(a, "--arg") == 0) {
			if (++i == argc || !strchr(argv[i], '=') || argv[i][0] == '=') {
				free(args);
				return cli_usage_error("--arg needs NAME=VALUE");
			}
			args[g_nargs++] = argv[i];
		} else if (opts && strcmp(a, "--needed") == 0) {
			needed = 1;
		} else if (opts && a[0] == '-' && a[1]) {
			free(args);
			return cli_usage_error("unknown option %s", a);
		} else {
			if (npos == 2) {
				free(args);
				return cli_usage_error("too many arguments");
			}
			pos[npos++] = a;
		}
	}
	if (npos == 0) {
		free(args);
		return cli_usage_error("missing the rule file");
	}
	const char *in = pos[1] && strcmp(pos[1], "-") != 0 ? pos[1] : NULL;
	int rc;
	if (needed && !list)
		rc = cli_usage_error("--needed goes with --list");
	else
		rc = list ? run_list(pos[0], in, out, needed) : run_stream(pos[0], in, out);
	free(args);
	return rc;
}
