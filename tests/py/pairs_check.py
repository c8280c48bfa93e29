"""pairs_check.py SRC.safetensors OUT.safetensors LABEL SRC_NAME=OUT_NAME[:T]...

Each OUT_NAME in OUT equals SRC_NAME of SRC bit for bit (same dtype; with :T
transposed, as [in, out] kernels become [out, in] weights). Prints one
"ok"/"FAIL" line."""
import sys

import numpy as np

import st

src_path, out_path, label = sys.argv[1:4]
_, src, _ = st.read(src_path)
_, out, _ = st.read(out_path)
problems = []
for pair in sys.argv[4:]:
    transpose = pair.endswith(":T")
    a, b = pair[:-2 if transpose else None].split("=")
    if a not in src or b not in out:
        problems.append("%s or %s missing" % (a, b))
        continue
    want = src[a].data.T if transpose else src[a].data
    if not st.same(out[b], np.ascontiguousarray(want)):
        problems.append("%s is not %s%s" % (b, a, " transposed" if transpose else ""))
if problems:
    print("FAIL - %s: %s" % (label, "; ".join(problems)))
else:
    print("ok - %s: %d tensors equal their originals, bit for bit" % (label, len(sys.argv) - 4))
