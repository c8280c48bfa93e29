/* ckpt-digest — SHA-256 content hashes for Make: stamps and manifests.
 *
 *   ckpt-digest [--cache FILE] FILE...
 *       prints "SHA256  FILE" per file (sha256sum's format). With --cache, a
 *       file whose device, inode, size and mtime are unchanged since it was
 *       last hashed is not read again (so a stamp check of a 45 GB checkpoint
 *       is instant; `touch` costs one re-read, never a reconversion).
 *   ckpt-digest --manifest DIR [--cache FILE] [-o OUT] [--input FILE]...
 *       writes a JSON manifest: tool version, SHA-256 and size of every input
 *       (by base name) and of every regular file in DIR (except OUT and
 *       dot-files), sorted by name; --sizes-from inputs get their size only.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "digest.h"
#include "util.h"

static const char usage[] =
	"Usage: ckpt-digest [--cache FILE] FILE...\n"
	"       ckpt-digest --manifest DIR [--cache FILE] [-o OUT] [--input FILE]...\n"
	"                   [--sizes-from F]\n"
	"\n"
	"Print the SHA-256 of each FILE as \"HASH  FILE\" (like sha256sum), or write\n"
	"the JSON manifest of a converted folder DIR: the SHA-256 and size of every\n"
	"--input file and of every file in DIR.\n"
	"\n"
	"  --cache FILE   reuse hashes of files whose device, inode, size and mtime\n"
	"                 are unchanged since they were recorded in FILE\n"
	"  --files-from F also hash (or, with --manifest, record as inputs) the\n"
	"                 files named one per line in F (- for stdin)\n"
	"  --sizes-from F with --manifest: record the files named in F (- for\n"
	"                 stdin) as inputs by size only, without reading them (TF\n"
	"                 data shards, whose content the hashed .index pins)\n"
	"  -o OUT         write the manifest to OUT (default: stdout)\n"
	"  --help, --version\n"
	"\n"
	"Exit status: 0 ok, 1 unreadable file, 2 usage error.\n";

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static json_t *file_entry(ck_digest_cache *cache, const char *path)
{
	char hex[65];
	uint64_t size;
	if (ck_digest_file(cache, path, hex, &size) < 0)
		return NULL;
	return json_pack("{s:s,s:I}", "sha256", hex, "size", (json_int_t)size);
}

static json_t *size_entry(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		ck_fail("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		ck_fail("%s: not a regular file", path);
		return NULL;
	}
	return json_pack("{s:I}", "size", (json_int_t)st.st_size);
}

static int manifest(ck_digest_cache *cache, const char *dir, const char *out, char **inputs,
		    int ninputs, char **sized, int nsized)
{
	json_t *root = json_object(), *in = json_object(), *outs = json_object();
	json_object_set_new(root, "tool", json_string("ckptconv " CK_VERSION));
	json_object_set_new(root, "inputs", in);
	json_object_set_new(root, "outputs", outs);
	int rc = 0;
	for (int i = 0; i < ninputs + nsized && rc == 0; i++) {
		const char *f = i < ninputs ? inputs[i] : sized[i - ninputs];
		json_t *e = i < ninputs ? file_entry(cache, f) : size_entry(f);
		if (!e)
			rc = -1;
		else
			json_object_set_new(in, ck_base_name(f), e);
	}
	DIR *d = rc == 0 ? opendir(dir) : NULL;
	if (rc == 0 && !d)
		rc = ck_fail("%s: %s", dir, strerror(errno));
	char **names = NULL;
	size_t n = 0;
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.' || (out && strcmp(de->d_name, ck_base_name(out)) == 0))
				continue;
			char **nn = realloc(names, (n + 1) * sizeof *names);
			if (!nn || !(nn[n] = strdup(de->d_name))) {
				names = nn ? nn : names;
				rc = ck_fail("out of memory");
				break;
			}
			names = nn;
			n++;
		}
		closedir(d);
	}
	qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n && rc == 0; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		json_t *e = file_entry(cache, path);
		if (!e)
			rc = -1;
		else
			json_object_set_new(outs, names[i], e);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc == 0) {
		char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
		ck_out *o = text ? ck_out_open(out) : NULL;
		if (!o)
			rc = -1;
		else if (ck_write_full(ck_out_fd(o), text, strlen(text), ck_out_path(o)) < 0 ||
			 ck_write_full(ck_out_fd(o), "\n", 1, ck_out_path(o)) < 0) {
			ck_out_abort(o);
			rc = -1;
		} else {
			rc = ck_out_commit(o);
		}
		free(text);
	}
	json_decref(root);
	return rc;
}

/* A growable list of file names. */
typedef struct {
	char **v;
	int n, cap;
} names;

static int push(names *l, const char *s)
{
	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 16;
		char **v = ck_realloc(l->v, (size_t)cap * sizeof *v);
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n] = ck_strdup(s)))
		return -1;
	l->n++;
	return 0;
}

static void names_free(names *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int read_list(const char *path, names *l)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!f)
		return ck_fail("%s: %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
		if (len && line[len - 1] == '\n')
			line[--len] = 0;
		if (len)
			rc = push(l, line);
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	if (cli_std_options(argc, argv, usage))
		return CLI_OK;
	const char *cache_path = NULL, *dir = NULL, *out = NULL, *list = NULL, *sizes = NULL;
	names files = {0}, inputs = {0}, sized = {0};
	int rc = CLI_OK;
	for (int i = 1; i < argc && rc == CLI_OK; i++) {
		const char *a = argv[i];
		int has_arg = i + 1 < argc;
		if (strcmp(a, "--cache") == 0 && has_arg)
			cache_path = argv[++i];
		else if (strcmp(a, "--manifest") == 0 && has_arg)
			dir = argv[++i];
		else if (strcmp(a, "-o") == 0 && has_arg)
			out = argv[++i];
		else if (strcmp(a, "--input") == 0 && has_arg) {
			if (push(&inputs, argv[++i]) < 0)
				rc = cli_lib_error();
		} else if (strcmp(a, "--files-from") == 0 && has_arg)
			list = argv[++i];
		else if (strcmp(a, "--sizes-from") == 0 && has_arg)
			sizes = argv[++i];
		else if (strcmp(a, "--") == 0) {
			while (++i < argc && rc == CLI_OK)
				if (push(&files, argv[i]) < 0)
					rc = cli_lib_error();
		} else if (a[0] == '-' && a[1])
			rc = cli_usage_error("unknown option or missing argument: %s", a);
		else if (push(&files, a) < 0)
			rc = cli_lib_error();
	}
	if (rc != CLI_OK)
		goto done;
	if (sizes && !dir) {
		rc = cli_usage_error("--sizes-from goes with --manifest");
		goto done;
	}
	if ((list && read_list(list, dir ? &inputs : &files) < 0) ||
	    (sizes && read_list(sizes, &sized) < 0)) {
		rc = cli_lib_error();
		goto done;
	}
	if (dir ? files.n != 0 : (files.n == 0 || out || inputs.n)) {
		rc = cli_usage_error(dir ? "--manifest takes no FILE arguments (use --input)"
					 : "give FILE arguments, or --manifest DIR");
		goto done;
	}
	ck_digest_cache *cache = ck_digest_cache_open(cache_path);
	if (!cache) {
		rc = cli_lib_error();
		goto done;
	}
	if (dir) {
		if (manifest(cache, dir, out, inputs.v, inputs.n, sized.v, sized.n) < 0)
			rc = cli_lib_error();
	} else {
		for (int i = 0; i < files.n && rc == CLI_OK; i++) {
			char hex[65];
			if (ck_digest_file(cache, files.v[i], hex, NULL) < 0)
				rc = cli_lib_error();
			else
				printf("%s  %s\n", hex, files.v[i]);
		}
	}
	if (ck_digest_cache_close(cache) < 0 && rc == CLI_OK)
		rc = cli_lib_error();
	if (fflush(stdout) != 0 && rc == CLI_OK)
		rc = cli_error("write error on standard output");
done:
	names_free(&files);
	names_free(&inputs);
	names_free(&sized);
	return rc;
}
