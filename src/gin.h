/* gin.h — the bindings of a gin configuration file, the format of
 * Mesh-TensorFlow's operative_config.gin (T5). The file is read as data,
 * line by line: `KEY = VALUE` bindings (continued over lines inside brackets
 * or after a trailing backslash), `#` comments, and `import`/`include`
 * lines, which are skipped. Nothing is imported or evaluated.
 *
 * Values are Python literals and are converted to JSON when looked up:
 * integers, floats, 'strings', True/False/None, [lists] and (tuples), and
 * %macro references to other bindings. Other values (@configurable
 * references, expressions) exist in the file but cannot be looked up. */
#ifndef CK_GIN_H
#define CK_GIN_H

#include <jansson.h>
#include <stddef.h>

typedef struct gin_file gin_file;

/* Parse text (len bytes); label names the file in messages. NULL on error. */
gin_file *gin_parse(const char *label, const char *text, size_t len);
void gin_free(gin_file *g);

/* Look up the binding KEY ("d_model", "encoder/DenseReluDense.activation"):
 * 1 with *value (a new reference) when bound, 0 when the file does not
 * bind it, -1 (and a message naming the file, line and key) when the value
 * is not a literal. When a key is bound twice the later binding counts. */
int gin_get(const gin_file *g, const char *key, json_t **value);

#endif
