/* torchsave.h — write PyTorch zip checkpoints, the files torch.save writes
 * (pytorch_model.bin), streaming: memory holds the tensor list, never the
 * tensor data.
 *
 * The file is a zip of stored records under one top folder:
 *   <archive>/data.pkl    pickle (protocol 2) of an OrderedDict
 *                         {name: torch._utils._rebuild_tensor_v2(storage, 0,
 *                         size, stride, False, OrderedDict())}; each storage is
 *                         a persistent id ('storage', torch.<T>Storage, key,
 *                         'cpu', numel), keys "0", "1", ... in order of first
 *                         use; opcodes and memo exactly as CPython's pickler
 *                         writes them for torch 1.13
 *   <archive>/byteorder   "little"
 *   <archive>/data/<key>  the raw little-endian bytes of each storage, in the
 *                         order the caller supplies them
 *   <archive>/version     "3\n"
 * laid out as PyTorch's writer (miniz) does: data of every record aligned to
 * 64 bytes with an "FB" padding extra field, CRC-32 and sizes in data
 * descriptors (so nothing is ever rewritten), zip64 extra fields for records
 * of 4 GiB or more or beyond 4 GiB, and always a zip64 end record + locator
 * before the classic end record. Loadable with torch.load(weights_only=True)
 * from torch 1.13 on.
 *
 * Use: declare storages and tensors, ts_writer_begin (writes data.pkl), then
 * for each storage ts_writer_storage_begin + ts_writer_write..., then
 * ts_writer_end. */
#ifndef CK_TORCHSAVE_H
#define CK_TORCHSAVE_H

#include <stddef.h>
#include <stdint.h>

#include "dtype.h"

typedef struct ts_writer ts_writer;

/* archive is the top folder name (see ts_archive_name). */
ts_writer *ts_writer_new(const char *archive);
void ts_writer_free(ts_writer *w);

/* Declare a storage of numel elements; returns its id (0, 1, ... in call
 * order) or -1 (dtypes without a torch storage class: U16, U32, U64). */
long ts_writer_storage(ts_writer *w, ck_dtype dtype, uint64_t numel);
/* Add a state-dict entry: a contiguous tensor viewing the whole storage
 * (numel of shape == numel of the storage). Entries keep the call order;
 * tensors that share a storage are tied weights. */
int ts_writer_tensor(ts_writer *w, const char *name, long storage, int ndim,
		     const int64_t *shape);

/* Write data.pkl and byteorder to fd; label names the file in errors. */
int ts_writer_begin(ts_writer *w, int fd, const char *label);
/* Start the record of a storage; exactly its bytes follow, in any number of
 * ts_writer_write calls. */
int ts_writer_storage_begin(ts_writer *w, long storage);
int ts_writer_write(ts_writer *w, const void *buf, size_t n);
/* Check that every storage was written, then write the version record, the
 * central directory and the end records. */
int ts_writer_end(ts_writer *w);

/* The top folder torch uses for a file path: the file name without its
 * directory and last extension ("out/pytorch_model.bin" -> "pytorch_model"),
 * or "archive" when that is empty or not ASCII. Caller frees. */
char *ts_archive_name(const char *path);

#endif
