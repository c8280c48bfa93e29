/* tensorlist.h — a tensor list as the tools print it: one tensor a line,
 * NAME<TAB>DTYPE<TAB>SHAPE (DTYPE in safetensors spelling, SHAPE
 * comma-separated, empty for a scalar). This is how `ckpt-ls` and
 * `tensor-remap --list` describe a checkpoint without its data. A tied name
 * carries a 4th column "=TARGET"; it is listed like any other tensor. */
#ifndef CK_TENSORLIST_H
#define CK_TENSORLIST_H

#include <stddef.h>
#include <stdint.h>

#include "dtype.h"

typedef struct {
	char *name;
	char *alias_of; /* the 4th column's TARGET, or NULL */
	ck_dtype dtype;
	int ndim;
	int64_t shape[CK_MAX_DIMS];
} tl_tensor;

typedef struct {
	tl_tensor *v;
	size_t n;
} tensor_list;

/* Largest list file accepted (T5-11B lists a few thousand tensors). */
#define TL_MAX_BYTES (64u << 20)

/* Read a list file or pipe ("-" reads standard input). Every line must be well
 * formed and every name unique; an error names the file and line. */
int tensor_list_read(const char *path, tensor_list *out);
/* Parse list text (len bytes); label names the input in messages. */
int tensor_list_parse(const char *label, const char *text, size_t len, tensor_list *out);
void tensor_list_free(tensor_list *tl);
/* The tensor called name, or NULL. */
const tl_tensor *tensor_list_find(const tensor_list *tl, const char *name);

#endif
