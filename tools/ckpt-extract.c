/* ckpt-extract — write a checkpoint's tensors as a safetensors stream,
 * every tensor verified before any of its bytes is written; with --remap,
 * the stream `| tensor-remap RULES` would make, in this one process. */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "remap.h"
#include "safetensors.h"
#include "source.h"
#include "util.h"

static const char usage[] =
	"usage: ckpt-extract CKPT [-o OUT] [--verify-only]\n"
	"                    [NAME ... | --match REGEX ... | --names-from FILE]\n"
	"                    [--remap RULES [--arg NAME=VALUE]...]\n"
	"\n"
	"Write the tensors of a checkpoint as a safetensors stream to OUT (written\n"
	"atomically: it appears only when complete) or to standard output, in the\n"
	"checkpoint's own order (TF: index order). Default: every numeric tensor;\n"
	"string tensors are verified and skipped with a note on stderr. Every TF\n"
	"tensor's masked CRC-32C is verified before any of its bytes is written;\n"
	"partitioned variables are reassembled. Metadata: format=pt, the tool version\n"
	"and the SHA-256 of the index (which pins every tensor's CRC-32C). A tensor\n"
	"saved under a second name (tied weights: ckpt-ls shows =NAME) is written once,\n"
	"the second name as metadata ckptconv.alias.<second> = <first>.\n"
	"\n"
	"CKPT: as for ckpt-ls (prefix, PREFIX.index, PREFIX.meta, a data file, or a\n"
	"directory holding a 'checkpoint' state file).\n"
	"\n"
	"  -o, --output OUT  write to OUT instead of standard output\n"
	"  NAME              only this tensor (repeatable; must exist)\n"
	"  --match REGEX     only tensors whose name matches this POSIX extended\n"
	"                    regular expression anywhere (repeatable; anchor with ^$)\n"
	"  --names-from FILE only the tensors named in FILE (- for stdin), one per\n"
	"                    line; a name ends at the first TAB, so the lists of\n"
	"                    ckpt-ls and tensor-remap --list --needed work as they are\n"
	"  --verify-only     verify the chosen tensors, write nothing\n"
	"  --remap RULES     write the chosen tensors as `| tensor-remap RULES` would\n"
	"                    (the same bytes), without the pipe: the tensors the\n"
	"                    rules drop are neither read nor verified\n"
	"  --arg NAME=VALUE  with --remap: a value for the rule file's `arg` lines\n"
	"  --help, --version\n"
	"\n"
	"Exit status: 0 ok, 1 bad or corrupt checkpoint, 2 usage error.\n";

typedef struct {
	const char *ckpt, *out;
	int verify_only;
	const char **names;
	size_t nnames;
	int listed;        /* --names-from given: its names only (maybe none) */
	char *list_text;   /* the --names-from file, names cut out in place */
	const char **list;
	size_t nlist;
	regex_t *re;
	const char **re_text;
	size_t nre;
	const char *remap;  /* --remap RULES */
	const char **args; /* --arg NAME=VALUE */
	size_t nargs;
} options;

#define NAMES_MAX (256u << 20) /* a list of names is text: a few MB at most */

/* The names of a --names-from file: each line up to its first TAB. */
static int read_names(const char *path, options *o)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!f)
		return ck_fail("%s: %s", path, strerror(errno));
	size_t cap = 0, len = 0;
	int rc = 0;
	for (;;) {
		if (len == cap && (cap >= NAMES_MAX || !(o->list_text = ck_realloc(o->list_text, (cap = cap ? 2 * cap : 65536) + 1)))) {
			rc = cap >= NAMES_MAX ? ck_fail("%s: name list larger than %u bytes", path, NAMES_MAX) : -1;
			break;
		}
		size_t r = fread(o->list_text + len, 1, cap - len, f);
		len += r;
		if (r == 0) {
			if (ferror(f))
				rc = ck_fail("%s: read error", path);
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (rc < 0)
		return -1;
	o->list_text[len] = 0;
	if (memchr(o->list_text, 0, len))
		return ck_fail("%s: NUL byte: not a list of tensor names", path);
	size_t lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += o->list_text[i] == '\n';
	if (!(o->list = ck_calloc(lines, sizeof *o->list)))
		return -1;
	for (char *p = o->list_text, *next; *p; p = next) {
		char *nl = strchr(p, '\n');
		next = nl ? nl + 1 : p + strlen(p);
		if (nl)
			*nl = 0;
		p[strcspn(p, "\t")] = 0;
		if (*p)
			o->list[o->nlist++] = p;
	}
	return 0;
}

static int parse_args(int argc, char **argv, options *o)
{
	o->names = calloc((size_t)argc, sizeof *o->names);
	o->re = calloc((size_t)argc, sizeof *o->re);
	o->re_text = calloc((size_t)argc, sizeof *o->re_text);
	o->args = calloc((size_t)argc, sizeof *o->args);
	if (!o->names || !o->re || !o->re_text || !o->args)
		return cli_error("out of memory");
	int dashdash = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!dashdash && strcmp(a, "--") == 0) {
			dashdash = 1;
		} else if (!dashdash && (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)) {
			if (++i >= argc)
				return cli_usage_error("%s needs a file name", a);
			if (o->out)
				return cli_usage_error("only one output");
			o->out = argv[i];
		} else if (!dashdash && strcmp(a, "--match") == 0) {
			if (++i >= argc)
				return cli_usage_error("--match needs a regular expression");
			int rc = regcomp(&o->re[o->nre], argv[i], REG_EXTENDED | REG_NOSUB);
			if (rc != 0) {
				char msg[256];
				regerror(rc, &o->re[o->nre], msg, sizeof msg);
				return cli_usage_error("--match %s: %s", argv[i], msg);
			}
			o->re_text[o->nre++] = argv[i];
		} else if (!dashdash && strcmp(a, "--names-from") == 0) {
			if (++i >= argc)
				return cli_usage_error("--names-from needs a file name");
			if (o->listed)
				return cli_usage_error("only one --names-from");
			o->listed = 1;
			if (read_names(argv[i], o) < 0)
				return cli_lib_error();
		} else if (!dashdash && strcmp(a, "--remap") == 0) {
			if (++i >= argc)
				return cli_usage_error("--remap needs a rule file");
			if (o->remap)
				return cli_usage_error("only one --remap");
			o->remap = argv[i];
		} else if (!dashdash && strcmp(a, "--arg") == 0) {
			if (++i >= argc || !strchr(argv[i], '=') || argv[i][0] == '=')
				return cli_usage_error("--arg needs NAME=VALUE");
			o->args[o->nargs++] = argv[i];
		} else if (!dashdash && strcmp(a, "--verify-only") == 0) {
			o->verify_only = 1;
		} else if (!dashdash && a[0] == '-' && a[1]) {
			return cli_usage_error("unknown option %s", a);
		} else if (!o->ckpt) {
			o->ckpt = a;
		} else {
			o->names[o->nnames++] = a;
		}
	}
	if (!o->ckpt)
		return cli_usage_error("no checkpoint given");
	if (o->verify_only && o->out)
		return cli_usage_error("--verify-only writes nothing: drop -o");
	if (o->verify_only && o->remap)
		return cli_usage_error("--verify-only writes nothing: drop --remap");
	if (o->nargs && !o->remap)
		return cli_usage_error("--arg goes with --remap");
	if (!o->verify_only && !o->out && isatty(STDOUT_FILENO))
		return cli_usage_error("refusing to write binary data to a terminal: use -o OUT or a pipe");
	return 0;
}

static void free_options(options *o)
{
	for (size_t i = 0; i < o->nre; i++)
		regfree(&o->re[i]);
	free(o->re);
	free(o->re_text);
	free(o->names);
	free(o->args);
	free(o->list);
	free(o->list_text);
}

/* sel[i]: 0 not chosen, 1 chosen, TIED chosen and written as an alias */
#define TIED 2

/* Mark the chosen tensors; every NAME must exist and every REGEX match. */
static int select_tensors(const ck_source *s, const options *o, char *sel)
{
	size_t n = ck_source_count(s);
	int all = o->nnames == 0 && o->nre == 0 && !o->listed;
	for (size_t i = 0; i < n; i++)
		sel[i] = (char)all;
	for (size_t k = 0; k < o->nnames + o->nlist; k++) {
		const char *name = k < o->nnames ? o->names[k] : o->list[k - o->nnames];
		long i = ck_source_find(s, name);
		if (i < 0)
			return ck_fail("%s: no tensor named %s", ck_source_label(s), name);
		sel[i] = 1;
	}
	for (size_t k = 0; k < o->nre; k++) {
		int hit = 0;
		for (size_t i = 0; i < n; i++)
			if (regexec(&o->re[k], ck_source_at(s, i)->name, 0, NULL, 0) == 0)
				hit = sel[i] = 1;
		if (!hit)
			return ck_fail("%s: no tensor matches --match %s", ck_source_label(s),
				       o->re_text[k]);
	}
	for (size_t i = 0; i < n; i++) {
		const ck_source_entry *e = ck_source_at(s, i);
		if (sel[i] && !e->supported)
			return ck_fail("%s: tensor %s: type %s cannot be extracted (choose other "
				       "tensors with NAME or --match)",
				       ck_source_label(s), e->name, e->type_name);
	}
	/* a second name of chosen data is an alias; alone it is a tensor */
	for (size_t i = 0; i < n; i++) {
		const ck_source_entry *e = ck_source_at(s, i);
		long t = e->tied_to ? ck_source_find(s, e->tied_to) : -1;
		if (sel[i] && t >= 0 && sel[t])
			sel[i] = TIED;
	}
	return 0;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static int add_metadata(const ck_source *s, st_writer *w)
{
	if (st_writer_meta(w, "format", "pt") < 0 || st_writer_meta(w, "ckptconv.version", CK_VERSION) < 0)
		return -1;
	for (const char *const *p = ck_source_provenance(s); *p; p++) {
		char hex[65], key[4096];
		if (ck_sha256_file(*p, hex) < 0)
			return -1;
		snprintf(key, sizeof key, "%s%s", ST_SHA_PREFIX, base_name(*p));
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

/* Where the chosen tensors go: into the stream as they are, or (--remap)
 * through the rule plan, whose input slot[i] checkpoint tensor i is. */
typedef struct {
	st_writer *w; /* NULL: only verifying */
	rules *R;
	rules_plan *P;
	rules_work *work;
	size_t *slot;
} sink;

static int put(sink *k, size_t i, const void *data, size_t n)
{
	if (!k->P)
		return st_writer_write(k->w, data, n);
	return rules_plan_apply(k->P, k->work, k->slot[i], data, n, remap_emit, k->w);
}

/* --remap: plan the rules over the stream the chosen tensors would make (in
 * its order, second names as its aliases), declare the planned header on
 * k->w, and unchoose the tensors the rules drop. */
static int plan_remap(const ck_source *s, const options *o, char *sel, sink *k)
{
	size_t n = ck_source_count(s), nin = 0, nal = 0;
	rules_tensor *in = ck_calloc(n ? n : 1, sizeof *in);
	rules_alias *al = ck_calloc(n ? n : 1, sizeof *al);
	size_t *src = ck_calloc(n ? n : 1, sizeof *src); /* plan input -> tensor */
	k->slot = ck_calloc(n ? n : 1, sizeof *k->slot);
	k->work = rules_work_new();
	char hex[65];
	int rc = in && al && src && k->slot && k->work ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const ck_source_entry *e = ck_source_at(s, i);
		if (!sel[i] || e->dtype == CK_STRING)
			continue;
		if (sel[i] == TIED) {
			al[nal++] = (rules_alias){e->name, e->tied_to};
			continue;
		}
		in[nin] = (rules_tensor){e->name, e->dtype, e->ndim, {0}};
		memcpy(in[nin].shape, e->shape, sizeof in[nin].shape);
		k->slot[i] = nin;
		src[nin++] = i;
	}
	if (rc == 0 && !(k->R = remap_load(o->remap, o->args, o->nargs, hex)))
		rc = -1;
	if (rc == 0 && !(k->P = rules_plan_make(k->R, in, nin, al, nal, ck_source_label(s))))
		rc = -1;
	if (rc == 0)
		rc = remap_declare(k->P, k->w, o->remap, hex);
	for (size_t j = 0; rc == 0 && j < nin; j++)
		if (rules_plan_fate(k->P, j)->dropped)
			sel[src[j]] = 0;
	free(in);
	free(al);
	free(src);
	return rc;
}

#define PREFETCH_AHEAD (64u << 20) /* bytes of the next chosen tensors asked for in advance */

/* Verify every chosen tensor in order, streaming the numeric ones to w
 * (NULL when only verifying). A tensor the format stores as is is checked
 * and written straight from the page cache; the others are read into one
 * buffer, as large as the largest of them, reused. The kernel is asked to
 * read ahead the next chosen tensors, which need not be adjacent. */
static int copy_tensors(ck_source *s, const char *sel, sink *k, uint64_t *count,
			uint64_t *bytes)
{
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
				if (k->w)
					fprintf(stderr, "%s: note: %s: string tensor %s verified and skipped\n",
						cli_name(), ck_source_label(s), e->name);
			} else if (k->w) {
				rc = put(k, i, data, (size_t)e->nbytes);
			}
		}
		ck_source_unmap(s, &v);
	}
	free(buf);
	return rc;
}

static int run(const options *o)
{
	ck_source *s = ck_source_open(o->ckpt);
	if (!s)
		return cli_lib_error();
	size_t n = ck_source_count(s);
	char *sel = ck_malloc(n);
	sink k = {0};
	ck_out *out = NULL;
	uint64_t count = 0, bytes = 0;
	int rc = sel && select_tensors(s, o, sel) == 0 && ck_source_check(s) == 0 ? 0 : -1;
	if (rc == 0 && !o->verify_only) {
		k.w = st_writer_new();
		rc = k.w ? add_metadata(s, k.w) : -1;
		if (rc == 0)
			rc = o->remap ? plan_remap(s, o, sel, &k) : declare(s, sel, k.w);
		if (rc == 0 && !(out = ck_out_open(o->out)))
			rc = -1;
		if (rc == 0) {
			ck_pipe_grow(ck_out_fd(out));
			rc = st_writer_begin(k.w, ck_out_fd(out), ck_out_path(out));
		}
	}
	if (rc == 0)
		rc = copy_tensors(s, sel, &k, &count, &bytes);
	if (rc == 0 && k.w)
		rc = st_writer_end(k.w);
	if (rc == 0 && out) {
		rc = ck_out_commit(out);
		out = NULL;
	}
	int status = rc == 0 ? CLI_OK : cli_lib_error();
	if (out)
		ck_out_abort(out);
	if (rc == 0 && o->verify_only)
		printf("%s: %llu tensors verified (%llu bytes)\n", ck_source_label(s),
		       (unsigned long long)count, (unsigned long long)bytes);
	st_writer_free(k.w);
	rules_plan_free(k.P);
	rules_free(k.R);
	rules_work_free(k.work);
	free(k.slot);
	free(sel);
	ck_source_close(s);
	return status;
}

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	if (cli_std_options(argc, argv, usage))
		return CLI_OK;
	options o = {0};
	int rc = parse_args(argc, argv, &o);
	if (rc == 0)
		rc = run(&o);
	free_options(&o);
	return rc;
}
