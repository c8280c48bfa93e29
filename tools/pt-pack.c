/* pt-pack — write the weight files of a Hugging Face folder (PyTorch zip
 * and/or safetensors, optionally sharded and cast) from a safetensors
 * stream, in one sequential pass: memory holds the tensor list and one
 * chunk, never a tensor or the model. With --checkpoint the stream comes
 * from a second thread extracting the checkpoint (src/extract.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cast.h"
#include "cli.h"
#include "digest.h"
#include "extract.h"
#include "hfshard.h"
#include "ring.h"
#include "safetensors.h"
#include "torchsave.h"
#include "util.h"

static const char usage[] =
	"usage: pt-pack [IN] -o OUT [--format pt|safetensors|both]\n"
	"               [--max-shard-size SIZE] [--dtype f32|f16|bf16] [-q]\n"
	"       pt-pack --checkpoint CKPT [--remap RULES [--arg NAME=VALUE]...] -o OUT ...\n"
	"\n"
	"Write the weight files of a Hugging Face model folder from a safetensors\n"
	"stream: IN, or standard input when IN is absent or \"-\" (a pipe is fine).\n"
	"With --checkpoint, from the stream `ckpt-extract CKPT [--remap RULES]`\n"
	"would write, made in this process (no pipe): the same output bytes.\n"
	"\n"
	"OUT is a directory or a file:\n"
	"  DIR/ or an existing DIR  files get Hugging Face's names inside it:\n"
	"                           model.safetensors and/or pytorch_model.bin\n"
	"                           (a trailing \"/\" creates DIR when missing)\n"
	"  FILE.safetensors         a safetensors file\n"
	"  FILE.bin, .pt, .pth      a PyTorch zip checkpoint (what torch.save writes)\n"
	"  -                        standard output (one file; needs --format)\n"
	"\n"
	"Options:\n"
	"  -o OUT                 where to write (required)\n"
	"  --format FMT           pt, safetensors, or both (a directory only; the\n"
	"                         input is still read once). Default: from OUT's\n"
	"                         extension; safetensors for a directory\n"
	"  --max-shard-size SIZE  shard as Hugging Face does: NAME-00001-of-0000N.EXT\n"
	"                         files plus NAME.EXT.index.json (one shard keeps the\n"
	"                         plain name). SIZE is bytes, KB/MB/GB (10^3/10^6/10^9)\n"
	"                         or KiB/MiB/GiB: 10GB, 500MB, 2GiB (as in transformers,\n"
	"                         a lowercase final b counts bits: 5Gb = 625MB)\n"
	"  --dtype T              cast floating tensors (F64 F32 F16 BF16) to f32, f16\n"
	"                         or bf16, bit-identical to torch's tensor.to(); integer\n"
	"                         and bool tensors are never cast\n"
	"  -q, --quiet            no progress line (shown on stderr only when it is a\n"
	"                         terminal and the work takes more than a moment)\n"
	"  --checkpoint CKPT      read the tensors of this checkpoint (any form\n"
	"                         ckpt-extract takes), every one verified as\n"
	"                         ckpt-extract verifies it\n"
	"  --remap RULES          with --checkpoint: through this rule file, as\n"
	"                         ckpt-extract --remap RULES does\n"
	"  --arg NAME=VALUE       with --remap: a value for the rule file's `arg`\n"
	"                         lines (repeatable)\n"
	"  --digest-cache FILE    hash every file while writing it and record the\n"
	"                         SHA-256 in this ckpt-digest cache, so that\n"
	"                         ckpt-digest --cache FILE need not read it back\n"
	"  -h, --help             this text\n"
	"  --version              version\n"
	"\n"
	"The .bin holds an OrderedDict of the input's tensors in header order, then\n"
	"the tied weights the stream declares (metadata \"ckptconv.alias.NAME\":\n"
	"\"TARGET\") as extra names sharing TARGET's storage (and shard). A\n"
	".safetensors file holds each tensor once, tied names left out as\n"
	"transformers does, in the input's data order, with __metadata__\n"
	"{\"format\": \"pt\"} plus the input's ckptconv.* provenance. U16/U32/U64 have\n"
	"no torch 1.13 storage type: safetensors only. Output appears only when the\n"
	"whole run succeeds; the same input always gives the same bytes.\n";

/* The two kinds of output file, and --format as a set of them. */
enum { PT, ST, KINDS };
enum { FMT_PT = 1 << PT, FMT_ST = 1 << ST, FMT_BOTH = FMT_PT | FMT_ST };

#define CHUNK (4u << 20) /* bytes handled at a time (a multiple of 8) */
#define RING (4 * (size_t)CHUNK) /* --checkpoint: the stream between the two threads */

typedef struct {
	const char *in, *out;
	int format; /* 0 until known */
	int shard;
	uint64_t max_shard;
	int cast;
	ck_dtype dtype;
	const char *digest_cache;
	int quiet;
	const char *ckpt, *remap; /* --checkpoint, --remap */
	const char **args;        /* --arg NAME=VALUE */
	size_t nargs;
} options;

typedef struct {
	const char *name, *value; /* metadata key suffix and value */
	size_t target;            /* header index of the tensor it ties to */
} alias;

typedef struct {
	size_t left; /* tensors whose data has not arrived yet */
	int state;   /* 0 not begun, 1 writing, 2 finished */
	char *path[KINDS];
	ck_out *out[KINDS];
	ts_writer *pt;
	st_writer *st;
} shard;

typedef struct {
	options opt;
	st_reader *r;
	const char *label;
	ck_ring *ring;       /* --checkpoint: the stream, from the extracting thread */
	int mapped;          /* input is a regular file, read through mmap */
	int fd;
	uint64_t data_start; /* file offset of the data buffer */
	uint64_t data_end;
	unsigned char *map;  /* the mapped window of the file */
	uint64_t map_at;
	size_t map_len;
	size_t n;
	ck_dtype *dtype;  /* output dtype per header tensor */
	size_t *shard_of; /* per header tensor */
	long *storage;    /* per header tensor: storage id in its shard's .bin */
	size_t *order;    /* header indices in data order */
	alias *alias;
	size_t nalias;
	uint64_t total;
	size_t nshards;
	shard *sh;
	char *base[KINDS]; /* output path of each kind before sharding */
	ck_out **outs;    /* every output opened, in order */
	size_t nouts;
	char **made_dirs; /* directories this run created (removed on failure) */
	size_t nmade;
	unsigned char *inbuf, *castbuf;
	struct {
		int on, shown;     /* stderr is a terminal (and no -q); a line is up */
		double start, last; /* seconds */
		size_t tensors;
		uint64_t bytes;
	} prog;
} packer;

/* ---- names -------------------------------------------------------------- */

typedef struct {
	const char *name;
	size_t index;
} named;

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

static long find_named(const named *v, size_t n, const char *name)
{
	named key = {name, 0};
	const named *hit = n ? bsearch(&key, v, n, sizeof *v, cmp_named) : NULL;
	return hit ? (long)hit->index : -1;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static char *join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	int slash = a && dir[a - 1] != '/';
	char *s = ck_malloc(a + (size_t)slash + b + 1);
	if (s)
		snprintf(s, a + (size_t)slash + b + 1, "%s%s%s", dir, slash ? "/" : "", name);
	return s;
}

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- options ------------------------------------------------------------ */

static int parse_options(int argc, char **argv, options *o)
{
	memset(o, 0, sizeof *o);
	if (!(o->args = calloc((size_t)argc, sizeof *o->args)))
		return cli_error("out of memory");
	int only_args = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		if (only_args || a[0] != '-' || strcmp(a, "-") == 0) {
			if (o->in)
				return cli_usage_error("more than one input: %s and %s", o->in, a);
			o->in = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_args = 1;
			continue;
		}
		if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			o->quiet = 1;
			continue;
		}
		const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
		size_t alen = eq ? (size_t)(eq - a) : strlen(a);
		const char *names[] = {"-o", "--output", "--format", "--max-shard-size", "--dtype",
				       "--digest-cache", "--checkpoint", "--remap", "--arg"};
		int which = -1;
		for (int k = 0; k < 9; k++)
			if (strlen(names[k]) == alen && strncmp(a, names[k], alen) == 0)
				which = k;
		if (which < 0)
			return cli_usage_error("unknown option %s", a);
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return cli_usage_error("%s needs a value", a);
		switch (which) {
		case 0:
		case 1:
			o->out = val;
			break;
		case 2:
			if (strcmp(val, "pt") == 0)
				o->format = FMT_PT;
			else if (strcmp(val, "safetensors") == 0)
				o->format = FMT_ST;
			else if (strcmp(val, "both") == 0)
				o->format = FMT_BOTH;
			else
				return cli_usage_error("--format must be pt, safetensors or both, not %s", val);
			break;
		case 3:
			if (hf_parse_size(val, &o->max_shard) < 0)
				return cli_usage_error("bad --max-shard-size %s (examples: 10GB, 500MB, 2GiB, 1000000)", val);
			o->shard = 1;
			break;
		case 4:
			o->cast = 1;
			if (strcmp(val, "f32") == 0 || strcmp(val, "float32") == 0)
				o->dtype = CK_F32;
			else if (strcmp(val, "f16") == 0 || strcmp(val, "float16") == 0)
				o->dtype = CK_F16;
			else if (strcmp(val, "bf16") == 0 || strcmp(val, "bfloat16") == 0)
				o->dtype = CK_BF16;
			else
				return cli_usage_error("--dtype must be f32, f16 or bf16, not %s", val);
			break;
		case 5:
			o->digest_cache = val;
			break;
		case 6:
			if (o->ckpt)
				return cli_usage_error("only one --checkpoint");
			o->ckpt = val;
			break;
		case 7:
			if (o->remap)
				return cli_usage_error("only one --remap");
			o->remap = val;
			break;
		case 8:
			if (!strchr(val, '=') || val[0] == '=')
				return cli_usage_error("--arg needs NAME=VALUE");
			o->args[o->nargs++] = val;
			break;
		}
	}
	if (!o->out)
		return cli_usage_error("no output: give -o OUT");
	if (o->ckpt && o->in)
		return cli_usage_error("two inputs: %s and --checkpoint %s", o->in, o->ckpt);
	if (o->remap && !o->ckpt)
		return cli_usage_error("--remap goes with --checkpoint (a stream: pipe it through tensor-remap)");
	if (o->nargs && !o->remap)
		return cli_usage_error("--arg goes with --remap");
	return 0;
}

/* Decide the output paths (before anything is created). */
static int resolve_outputs(packer *p)
{
	options *o = &p->opt;
	if (strcmp(o->out, "-") == 0) {
		if (o->format != FMT_PT && o->format != FMT_ST)
			return cli_usage_error("-o - needs --format pt or --format safetensors");
		if (o->shard)
			return cli_usage_error("-o - cannot hold shards");
		p->base[o->format == FMT_PT ? PT : ST] = ck_strdup("-");
		return 0;
	}
	int dir = ends_with(o->out, "/") || is_dir(o->out);
	if (dir) {
		if (!o->format)
			o->format = FMT_ST;
		if (o->format & FMT_PT)
			p->base[PT] = join(o->out, "pytorch_model.bin");
		if (o->format & FMT_ST)
			p->base[ST] = join(o->out, "model.safetensors");
	} else {
		int ext = ends_with(o->out, ".safetensors") ? FMT_ST
			  : ends_with(o->out, ".bin") || ends_with(o->out, ".pt") || ends_with(o->out, ".pth")
				  ? FMT_PT
				  : 0;
		if (o->format == FMT_BOTH)
			return cli_usage_error("--format both writes two files: OUT must be a directory (end it with /)");
		if (!o->format && !ext)
			return cli_usage_error("cannot tell the format from %s: give --format or a .bin/.safetensors name", o->out);
		if (o->format && ext && o->format != ext)
			return cli_usage_error("%s does not look like a %s file", o->out,
					       o->format == FMT_PT ? "PyTorch" : "safetensors");
		if (!o->format)
			o->format = ext;
		p->base[o->format == FMT_PT ? PT : ST] = ck_strdup(o->out);
	}
	return 0;
}

/* mkdir -p for a trailing-slash OUT, remembering what was created. */
static int make_dirs(packer *p)
{
	if (!ends_with(p->opt.out, "/") || is_dir(p->opt.out))
		return 0;
	char *path = ck_strdup(p->opt.out);
	if (!path)
		return -1;
	p->made_dirs = ck_calloc(strlen(path) + 1, sizeof *p->made_dirs);
	if (!p->made_dirs) {
		free(path);
		return -1;
	}
	for (char *s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(path, 0777) == 0) {
			p->made_dirs[p->nmade] = ck_strdup(path);
			if (!p->made_dirs[p->nmade]) {
				free(path);
				return -1;
			}
			p->nmade++;
		} else if (errno != EEXIST || !is_dir(path)) {
			ck_fail("%s: cannot create directory: %s", path, strerror(errno == EEXIST ? ENOTDIR : errno));
			free(path);
			return -1;
		}
		*s = '/';
	}
	free(path);
	return 0;
}

/* ---- planning ----------------------------------------------------------- */

/* Read the ckptconv.alias.* metadata and resolve each to a header tensor
 * (following chains). */
static int plan_aliases(packer *p)
{
	size_t plen = strlen(ST_ALIAS_PREFIX);
	for (size_t i = 0; i < st_meta_count(p->r); i++)
		if (strncmp(st_meta_at(p->r, i)->key, ST_ALIAS_PREFIX, plen) == 0)
			p->nalias++;
	if (!p->nalias)
		return 0;
	p->alias = ck_calloc(p->nalias, sizeof *p->alias);
	named *tens = ck_calloc(p->n, sizeof *tens);
	named *al = ck_calloc(p->nalias, sizeof *al);
	int rc = -1;
	if (!p->alias || !tens || !al)
		goto out;
	for (size_t i = 0, k = 0; i < st_meta_count(p->r); i++) {
		const st_meta *m = st_meta_at(p->r, i);
		if (strncmp(m->key, ST_ALIAS_PREFIX, plen) != 0)
			continue;
		p->alias[k] = (alias){m->key + plen, m->value, 0};
		al[k] = (named){m->key + plen, k};
		k++;
	}
	for (size_t i = 0; i < p->n; i++)
		tens[i] = (named){st_at(p->r, i)->name, i};
	qsort(tens, p->n, sizeof *tens, cmp_named);
	qsort(al, p->nalias, sizeof *al, cmp_named);
	for (size_t k = 0; k < p->nalias; k++) {
		alias *a = &p->alias[k];
		if (!*a->name) {
			ck_fail("%s: metadata key %s names no tensor", p->label, ST_ALIAS_PREFIX);
			goto out;
		}
		if (find_named(tens, p->n, a->name) >= 0) {
			ck_fail("%s: tensor %s: is both a tensor and an alias (of %s)", p->label, a->name, a->value);
			goto out;
		}
		const char *cur = a->value;
		long t;
		size_t steps = 0;
		while ((t = find_named(tens, p->n, cur)) < 0) {
			long next = find_named(al, p->nalias, cur);
			if (next < 0) {
				ck_fail("%s: tensor %s: alias of %s, which is not in the stream", p->label,
					a->name, cur);
				goto out;
			}
			if (++steps > p->nalias) {
				ck_fail("%s: tensor %s: aliases form a cycle", p->label, a->name);
				goto out;
			}
			cur = p->alias[next].value;
		}
		a->target = (size_t)t;
	}
	rc = 0;
out:
	free(tens);
	free(al);
	return rc;
}

static st_reader *g_order_reader; /* qsort has no context argument */
static int cmp_data_order(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const st_tensor *tx = st_at(g_order_reader, x), *ty = st_at(g_order_reader, y);
	/* the reader's order: by offset, empty tensors first, then header order */
	if (tx->begin != ty->begin)
		return tx->begin < ty->begin ? -1 : 1;
	if (tx->end != ty->end)
		return tx->end < ty->end ? -1 : 1;
	return x < y ? -1 : 1;
}

static int plan(packer *p)
{
	p->n = st_count(p->r);
	size_t n = p->n ? p->n : 1;
	p->dtype = ck_calloc(n, sizeof *p->dtype);
	p->shard_of = ck_calloc(n, sizeof *p->shard_of);
	p->storage = ck_calloc(n, sizeof *p->storage);
	p->order = ck_calloc(n, sizeof *p->order);
	uint64_t *bytes = ck_calloc(n, sizeof *bytes);
	if (!p->dtype || !p->shard_of || !p->storage || !p->order || !bytes) {
		free(bytes);
		return -1;
	}
	for (size_t i = 0; i < p->n; i++) {
		const st_tensor *t = st_at(p->r, i);
		ck_dtype dt = p->opt.cast && ck_dtype_is_float(t->dtype) ? p->opt.dtype : t->dtype;
		if ((p->opt.format & FMT_PT) && (dt == CK_U16 || dt == CK_U32 || dt == CK_U64)) {
			free(bytes);
			return ck_fail("%s: tensor %s: dtype %s has no PyTorch 1.13 storage type "
				       "(write it with --format safetensors)",
				       p->label, t->name, ck_dtype_name(dt));
		}
		p->dtype[i] = dt;
		if (ck_shape_nbytes(dt, t->ndim, t->shape, &bytes[i]) < 0 ||
		    ck_add_u64(p->total, bytes[i], &p->total) < 0) {
			free(bytes);
			return ck_fail("%s: tensor %s: size overflows", p->label, t->name);
		}
		p->order[i] = i;
	}
	g_order_reader = p->r;
	qsort(p->order, p->n, sizeof *p->order, cmp_data_order);
	p->nshards = p->opt.shard ? hf_plan_shards(bytes, p->n, p->opt.max_shard, p->shard_of) : 1;
	free(bytes);
	if (plan_aliases(p) < 0)
		return -1;
	p->sh = ck_calloc(p->nshards, sizeof *p->sh);
	if (!p->sh)
		return -1;
	for (size_t i = 0; i < p->n; i++)
		p->sh[p->shard_of[i]].left++;
	for (size_t k = 0; k < p->nshards; k++)
		for (int f = 0; f < KINDS; f++) {
			if (!p->base[f])
				continue;
			p->sh[k].path[f] = p->nshards > 1 ? hf_shard_name(p->base[f], k + 1, p->nshards)
							  : ck_strdup(p->base[f]);
			if (!p->sh[k].path[f])
				return -1;
		}
	return 0;
}

/* ---- progress ------------------------------------------------------------ */

#define PROGRESS_EVERY 0.25 /* seconds between redraws; none before the first */

static double seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void progress_start(packer *p)
{
	p->prog.on = !p->opt.quiet && isatty(STDERR_FILENO);
	p->prog.start = p->prog.last = seconds();
}

static const char *human(uint64_t b, char buf[32])
{
	if (b >= 1000000000u)
		snprintf(buf, 32, "%.2f GB", (double)b / 1e9);
	else
		snprintf(buf, 32, "%.0f MB", (double)b / 1e6);
	return buf;
}

/* Redraw the line if it is time (or, when final, if one is up: then end it). */
static void progress_show(packer *p, int final)
{
	double t = seconds();
	if (!p->prog.on || (final ? !p->prog.shown : t - p->prog.last < PROGRESS_EVERY))
		return;
	char a[32], b[32];
	double dt = t - p->prog.start;
	fprintf(stderr, "\r%s: %zu/%zu tensors, %s of %s, %.0f MB/s\033[K%s", cli_name(), p->prog.tensors,
		p->n, human(p->prog.bytes, a), human(st_data_size(p->r), b),
		dt > 0 ? (double)p->prog.bytes / 1e6 / dt : 0.0, final ? "\n" : "");
	p->prog.shown = !final;
	p->prog.last = t;
}

/* ---- writing ------------------------------------------------------------ */

static ck_out *open_output(packer *p, const char *path)
{
	ck_out *o = ck_out_open(path);
	if (!o)
		return NULL;
	if (p->opt.digest_cache && strcmp(path, "-") != 0 && ck_out_hash(o) < 0) {
		ck_out_abort(o);
		return NULL;
	}
	p->outs[p->nouts++] = o;
	return o;
}

/* Create shard k's files and write their headers. */
static int begin_shard(packer *p, size_t k)
{
	shard *s = &p->sh[k];
	s->state = 1;
	if (s->path[PT]) {
		char *arch = strcmp(s->path[PT], "-") ? ts_archive_name(s->path[PT]) : ck_strdup("archive");
		s->pt = arch ? ts_writer_new(arch) : NULL;
		free(arch);
		if (!s->pt)
			return -1;
		for (size_t i = 0; i < p->n; i++) {
			if (p->shard_of[i] != k)
				continue;
			const st_tensor *t = st_at(p->r, i);
			uint64_t numel;
			ck_shape_numel(t->ndim, t->shape, &numel);
			p->storage[i] = ts_writer_storage(s->pt, p->dtype[i], numel);
			if (p->storage[i] < 0 || ts_writer_tensor(s->pt, t->name, p->storage[i], t->ndim, t->shape) < 0)
				return -1;
		}
		for (size_t a = 0; a < p->nalias; a++) {
			size_t tg = p->alias[a].target;
			const st_tensor *t = st_at(p->r, tg);
			if (p->shard_of[tg] == k &&
			    ts_writer_tensor(s->pt, p->alias[a].name, p->storage[tg], t->ndim, t->shape) < 0)
				return -1;
		}
		if (!(s->out[PT] = open_output(p, s->path[PT])) ||
		    ts_writer_begin(s->pt, ck_out_fd(s->out[PT]), s->path[PT]) < 0)
			return -1;
	}
	if (s->path[ST]) {
		s->st = st_writer_new();
		if (!s->st)
			return -1;
		for (size_t j = 0; j < p->n; j++) {
			size_t i = p->order[j];
			const st_tensor *t = st_at(p->r, i);
			if (p->shard_of[i] == k && st_writer_add(s->st, t->name, p->dtype[i], t->ndim, t->shape) < 0)
				return ck_fail("%s: %s", s->path[ST], ck_errmsg());
		}
		if (st_writer_meta(s->st, "format", "pt") < 0)
			return -1;
		size_t plen = strlen(ST_ALIAS_PREFIX);
		for (size_t i = 0, a = 0; i < st_meta_count(p->r); i++) {
			const st_meta *m = st_meta_at(p->r, i);
			if (strncmp(m->key, "ckptconv.", 9) != 0)
				continue;
			/* keep the ties whose tensor is in this file */
			if (strncmp(m->key, ST_ALIAS_PREFIX, plen) == 0 && p->shard_of[p->alias[a++].target] != k)
				continue;
			if (st_writer_meta(s->st, m->key, m->value) < 0)
				return -1;
		}
		if (st_writer_meta(s->st, "ckptconv.version", CK_VERSION) < 0 ||
		    !(s->out[ST] = open_output(p, s->path[ST])) ||
		    st_writer_begin(s->st, ck_out_fd(s->out[ST]), s->path[ST]) < 0)
			return -1;
	}
	return 0;
}

/* All of shard k's tensors are written: finish its files (they are
 * committed with the others at the end). */
static int end_shard(packer *p, size_t k)
{
	shard *s = &p->sh[k];
	s->state = 2;
	if (s->pt && ts_writer_end(s->pt) < 0)
		return -1;
	if (s->st && st_writer_end(s->st) < 0)
		return -1;
	ts_writer_free(s->pt);
	st_writer_free(s->st);
	s->pt = NULL;
	s->st = NULL;
	return 0;
}

/* n bytes of tensor i (cast if asked) to its shard's files. */
static int write_chunk(packer *p, shard *s, size_t i, const unsigned char *in, size_t n)
{
	const st_tensor *t = st_at(p->r, i);
	size_t m = n;
	if (p->dtype[i] != t->dtype) {
		size_t isz = ck_dtype_size(t->dtype);
		if (ck_cast(t->dtype, p->dtype[i], in, p->castbuf, n / isz) < 0)
			return -1;
		in = p->castbuf;
		m = n / isz * ck_dtype_size(p->dtype[i]);
	}
	if (s->pt && ts_writer_write(s->pt, in, m) < 0)
		return -1;
	if (s->st && st_writer_write(s->st, in, m) < 0)
		return -1;
	return 0;
}

/* n bytes of the input file at offset at, through a window of about CHUNK
 * bytes mapped straight from the page cache (no copy); the window moves on
 * as the data is consumed, so memory stays bounded. */
static const unsigned char *map_window(packer *p, uint64_t at, size_t n)
{
	if (p->map && at >= p->map_at && at + n <= p->map_at + p->map_len)
		return p->map + (at - p->map_at);
	if (p->map)
		munmap(p->map, p->map_len);
	p->map = NULL;
	uint64_t base = at - at % (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t len = at - base + n > CHUNK ? at - base + n : CHUNK;
	if (len > p->data_end - base)
		len = p->data_end - base;
	void *m = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED | MAP_POPULATE, p->fd, (off_t)base);
	if (m == MAP_FAILED) {
		ck_fail("%s: cannot map the input: %s", p->label, strerror(errno));
		return NULL;
	}
	p->map = m;
	p->map_at = base;
	p->map_len = (size_t)len;
	return p->map + (at - base);
}

/* Copy tensor i, the next in data order: from a pipe through a buffer, from
 * a regular file through the mapped window, from the ring where it lies. */
static int copy_tensor(packer *p, size_t i)
{
	const st_tensor *t = st_at(p->r, i);
	shard *s = &p->sh[p->shard_of[i]];
	if (s->state == 0 && begin_shard(p, p->shard_of[i]) < 0)
		return -1;
	if (s->pt && ts_writer_storage_begin(s->pt, p->storage[i]) < 0)
		return -1;
	uint64_t size = t->end - t->begin;
	for (uint64_t done = 0; done < size;) {
		size_t n = size - done < CHUNK ? (size_t)(size - done) : CHUNK;
		const unsigned char *in = p->inbuf;
		if (p->ring)
			in = ck_ring_peek(p->ring, n, p->label);
		else if (p->mapped)
			in = map_window(p, p->data_start + t->begin + done, n);
		else if (st_read(p->r, p->inbuf, n) < 0)
			return -1;
		if (!in || write_chunk(p, s, i, in, n) < 0)
			return -1;
		if (p->ring)
			ck_ring_skip(p->ring, n);
		done += n;
		p->prog.bytes += n;
		progress_show(p, 0);
	}
	p->prog.tensors++;
	if (--s->left == 0)
		return end_shard(p, p->shard_of[i]);
	return 0;
}

/* A regular file is read through mmap: check first that its size is what
 * the header promises (the stream reader's checks, done up front). */
static int map_input(packer *p)
{
	struct stat st;
	off_t at = lseek(p->fd, 0, SEEK_CUR); /* the reader stopped where the data starts */
	if (at < 0 || fstat(p->fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < at)
		return 0;
	p->data_start = (uint64_t)at;
	p->data_end = p->data_start + st_data_size(p->r);
	uint64_t have = (uint64_t)st.st_size - p->data_start, want = st_data_size(p->r);
	if (have > want)
		return ck_fail("%s: trailing bytes after the last tensor", p->label);
	for (size_t j = 0; j < p->n && have < want; j++) {
		const st_tensor *t = st_at(p->r, p->order[j]);
		if (t->end > have)
			return ck_fail("%s: tensor %s: stream ends before its data is complete", p->label, t->name);
	}
	p->mapped = 1;
	return 0;
}

/* The index of a sharded output: tied names are listed for the .bin (they
 * are in it), not for safetensors (written once, as transformers does). */
static int write_index(packer *p, int f)
{
	size_t n = f == PT ? p->n + p->nalias : p->n;
	const char **names = ck_calloc(n ? n : 1, sizeof *names);
	const char **files = ck_calloc(n ? n : 1, sizeof *files);
	char *path = NULL, *json = NULL;
	int rc = -1;
	if (!names || !files)
		goto out;
	for (size_t i = 0; i < p->n; i++) {
		names[i] = st_at(p->r, i)->name;
		files[i] = ck_base_name(p->sh[p->shard_of[i]].path[f]);
	}
	for (size_t a = 0; f == PT && a < p->nalias; a++) {
		names[p->n + a] = p->alias[a].name;
		files[p->n + a] = ck_base_name(p->sh[p->shard_of[p->alias[a].target]].path[f]);
	}
	size_t len;
	size_t plen = strlen(p->base[f]);
	path = ck_malloc(plen + sizeof ".index.json");
	json = hf_index_json(p->total, n, names, files, &len);
	if (!path || !json)
		goto out;
	snprintf(path, plen + sizeof ".index.json", "%s.index.json", p->base[f]);
	ck_out *o = open_output(p, path);
	if (o && ck_write_full(ck_out_fd(o), json, len, path) == 0)
		rc = 0;
out:
	free(names);
	free(files);
	free(path);
	free(json);
	return rc;
}

static int pack(packer *p)
{
	if (!p->ring && map_input(p) < 0)
		return -1;
	if (!p->ring && !p->mapped && !(p->inbuf = ck_malloc(CHUNK)))
		return -1;
	if (p->opt.cast && !(p->castbuf = ck_malloc(2 * (size_t)CHUNK))) /* F16 -> F32 doubles */
		return -1;
	/* every shard file, and two index files */
	p->outs = ck_calloc(2 * p->nshards + 2, sizeof *p->outs);
	if (!p->outs || make_dirs(p) < 0)
		return -1;
	progress_start(p);
	if (p->mapped || p->ring) {
		for (size_t j = 0; j < p->n; j++)
			if (copy_tensor(p, p->order[j]) < 0)
				return -1;
		if (p->ring && ck_ring_end(p->ring, p->label) < 0)
			return -1;
	} else {
		int err;
		long i;
		while ((i = st_next(p->r, &err)) >= 0)
			if (copy_tensor(p, (size_t)i) < 0)
				return -1;
		if (err)
			return -1;
	}
	for (size_t k = 0; k < p->nshards; k++)
		if (p->sh[k].state == 0 && (begin_shard(p, k) < 0 || end_shard(p, k) < 0))
			return -1;
	for (int f = 0; f < KINDS && p->nshards > 1; f++)
		if (p->base[f] && write_index(p, f) < 0)
			return -1;
	return 0;
}

/* The cache only saves reading the files again: failing to update it is
 * worth a warning, not a failed run. */
static void record_hashes(const char *cache, char **paths, char (*hex)[65], size_t n)
{
	ck_digest_cache *c = ck_digest_cache_open(cache);
	int rc = c ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (strcmp(paths[i], "-") != 0)
			rc = ck_digest_record(c, paths[i], hex[i]);
	if (c && ck_digest_cache_close(c) < 0)
		rc = -1;
	if (rc < 0)
		fprintf(stderr, "%s: warning: %s: hashes not recorded: %s\n", cli_name(), cache, ck_errmsg());
}

/* Rename every output into place; if one fails, remove those already
 * renamed so that a failed run leaves nothing. */
static int commit_all(packer *p)
{
	char **done = ck_calloc(p->nouts + 1, sizeof *done);
	char (*hex)[65] = ck_calloc(p->nouts + 1, sizeof *hex);
	if (!done || !hex) {
		free(done);
		free(hex);
		return -1;
	}
	int rc = 0;
	size_t k = 0;
	for (size_t i = 0; i < p->nouts; i++) {
		char *path = ck_strdup(ck_out_path(p->outs[i]));
		if (!path) {
			rc = -1;
			break;
		}
		ck_out *o = p->outs[i];
		if (p->opt.digest_cache && strcmp(path, "-") != 0 && ck_out_sha256(o, hex[k]) < 0) {
			free(path);
			rc = -1;
			break;
		}
		p->outs[i] = NULL; /* committing frees it, success or not */
		if (ck_out_commit(o) < 0) {
			free(path);
			rc = -1;
			break;
		}
		done[k++] = path;
	}
	if (rc == 0 && p->opt.digest_cache)
		record_hashes(p->opt.digest_cache, done, hex, k);
	for (size_t j = 0; j < k; j++) {
		if (rc < 0 && strcmp(done[j], "-") != 0)
			unlink(done[j]);
		free(done[j]);
	}
	free(done);
	free(hex);
	return rc;
}

static void cleanup(packer *p, int failed)
{
	for (size_t k = 0; k < p->nshards && p->sh; k++) {
		ts_writer_free(p->sh[k].pt);
		st_writer_free(p->sh[k].st);
		free(p->sh[k].path[PT]);
		free(p->sh[k].path[ST]);
	}
	for (size_t i = 0; i < p->nouts; i++)
		if (failed && p->outs[i])
			ck_out_abort(p->outs[i]);
	for (size_t i = p->nmade; i-- > 0;) {
		if (failed)
			rmdir(p->made_dirs[i]);
		free(p->made_dirs[i]);
	}
	free(p->made_dirs);
	free(p->outs);
	free(p->sh);
	free(p->dtype);
	free(p->shard_of);
	free(p->storage);
	free(p->order);
	free(p->alias);
	free(p->base[PT]);
	free(p->base[ST]);
	if (p->map)
		munmap(p->map, p->map_len);
	free(p->inbuf);
	free(p->castbuf);
	st_reader_free(p->r);
	free(p->opt.args);
}

/* --checkpoint: a second thread makes the stream ckpt-extract would write
 * (verifying, transposing) into a ring while this one packs it (writing,
 * hashing): the two stages of the pipeline side by side, as two processes
 * would run, without a pipe's copies. */
typedef struct {
	ck_extract *x;
	ck_ring *ring;
} producer;

static void *produce(void *arg)
{
	producer *j = arg;
	uint64_t count, bytes;
	int rc = ck_extract_run(j->x, ck_ring_put, j->ring, "the stream", &count, &bytes);
	ck_ring_close(j->ring, rc < 0 ? ck_errmsg() : NULL);
	return NULL;
}

/* The stream's header, read from the ring. */
static st_reader *ring_header(ck_ring *ring, const char *label)
{
	unsigned char lenbuf[8];
	if (ck_ring_read(ring, lenbuf, 8, label) < 0)
		return NULL;
	uint64_t hlen;
	if (st_header_length(lenbuf, label, &hlen) < 0)
		return NULL;
	char *text = ck_malloc((size_t)hlen);
	st_reader *r = NULL;
	if (text && ck_ring_read(ring, text, (size_t)hlen, label) == 0)
		r = st_reader_parse(text, (size_t)hlen, label);
	free(text);
	return r;
}

/* Start the producer of --checkpoint; signals stay with the main thread,
 * which removes the unfinished outputs. */
static int start_producer(producer *j, pthread_t *th)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(th, NULL, produce, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err ? ck_fail("cannot start a thread: %s", strerror(err)) : 0;
}

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	if (cli_std_options(argc, argv, usage))
		return CLI_OK;
	packer p;
	memset(&p, 0, sizeof p);
	int rc = parse_options(argc, argv, &p.opt);
	if (rc) {
		free(p.opt.args);
		return rc;
	}
	if ((rc = resolve_outputs(&p)) != 0) {
		cleanup(&p, 1);
		return rc;
	}
	int fd = STDIN_FILENO;
	p.label = "-";
	ck_source *src = NULL;
	producer job = {0};
	pthread_t th;
	int producing = 0;
	if (p.opt.ckpt) {
		p.label = p.opt.ckpt;
		if ((src = ck_source_open(p.opt.ckpt)) &&
		    (job.x = ck_extract_new(src, NULL, p.opt.remap, p.opt.args, p.opt.nargs, 1)) &&
		    (job.ring = ck_ring_new(RING)) && start_producer(&job, &th) == 0) {
			producing = 1;
			p.ring = job.ring;
			p.r = ring_header(p.ring, p.label);
		}
	} else if (p.opt.in && strcmp(p.opt.in, "-") != 0) {
		p.label = p.opt.in;
		fd = open(p.opt.in, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			cleanup(&p, 1);
			return cli_error("%s: %s", p.opt.in, strerror(errno));
		}
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	} else if (isatty(STDIN_FILENO)) {
		cleanup(&p, 1);
		return cli_usage_error("no input: give IN or pipe a safetensors stream in");
	}
	p.fd = fd;
	if (!p.opt.ckpt) {
		ck_pipe_grow(fd);
		p.r = st_reader_open(fd, p.label);
	}
	int ok = p.r && plan(&p) == 0 && pack(&p) == 0 && commit_all(&p) == 0;
	if (p.r)
		progress_show(&p, 1); /* ends the line, before any error message */
	if (!ok)
		cli_lib_error();
	if (producing) {
		if (!ok)
			ck_ring_cancel(job.ring);
		pthread_join(th, NULL);
	}
	cleanup(&p, !ok);
	ck_ring_free(job.ring);
	ck_extract_free(job.x);
	ck_source_close(src);
	if (fd != STDIN_FILENO)
		close(fd);
	return ok ? CLI_OK : CLI_BAD_INPUT;
}
