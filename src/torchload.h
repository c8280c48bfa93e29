/* torchload.h — PyTorch checkpoints (torch.save files), read without Python
 * and without executing anything.
 *
 * Formats:
 *  - zip (torch >= 1.6): stored records under one top folder: data.pkl,
 *    data/<key> (raw storage bytes), version, byteorder, ...; ZIP64 handled;
 *    compressed records refused.
 *  - legacy (torch < 1.6): five pickles back to back (the magic number
 *    0x1950a86a20f9469cfc6c, protocol 1001, sys_info, the object, the list of
 *    storage keys), then per key an 8-byte element count and the bytes.
 *    The storage location ('cpu', 'cuda:0') is ignored: data is data.
 *
 * The object pickle is run by pickle.h with these calls allowed and
 * interpreted: torch._utils._rebuild_tensor_v2 / _rebuild_tensor /
 * _rebuild_parameter / _rebuild_parameter_with_state (tensors: storage,
 * offset, size, stride), torch.Size (a tuple), numpy's _reconstruct and
 * dtype (numeric numpy arrays become tensors); storage classes
 * (torch.FloatStorage, ...) give the element type. Every tensor view is
 * checked against its storage before anything is read, storages against
 * the file, and a view is materialised contiguous (strides honoured, shared
 * storages read as often as they are used).
 *
 * Tensor names: the path from the top object to the tensor, its parts
 * joined with '/': dict keys (ints as decimal, True/False/None as
 * true/false/null), list and tuple indices; an object stored with NEWOBJ
 * (e.g. a whole nn.Module) adds nothing itself, its attribute dict does.
 * So a bare state dict gives its keys unchanged ("bert.pooler.dense.bias"),
 * an XLM checkpoint {'model': {...}, 'params': {...}} gives "model/<key>"
 * and "params/pred_probs", a whole module "_modules/fc1/_parameters/weight",
 * a bare tensor "tensor". One tensor reachable by two paths has both names.
 * Two different values with the same name are an error.
 *
 * Non-tensor values: tl_values() is the whole top object as JSON (order
 * kept): dict → object (keys as above), list/tuple/set → array, str →
 * string, int, float, bool, None → null, and
 *   tensor          {"__tensor__": NAME, "dtype": "F32", "shape": [..]}
 *   bytes           {"__bytes__": "<hex>"}
 *   int > 64 bits   {"__int__": "0x<hex>"} (or "-0x...")
 *   nan / ±inf      {"__float__": "nan" | "inf" | "-inf"}
 *   global name     {"__global__": "module.name"}
 *   object (NEWOBJ) {"__class__": "module.name", "__args__": [..],
 *                    "__state__": .., "__items__": ..}  (present parts)
 *   other call      {"__call__": "module.name", "__args__": [..], ...}
 *   storage ref     {"__persid__": ..}
 *   a cycle         {"__cycle__": "<path of the object it points back to>"}
 */
#ifndef CK_TORCHLOAD_H
#define CK_TORCHLOAD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "dtype.h"

#define TL_MAX_PICKLE (256ull << 20)   /* bytes of object pickle we accept */
#define TL_MAX_EXPANDED (64ull << 20)  /* a view may repeat elements (stride 0)
					  up to max(file size, this) bytes */
#define TL_MAX_REVISITS (1u << 20)     /* a value shared by several paths is
					  named and converted once per path:
					  repeated visits are bounded */

typedef struct {
	char *name;
	ck_dtype dtype;
	int ndim;
	int64_t shape[CK_MAX_DIMS];
	uint64_t nbytes; /* contiguous size */
} tl_tensor;

typedef struct tl_file tl_file;

/* 1 if the first bytes (up to 32) look like a PyTorch file: a zip, or a
 * pickle of the legacy magic number. */
int tl_probe(const void *head, size_t n);

tl_file *tl_open(const char *path);
void tl_close(tl_file *f);
const char *tl_format(const tl_file *f); /* "zip" or "legacy" */

size_t tl_count(const tl_file *f);
/* Tensors in the order the walk meets them (a state dict's own order). */
const tl_tensor *tl_at(const tl_file *f, size_t i);
/* Materialise tensor i, contiguous and little-endian, into dst (nbytes). */
int tl_read(tl_file *f, size_t i, void *dst);
/* Where tensor i comes from (for listings): its storage key (NULL for a
 * numpy array held in the pickle), offset and strides in elements. */
void tl_layout(const tl_file *f, size_t i, const char **storage, uint64_t *offset,
	       const int64_t **stride);
/* The top object as JSON (owned by f). */
const json_t *tl_values(const tl_file *f);

#endif
