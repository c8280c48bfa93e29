"""Summarise `ckpt-ls --json` (standard input) in provenance.py's format:

  COUNT DTYPES DATA_BYTES DATA_BLOCKS COMPRESSION

and check the document's shape on the way (every tensor has the fields
docs/DESIGN.md promises)."""
import collections
import json
import sys

doc = json.load(sys.stdin)
assert doc["format"] == "tf-bundle"
ts = doc["tensors"]
dts = collections.Counter()
data = 0
for t in ts:
    for k in ("name", "dtype", "shape", "shard", "offset", "size", "crc32c", "slices"):
        assert k in t, k
    assert 0 <= t["shard"] < doc["num_shards"]
    dts[t["dtype"]] += 1
    data += sum(s["size"] for s in t["slices"]) if t["slices"] else t["size"]
c = doc["index_block_compression"]
print(len(ts), ",".join("%s:%d" % kv for kv in sorted(dts.items())), data,
      doc["index_data_blocks"], "none:%d,snappy:%d" % (c["none"], c["snappy"]))
