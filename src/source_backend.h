/* source_backend.h — what a checkpoint format provides to source.c.
 *
 * To add a format (say .npy folders):
 *   1. write src/src_npy.c defining `const ck_source_ops ck_src_npy = {...}`
 *      (its parsing can live in its own module, e.g. src/npy.{c,h});
 *   2. declare it below, next to ck_src_tf;
 *   3. add &ck_src_npy to the `backends` table in source.c.
 * Nothing else changes: ckpt-ls and ckpt-extract only see source.h.
 *
 * Rules for a back-end: never exit or print (ck_fail and return -1/NULL);
 * treat the input as hostile; open reads what listing needs and no more;
 * read verifies before returning and uses the caller's buffer. */
#ifndef CK_SOURCE_BACKEND_H
#define CK_SOURCE_BACKEND_H

#include "source.h"

typedef struct {
	const char *format; /* short name shown by ckpt-ls --json */
	/* 2 = the path is surely this format (magic bytes, name, layout),
	 * 1 = only as a last resort (the TF back-end explains what is missing
	 * when nothing else matches), 0 = not this format. No messages. */
	int (*probe)(const char *path);
	void *(*open)(const char *path);
	void (*close)(void *h);
	const char *(*label)(void *h);
	size_t (*count)(void *h);
	/* Fill *e for tensor i (e starts zeroed); its strings stay valid until
	 * close. tied_to may only name a tensor before i. */
	void (*entry)(void *h, size_t i, ck_source_entry *e);
	int (*check)(void *h); /* may be NULL: nothing to check */
	/* n is the entry's nbytes: ck_source_read checked it. */
	int (*read)(void *h, size_t i, void *buf, uint64_t n);
	/* Both may be NULL: tensors are then always read (see source.h). */
	int (*map)(void *h, size_t i, ck_source_view *v);
	void (*prefetch)(void *h, size_t i);
	const char *const *(*provenance)(void *h);
	/* Every file the checkpoint consists of, NULL-terminated; may be NULL
	 * when that is exactly the provenance list. */
	const char *const *(*files)(void *h);
	int (*json_info)(void *h, json_t *obj);          /* may be NULL */
	int (*json_entry)(void *h, size_t i, json_t *obj); /* may be NULL */
	/* Non-tensor values as JSON, owned by h; may be NULL (none). */
	const json_t *(*values)(void *h);
} ck_source_ops;

extern const ck_source_ops ck_src_tf; /* TF V2 tensor bundles (src_tf.c) */
extern const ck_source_ops ck_src_torch;       /* PyTorch zip / legacy (src_torch.c) */
extern const ck_source_ops ck_src_npy;         /* one .npy file (src_npy.c) */
extern const ck_source_ops ck_src_safetensors; /* a .safetensors file (src_st.c) */
extern const ck_source_ops ck_src_openai_gpt;  /* OpenAI GPT folder (src_gpt.c) */

#endif
