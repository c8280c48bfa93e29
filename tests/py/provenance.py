"""Print, for every .index row of fixtures/real/PROVENANCE.md, the facts its
"[parsed: ...]" note records, one line each:

  PATH COUNT DTYPES DATA_BYTES DATA_BLOCKS COMPRESSION

DTYPES like F32:603,I64:1 (safetensors spelling, sorted); COMPRESSION like
none:2,snappy:1. PATH is relative to the fixtures directory.
"""
import re
import sys

NAMES = {"float32": "F32", "int64": "I64", "string": "STRING", "int32": "I32",
         "float16": "F16", "bfloat16": "BF16", "float64": "F64", "bool": "BOOL"}

for line in open(sys.argv[1], encoding="utf-8"):
    cells = [c.strip() for c in line.split("|")]
    if len(cells) < 3 or not cells[1].endswith(".index"):
        continue
    m = re.search(r"\[parsed: (\d+) tensors; dtypes \{([^}]*)\};.*data bytes (\d+); "
                  r"block compression types \{([^}]*)\}; (\d+) data block", line)
    if not m:
        sys.exit("no parsed note for " + cells[1])
    dts = {}
    for part in m.group(2).split(","):
        k, v = part.split(":")
        dts[NAMES[k.strip().strip("'")]] = int(v)
    comp = {0: 0, 1: 0}
    for part in m.group(4).split(","):
        k, v = part.split(":")
        comp[int(k)] = int(v)
    print(cells[1].replace("fixtures/", "", 1), m.group(1),
          ",".join("%s:%d" % kv for kv in sorted(dts.items())), m.group(3), m.group(5),
          "none:%d,snappy:%d" % (comp[0], comp[1]))
