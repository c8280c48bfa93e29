/* fuzz_npy — .npy files (npy.c): the magic and version, the header length,
 * the Python dict literal (descr, fortran_order, shape), the data size
 * against the file, then whole and ranged reads (byte swapping, Fortran
 * transposition). */
#include "fuzz.h"
#include "npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	npy_header h;
	npy_parse(data, size, size, &h, "p.npy");

	char path[128];
	fuzz_file(path, sizeof path, "p.npy", data, size);
	npy_file *f = npy_open(path);
	if (!f)
		return 0;
	const npy_header *i = npy_info(f);
	if (i->nbytes <= FUZZ_MAX_READ) {
		char *buf = malloc(i->nbytes + 1);
		npy_read(f, buf);
		uint64_t esize = i->nbytes ? ck_dtype_size(i->dtype) : 0;
		if (esize && (!i->fortran || i->ndim <= 1)) {
			uint64_t n = i->nbytes / esize;
			npy_read_range(f, n / 3, n - n / 3, buf);
		}
		free(buf);
	}
	npy_close(f);
	return 0;
}
