/* fuzz_ckpt_state — the TF `checkpoint` state file (ckpt_path.c): the
 * text-format parse of model_checkpoint_path, then the whole resolution of
 * a directory holding that file (fallback to the basename, the listing of
 * the prefixes that are there). */
#include <sys/stat.h>

#include "ckpt_path.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL;
	if (ck_tf_parse_state((const char *)data, size, "checkpoint", &out) == 0)
		free(out);

	static char dir[128];
	char path[192];
	if (!dir[0]) {
		fuzz_path(dir, sizeof dir, "d");
		if (mkdir(dir, 0700) < 0)
			abort();
		snprintf(path, sizeof path, "%s/model.ckpt-1.index", dir);
		fuzz_file(path, sizeof path, "d/model.ckpt-1.index", "", 0);
		fuzz_file(path, sizeof path, "d/model.ckpt-2.index", "", 0);
	}
	fuzz_file(path, sizeof path, "d/checkpoint", data, size);
	char *prefix = NULL;
	if (ck_tf_resolve(dir, &prefix) == 0)
		free(prefix);
	ck_tf_probe(dir);
	return 0;
}
