/* openai_gpt.h — the OpenAI GPT release folder (finetune-transformer-lm):
 * params_shapes.json (list of shapes), parameters_names.json (list of
 * names), params_0.npy, params_1.npy, ... (1-D pieces of one flat vector).
 *
 * The flat vector is the concatenation of params_0.npy, params_1.npy, ...
 * (every consecutive file that exists from 0; the release has ten), cut at
 * the cumulative products of the shapes; the total must match exactly.
 * Pieces are read on demand from the one or two files they span: no file is
 * ever held in memory.
 *
 * Names: piece 0 is "wpe" (position embeddings, [n_ctx, n_embd]) and piece
 * 1 "wte" (token embeddings, [n_vocab, n_embd]) — the release stores the
 * original's single "model/we:0" as these two pieces, and these are the
 * GPT-2 checkpoint's names for the same two matrices. Piece k >= 2 takes
 * parameters_names[k - 1] without its "model/" prefix and ":0" suffix
 * ("model/h0/attn/c_attn/w:0" → "h0/attn/c_attn/w"), keeping the shape of
 * params_shapes.json (no squeeze). Names beyond the pieces (the release
 * lists the unused "model/clf/..." head) are ignored; a piece without a
 * name is called "piece_<k>". */
#ifndef CK_OPENAI_GPT_H
#define CK_OPENAI_GPT_H

#include <stddef.h>
#include <stdint.h>

#include "dtype.h"

typedef struct {
	char *name;
	ck_dtype dtype;
	int ndim;
	int64_t shape[CK_MAX_DIMS];
	uint64_t nbytes;
	uint64_t first; /* element offset in the flat vector */
} og_tensor;

typedef struct og_folder og_folder;

/* 1 if dir holds params_shapes.json. */
int og_probe(const char *dir);
og_folder *og_open(const char *dir);
void og_close(og_folder *g);
size_t og_count(const og_folder *g);
const og_tensor *og_at(const og_folder *g, size_t i);
int og_read(og_folder *g, size_t i, void *dst);
/* Path of params_<k>.npy, or NULL past the last file. */
const char *og_file(const og_folder *g, size_t k);

#endif
