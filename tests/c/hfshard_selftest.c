/* hfshard_selftest — shard sizes, shard names, the shard plan and the index
 * JSON against what transformers does (expected values computed with
 * transformers' convert_file_size_to_int and Python's json.dumps). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hfshard.h"
#include "check.h"


static void size_ok(const char *s, uint64_t want)
{
	uint64_t v = 0;
	char name[128];
	snprintf(name, sizeof name, "size %s = %llu", s, (unsigned long long)want);
	CHECK(name, hf_parse_size(s, &v) == 0 && v == want);
}

static void size_bad(const char *s)
{
	uint64_t v;
	char name[128];
	snprintf(name, sizeof name, "size \"%s\" is refused", s);
	CHECK(name, hf_parse_size(s, &v) < 0);
}

static void name_is(const char *path, size_t k, size_t n, const char *want)
{
	char *got = hf_shard_name(path, k, n);
	char name[256];
	snprintf(name, sizeof name, "shard name %s", want);
	CHECK(name, got && strcmp(got, want) == 0);
	free(got);
}

static void plan_is(const char *name, const uint64_t *sizes, size_t n, uint64_t max,
		    const size_t *want, size_t want_shards)
{
	size_t got[16];
	size_t k = hf_plan_shards(sizes, n, max, got);
	int same = k == want_shards;
	for (size_t i = 0; i < n; i++)
		same = same && got[i] == want[i];
	CHECK(name, same);
}

int main(void)
{
	size_ok("123", 123);
	size_ok("0", 0);
	size_ok("10GB", 10000000000ull);
	size_ok("10gB", 10000000000ull);
	size_ok("10Gb", 1250000000ull);
	size_ok("10gb", 1250000000ull);
	size_ok("500MB", 500000000ull);
	size_ok("5KB", 5000);
	size_ok("5kB", 5000);
	size_ok("5kb", 625);
	size_ok("2GiB", 2ull << 30);
	size_ok("2gib", 2ull << 30);
	size_ok("3MiB", 3ull << 20);
	size_ok("7KiB", 7ull << 10);
	size_bad("");
	size_bad("GB");
	size_bad("10TB");
	size_bad("1.5GB");
	size_bad("-1");
	size_bad("10 GB");
	size_bad("10B");
	size_bad("99999999999999999999");
	size_bad("99999999999GiB");

	name_is("pytorch_model.bin", 1, 3, "pytorch_model-00001-of-00003.bin");
	name_is("out/model.safetensors", 12, 12, "out/model-00012-of-00012.safetensors");
	name_is("a.b/w.v2.bin", 2, 100000, "a.b/w.v2-00002-of-100000.bin");
	name_is("dir.x/weights", 1, 2, "dir.x/weights-00001-of-00002");
	name_is("d/.hidden", 1, 2, "d/.hidden-00001-of-00002");

	uint64_t s1[] = {5, 5, 5};
	plan_is("plan: fill to the limit, then a new shard", s1, 3, 10, (size_t[]){0, 0, 1}, 2);
	uint64_t s2[] = {1, 20, 1};
	plan_is("plan: a tensor over the limit gets its own shard", s2, 3, 10, (size_t[]){0, 1, 2}, 3);
	uint64_t s3[] = {20, 0};
	plan_is("plan: nothing joins an overfull shard, even empty", s3, 2, 10, (size_t[]){0, 1}, 2);
	uint64_t s4[] = {10, 0};
	plan_is("plan: an empty tensor joins a full shard", s4, 2, 10, (size_t[]){0, 0}, 1);
	plan_is("plan: no tensors, one shard", NULL, 0, 10, NULL, 1);
	uint64_t s5[] = {1, 1, 0};
	plan_is("plan: limit 0", s5, 3, 0, (size_t[]){0, 1, 2}, 3);
	uint64_t s6[] = {UINT64_MAX, 1};
	plan_is("plan: no overflow", s6, 2, UINT64_MAX, (size_t[]){0, 1}, 2);

	const char *names[] = {"q\"uote", "back\\slash", "new\nline", "caf\xc3\xa9",
			       "smile\xf0\x9f\x98\x80", "del\x7f", "tab\tctl\x01"};
	const char *files[] = {"f-1.bin", "f-1.bin", "f-2.bin", "f-2.bin", "f-2.bin", "f-1.bin", "f-1.bin"};
	const char *want =
		"{\n  \"metadata\": {\n    \"total_size\": 12345678901\n  },\n  \"weight_map\": {\n"
		"    \"back\\\\slash\": \"f-1.bin\",\n    \"caf\\u00e9\": \"f-2.bin\",\n"
		"    \"del\\u007f\": \"f-1.bin\",\n    \"new\\nline\": \"f-2.bin\",\n"
		"    \"q\\\"uote\": \"f-1.bin\",\n    \"smile\\ud83d\\ude00\": \"f-2.bin\",\n"
		"    \"tab\\tctl\\u0001\": \"f-1.bin\"\n  }\n}\n";
	size_t len;
	char *j = hf_index_json(12345678901ull, 7, names, files, &len);
	CHECK("index json: sorted, indent 2, escaped as json.dumps", j && strcmp(j, want) == 0 && len == strlen(want));
	free(j);
	j = hf_index_json(0, 0, NULL, NULL, &len);
	CHECK("index json: empty weight map",
	      j && strcmp(j, "{\n  \"metadata\": {\n    \"total_size\": 0\n  },\n  \"weight_map\": {}\n}\n") == 0);
	free(j);
	return failures != 0;
}
