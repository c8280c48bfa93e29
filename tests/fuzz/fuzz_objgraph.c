/* fuzz_objgraph — the TrackableObjectGraph of TF2 object-based checkpoints
 * (objgraph.c): protobuf unpacking, node references, the breadth-first walk
 * (cycles, shared objects, slot variables) and the path limits.
 *
 * Input: the graph's protobuf bytes %%%% the checkpoint's value keys, one a
 * line (none: every key is there). */
#include "fuzz.h"
#include "objgraph.h"

static char *keys;

static int has_value(void *ctx, const char *key)
{
	(void)ctx;
	if (!*keys)
		return 1;
	for (const char *s = keys; *s;) {
		const char *e = strchr(s, '\n');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (strlen(key) == n && memcmp(s, key, n) == 0)
			return 1;
		if (!e)
			break;
		s = e + 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pn, kn;
	char *proto = fuzz_strpart(data, size, 0, &pn);
	keys = fuzz_strpart(data, size, 1, &kn);
	ck_objgraph *g = ck_objgraph_parse(proto, pn, has_value, NULL, "fuzz");
	for (size_t i = 0; g && i < ck_objgraph_count(g); i++) {
		const ck_objgraph_value *v = ck_objgraph_at(g, i);
		fuzz_sink += strlen(v->key) + strlen(v->full_name) + strlen(v->path);
	}
	ck_objgraph_free(g);
	free(proto);
	free(keys);
	return 0;
}
