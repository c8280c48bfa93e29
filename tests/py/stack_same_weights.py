"""stack_same_weights.py A.safetensors A.index B.safetensors B.index — B is A's bytes
but for the index hash.

A conversion's model.safetensors records the SHA-256 of its checkpoint's index
(metadata ckptconv.sha256.NAME.index). Each file's value must be the hash of
its own index, and B with A's value in its place must be A byte for byte.
Exit 1 with the reason on stderr otherwise."""
import hashlib
import json
import os
import struct
import sys


def metadata(blob):
    (n,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8:8 + n])["__metadata__"]


def main():
    a_path, a_index, b_path, b_index = sys.argv[1:5]
    blobs = [open(p, "rb").read() for p in (a_path, b_path)]
    key = "ckptconv.sha256." + os.path.basename(a_index)
    hashes = []
    for blob, index in zip(blobs, (a_index, b_index)):
        value = metadata(blob).get(key)
        own = hashlib.sha256(open(index, "rb").read()).hexdigest()
        if value != own:
            sys.exit("%s is %s, the index's SHA-256 is %s" % (key, value, own))
        hashes.append(value.encode())
    if blobs[1].count(hashes[1]) != 1:
        sys.exit("the index hash is not in B exactly once")
    if blobs[1].replace(hashes[1], hashes[0]) != blobs[0]:
        sys.exit("%s and %s differ beyond the index hash" % (a_path, b_path))


main()
