"""Compare src/cast.c (through tests/c/cast_filter) with torch's tensor.to(dtype).

usage: cast_check.py CAST_FILTER            every supported pair on crafted and random inputs
       cast_check.py CAST_FILTER --all-f32  all 2^32 F32 patterns to F16 and BF16 (slow)

Prints one "ok - ..." / "FAIL - ..." line per pair (tests/lib.sh convention)."""
import subprocess
import sys

import numpy as np
import torch

# torch's F64 -> BF16 kernel writes 0x7FC0 for NaN in the scalar tail of each
# thread's chunk and 0xFFFF in its vector body (cast.h); one thread and a
# length that is a multiple of 16 give the vector result everywhere.
torch.set_num_threads(1)

UINT = {"F64": np.uint64, "F32": np.uint32, "F16": np.uint16, "BF16": np.uint16}
TORCH = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def to_torch(bits, dt):
    if dt == "BF16":
        return torch.from_numpy(bits.view(np.int16).copy()).view(torch.bfloat16)
    return torch.from_numpy(bits.view({"F64": np.float64, "F32": np.float32, "F16": np.float16}[dt]).copy())


def torch_bits(t):
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(np.uint16)
    return t.numpy().view({torch.float64: np.uint64, torch.float32: np.uint32, torch.float16: np.uint16}[t.dtype])


def pad16(a):
    return np.concatenate([a, np.zeros((-len(a)) % 16, dtype=a.dtype)])


def f32_inputs(rng):
    u = np.uint32
    special = [0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001,
               0x7FA00000, 0x7FFFFFFF, 0xFFFFFFFF, 0x7FC00001, 0x7F802000, 0x7F801FFF, 1, 0x7FFFFF,
               0x800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x477FE000, 0x477FEFFF, 0x477FF000, 0x477FF001,
               0x47800000, 0x33800000, 0x33000000, 0x33000001, 0x32FFFFFF, 0x38800000, 0x387FFFFF,
               0x387FE000, 0x387FF000, 0x387FF001, 0x3F808000, 0x3F818000, 0x3F807FFF, 0x3F808001,
               0x7F7F8000, 0x7F7F7FFF, 0x00008000, 0x00018000, 0x3F800000]
    special += [x | 0x80000000 for x in special]
    parts = [np.array(special, dtype=u)]
    # exact halfway cases for F16 subnormals: (k + 1/2) * 2^-24, and near them
    k = np.arange(2048, dtype=np.float64)
    sub = ((k + 0.5) * 2.0 ** -24).astype(np.float32).view(u)
    parts += [sub, sub + 1, sub - 1, sub | 0x80000000]
    # halfway (and neighbours) for F16 normals and for BF16, random high bits
    hi = rng.integers(0, 1 << 32, size=400000, dtype=np.uint64).astype(u)
    for low, mask in ((0x1000, 0x1FFF), (0x8000, 0xFFFF)):
        base = hi & u(~mask & 0xFFFFFFFF)
        parts += [base | u(low), base | u(low - 1), base | u(low + 1)]
    # F16 normal range specifically (exponents 102..143), halfway at bit 13
    e = rng.integers(102, 144, size=300000).astype(u)
    m = rng.integers(0, 1 << 23, size=300000).astype(u)
    parts += [(e << u(23)) | m, (e << u(23)) | (m & u(~0x1FFF & 0x7FFFFF)) | u(0x1000)]
    parts.append(rng.integers(0, 1 << 32, size=2000000, dtype=np.uint64).astype(u))
    return pad16(np.concatenate(parts))


def f64_inputs(rng):
    u = np.uint64
    special = [0, 0x7FF0000000000000, 0x7FF8000000000000, 0x7FF0000000000001, 0x7FF4000000000000,
               0x7FFFFFFFFFFFFFFF, 0x7FF8000020000000, 0x7FF800001FFFFFFF, 1, 0x000FFFFFFFFFFFFF,
               0x0010000000000000, 0x7FEFFFFFFFFFFFFF, 0x47EFFFFFE0000000, 0x47EFFFFFEFFFFFFF,
               0x47EFFFFFF0000000, 0x36A0000000000000, 0x3690000000000000, 0x3690000000000001,
               0x3FF0000010000000, 0x3FF0000030000000, 0x3FF0000010000001, 0x3FF0100000000001,
               0x3FF0020000000001, 0x40EFFE0000000000, 0x40EFFF0000000000, 0x40EFFEFFFFFFFFFF]
    special += [x | 0x8000000000000000 for x in special]
    parts = [np.array(special, dtype=u)]
    hi = rng.integers(0, 1 << 63, size=300000, dtype=np.uint64) * u(2) + rng.integers(0, 2, size=300000, dtype=np.uint64)
    for low in (1 << 28, (1 << 28) - 1, (1 << 28) + 1):
        parts.append((hi & u(~((1 << 29) - 1) & 0xFFFFFFFFFFFFFFFF)) | u(low))
    # doubles in and around the F16/BF16 ranges: double rounding through F32
    e = rng.integers(1023 - 30, 1023 + 20, size=300000).astype(u)
    m = rng.integers(0, 1 << 52, size=300000, dtype=np.uint64)
    parts += [(e << u(52)) | m, (e << u(52)) | (m & u(~((1 << 42) - 1) & ((1 << 52) - 1))) | u(1 << 41) | u(1)]
    parts.append(rng.integers(0, 1 << 63, size=1000000, dtype=np.uint64) * u(2))
    return pad16(np.concatenate(parts))


def run_filter(filt, src, dst, data):
    out = subprocess.run([filt, src, dst], input=data.tobytes(), stdout=subprocess.PIPE, check=True).stdout
    return np.frombuffer(out, dtype=UINT[dst])


def compare(name, got, want, src_bits):
    bad = np.nonzero(got != want)[0]
    if len(bad) == 0:
        print(f"ok - cast {name} ({len(want)} values) matches torch")
        return 0
    ex = ", ".join(f"{int(src_bits[i]):#x}->{int(got[i]):#x} (torch {int(want[i]):#x})" for i in bad[:5])
    print(f"FAIL - cast {name}: {len(bad)} of {len(want)} differ from torch, e.g. {ex}")
    return 1


def main():
    filt = sys.argv[1]
    failures = 0
    if len(sys.argv) > 2 and sys.argv[2] == "--all-f32":
        for dst in ("F16", "BF16"):
            proc = subprocess.Popen([filt, "--all-f32", dst], stdout=subprocess.PIPE)
            chunk = 1 << 24
            bad = 0
            for start in range(0, 1 << 32, chunk):
                src = np.arange(start, start + chunk, dtype=np.uint64).astype(np.uint32)
                want = torch_bits(to_torch(src, "F32").to(TORCH[dst]))
                got = np.frombuffer(proc.stdout.read(chunk * 2), dtype=np.uint16)
                bad += compare(f"F32->{dst} [{start:#x}, +{chunk:#x})", got, want, src) if not np.array_equal(got, want) else 0
            proc.wait()
            failures += bad
            if not bad:
                print(f"ok - cast F32->{dst}: all 2^32 inputs match torch")
        return failures
    rng = np.random.default_rng(20240613)
    inputs = {
        "F64": f64_inputs(rng),
        "F32": f32_inputs(rng),
        "F16": pad16(np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)),
        "BF16": pad16(np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)),
    }
    for src, bits in inputs.items():
        for dst in ("F32", "F16", "BF16"):
            if src == dst:
                continue
            want = torch_bits(to_torch(bits, src).to(TORCH[dst]))
            got = run_filter(filt, src, dst, bits)
            failures += compare(f"{src}->{dst}", got, want, bits)
    return failures


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
