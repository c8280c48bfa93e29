/* ckpt-ls — list the tensors of a checkpoint (reads the index only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "objgraph.h"
#include "source.h"
#include "util.h"

static const char usage[] =
	"usage: ckpt-ls [--json | --values | --files | --key-files | --object-names] CKPT\n"
	"\n"
	"List the tensors of a checkpoint in the file's own order (TF: index order),\n"
	"one per line: NAME<TAB>DTYPE<TAB>SHAPE. DTYPE is the safetensors spelling\n"
	"(F32, F16, BF16, I64, I32, I8, U8, BOOL, ...), STRING for TF string tensors,\n"
	"or the TF name (DT_COMPLEX64, ...) of a type that cannot be converted.\n"
	"SHAPE is comma-separated, empty for a scalar. A tensor saved under a second\n"
	"name (the same view of the same storage: tied weights) has a fourth column\n"
	"=NAME, the first name.\n"
	"\n"
	"CKPT is a TensorFlow checkpoint: its prefix (path/model.ckpt), PREFIX.index,\n"
	"PREFIX.meta, one of its data files, or a directory holding a 'checkpoint' state\n"
	"file (or a single .index file). Only the index is read; data files need not be\n"
	"present. CKPT may also be a PyTorch file (.pth/.bin/.pt, zip or legacy format;\n"
	"read without executing its pickle, tensors named by their path in the saved\n"
	"object, parts joined with '/'), a .npy file, a .safetensors file, or an OpenAI\n"
	"GPT folder (params_shapes.json, parameters_names.json, params_N.npy).\n"
	"\n"
	"  --json     one JSON document: the checkpoint's details and, per tensor,\n"
	"             name, dtype, shape, shard, offset, size, crc32c and slices\n"
	"             (PyTorch: storage, storage_offset, stride; tied_to)\n"
	"  --values   the non-tensor values as one JSON document (PyTorch: the saved\n"
	"             object, tensors shown as {\"__tensor__\": NAME, ...}; safetensors:\n"
	"             {\"__metadata__\": ...}; null for formats without any)\n"
	"  --files    the files the checkpoint consists of, one per line (TF: the\n"
	"             index and every data shard, whether present or not)\n"
	"  --key-files the files whose content fixes every tensor's bytes: hashing\n"
	"             them tells whether the checkpoint changed (TF: the index, which\n"
	"             holds each tensor's CRC-32C, checked on every read; other\n"
	"             formats: all their files)\n"
	"  --object-names  for a TensorFlow 2 object-based checkpoint (tf.train.Checkpoint,\n"
	"             Keras save_weights): every value its object graph names, one per\n"
	"             line: KEY<TAB>FULL_NAME<TAB>PATH; KEY the tensor, FULL_NAME the\n"
	"             variable's own name, PATH the attribute names from the root object\n"
	"             (slots: VARIABLE/.OPTIMIZER_SLOT/OPTIMIZER/SLOT). Reads the graph\n"
	"             tensor _CHECKPOINTABLE_OBJECT_GRAPH from the data file\n"
	"  --help     this text\n"
	"  --version  the version\n"
	"\n"
	"Exit status: 0 ok, 1 unreadable checkpoint, 2 usage error.\n";

static json_t *entry_json(const ck_source *s, size_t i)
{
	const ck_source_entry *e = ck_source_at(s, i);
	json_t *shape = json_array();
	for (int d = 0; shape && d < e->ndim; d++)
		json_array_append_new(shape, json_integer(e->shape[d]));
	json_t *o = json_object();
	json_t *name = json_string(e->name);
	if (!o || !shape || !name) {
		json_decref(o);
		json_decref(shape);
		json_decref(name);
		ck_fail("%s: tensor %s: name is not valid UTF-8", ck_source_label(s), e->name);
		return NULL;
	}
	json_object_set_new(o, "name", name);
	json_object_set_new(o, "dtype", json_string(e->type_name));
	json_object_set_new(o, "shape", shape);
	if (e->tied_to)
		json_object_set_new(o, "tied_to", json_string(e->tied_to));
	if (ck_source_json_entry(s, i, o) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* One tensor per line inside an otherwise compact document, written to f. */
static int write_json(const ck_source *s, FILE *f)
{
	json_t *info = json_object();
	if (!info || json_object_set_new(info, "format", json_string(ck_source_format(s))) < 0 ||
	    ck_source_json_info(s, info) < 0) {
		json_decref(info);
		return -1;
	}
	fputc('{', f);
	const char *key;
	json_t *v;
	json_object_foreach(info, key, v) {
		json_t *k = json_string(key);
		char *ks = json_dumps(k, JSON_ENCODE_ANY);
		char *vs = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (ks && vs)
			fprintf(f, "%s:%s,", ks, vs);
		free(ks);
		free(vs);
		json_decref(k);
	}
	json_decref(info);
	fputs("\"tensors\":[", f);
	for (size_t i = 0; i < ck_source_count(s); i++) {
		json_t *o = entry_json(s, i);
		char *t = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(o);
		if (!t)
			return -1;
		fprintf(f, "%s\n%s", i ? "," : "", t);
		free(t);
	}
	fputs("\n]}\n", f);
	return 0;
}

/* Nothing reaches stdout unless the whole document could be built. */
static int print_json(const ck_source *s)
{
	char *doc = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&doc, &len);
	if (!f)
		return ck_fail("out of memory");
	int rc = write_json(s, f);
	if (fclose(f) != 0 && rc == 0)
		rc = ck_fail("out of memory");
	if (rc == 0)
		fwrite(doc, 1, len, stdout);
	free(doc);
	return rc;
}

static int print_values(const ck_source *s)
{
	const json_t *v = ck_source_values(s);
	char *text = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_INDENT(1)) : NULL;
	if (v && !text)
		return ck_fail("%s: cannot format the values as JSON", ck_source_label(s));
	printf("%s\n", text ? text : "null");
	free(text);
	return 0;
}

static void print_lines(const ck_source *s)
{
	char shape[CK_MAX_DIMS * 21 + 1];
	for (size_t i = 0; i < ck_source_count(s); i++) {
		const ck_source_entry *e = ck_source_at(s, i);
		ck_shape_format(e->ndim, e->shape, shape, sizeof shape);
		printf("%s\t%s\t%s%s%s\n", e->name, e->type_name, shape, e->tied_to ? "\t=" : "",
		       e->tied_to ? e->tied_to : "");
	}
}

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	if (cli_std_options(argc, argv, usage))
		return CLI_OK;
	int json = 0, values = 0, files = 0, key_files = 0, objnames = 0, dashdash = 0;
	const char *ckpt = NULL;
	for (int i = 1; i < argc; i++) {
		if (!dashdash && strcmp(argv[i], "--") == 0)
			dashdash = 1;
		else if (!dashdash && strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (!dashdash && strcmp(argv[i], "--values") == 0)
			values = 1;
		else if (!dashdash && strcmp(argv[i], "--files") == 0)
			files = 1;
		else if (!dashdash && strcmp(argv[i], "--key-files") == 0)
			key_files = 1;
		else if (!dashdash && strcmp(argv[i], "--object-names") == 0)
			objnames = 1;
		else if (!dashdash && argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("unknown option %s", argv[i]);
		else if (ckpt)
			return cli_usage_error("one checkpoint at a time (got %s and %s)", ckpt, argv[i]);
		else
			ckpt = argv[i];
	}
	if (!ckpt)
		return cli_usage_error("no checkpoint given");
	if (json + values + files + key_files + objnames > 1)
		return cli_usage_error("--json, --values, --files, --key-files and --object-names are different documents: choose one");
	static char obuf[1 << 16];
	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	ck_source *s = ck_source_open(ckpt);
	if (!s)
		return cli_lib_error();
	int rc = CLI_OK;
	if (json) {
		if (print_json(s) < 0)
			rc = cli_lib_error();
	} else if (values) {
		if (print_values(s) < 0)
			rc = cli_lib_error();
	} else if (files) {
		const char *const *f = ck_source_files(s);
		if (!f)
			rc = cli_lib_error();
		for (; f && *f; f++)
			printf("%s\n", *f);
	} else if (objnames) {
		ck_objgraph *g = ck_objgraph_read(s);
		if (!g)
			rc = cli_lib_error();
		for (size_t i = 0; g && i < ck_objgraph_count(g); i++) {
			const ck_objgraph_value *v = ck_objgraph_at(g, i);
			printf("%s\t%s\t%s\n", v->key, v->full_name, v->path);
		}
		ck_objgraph_free(g);
	} else if (key_files) {
		for (const char *const *f = ck_source_provenance(s); *f; f++)
			printf("%s\n", *f);
	} else {
		print_lines(s);
	}
	ck_source_close(s);
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = cli_error("write error on standard output");
	return rc;
}
