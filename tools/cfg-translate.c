/* cfg-translate — write a model's Hugging Face config.json (and
 * generation_config.json) from its original configuration, driven by the
 * model's config map (models/<type>/config.map). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfgmap.h"
#include "cli.h"
#include "pyjson.h"
#include "tensorlist.h"
#include "util.h"

static const char usage[] =
	"usage: cfg-translate MODEL [ORIGINAL] [options]\n"
	"\n"
	"Write the Hugging Face config.json for a converted checkpoint.\n"
	"\n"
	"  MODEL     a model folder under models/ (bert, albert, gpt2, t5, ...) or a path to one;\n"
	"            its config.map says everything model-specific (docs/config-map.md)\n"
	"  ORIGINAL  the original config: bert_config.json, albert_config.json, GPT-2\n"
	"            hparams.json, T5 operative_config.gin, xlnet_config.json, ... or an\n"
	"            HF-style config.json. Without it the class defaults, --tensors and --set\n"
	"            make the config (OpenAI GPT's release has no config file)\n"
	"\n"
	"  -o, --output FILE           config.json to write (default: standard output)\n"
	"  --generation-config FILE    also write generation_config.json (models that have one)\n"
	"  --tensors LIST              the converted tensors, NAME<TAB>DTYPE<TAB>SHAPE lines as\n"
	"                              `tensor-remap --list` prints them (- reads stdin): they\n"
	"                              pick the class and fill in or check sizes\n"
	"  --checkpoint-tensors LIST   the checkpoint's own tensors as `ckpt-ls` lists them, for\n"
	"                              the map's rank lines (XLNet's untie_r)\n"
	"  --at PATH                   the config is the member PATH (\"a/b\") of the JSON\n"
	"                              document ORIGINAL, e.g. `params` of an XLM checkpoint's\n"
	"                              `ckpt-ls --values`; tensors in it are left out\n"
	"  --task NAME                 fine-tuning task (e.g. XLNet: sst-2, mnli, squad)\n"
	"  --set KEY=VALUE             give or override a value (JSON; a bare word is a string)\n"
	"  --torch-dtype NAME          dtype of the written weights, the config's `dtype` (float32,\n"
	"                              float16, bfloat16)\n"
	"  --models DIR                where model folders are (default: $CKPTCONV_MODELS, else\n"
	"                              ../models next to this program (source tree), else\n"
	"                              ../share/ckptconv/models (installed), else ./models)\n"
	"  -v, --verbose               print where each value came from on stderr\n"
	"  -h, --help, --version\n"
	"\n"
	"config.json is written as Python's json.dumps(indent=2, sort_keys=True) writes it,\n"
	"without transformers_version (this is not transformers). Exit 0 ok, 1 bad input,\n"
	"2 usage.\n";

static int has_map(const char *dir)
{
	char p[PATH_MAX];
	struct stat st;
	return snprintf(p, sizeof p, "%s/%s", dir, CFGMAP_FILE) < (int)sizeof p &&
	       stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The model folder: a path as given, else MODEL under the first models
 * directory that has it. */
static int find_model(const char *model, const char *models_opt, char *out, size_t len)
{
	if (strchr(model, '/')) {
		snprintf(out, len, "%s", model);
		return has_map(out) ? 0 : -1;
	}
	char exe[PATH_MAX], here[PATH_MAX] = "";
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			snprintf(here, sizeof here, "%s", exe);
		}
	}
	const char *env = getenv("CKPTCONV_MODELS");
	const char *dirs[5] = {models_opt, env && *env ? env : NULL, NULL, NULL, "models"};
	char tree[PATH_MAX + 16], installed[PATH_MAX + 32];
	if (here[0]) {
		snprintf(tree, sizeof tree, "%s/../models", here);
		snprintf(installed, sizeof installed, "%s/../share/ckptconv/models", here);
		dirs[2] = tree;
		dirs[3] = installed;
	}
	for (size_t i = 0; i < 5; i++) {
		if (!dirs[i])
			continue;
		if (snprintf(out, len, "%s/%s", dirs[i], model) < (int)len && has_map(out))
			return 0;
		if (i == 0) /* --models is the only place looked when given */
			break;
	}
	return -1;
}

static int write_all(const char *cfg_path, const json_t *cfg, const char *gen_path,
		     const json_t *gen)
{
	const char *paths[2] = {cfg_path, gen_path};
	const json_t *docs[2] = {cfg, gen};
	char *text[2] = {NULL, NULL};
	size_t len[2];
	ck_out *o[2] = {NULL, NULL};
	int rc = -1, n = gen_path ? 2 : 1;
	for (int i = 0; i < n; i++)
		if (pyjson_dumps(docs[i], PYJSON_SORT_KEYS | PYJSON_ID2LABEL_INT_KEYS, &text[i],
				 &len[i]) < 0 ||
		    !(o[i] = ck_out_open(paths[i])) ||
		    ck_write_full(ck_out_fd(o[i]), text[i], len[i], ck_out_path(o[i])) < 0)
			goto done;
	rc = 0;
	for (int i = 0; i < n; i++) {
		if (ck_out_commit(o[i]) < 0)
			rc = -1;
		o[i] = NULL;
	}
done:
	for (int i = 0; i < 2; i++) {
		if (o[i])
			ck_out_abort(o[i]);
		free(text[i]);
	}
	return rc;
}

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	if (cli_std_options(argc, argv, usage))
		return CLI_OK;
	const char *pos[2] = {NULL, NULL}, *out = NULL, *gen_out = NULL, *tensors = NULL,
		   *ckpt_tensors = NULL, *task = NULL, *dtype = NULL, *models = NULL, *at = NULL;
	const char **sets = calloc((size_t)argc, sizeof *sets);
	size_t nset = 0, npos = 0;
	int verbose = 0, only_pos = 0;
	if (!sets)
		return cli_error("out of memory");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = NULL;
		if (only_pos || a[0] != '-' || strcmp(a, "-") == 0) {
			if (npos == 2) {
				free(sets);
				return cli_usage_error("unexpected argument %s", a);
			}
			pos[npos++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0)
			only_pos = 1;
		else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
			verbose = 1;
		else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
			dst = &out;
		else if (strcmp(a, "--generation-config") == 0)
			dst = &gen_out;
		else if (strcmp(a, "--tensors") == 0)
			dst = &tensors;
		else if (strcmp(a, "--checkpoint-tensors") == 0)
			dst = &ckpt_tensors;
		else if (strcmp(a, "--task") == 0)
			dst = &task;
		else if (strcmp(a, "--torch-dtype") == 0)
			dst = &dtype;
		else if (strcmp(a, "--models") == 0)
			dst = &models;
		else if (strcmp(a, "--at") == 0)
			dst = &at;
		else if (strcmp(a, "--set") == 0)
			dst = &sets[nset++];
		else {
			free(sets);
			return cli_usage_error("unknown option %s", a);
		}
		if (dst) {
			if (i + 1 >= argc) {
				free(sets);
				return cli_usage_error("%s needs a value", a);
			}
			*dst = argv[++i];
		}
	}
	if (npos == 0) {
		free(sets);
		return cli_usage_error("want MODEL and ORIGINAL");
	}
	if (out && gen_out && strcmp(out, gen_out) == 0) {
		free(sets);
		return cli_usage_error("config.json and generation_config.json must be different files");
	}
	if (dtype && strcmp(dtype, "float32") != 0 && strcmp(dtype, "float16") != 0 &&
	    strcmp(dtype, "bfloat16") != 0 && strcmp(dtype, "float64") != 0) {
		free(sets);
		return cli_usage_error("--torch-dtype %s: want float32, float16, bfloat16 or float64",
				       dtype);
	}
	if (at && !pos[1]) {
		free(sets);
		return cli_usage_error("--at reads a member of ORIGINAL: give ORIGINAL");
	}
	char found[PATH_MAX], dir[PATH_MAX];
	if (find_model(pos[0], models, found, sizeof found) < 0) {
		free(sets);
		return cli_usage_error("%s: no such model folder with a %s", pos[0], CFGMAP_FILE);
	}
	if (!realpath(found, dir)) /* shorter messages: models/bert, not bin/../models/bert */
		snprintf(dir, sizeof dir, "%s", found);

	int rc = CLI_BAD_INPUT;
	tensor_list tl = {0}, ctl = {0};
	json_t *cfg = NULL, *gen = NULL;
	cfgmap *m = cfgmap_load(dir);
	if (!m) {
		cli_lib_error();
		goto done;
	}
	if (gen_out && !cfgmap_has_generation(m)) {
		rc = cli_usage_error("%s: model %s has no generation_config.json",
				     gen_out, cfgmap_model_type(m));
		goto done;
	}
	if ((tensors && tensor_list_read(tensors, &tl) < 0) ||
	    (ckpt_tensors && tensor_list_read(ckpt_tensors, &ctl) < 0)) {
		cli_lib_error();
		goto done;
	}
	cfg_request rq = {
		.original = pos[1],
		.original_at = at,
		.tensors = tensors ? &tl : NULL,
		.tensors_label = tensors,
		.checkpoint = ckpt_tensors ? &ctl : NULL,
		.checkpoint_label = ckpt_tensors,
		.task = task,
		.torch_dtype = dtype,
		.set = sets,
		.nset = nset,
		.explain = verbose ? stderr : NULL,
		.notes = stderr,
	};
	if (cfg_translate(m, &rq, &cfg, gen_out ? &gen : NULL) < 0 ||
	    write_all(out, cfg, gen_out, gen) < 0) {
		cli_lib_error();
		goto done;
	}
	rc = CLI_OK;
done:
	json_decref(cfg);
	json_decref(gen);
	tensor_list_free(&tl);
	tensor_list_free(&ctl);
	cfgmap_free(m);
	free(sets);
	return rc;
}
