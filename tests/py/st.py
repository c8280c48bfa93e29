"""Read safetensors files with numpy (the safetensors package is not installed).

BF16 has no numpy type: such tensors come back as uint16 arrays of the raw bits
(see bf16_to_f32)."""
import json
import struct

import numpy as np

DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": np.uint16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
    "U64": np.uint64, "U32": np.uint32, "U16": np.uint16, "U8": np.uint8, "BOOL": np.bool_,
}


class Tensor:
    def __init__(self, name, dtype, shape, data):
        self.name, self.dtype, self.shape, self.data = name, dtype, tuple(shape), data

    def __repr__(self):
        return "%s %s %s" % (self.name, self.dtype, list(self.shape))


def read(path):
    """(metadata dict, {name: Tensor}, [names in header order])."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors, order = {}, []
    for name, e in header.items():
        b, end = e["data_offsets"]
        arr = np.frombuffer(blob[base + b:base + end], dtype=DTYPES[e["dtype"]])
        tensors[name] = Tensor(name, e["dtype"], e["shape"], arr.reshape(e["shape"]))
        order.append(name)
    return meta, tensors, order


def bf16_to_f32(bits):
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16(x):
    """Round-to-nearest-even float32 -> bfloat16 bits (NaN stays NaN)."""
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(np.asarray(x, dtype=np.float32))
    r[nan] = ((u[nan] >> 16) | 0x40).astype(np.uint16)
    return r


def same(a, b):
    """Same dtype, shape and bytes (a: Tensor or array)."""
    a = a.data if isinstance(a, Tensor) else a
    b = b.data if isinstance(b, Tensor) else b
    return a.dtype == b.dtype and a.shape == b.shape and np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()
