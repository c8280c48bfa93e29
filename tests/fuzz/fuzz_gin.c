/* fuzz_gin — gin configuration files (gin.c): bindings continued over
 * brackets and backslashes, comments, imports, and the conversion of
 * Python literals and %macros to JSON on lookup.
 *
 * Input: gin text %%%% keys to look up, one a line (none: a fixed list of
 * the keys T5's config map reads). */
#include "fuzz.h"
#include "gin.h"

static const char *const t5_keys[] = {
	"d_model", "encoder/Unitransformer.d_model", "DenseReluDense.hidden_size",
	"SelfAttention.num_heads", "encoder/make_layer_stack.num_layers", "vocab_size",
	"dropout_rate", "LayerStack.norm_epsilon", "DenseReluDense.activation",
	"Unitransformer.shared_embedding_and_softmax_weights", NULL,
};

static void lookup(const gin_file *g, const char *key)
{
	json_t *v = NULL;
	if (gin_get(g, key, &v) == 1) {
		char *s = json_dumps(v, JSON_ENCODE_ANY);
		free(s);
		json_decref(v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t gn, kn;
	char *text = fuzz_strpart(data, size, 0, &gn);
	char *keys = fuzz_strpart(data, size, 1, &kn);
	gin_file *g = gin_parse("o.gin", text, gn);
	if (g) {
		if (kn) {
			for (char *s = keys, *e; *s; s = e + 1) {
				if ((e = strchr(s, '\n')))
					*e = 0;
				lookup(g, s);
				if (!e)
					break;
			}
		} else {
			for (size_t i = 0; t5_keys[i]; i++)
				lookup(g, t5_keys[i]);
		}
		gin_free(g);
	}
	free(text);
	free(keys);
	return 0;
}
