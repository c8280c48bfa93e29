/* strided.c — see strided.h. */
#include "strided.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dtype.h"
#include "util.h"

int sv_check(int ndim, const int64_t *shape, const int64_t *stride, uint64_t offset,
	     uint64_t storage_numel, uint64_t *lo, uint64_t *hi)
{
	if (ndim < 0 || ndim > CK_MAX_DIMS)
		return -1;
	uint64_t last = offset;
	for (int i = 0; i < ndim; i++) {
		if (shape[i] < 0 || stride[i] < 0)
			return -1;
		if (shape[i] == 0) {
			*lo = *hi = offset;
			return offset <= storage_numel ? 0 : -1;
		}
	}
	for (int i = 0; i < ndim; i++) {
		uint64_t step;
		if (ck_mul_u64((uint64_t)(shape[i] - 1), (uint64_t)stride[i], &step) < 0 ||
		    ck_add_u64(last, step, &last) < 0)
			return -1;
	}
	if (last >= storage_numel)
		return -1;
	*lo = offset;
	*hi = last + 1;
	return 0;
}

/* Drop size-1 dimensions and merge neighbours that are contiguous with each
 * other; returns the new number of dimensions (0 for a single element). */
static int collapse(int ndim, const int64_t *shape, const int64_t *stride, int64_t *sh,
		    int64_t *st)
{
	int n = 0;
	for (int i = 0; i < ndim; i++) {
		if (shape[i] == 1)
			continue;
		if (n > 0 && st[n - 1] == stride[i] * shape[i]) {
			sh[n - 1] *= shape[i];
			st[n - 1] = stride[i];
		} else {
			sh[n] = shape[i];
			st[n] = stride[i];
			n++;
		}
	}
	return n;
}

int sv_is_contiguous(int ndim, const int64_t *shape, const int64_t *stride)
{
	int64_t sh[CK_MAX_DIMS], st[CK_MAX_DIMS];
	for (int i = 0; i < ndim; i++)
		if (shape[i] == 0)
			return 1;
	int n = collapse(ndim, shape, stride, sh, st);
	return n == 0 || (n == 1 && st[0] == 1);
}

/* Copy one element of es bytes (fixed sizes let the compiler inline). */
#define COPY_EL(d, s, es)                                                   \
	do {                                                                \
		switch (es) {                                               \
		case 1: *(d) = *(s); break;                                 \
		case 2: memcpy((d), (s), 2); break;                         \
		case 4: memcpy((d), (s), 4); break;                         \
		case 8: memcpy((d), (s), 8); break;                         \
		default: memcpy((d), (s), (es));                            \
		}                                                           \
	} while (0)

/* A 2-D strided block into a C-order R x C destination, in tiles so that a
 * transposed source is read and written cache line by cache line. */
static void gather2d(unsigned char *d, const unsigned char *s, size_t es, int64_t R, int64_t C,
		     int64_t rs, int64_t cs)
{
	enum { TILE = 32 };
	for (int64_t i0 = 0; i0 < R; i0 += TILE) {
		int64_t i1 = i0 + TILE < R ? i0 + TILE : R;
		for (int64_t j0 = 0; j0 < C; j0 += TILE) {
			int64_t j1 = j0 + TILE < C ? j0 + TILE : C;
			for (int64_t j = j0; j < j1; j++)
				for (int64_t i = i0; i < i1; i++)
					COPY_EL(d + (size_t)(i * C + j) * es,
						s + (size_t)(i * rs + j * cs) * es, es);
		}
	}
}

void sv_gather(void *dst, const void *base, size_t es, int ndim, const int64_t *shape,
	       const int64_t *stride, uint64_t offset)
{
	int64_t sh[CK_MAX_DIMS], st[CK_MAX_DIMS], idx[CK_MAX_DIMS] = {0};
	for (int i = 0; i < ndim; i++)
		if (shape[i] == 0)
			return;
	int n = collapse(ndim, shape, stride, sh, st);
	const unsigned char *src = base;
	unsigned char *d = dst;
	uint64_t pos = offset; /* element index of the current block's start */
	if (n == 0) {
		memcpy(d, src + pos * es, es);
		return;
	}
	/* The innermost one (contiguous rows) or two (strided) dimensions are
	 * copied as a block; an odometer walks the dimensions outside it. */
	int inner = n >= 2 && st[n - 1] != 1 ? 2 : 1;
	int outer = n - inner;
	uint64_t blocks = 1, block = (uint64_t)sh[n - 1] * (inner == 2 ? (uint64_t)sh[n - 2] : 1);
	for (int k = 0; k < outer; k++)
		blocks *= (uint64_t)sh[k];
	for (uint64_t r = 0; r < blocks; r++) {
		const unsigned char *q = src + pos * es;
		if (inner == 2) {
			gather2d(d, q, es, sh[n - 2], sh[n - 1], st[n - 2], st[n - 1]);
		} else if (st[n - 1] == 1) {
			memcpy(d, q, (size_t)sh[n - 1] * es);
		} else {
			size_t qs = (size_t)st[n - 1] * es;
			for (int64_t j = 0; j < sh[n - 1]; j++)
				COPY_EL(d + (size_t)j * es, q + (size_t)j * qs, es);
		}
		d += block * es;
		for (int k = outer - 1; k >= 0; k--) {
			pos += (uint64_t)st[k];
			if (++idx[k] < sh[k])
				break;
			pos -= (uint64_t)(st[k] * sh[k]);
			idx[k] = 0;
		}
	}
}

int sv_read(int fd, uint64_t file_off, void *dst, size_t es, int ndim, const int64_t *shape,
	    const int64_t *stride, uint64_t offset, const char *label)
{
	uint64_t lo, hi, numel;
	if (ck_shape_numel(ndim, shape, &numel) < 0 ||
	    sv_check(ndim, shape, stride, offset, UINT64_MAX, &lo, &hi) < 0)
		return ck_fail("%s: invalid view", label);
	if (numel == 0)
		return 0;
	if (sv_is_contiguous(ndim, shape, stride))
		return ck_pread_full(fd, dst, (size_t)(numel * es), file_off + offset * es, label);
	long page = sysconf(_SC_PAGESIZE);
	uint64_t start = file_off + lo * es;
	uint64_t aligned = start - start % (uint64_t)page;
	size_t len = (size_t)((hi - lo) * es + (start - aligned));
	void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, (off_t)aligned);
	if (map == MAP_FAILED)
		return ck_fail("%s: cannot map %zu bytes: %s", label, len, strerror(errno));
	sv_gather(dst, (const unsigned char *)map + (start - aligned), es, ndim, shape, stride,
		  offset - lo);
	munmap(map, len);
	return 0;
}

void sv_byteswap(void *buf, uint64_t n, size_t es)
{
	unsigned char *p = buf;
	if (es < 2)
		return;
	for (uint64_t i = 0; i < n; i++, p += es)
		for (size_t a = 0, b = es - 1; a < b; a++, b--) {
			unsigned char t = p[a];
			p[a] = p[b];
			p[b] = t;
		}
}
