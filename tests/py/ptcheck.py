"""Check what pt-pack wrote against the safetensors stream it read, with torch.

usage: ptcheck.py STREAM OUT --version V [--format pt|safetensors|both]
                  [--dtype f32|f16|bf16] [--max-shard-size SIZE]

OUT is what was given to pt-pack -o (a directory or a file). Checks:
  * exactly the expected files exist (a directory holds nothing else);
  * every .bin loads with torch.load(weights_only=True) into an OrderedDict
    with the input's names in header order, then the aliases; dtype, shape,
    contiguous strides and every byte equal the input (or torch's own
    .to(dtype) of it); aliases share their target's storage;
  * every .bin's data.pkl is byte-identical to torch.save() of what was
    loaded, and the whole file to torch's own zip writer
    (torch._C.PyTorchFileWriter) given the same records;
  * every .safetensors parses (header padded to 8 with spaces, offsets tile
    the data), holds each non-alias tensor once in the input's data order,
    bytes equal, __metadata__ = format pt + the input's ckptconv.* entries;
  * the shard split and the index JSON are what transformers writes.
Prints "ok - ..." / "FAIL - ..." lines (tests/lib.sh convention)."""
import argparse
import collections
import json
import os
import sys
import zipfile

import numpy as np
import torch

torch.set_num_threads(1)

NP = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": np.uint16, "I64": np.int64,
      "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_,
      "U16": np.uint16, "U32": np.uint32, "U64": np.uint64}
TORCH = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
         "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
         "U8": torch.uint8, "BOOL": torch.bool}
SIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
        "BOOL": 1, "U16": 2, "U32": 4, "U64": 8}
CAST = {"f32": "F32", "f16": "F16", "bf16": "BF16"}
FLOATS = ("F64", "F32", "F16", "BF16")

failures = 0


def ok(msg):
    print(f"ok - {msg}")


def fail(msg):
    global failures
    failures += 1
    print(f"FAIL - {msg}")


def check(cond, msg, why=""):
    if cond:
        ok(msg)
    else:
        fail(f"{msg}: {why}" if why else msg)
    return cond


def convert_file_size_to_int(size):
    """transformers.utils.hub.convert_file_size_to_int (v4.3x)."""
    if size.upper().endswith("GIB"):
        return int(size[:-3]) * (2**30)
    if size.upper().endswith("MIB"):
        return int(size[:-3]) * (2**20)
    if size.upper().endswith("KIB"):
        return int(size[:-3]) * (2**10)
    if size.upper().endswith("GB"):
        int_size = int(size[:-2]) * (10**9)
        return int_size // 8 if size.endswith("b") else int_size
    if size.upper().endswith("MB"):
        int_size = int(size[:-2]) * (10**6)
        return int_size // 8 if size.endswith("b") else int_size
    if size.upper().endswith("KB"):
        int_size = int(size[:-2]) * (10**3)
        return int_size // 8 if size.endswith("b") else int_size
    return int(size)


def read_safetensors(path):
    """(header length, ordered header items, metadata, data memmap)."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        raw = f.read(n)
    hdr = json.loads(raw.decode("utf-8"), object_pairs_hook=lambda kv: kv)
    meta = collections.OrderedDict()
    tensors = []
    for k, v in hdr:
        if k == "__metadata__":
            meta = collections.OrderedDict(v)
        else:
            d = dict(v)
            tensors.append((k, d["dtype"], list(d["shape"]), list(d["data_offsets"])))
    size = os.path.getsize(path) - 8 - n
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n, shape=(size,)) if size else np.zeros(0, np.uint8)
    return n, raw, tensors, meta, data


def as_bytes(t):
    """A torch tensor's data as a flat uint8 numpy view."""
    t = t.reshape(-1)
    if t.numel() == 0:
        return np.zeros(0, np.uint8)
    return t.view(torch.uint8).numpy()


def expected_bytes(data, dt, shape, off, out_dt):
    """The bytes pt-pack should write for an input tensor."""
    raw = data[off[0]:off[1]]
    if out_dt == dt:
        return raw
    if dt == "BF16":
        src = torch.from_numpy(np.array(raw).view(np.int16).reshape(shape)).view(torch.bfloat16)
    else:
        src = torch.from_numpy(np.array(raw).view(NP[dt]).reshape(shape))
    want = src.to(TORCH[out_dt])
    if dt == "F64" and out_dt == "BF16":
        # torch's F64->BF16 writes 0x7FC0 for NaN in its scalar tails and
        # 0xFFFF in its vector body; pt-pack always writes 0xFFFF (cast.h)
        want = want.view(torch.int16).clone()
        want[torch.isnan(src)] = -1
    return as_bytes(want)


def equal_bytes(a, b):
    if len(a) != len(b):
        return False
    step = 1 << 28
    return all(np.array_equal(a[i:i + step], b[i:i + step]) for i in range(0, len(a), step))


def contiguous_stride(shape):
    return torch.empty(shape, dtype=torch.uint8, device="meta").stride()


def same_file(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 26), fb.read(1 << 26)
            if x != y:
                return False
            if not x:
                return True


def replay_with_torch_writer(path, tmpdir):
    """Rewrite path's records with torch's own zip writer; True if identical.
    Record data is handed over as pointers into a memory map (no copies)."""
    z = zipfile.ZipFile(path)
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    ref = os.path.join(tmpdir, os.path.basename(path))
    w = torch._C.PyTorchFileWriter(ref)
    for info in z.infolist():
        name = info.filename.split("/", 1)[1]
        if name == "version":  # write_end_of_file writes it
            continue
        h = info.header_offset
        at = h + 30 + int.from_bytes(mm[h + 26:h + 28], "little") + int.from_bytes(mm[h + 28:h + 30], "little")
        if info.file_size:
            w.write_record(name, mm[at:at + info.file_size].ctypes.data, info.file_size)
        else:
            w.write_record(name, b"", 0)
    w.write_end_of_file()
    del w, mm
    same = same_file(path, ref)
    os.unlink(ref)
    return same


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("stream")
    ap.add_argument("out")
    ap.add_argument("--format", default=None)
    ap.add_argument("--dtype", default=None)
    ap.add_argument("--max-shard-size", default=None)
    ap.add_argument("--version", required=True, help="pt-pack's version (ckptconv.version)")
    a = ap.parse_args()

    _, _, tensors, meta, data = read_safetensors(a.stream)
    names = [t[0] for t in tensors]
    index_of = {n: i for i, n in enumerate(names)}
    out_dt = [CAST[a.dtype] if a.dtype and t[1] in FLOATS else t[1] for t in tensors]
    nbytes = [int(np.prod(t[2], dtype=np.int64)) * SIZE[d] for t, d in zip(tensors, out_dt)]
    aliases = [(k[len("ckptconv.alias."):], v) for k, v in meta.items() if k.startswith("ckptconv.alias.")]
    amap = dict(aliases)

    def resolve(v):
        while v not in index_of:
            v = amap[v]
        return index_of[v]

    alias_target = [resolve(v) for _, v in aliases]

    # what transformers' shard_checkpoint would do
    shard_of = []
    if a.max_shard_size is None:
        shard_of = [0] * len(tensors)
    else:
        limit = convert_file_size_to_int(a.max_shard_size)
        cur, used, first = 0, 0, True
        for nb in nbytes:
            if not first and used + nb > limit:
                cur, used = cur + 1, 0
            shard_of.append(cur)
            used += nb
            first = False
    nshards = max(shard_of) + 1 if shard_of else 1
    total = sum(nbytes)

    fmt = a.format
    is_dir = a.out.endswith("/") or os.path.isdir(a.out)
    if fmt is None:
        fmt = "safetensors" if is_dir else ("safetensors" if a.out.endswith(".safetensors") else "pt")
    bases = {}
    for f, default in (("pt", "pytorch_model.bin"), ("safetensors", "model.safetensors")):
        if fmt in (f, "both"):
            bases[f] = os.path.join(a.out, default) if is_dir else a.out

    def shard_path(base, k):
        if nshards == 1:
            return base
        stem, ext = os.path.splitext(base)
        return f"{stem}-{k + 1:05d}-of-{nshards:05d}{ext}"

    expected_files = []
    for f, base in bases.items():
        expected_files += [shard_path(base, k) for k in range(nshards)]
        if nshards > 1:
            expected_files.append(base + ".index.json")
    if is_dir:
        present = sorted(os.listdir(a.out))
        check(present == sorted(os.path.basename(p) for p in expected_files),
              f"{a.out} holds exactly the expected files", f"{present}")
    for p in expected_files:
        if not os.path.exists(p):
            fail(f"{p} exists")
            return

    # ---- PyTorch files
    if "pt" in bases:
        for k in range(nshards):
            path = shard_path(bases["pt"], k)
            sd = torch.load(path, weights_only=True)
            want_keys = [n for i, n in enumerate(names) if shard_of[i] == k] + \
                        [n for (n, _), t in zip(aliases, alias_target) if shard_of[t] == k]
            check(type(sd) is collections.OrderedDict and list(sd.keys()) == want_keys,
                  f"{path}: OrderedDict with the input names in order",
                  f"{list(sd.keys())[:5]} vs {want_keys[:5]}")
            bad = []
            for i, (n, dt, shape, off) in enumerate(tensors):
                if shard_of[i] != k:
                    continue
                t = sd.get(n)
                if t is None or t.dtype != TORCH[out_dt[i]] or list(t.shape) != shape or \
                        t.stride() != contiguous_stride(shape) or t.storage_offset() != 0 or \
                        not equal_bytes(as_bytes(t), expected_bytes(data, dt, shape, off, out_dt[i])):
                    bad.append(n)
            check(not bad, f"{path}: every tensor's dtype, shape, strides and bytes", f"{bad[:5]}")
            shared = all(sd[n].storage().data_ptr() == sd[names[t]].storage().data_ptr() and
                         sd[n].dtype == sd[names[t]].dtype and sd[n].shape == sd[names[t]].shape
                         for (n, _), t in zip(aliases, alias_target) if shard_of[t] == k)
            check(shared, f"{path}: aliases share their target's storage")
            z = zipfile.ZipFile(path)
            nstor = sum(1 for i in range(len(tensors)) if shard_of[i] == k)
            recs = [x.split("/", 1)[1] for x in z.namelist()]
            arch = os.path.splitext(os.path.basename(path))[0]
            check(recs[:2] == ["data.pkl", "byteorder"] and recs[-1] == "version" and
                  sorted(recs[2:-1]) == sorted(f"data/{j}" for j in range(nstor)) and
                  all(x.split("/", 1)[0] == arch for x in z.namelist()) and
                  z.read(f"{arch}/byteorder") == b"little" and z.read(f"{arch}/version") == b"3\n",
                  f"{path}: records data.pkl, byteorder, one per storage, version under {arch}/", f"{recs[:6]}")
            check(z.testzip() is None, f"{path}: every record's CRC-32")
            tmpdir = os.path.dirname(os.path.abspath(a.stream))
            saved = os.path.join(tmpdir, "torch_save.bin")
            torch.save(sd, saved)
            del sd
            check(z.read(f"{arch}/data.pkl") == zipfile.ZipFile(saved).read("torch_save/data.pkl"),
                  f"{path}: data.pkl is byte-identical to torch.save's")
            os.unlink(saved)
            check(replay_with_torch_writer(path, tmpdir),
                  f"{path}: byte-identical to torch's zip writer given the same records")

    # ---- safetensors files
    if "safetensors" in bases:
        # the order the stream delivers data: by offset, empty tensors first
        order = sorted(range(len(tensors)), key=lambda i: (tensors[i][3][0], tensors[i][3][1], i))
        for k in range(nshards):
            path = shard_path(bases["safetensors"], k)
            n, raw, got, gmeta, gdata = read_safetensors(path)
            body = raw.rstrip(b" ")
            check(n % 8 == 0 and body.endswith(b"}") and n - len(body) < 8,
                  f"{path}: header padded to 8 bytes with spaces")
            want_meta = [("format", "pt")]
            for key, v in meta.items():
                if not key.startswith("ckptconv."):
                    continue
                if key.startswith("ckptconv.alias.") and shard_of[resolve(v)] != k:
                    continue
                if key == "ckptconv.version":
                    v = a.version
                want_meta.append((key, v))
            if "ckptconv.version" not in meta:
                want_meta.append(("ckptconv.version", a.version))
            check(list(gmeta.items()) == want_meta, f"{path}: __metadata__ is format pt + ckptconv.*",
                  f"{list(gmeta.items())} vs {want_meta}")
            want = [i for i in order if shard_of[i] == k]
            check([g[0] for g in got] == [names[i] for i in want],
                  f"{path}: each tensor once, in the input's data order (aliases left out)")
            pos, bad = 0, []
            for (gn, gdt, gshape, goff), i in zip(got, want):
                _, dt, shape, off = tensors[i]
                if gdt != out_dt[i] or gshape != shape or goff[0] != pos or goff[1] - goff[0] != nbytes[i] or \
                        not equal_bytes(gdata[goff[0]:goff[1]], expected_bytes(data, dt, shape, off, out_dt[i])):
                    bad.append(gn)
                pos = goff[1]
            check(not bad and pos == len(gdata), f"{path}: dtypes, shapes, offsets and bytes", f"{bad[:5]}")

    # ---- index files
    for f, base in bases.items():
        if nshards == 1:
            continue
        wm = {n: os.path.basename(shard_path(base, shard_of[i])) for i, n in enumerate(names)}
        if f == "pt":
            wm.update({n: os.path.basename(shard_path(base, shard_of[t])) for (n, _), t in zip(aliases, alias_target)})
        want = json.dumps({"metadata": {"total_size": total}, "weight_map": wm}, indent=2, sort_keys=True) + "\n"
        with open(base + ".index.json", "rb") as fh:
            got = fh.read()
        check(got == want.encode(), f"{base}.index.json is what transformers writes",
              f"{got[:200]!r} vs {want[:200]!r}")


if __name__ == "__main__":
    main()
    sys.exit(1 if failures else 0)
