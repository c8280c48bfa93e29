/* fuzz_zip — the zip central-directory reader (zipread.c): the end record
 * search, ZIP64 records and extra fields, every central entry against its
 * local header, stored ranges, name lookup. */
#include "fuzz.h"
#include "zipread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[128];
	fuzz_file(path, sizeof path, "z.zip", data, size);
	int fd = open(path, O_RDONLY);
	zr_archive *z = zr_open(fd, size, "z.zip");
	if (z) {
		for (size_t i = 0; i < zr_count(z); i++) {
			const zr_entry *e = zr_at(z, i);
			if (zr_find(z, e->name) < 0)
				abort();
			uint64_t off, n;
			if (zr_stored_range(z, e, &off, &n) == 0 && (off > size || n > size - off))
				abort(); /* a range outside the file was accepted */
		}
		zr_find(z, "archive/data.pkl");
		zr_close(z);
	}
	close(fd);
	return 0;
}
