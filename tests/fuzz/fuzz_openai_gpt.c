/* fuzz_openai_gpt — the OpenAI GPT release folder (openai_gpt.c):
 * params_shapes.json, parameters_names.json and the params_K.npy pieces of
 * one flat vector, cut into tensors; every tensor is read (pieces spanning
 * two files included).
 *
 * Input: shapes JSON %%%% names JSON %%%% params_0.npy %%%% params_1.npy
 * %%%% ... %%%% params_9.npy — a piece file exists only when its part is there. */
#include <sys/stat.h>

#include "fuzz.h"
#include "openai_gpt.h"

static size_t nparts(const uint8_t *data, size_t size)
{
	size_t n = 1;
	const uint8_t *p = data, *end = data + size, *e;
	while ((e = memmem(p, (size_t)(end - p), FUZZ_SEP, sizeof FUZZ_SEP - 1))) {
		n++;
		p = e + sizeof FUZZ_SEP - 1;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[128];
	char path[192], name[32];
	if (!dir[0]) {
		fuzz_path(dir, sizeof dir, "g");
		if (mkdir(dir, 0700) < 0)
			abort();
	}
	static const char *const files[2] = {"g/params_shapes.json", "g/parameters_names.json"};
	const uint8_t *p;
	size_t n, parts = nparts(data, size);
	for (int k = 0; k < 2; k++) {
		fuzz_part(data, size, k, &p, &n);
		fuzz_file(path, sizeof path, files[k], p, n);
	}
	for (int k = 0; k < 10; k++) {
		snprintf(name, sizeof name, "g/params_%d.npy", k);
		if ((size_t)k + 2 < parts) {
			fuzz_part(data, size, k + 2, &p, &n);
			fuzz_file(path, sizeof path, name, p, n);
		} else {
			unlink(fuzz_path(path, sizeof path, name));
		}
	}
	og_probe(dir);
	og_folder *g = og_open(dir);
	if (!g)
		return 0;
	for (size_t i = 0; i < og_count(g); i++) {
		const og_tensor *t = og_at(g, i);
		if (t->nbytes > FUZZ_MAX_READ)
			continue;
		void *buf = malloc(t->nbytes + 1);
		og_read(g, i, buf);
		free(buf);
	}
	for (size_t k = 0; og_file(g, k); k++)
		;
	og_close(g);
	return 0;
}
