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
#include "extract.h"
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
	return 0;
}

static int put_out(void *out, const void *buf, size_t n)
{
	return ck_write_full(ck_out_fd(out), buf, n, ck_out_path(out));
}

static int run(const options *o)
{
	ck_source *s = ck_source_open(o->ckpt);
	if (!s)
		return cli_lib_error();
	char *sel = ck_malloc(ck_source_count(s));
	ck_extract *x = NULL;
	ck_out *out = NULL;
	uint64_t count = 0, bytes = 0;
	int rc = sel && select_tensors(s, o, sel) == 0 &&
			 (x = ck_extract_new(s, sel, o->remap, o->args, o->nargs, !o->verify_only))
		 ? 0 : -1;
	if (rc == 0 && !o->verify_only) {
		if (!(out = ck_out_open(o->out)))
			rc = -1;
		else
			ck_pipe_grow(ck_out_fd(out));
	}
	if (rc == 0)
		rc = ck_extract_run(x, out ? put_out : NULL, out, out ? ck_out_path(out) : NULL, &count, &bytes);
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
	ck_extract_free(x);
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
