/* vocab-translate — write a tokenizer's vocab.json from a token -> id table
 * in a JSON document (a checkpoint's `ckpt-ls --values`), rewriting the
 * tokens as a vocabulary map says (src/vocabmap.h, docs/vocab-map.md). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pyjson.h"
#include "util.h"
#include "vocabmap.h"

static const char usage[] =
	"usage: vocab-translate MAP VALUES [-o OUT]\n"
	"\n"
	"Write a Hugging Face vocab.json (token -> id) from the token table in the\n"
	"JSON file VALUES (e.g. what `ckpt-ls --values model.pth` prints), its tokens\n"
	"rewritten as the vocabulary map MAP (models/<type>/vocab.map; syntax\n"
	"in docs/vocab-map.md) says. The table's order is kept; the text is what\n"
	"Python's json.dumps(vocab, indent=2) writes, non-ASCII as \\uXXXX escapes.\n"
	"\n"
	"  -o, --output OUT  write to OUT (atomically) instead of standard output\n"
	"  --help, --version\n"
	"\n"
	"Exit status: 0 ok, 1 bad input, 2 usage error.\n";


int main(int argc, char **argv)
{
	cli_init(argv[0]);
	if (cli_std_options(argc, argv, usage))
		return CLI_OK;
	const char *pos[2] = {NULL, NULL}, *out = NULL;
	int npos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
			if (++i == argc)
				return cli_usage_error("%s needs a file name", a);
			out = argv[i];
		} else if (a[0] == '-' && a[1]) {
			return cli_usage_error("unknown option %s", a);
		} else if (npos == 2) {
			return cli_usage_error("unexpected argument %s", a);
		} else {
			pos[npos++] = a;
		}
	}
	if (npos != 2)
		return cli_usage_error("want MAP and VALUES");
	char *maptext = NULL, *doctext = NULL;
	size_t maplen, doclen;
	vocabmap *m = NULL;
	json_t *doc = NULL, *vocab = NULL;
	int rc = CLI_BAD_INPUT;
	const char *label = pos[1];
	if (ck_read_file(pos[0], VOCABMAP_MAX_FILE, &maptext, &maplen) < 0 ||
	    !(m = vocabmap_parse(maptext, maplen, pos[0])) ||
	    ck_read_file(pos[1], VOCABMAP_MAX_VALUES, &doctext, &doclen) < 0)
		goto done;
	json_error_t e;
	if (!(doc = json_loadb(doctext, doclen, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e))) {
		ck_fail("%s: line %d column %d: %s", label, e.line, e.column, e.text);
		goto done;
	}
	free(doctext);
	doctext = NULL;
	if (!(vocab = vocabmap_apply(m, doc, label)) || pyjson_write_file(vocab, 0, out) < 0)
		goto done;
	rc = CLI_OK;
done:
	if (rc != CLI_OK)
		cli_lib_error();
	json_decref(vocab);
	json_decref(doc);
	vocabmap_free(m);
	free(maptext);
	free(doctext);
	return rc;
}
