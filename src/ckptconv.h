/* ckptconv.h — libckpt, the C library under the ckptconv tools: read model
 * checkpoints without TensorFlow or PyTorch, write safetensors and PyTorch
 * files. Installed as <ckptconv.h>; build with
 *     cc prog.c $(pkg-config --cflags --libs ckptconv)
 * (add --static to link libckpt.a). This header is the whole public API;
 * the library's other symbols are internal.
 *
 * Reading a checkpoint (ckpt_open): one interface over every format the
 * tools read, detected from the path:
 *   - TensorFlow V1/V2 tensor bundles: the prefix (path/model.ckpt),
 *     PREFIX.index, PREFIX.meta, a data file, or a directory with a
 *     `checkpoint` state file; partitioned variables are reassembled and
 *     every tensor's CRC-32C is verified when it is read;
 *   - PyTorch files (.bin/.pt/.pth, zip or legacy): the pickle is
 *     interpreted by a safe virtual machine that never executes anything;
 *     tensors are named by their path in the saved object, joined with '/';
 *   - .safetensors files, single .npy files, OpenAI GPT folders
 *     (params_shapes.json, parameters_names.json, params_N.npy).
 * Opening reads only what listing needs (TF: the .index, never a data
 * file). Tensors keep the file's own order. ckpt_read fills the caller's
 * buffer with one tensor, C-contiguous, little-endian; memory use is that
 * buffer plus small buffers, whatever the checkpoint's size.
 *
 * Streaming (ckpt_stream): the safetensors stream the tools pass between
 * them (ckpt-extract | tensor-remap | pt-pack) read from any file
 * descriptor, a pipe included, in one pass: a filter of your own can sit in
 * such a pipeline.
 *
 * Writing (ckpt_writer): a safetensors file or a PyTorch zip checkpoint
 * (what torch.save writes; torch.load(weights_only=True) loads it) to a
 * file descriptor, in one pass: declare the tensors, then write their bytes
 * in declaration order in chunks of any size. Memory holds the tensor list,
 * never tensor data. The same declarations and bytes always give the same
 * file.
 *
 * Errors: functions returning int give 0 on success and -1 on failure;
 * functions returning a pointer give NULL. ckpt_errmsg() then says what
 * went wrong in one line ("FILE: tensor NAME: problem"). The library never
 * prints, never exits and installs no signal handlers.
 *
 * Threads: the library keeps process-wide state (the error message, sort
 * helpers); call it from one thread at a time.
 *
 * Strings and tensor descriptions returned by a handle stay valid until the
 * handle is closed or freed. */
#ifndef CKPTCONV_H
#define CKPTCONV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library version, "MAJOR.MINOR.PATCH". */
const char *ckpt_version(void);
/* The message of the calling thread's last failure. */
const char *ckpt_errmsg(void);

/* Element types, in safetensors' spelling. CKPT_STRING (TensorFlow string
 * tensors) is listed and read as raw bytes but never written; a partitioned
 * one is verified slice by slice and reads as 0 bytes. */
typedef enum {
	CKPT_BOOL,
	CKPT_U8,
	CKPT_I8,
	CKPT_I16,
	CKPT_U16,
	CKPT_F16,
	CKPT_BF16,
	CKPT_I32,
	CKPT_U32,
	CKPT_F32,
	CKPT_F64,
	CKPT_I64,
	CKPT_U64,
	CKPT_STRING
} ckpt_dtype;

/* "BOOL", "U8", ..., "F32", ..., "STRING"; NULL for other values. */
const char *ckpt_dtype_name(ckpt_dtype t);
/* Bytes per element (0 for CKPT_STRING and other values). */
size_t ckpt_dtype_size(ckpt_dtype t);

#define CKPT_MAX_DIMS 16

typedef struct {
	const char *name;
	int supported;         /* 0: a type this library cannot read (ckpt_read
				  fails; dtype is meaningless) */
	ckpt_dtype dtype;
	const char *type_name; /* "F32", ...; the format's own name for an
				  unsupported type ("DT_COMPLEX64") */
	int ndim;              /* 0 for a scalar */
	int64_t shape[CKPT_MAX_DIMS];
	uint64_t nbytes;       /* bytes ckpt_read / the stream delivers */
} ckpt_tensor;

/* ---- reading a checkpoint -------------------------------------------- */

typedef struct ckpt_file ckpt_file;

ckpt_file *ckpt_open(const char *path);
void ckpt_close(ckpt_file *f); /* NULL is fine */
/* "tf-bundle", "pytorch", "safetensors", "npy", "openai-gpt". */
const char *ckpt_format(const ckpt_file *f);
size_t ckpt_count(const ckpt_file *f);
/* Tensor i (0 <= i < ckpt_count) in the file's order, or NULL. */
const ckpt_tensor *ckpt_tensor_at(const ckpt_file *f, size_t i);
/* Index of the tensor called name, or -1. */
long ckpt_find(const ckpt_file *f, const char *name);
/* Read tensor i into buf, which holds size bytes: exactly its nbytes.
 * Verified against the format's checksums where it has them. */
int ckpt_read(ckpt_file *f, size_t i, void *buf, uint64_t size);

/* ---- reading a safetensors stream ------------------------------------- */

typedef struct ckpt_stream ckpt_stream;

/* Read and validate the header from fd (a file or a pipe; not closed by the
 * library). label names the input in messages. */
ckpt_stream *ckpt_stream_open(int fd, const char *label);
void ckpt_stream_close(ckpt_stream *s); /* NULL is fine */
size_t ckpt_stream_count(const ckpt_stream *s);
/* Tensor i, numbered in the order their data arrives (ckpt_stream_next
 * delivers 0, 1, 2, ...), or NULL. Known from the header, before any data:
 * declare a writer's tensors in this order to copy in one pass. */
const ckpt_tensor *ckpt_stream_tensor(const ckpt_stream *s, size_t i);
/* Metadata (the header's __metadata__ strings): entry i, or the value of
 * key. NULL when absent. Keys this project uses: "format",
 * "ckptconv.alias.NAME" (NAME is the same tensor as the value: tied
 * weights), "ckptconv.sha256.FILE" (provenance). */
size_t ckpt_stream_meta_count(const ckpt_stream *s);
const char *ckpt_stream_meta_key(const ckpt_stream *s, size_t i);
const char *ckpt_stream_meta(const ckpt_stream *s, const char *key);
/* Move to the next tensor (skipping what is unread of the current one): 1
 * and its number in *index, 0 at the end of the stream (which must then
 * end), -1 on error. */
int ckpt_stream_next(ckpt_stream *s, size_t *index);
/* Read the next n bytes of the current tensor (any number of calls, up to
 * its nbytes in total). */
int ckpt_stream_read(ckpt_stream *s, void *buf, size_t n);

/* ---- writing ---------------------------------------------------------- */

typedef enum { CKPT_SAFETENSORS, CKPT_PYTORCH } ckpt_file_type;

typedef struct ckpt_writer ckpt_writer;

/* name is the output's file name: it labels messages, and for PyTorch the
 * zip's top folder is derived from it as torch.save does
 * ("out/pytorch_model.bin" -> "pytorch_model"). */
ckpt_writer *ckpt_writer_new(ckpt_file_type type, const char *name);
void ckpt_writer_free(ckpt_writer *w); /* NULL is fine */
/* Declare the next tensor; its data comes in this order. PyTorch has no
 * U16, U32 or U64 tensors. */
int ckpt_writer_add(ckpt_writer *w, const char *name, ckpt_dtype dtype, int ndim,
		    const int64_t *shape);
/* name is the tensor target (declared before) under a second name: tied
 * weights. PyTorch: one storage, two state-dict entries (placed after the
 * tensors, in the order of these calls). safetensors: written once, the tie
 * recorded as metadata "ckptconv.alias.NAME" = "TARGET" (pt-pack restores
 * it; Hugging Face ties these weights itself when loading). */
int ckpt_writer_tie(ckpt_writer *w, const char *name, const char *target);
/* safetensors only: a __metadata__ entry (UTF-8; a repeated key replaces
 * the value, keeping its place). Safetensors files always get
 * "format": "pt", as Hugging Face writes them. */
int ckpt_writer_meta(ckpt_writer *w, const char *key, const char *value);
/* Write the header to fd (not closed by the library). Declarations end
 * here. */
int ckpt_writer_begin(ckpt_writer *w, int fd);
/* The tensors' bytes, in declaration order, little-endian, C-contiguous;
 * chunks may end anywhere, also across tensors. */
int ckpt_writer_write(ckpt_writer *w, const void *buf, size_t n);
/* Check that every declared byte was written and finish the file. */
int ckpt_writer_end(ckpt_writer *w);

#ifdef __cplusplus
}
#endif

#endif
