/* fuzz_cfg — config translation (cfgmap.c): the config.map language, an
 * original config as JSON or as a gin file (gin.c), the tensor list that
 * picks the class and checks sizes (tensorlist.c), and the Python-style
 * JSON writer (pyjson.c) over the result.
 *
 * Input: config.map %%%% original config %%%% tensor list (may be empty:
 * then none is given) %%%% --set lines, one KEY=VALUE a line. */
#include <sys/stat.h>

#include "cfgmap.h"
#include "fuzz.h"
#include "pyjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[128];
	char path[192], orig[192];
	if (!dir[0]) {
		fuzz_path(dir, sizeof dir, "m");
		if (mkdir(dir, 0700) < 0)
			abort();
	}
	const uint8_t *p;
	size_t n, ln, sn;
	fuzz_part(data, size, 0, &p, &n);
	fuzz_file(path, sizeof path, "m/" CFGMAP_FILE, p, n);
	fuzz_part(data, size, 1, &p, &n);
	fuzz_file(orig, sizeof orig, "original", p, n);
	char *ltext = fuzz_strpart(data, size, 2, &ln);
	char *stext = fuzz_strpart(data, size, 3, &sn);

	const char *set[8];
	size_t nset = 0;
	for (char *s = stext, *e; *s && nset < 8; s = e + 1) {
		set[nset++] = s;
		if (!(e = strchr(s, '\n')))
			break;
		*e = 0;
	}
	cfgmap *m = cfgmap_load(dir);
	tensor_list tl = {0};
	int have_list = ln && tensor_list_parse("t.list", ltext, ln, &tl) == 0;
	if (m && (!ln || have_list)) {
		cfgmap_model_type(m);
		cfg_request rq = {
			.original = n ? orig : NULL,
			.tensors = have_list ? &tl : NULL,
			.tensors_label = "t.list",
			.task = size & 1 ? "mnli" : NULL,
			.torch_dtype = size & 2 ? "float16" : NULL,
			.set = set,
			.nset = nset,
		};
		json_t *config = NULL, *gen = NULL;
		if (cfg_translate(m, &rq, &config, cfgmap_has_generation(m) ? &gen : NULL) == 0) {
			char *text;
			size_t len;
			if (pyjson_dumps(config, PYJSON_SORT_KEYS | PYJSON_ID2LABEL_INT_KEYS, &text, &len) == 0)
				free(text);
			if (gen && pyjson_dumps(gen, PYJSON_SORT_KEYS, &text, &len) == 0)
				free(text);
			json_decref(config);
			json_decref(gen);
		}
	}
	cfgmap_free(m);
	tensor_list_free(&tl);
	free(ltext);
	free(stext);
	return 0;
}
