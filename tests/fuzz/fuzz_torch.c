/* fuzz_torch — PyTorch checkpoints (torchload.c over zipread.c and
 * pickle.c): zip and legacy layouts, the interpretation of the allowed
 * calls (tensor rebuilds, storages, numpy arrays), views against storages,
 * names, values as JSON, and materialising every tensor. */
#include "fuzz.h"
#include "torchload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tl_probe(data, size < 32 ? size : 32);
	char path[128];
	fuzz_file(path, sizeof path, "t.pt", data, size);
	tl_file *f = tl_open(path);
	if (!f)
		return 0;
	tl_format(f);
	char *js = json_dumps(tl_values(f), JSON_ENCODE_ANY);
	free(js);
	for (size_t i = 0; i < tl_count(f); i++) {
		const tl_tensor *t = tl_at(f, i);
		const char *storage;
		uint64_t off;
		const int64_t *stride;
		tl_layout(f, i, &storage, &off, &stride);
		if (t->nbytes > FUZZ_MAX_READ)
			continue;
		void *buf = malloc(t->nbytes + 1);
		tl_read(f, i, buf);
		free(buf);
	}
	tl_close(f);
	return 0;
}
