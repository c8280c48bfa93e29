/* fuzz_safetensors — the safetensors stream reader (safetensors.c: header
 * length, JSON header, dtypes, shapes, offsets that must tile the buffer,
 * metadata, then st_next/st_read over the data) and the same bytes as a
 * file read in place (stfile.c: random access, exact file size). */
#include "fuzz.h"
#include "safetensors.h"
#include "stfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[128];
	fuzz_file(path, sizeof path, "s.safetensors", data, size);

	int fd = open(path, O_RDONLY);
	st_reader *r = st_reader_open(fd, "s.safetensors");
	if (r) {
		for (size_t i = 0; i < st_meta_count(r); i++)
			st_meta_get(r, st_meta_at(r, i)->key);
		for (size_t i = 0; i < st_count(r); i++)
			st_find(r, st_at(r, i)->name);
		int err = 0, k = 0;
		long i;
		while ((i = st_next(r, &err)) >= 0) {
			const st_tensor *t = st_at(r, (size_t)i);
			if (t->end - t->begin > FUZZ_MAX_READ)
				continue;
			if (k++ & 1) {
				void *buf = NULL;
				if (st_read_all(r, &buf) == 0)
					free(buf);
			} else if (t->end > t->begin) {
				/* Half of it: st_next must skip the rest. */
				size_t n = (size_t)(t->end - t->begin) / 2;
				char *buf = malloc(n + 1);
				st_read(r, buf, n);
				free(buf);
			}
		}
		st_reader_free(r);
	}
	close(fd);

	stf_file *f = stf_open(path);
	if (f) {
		const st_reader *h = stf_header(f);
		for (size_t i = 0; i < st_count(h); i++) {
			const st_tensor *t = st_at(h, i);
			if (t->end - t->begin > FUZZ_MAX_READ)
				continue;
			void *buf = malloc(t->end - t->begin + 1);
			stf_read(f, i, buf);
			free(buf);
		}
		stf_close(f);
	}
	return 0;
}
