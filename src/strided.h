/* strided.h — materialising strided views (a tensor that is a window of a
 * larger storage: PyTorch views, Fortran-order numpy arrays) as contiguous
 * C-order little-endian buffers.
 *
 * A view is (offset, shape, stride) in ELEMENTS of its storage, as PyTorch
 * describes tensors: element [i0, i1, ...] lives at offset + sum(ik * stride[k]).
 * Strides are never negative. */
#ifndef CK_STRIDED_H
#define CK_STRIDED_H

#include <stddef.h>
#include <stdint.h>

/* Check that every element of the view lies inside a storage of
 * storage_numel elements (overflow-checked). On success *lo / *hi give the
 * element range [lo, hi) the view touches (lo == hi for an empty view).
 * Returns -1 without a message on failure; callers say which tensor. */
int sv_check(int ndim, const int64_t *shape, const int64_t *stride, uint64_t offset,
	     uint64_t storage_numel, uint64_t *lo, uint64_t *hi);

/* True when the view is one contiguous C-order run of elements. */
int sv_is_contiguous(int ndim, const int64_t *shape, const int64_t *stride);

/* Copy the view from an in-memory storage (base = element 0) into dst in
 * C order. The view must have passed sv_check. */
void sv_gather(void *dst, const void *base, size_t elsize, int ndim, const int64_t *shape,
	       const int64_t *stride, uint64_t offset);

/* Same, reading the storage from a file whose element 0 is at byte
 * file_off: a contiguous view is one pread into dst; any other view is
 * gathered from a read-only mapping of just the bytes it spans. */
int sv_read(int fd, uint64_t file_off, void *dst, size_t elsize, int ndim, const int64_t *shape,
	    const int64_t *stride, uint64_t offset, const char *label);

/* Reverse the byte order of n elements of elsize bytes in place. */
void sv_byteswap(void *buf, uint64_t n, size_t elsize);

#endif
