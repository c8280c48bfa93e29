/* npy.h — NumPy .npy files (format versions 1, 2 and 3).
 *
 * Layout: "\x93NUMPY", major, minor, header length (u16 LE for v1, u32 LE for
 * v2/v3), then a Python dict literal {'descr': '<f4', 'fortran_order': False,
 * 'shape': (2, 3), } padded with spaces and a newline, then the raw data.
 * The dict is parsed by a strict literal parser (exactly those three keys;
 * strings, True/False, tuples of non-negative integers) — nothing is
 * evaluated. Numeric dtypes only (b1, i1-i8, u1-u8, f2, f4, f8) in any byte
 * order ('<', '>', '|', '=' or none; all but '>' are read as little-endian);
 * object arrays ('|O', whose data is a pickle), strings, complex, datetime
 * and structured dtypes are refused with a message saying so. The data size
 * (shape product × item size, overflow-checked) must match the file exactly.
 *
 * Reads always produce C-order little-endian data: big-endian data is
 * byte-swapped, Fortran-order data transposed. */
#ifndef CK_NPY_H
#define CK_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "dtype.h"

#define NPY_MAX_HEADER (1u << 20) /* a real header is < 200 bytes */

typedef struct {
	int major, minor;
	ck_dtype dtype;
	int ndim;
	int64_t shape[CK_MAX_DIMS];
	int fortran;          /* data in Fortran (column-major) order */
	int big_endian;       /* data must be byte-swapped */
	uint64_t data_offset; /* where the data starts in the file */
	uint64_t nbytes;      /* data size */
} npy_header;

/* Parse the start of a .npy file held in buf (buflen bytes, at least the
 * whole header) whose total size is file_size. label names the file in
 * errors. */
int npy_parse(const void *buf, size_t buflen, uint64_t file_size, npy_header *h,
	      const char *label);

typedef struct npy_file npy_file;

/* Open and validate; only the header is read. */
npy_file *npy_open(const char *path);
void npy_close(npy_file *f);
const npy_header *npy_info(const npy_file *f);
const char *npy_label(const npy_file *f);

/* Read the whole array (h->nbytes bytes) into dst, C order, little-endian. */
int npy_read(npy_file *f, void *dst);

/* Read elements [first, first + count) in C order into dst (little-endian).
 * For arrays whose file order is C order (or that have one dimension). */
int npy_read_range(npy_file *f, uint64_t first, uint64_t count, void *dst);

#endif
