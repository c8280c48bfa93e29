/* vocabmap.h — a vocabulary map (models/<type>/vocab.map): where a token → id
 * table is in a JSON document (say a checkpoint's `ckpt-ls --values`) and
 * how each token is rewritten for the Hugging Face tokenizer's vocab.json.
 * The syntax is documented in docs/vocab-map.md:
 *
 *   from dico_word2id                    the table: this member (a/b/c)
 *   append </w> min-id 14 unless-contains @@
 *   remove @@
 *
 * Each token goes through the append/remove lines in file order. The result
 * keeps the table's order; a token that becomes an earlier one's text takes
 * that one's place with the later id (as a Python dict does). */
#ifndef CK_VOCABMAP_H
#define CK_VOCABMAP_H

#include <jansson.h>
#include <stddef.h>

#define VOCABMAP_MAX_FILE (64u << 10) /* a map is a few lines */
#define VOCABMAP_MAX_TEXT 64          /* bytes of an append/remove text */
#define VOCABMAP_MAX_VALUES (256u << 20) /* a values document: a checkpoint's
					    non-tensor data, whole vocabularies */

typedef struct vocabmap vocabmap;

/* Parse map text; label (the file name) prefixes errors "LABEL:LINE: ...". */
vocabmap *vocabmap_parse(const char *text, size_t len, const char *label);
void vocabmap_free(vocabmap *m);

/* The new token → id object from the document doc (label names it in
 * messages). Every id must be a non-negative integer. */
json_t *vocabmap_apply(const vocabmap *m, const json_t *doc, const char *label);

#endif
