/* hfshard.h — how Hugging Face splits weights into shards: the size
 * argument, the assignment of tensors to shards, the shard file names and
 * the index JSON (pytorch_model.bin.index.json, model.safetensors.index.json),
 * all as transformers' shard_checkpoint / save_pretrained write them. */
#ifndef CK_HFSHARD_H
#define CK_HFSHARD_H

#include <stddef.h>
#include <stdint.h>

/* Parse a shard size as transformers' convert_file_size_to_int does: plain
 * bytes ("1000000"), decimal KB/MB/GB (10^3, 10^6, 10^9) or binary
 * KiB/MiB/GiB, units in any case; a unit ending in a lowercase "b" ("5Gb",
 * "5gb") counts bits, i.e. an eighth. Returns -1 if malformed. */
int hf_parse_size(const char *s, uint64_t *bytes);

/* Assign n tensors of the given sizes, in order, to shards: a tensor starts a
 * new shard when adding it would take the current one over max and the
 * current one is not empty (so a tensor larger than max gets a shard of its
 * own). Fills shard[i]; returns the number of shards (1 when n is 0). */
size_t hf_plan_shards(const uint64_t *sizes, size_t n, uint64_t max, size_t *shard);

/* "dir/pytorch_model.bin", 2, 5 -> "dir/pytorch_model-00002-of-00005.bin":
 * the numbers go before the file name's last extension. Caller frees. */
char *hf_shard_name(const char *path, size_t k, size_t n);

/* The index JSON, exactly as json.dumps(index, indent=2, sort_keys=True) +
 * "\n" writes {"metadata": {"total_size": total}, "weight_map": {name: file}}
 * (non-ASCII escaped as \uXXXX). names must be distinct UTF-8. Caller frees. */
char *hf_index_json(uint64_t total, size_t n, const char *const *names,
		    const char *const *files, size_t *len);

#endif
