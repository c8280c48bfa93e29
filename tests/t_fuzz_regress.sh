# Regression tests for what the fuzz targets (tests/fuzz/) found, one case per
# finding, run through the tools (under ASan+UBSan in the sanitizer run, which
# is where most of these showed). Each names the target and what was wrong.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/corrupt_lib.sh"

# npy (fuzz_npy): an empty array whose other dimensions multiply past 2^63
# overflowed the stride computation of npy_read (signed overflow, UB).
"$PY" - "$T/empty.npy" <<'PY'
import sys
h = b"{'descr': '<f8', 'fortran_order': False, 'shape': (42967296, 4249, 726, 90661, 0), }"
h += b" " * (-(len(h) + 11) % 64) + b"\n"
open(sys.argv[1], "wb").write(b"\x93NUMPY\x01\x00" + len(h).to_bytes(2, "little") + h)
PY
accept "fuzz_npy: empty array with huge other dimensions extracts" \
	"$B/ckpt-extract" "$T/empty.npy" -o "$O/empty.safetensors"
check_eq "fuzz_npy: ... as a tensor of 0 bytes with its shape" "e	F64	42967296,4249,726,90661,0" \
	"$(cp "$T/empty.npy" "$T/e.npy" && "$B/ckpt-ls" "$T/e.npy")"

# torch (fuzz_torch): an object whose class name is not UTF-8 (one flipped
# byte of a real whole-module checkpoint) failed with no message and leaked
# its JSON object; a global name that is not UTF-8 as the top object failed
# with no message.
"$PY" - "$T" <<'PY'
import sys
sys.path.insert(0, __import__("os").environ["CK_ROOT"] + "/tests/py")
from torchread import zip_torch
d = sys.argv[1]
zip_torch(d + "/class_not_utf8.pt", b"\x80\x02}X\x01\x00\x00\x00mc__main__\n\xecet\n)\x81s.")
zip_torch(d + "/global_not_utf8.pt", b"\x80\x02c__main__\n\xec\n.")
PY
check_fails "fuzz_torch: a class name that is not UTF-8 is named, nothing leaks" \
	'class_not_utf8.pt: m: the name of a class is not valid UTF-8' "$B/ckpt-ls" "$T/class_not_utf8.pt"
check_fails "fuzz_torch: a global name that is not UTF-8 gets a message" \
	'global_not_utf8.pt: .*not valid UTF-8' "$B/ckpt-ls" "$T/global_not_utf8.pt"
