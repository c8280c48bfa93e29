/* cfgmap.h — a model's config map (models/<type>/config.map) and the
 * translation it drives: an original configuration (Google's *_config.json,
 * OpenAI's hparams.json, a T5 operative_config.gin, or an HF-style
 * config.json) becomes the Hugging Face config.json, with model_type and
 * architectures, and optionally generation_config.json.
 *
 * Everything model-specific is in the map file; the syntax is documented in
 * docs/config-map.md. This module knows only what every Hugging Face config
 * shares: num_labels/id2label/label2id, finetuning_task, dtype,
 * architectures, model_type, transformers_version (never written: we are not
 * transformers). */
#ifndef CK_CFGMAP_H
#define CK_CFGMAP_H

#include <jansson.h>
#include <stdio.h>

#include "tensorlist.h"

typedef struct cfgmap cfgmap;

#define CFGMAP_FILE "config.map"
/* Largest original config accepted; a document read with original_at (a
 * checkpoint's values, with its whole vocabulary) may be larger. */
#define CFG_MAX_BYTES (16u << 20)
#define CFG_MAX_VALUES (256u << 20)

/* Load and check DIR/config.map. NULL (and a message naming the file and
 * line) on error. */
cfgmap *cfgmap_load(const char *dir);
void cfgmap_free(cfgmap *m);
const char *cfgmap_model_type(const cfgmap *m);
/* Whether the model gets a generation_config.json. */
int cfgmap_has_generation(const cfgmap *m);

typedef struct {
	const char *original;       /* the original config file, or NULL */
	const char *original_at;    /* the config is this member of the original
				       JSON document ("a/b"; a checkpoint's values
				       from ckpt-ls --values), or NULL */
	const tensor_list *tensors; /* the converted tensors, or NULL */
	const char *tensors_label;  /* their file, for messages */
	const tensor_list *checkpoint; /* the checkpoint's own tensors (ckpt-ls), or NULL */
	const char *checkpoint_label;
	const char *task;           /* --task, or NULL */
	const char *torch_dtype;    /* --torch-dtype, or NULL */
	const char *const *set;     /* --set KEY=VALUE overrides */
	size_t nset;
	FILE *explain; /* if not NULL: where each value came from, one a line */
	FILE *notes;   /* if not NULL: the note of the arch line the tensors pick */
} cfg_request;

/* Translate. *config gets the config.json object; *generation (if not NULL)
 * the generation_config.json object, or NULL when the model has none. */
int cfg_translate(const cfgmap *m, const cfg_request *rq, json_t **config, json_t **generation);

#endif
