"""Test helper for the non-TensorFlow readers (npy, PyTorch, OpenAI GPT folder,
safetensors files). Run with Debian's /usr/bin/python3 (torch 1.13, numpy).

  gen-npy DIR        .npy variants: every numeric dtype, both byte orders,
                     C and Fortran order, format versions 1-3, 0-d and empty
  gen-torch DIR      torch.save files (zip and legacy, pickle protocols 2 and 4)
                     with views, strides, shared storages, nested containers
  gen-hostile DIR    hostile and corrupt inputs (one per file; see HOSTILE)
  check FILE STREAM [VALUES]
                     compare a safetensors stream written by ckpt-extract (and
                     optionally the JSON of ckpt-ls --values) with what numpy /
                     torch / a plain safetensors parse read from FILE
                     (a directory is an OpenAI GPT folder: compared with
                     numpy's concatenate-and-cut)
  check-pairs        the same for "FILE STREAM" lines on standard input

The naming and JSON rules checked here are those documented in
src/torchload.h and src/openai_gpt.h, re-implemented independently.
"""
import collections
import io
import json
import math
import os
import pickle
import struct
import sys
import zipfile

import numpy as np

ST_DTYPES = {
    "BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "I16": np.int16, "U16": np.uint16,
    "F16": np.float16, "I32": np.int32, "U32": np.uint32, "F32": np.float32,
    "F64": np.float64, "I64": np.int64, "U64": np.uint64,
}


def read_stream(path):
    """The tensors in data order, then each tied name (metadata
    ckptconv.alias.NAME = TARGET) as (NAME, dtype, shape, bytes, TARGET)."""
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n], object_pairs_hook=collections.OrderedDict)
    meta = h.pop("__metadata__", None) or {}
    data = b[8 + n:]
    items = sorted(h.items(), key=lambda kv: kv[1]["data_offsets"][0])
    out = [(k, v["dtype"], list(v["shape"]), data[v["data_offsets"][0]:v["data_offsets"][1]])
           for k, v in items]
    by_name = {t[0]: t for t in out}
    for k, target in meta.items():
        if k.startswith("ckptconv.alias."):
            t = by_name[target]
            out.append((k[len("ckptconv.alias."):], t[1], t[2], t[3], target))
    return out


def fail(msg):
    print("FAIL - " + msg)
    return 1


def compare(label, want, got):
    """want/got: lists of (name, dtype, shape, bytes) in order; a tied name
    in got (5th item: its target) must equal want's tensor of that name,
    wherever it is listed."""
    bad = 0
    tied = {g[0]: g for g in got if len(g) > 4}
    for w in want:
        if w[0] in tied and tuple(w[1:4]) != tuple([tied[w[0]][1], tied[w[0]][2], tied[w[0]][3]]):
            bad += fail("%s: tied %s (= %s) differs from the expected tensor" % (label, w[0], tied[w[0]][4]))
    want = [w for w in want if w[0] not in tied]
    got = [g for g in got if len(g) <= 4]
    wn = [w[0] for w in want]
    gn = [g[0] for g in got]
    if wn != gn:
        missing = [n for n in wn if n not in gn][:5]
        extra = [n for n in gn if n not in wn][:5]
        return fail("%s: names/order differ (missing %s, extra %s)" % (label, missing, extra))
    for w, g in zip(want, got):
        if w[1] != g[1] or list(w[2]) != list(g[2]):
            bad += fail("%s: tensor %s: %s%s, expected %s%s" % (label, w[0], g[1], g[2], w[1], w[2]))
        elif w[3] != g[3]:
            bad += fail("%s: tensor %s: bytes differ" % (label, w[0]))
    if not bad:
        print("ok - %s: %d tensors identical" % (label, len(want)))
    return bad


# ---- numpy ----

def np_st_dtype(dt):
    for k, v in ST_DTYPES.items():
        if np.dtype(v) == dt.newbyteorder("="):
            return k
    return None


def np_entry(name, a):
    a = np.array(a, order="C", copy=True)  # (ascontiguousarray would make 0-d arrays 1-d)
    le = a.astype(a.dtype.newbyteorder("<"))
    return (name, np_st_dtype(a.dtype), list(a.shape), le.tobytes())


def gen_npy(d):
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(7)
    kinds = ["b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8"]
    for k in kinds:
        for order in "<>":
            dt = np.dtype(order + k) if k not in ("b1", "i1", "u1") else np.dtype("|" + k)
            if k in ("b1", "i1", "u1") and order == ">":
                continue
            base = (rng.standard_normal((3, 4, 5)) * 100)
            a = (base > 0) if k == "b1" else base.astype(np.dtype(k))
            a = a.astype(dt)
            for fort in (False, True):
                arr = np.asfortranarray(a) if fort else np.ascontiguousarray(a)
                for ver in ((1, 0), (2, 0), (3, 0)):
                    name = "%s%s_%s_v%d.npy" % ("be_" if order == ">" else "", k,
                                               "F" if fort else "C", ver[0])
                    with open(os.path.join(d, name), "wb") as f:
                        np.lib.format.write_array(f, arr, version=ver)
    np.save(os.path.join(d, "scalar_f4.npy"), np.array(3.5, dtype="<f4"))
    np.save(os.path.join(d, "empty_f4.npy"), np.zeros((0, 3), dtype="<f4"))
    np.save(os.path.join(d, "fortran_2d_be.npy"), np.asfortranarray(np.arange(12, dtype=">f8").reshape(3, 4)))


def check_npy(path, stream):
    a = np.load(path, allow_pickle=False)
    name = os.path.basename(path)[:-4]
    return compare(os.path.basename(path), [np_entry(name, a)], read_stream(stream))


# ---- PyTorch ----

TORCH_ST = {}


def torch_names():
    import torch
    TORCH_ST.update({torch.float32: "F32", torch.float64: "F64", torch.float16: "F16",
                     torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32",
                     torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL"})


def tensor_bytes(t):
    import torch
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def key_text(k):
    if isinstance(k, bool):
        return "true" if k else "false"
    if k is None:
        return "null"
    if isinstance(k, int):
        return str(k)
    if isinstance(k, float):
        return repr(k)
    return k


def join(path, part):
    return part if path == "" else path + "/" + part


def numeric_np(o):
    return isinstance(o, np.ndarray) and np_st_dtype(o.dtype) is not None


def walk(o, path, tensors):
    """The expected names (tensors) and the expected JSON of o."""
    import torch
    if isinstance(o, torch.Tensor):
        name = path or "tensor"
        tensors.append((name, TORCH_ST[o.dtype], list(o.shape), tensor_bytes(o)))
        return {"__tensor__": name, "dtype": TORCH_ST[o.dtype], "shape": list(o.shape)}
    if numeric_np(o):
        name = path or "tensor"
        e = np_entry(name, o)
        tensors.append(e)
        return {"__tensor__": name, "dtype": e[1], "shape": e[2]}
    if isinstance(o, dict):
        return collections.OrderedDict((key_text(k), walk(v, join(path, key_text(k)), tensors))
                                       for k, v in o.items())
    if isinstance(o, (list, tuple, set, frozenset)):
        return [walk(v, join(path, str(i)), tensors) for i, v in enumerate(o)]
    if isinstance(o, float) and not math.isfinite(o):
        return {"__float__": "nan" if o != o else ("inf" if o > 0 else "-inf")}
    if isinstance(o, bool) or o is None or isinstance(o, (str, float)):
        return o
    if isinstance(o, int):
        if -2**63 <= o < 2**63:
            return o
        return {"__int__": ("-0x%x" % -o) if o < 0 else ("0x%x" % o)}
    if isinstance(o, bytes):
        return {"__bytes__": o.hex()}
    if hasattr(o, "__dict__"):  # an object stored with NEWOBJ + BUILD
        st = walk(o.__dict__, path, tensors)
        return {"__class__": type(o).__module__ + "." + type(o).__qualname__, "__args__": [],
                "__state__": st}
    raise TypeError("no expectation for %r" % type(o))


def load_torch(path):
    import torch
    import __main__

    class ANN_Model(torch.nn.Module):  # the real whole-module fixture pickles __main__.ANN_Model
        pass
    __main__.ANN_Model = ANN_Model
    # Trusted fixtures only: weights_only=False lets torch rebuild every object.
    return torch.load(path, map_location="cpu", weights_only=False)


def same_json(a, b, where="(top)"):
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a.keys()) != list(b.keys()):
            return "%s: keys %s vs %s" % (where, list(a.keys())[:8], list(b.keys())[:8])
        for k in a:
            r = same_json(a[k], b[k], where + "/" + k)
            if r:
                return r
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return "%s: %d vs %d items" % (where, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            r = same_json(x, y, "%s/%d" % (where, i))
            if r:
                return r
        return None
    if type(a) != type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))
                                   and not isinstance(a, bool) and not isinstance(b, bool)):
        return "%s: %r vs %r" % (where, a, b)
    return None if a == b else "%s: %r vs %r" % (where, a, b)


def check_torch(path, stream, values):
    torch_names()
    obj = load_torch(path)
    tensors = []
    expect = walk(obj, "", tensors)
    bad = compare(os.path.basename(path), tensors, read_stream(stream))
    if values:
        got = json.load(open(values), object_pairs_hook=collections.OrderedDict)
        is_module = isinstance(got, dict) and "__class__" in got
        if is_module:  # torch's Module.__setstate__ adds attributes: compare tensors only
            print("ok - %s: values of a whole module not compared field by field" % os.path.basename(path))
        else:
            r = same_json(expect, got)
            bad += fail("%s: values JSON: %s" % (os.path.basename(path), r)) if r else 0
            if not r:
                print("ok - %s: values JSON matches" % os.path.basename(path))
    return bad


def gen_torch(d):
    import torch
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(3)
    base = torch.randn(6, 8)
    shared = torch.randn(10)
    obj = collections.OrderedDict()
    obj["model"] = collections.OrderedDict([
        ("w", base),
        ("w_t", base.t()),                       # transposed view, non-contiguous
        ("rows", base[2:5]),                      # offset view
        ("cols", base[:, 1:7:2]),                 # strided slice
        ("tied_a", shared),
        ("tied_b", shared),                       # the same tensor object twice
        ("half_view", shared[5:]),                # a second view of the same storage
        ("expanded", torch.arange(4.0).expand(3, 4)),  # stride 0
        ("pos_ids", torch.arange(7).expand((1, -1))),
        ("scalar", torch.tensor(2.5)),
        ("empty", torch.zeros(0, 5)),
        ("f16", torch.randn(3, 2).half()),
        ("bf16", torch.randn(4).bfloat16()),
        ("f64", torch.randn(2, 2).double()),
        ("i8", torch.tensor([-3, 4], dtype=torch.int8)),
        ("u8", torch.tensor([250, 1], dtype=torch.uint8)),
        ("i16", torch.tensor([-300, 7], dtype=torch.int16)),
        ("i32", torch.tensor([1 << 20, -5], dtype=torch.int32)),
        ("i64", torch.tensor([1 << 40, -5], dtype=torch.int64)),
        ("bool", torch.tensor([True, False, True])),
        ("param", torch.nn.Parameter(torch.randn(2, 3))),
        ("perm", torch.randn(2, 3, 4).permute(2, 0, 1)),
    ])
    obj["params"] = {
        "emb_dim": 32, "dropout": 0.1, "name": "tiny \u00e9\u4e2d", "flag": True, "none": None,
        "ids": {0: "en", 1: "fr"}, "steps": [("en", None), ("fr", None)],
        "big": 2**70, "neg_big": -(2**65), "nan": float("nan"), "inf": float("-inf"),
        "raw": b"\x00\x01\xff", "size": torch.Size([3, 4]), "pi": math.pi,
        "pred_probs": torch.tensor([0.8, 0.1, 0.1]),
        "np_f8": np.linspace(0, 1, 5), "np_be": np.arange(6, dtype=">i4").reshape(2, 3),
        "np_fortran": np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)),
        True: 1, 2.5: "float key",
    }
    obj["list"] = [torch.ones(2), [torch.zeros(1), {"deep": torch.full((2,), 7.0)}]]
    torch.save(obj, os.path.join(d, "zip_p2.pt"))
    torch.save(obj, os.path.join(d, "legacy_p2.pt"), _use_new_zipfile_serialization=False)
    torch.save(obj, os.path.join(d, "zip_p4.pt"), pickle_protocol=4)
    torch.save(obj, os.path.join(d, "legacy_p4.pt"), _use_new_zipfile_serialization=False,
               pickle_protocol=4)
    torch.save(torch.arange(10).view(2, 5).t(), os.path.join(d, "bare_tensor.pt"))
    sd = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4)).state_dict()
    torch.save(sd, os.path.join(d, "state_dict.bin"))


# ---- OpenAI GPT folder ----

def check_gpt(d, stream):
    shapes = json.load(open(os.path.join(d, "params_shapes.json")))
    names = json.load(open(os.path.join(d, "parameters_names.json")))
    n = 0
    while os.path.exists(os.path.join(d, "params_%d.npy" % n)):
        n += 1
    flat = np.concatenate([np.load(os.path.join(d, "params_%d.npy" % k)) for k in range(n)], 0)
    offsets = np.cumsum([int(np.prod(s)) for s in shapes])
    pieces = [p.reshape(s) for p, s in zip(np.split(flat, offsets)[:-1], shapes)]
    want = []
    for k, p in enumerate(pieces):
        if k < 2:
            name = ["wpe", "wte"][k]
        elif k - 1 < len(names):
            name = names[k - 1]
            name = name[6:] if name.startswith("model/") else name
            name = name[:-2] if name.endswith(":0") else name
        else:
            name = "piece_%d" % k
        want.append(np_entry(name, p))
    return compare(os.path.basename(os.path.abspath(d)), want, read_stream(stream))


# ---- safetensors files ----

def check_st(path, stream):
    want = read_stream(path)  # a file is a stream: same parse
    return compare(os.path.basename(path), want, read_stream(stream))


def check(path, stream, values=None):
    if os.path.isdir(path):
        return check_gpt(path, stream)
    head = open(path, "rb").read(8)
    if head.startswith(b"\x93NUMPY"):
        return check_npy(path, stream)
    if head.startswith(b"PK") or head.startswith(b"\x80"):
        return check_torch(path, stream, values)
    return check_st(path, stream)


# ---- hostile inputs ----

MAGIC_PICKLES = (pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2) + pickle.dumps(1001, protocol=2)
                 + pickle.dumps({"protocol_version": 1001, "little_endian": True,
                                 "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2))


def zip_torch(path, pkl, records=(), compress=False):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pkl)
        for name, data in records:  # a leading '/' means outside the top folder
            z.writestr(name[1:] if name.startswith("/") else "archive/" + name, data)
        z.writestr("archive/version", b"3\n")


def legacy_torch(path, pkl, keys=(), tail=b""):
    with open(path, "wb") as f:
        f.write(MAGIC_PICKLES + pkl + pickle.dumps(list(keys), protocol=2) + tail)


P2 = b"\x80\x02"


def u32(n):
    return struct.pack("<I", n)


def binunicode(s):
    b = s.encode()
    return b"X" + u32(len(b)) + b


def rebuild(key, numel, offset, size, stride, storage=b"FloatStorage"):
    """Pickle text for _rebuild_tensor_v2 of storage `key`."""
    def tup(v):
        return b"(" + b"".join(b"J" + struct.pack("<i", x) if x < 2**31 else
                               b"\x8a\x08" + struct.pack("<q", x) for x in v) + b"t"
    pid = b"(" + binunicode("storage") + b"ctorch\n" + storage + b"\n" + binunicode(key) + \
        binunicode("cpu") + b"\x8a\x08" + struct.pack("<q", numel) + b"tQ"
    return (b"ctorch._utils\n_rebuild_tensor_v2\n(" + pid + b"J" + struct.pack("<i", offset)
            + tup(size) + tup(stride) + b"\x89ccollections\nOrderedDict\n)RtR")


def rebuild_view(key, numel, view, offset, size, stride):
    """As rebuild, with legacy view metadata (view_key, offset, size) in the id."""
    t = rebuild(key, numel, offset, size, stride)
    meta = b"(" + binunicode(view[0]) + b"J" + struct.pack("<i", view[1]) + b"J" + struct.pack("<i", view[2]) + b"t"
    return t.replace(b"tQ", meta + b"tQ", 1)


def one_tensor_dict(t):
    return P2 + b"}" + binunicode("w") + t + b"s."


# name -> (description used by the test script, writer)
def gen_hostile(d):
    os.makedirs(d, exist_ok=True)
    w = {}
    w["os_system.pt"] = lambda p: zip_torch(p, P2 + b"cos\nsystem\n" + binunicode("touch /tmp/pwned") + b"\x85R.")
    w["posix_system_legacy.pt"] = lambda p: legacy_torch(p, P2 + b"cposix\nsystem\n" + binunicode("id") + b"\x85R.")
    w["builtins_eval.pt"] = lambda p: zip_torch(p, P2 + b"cbuiltins\neval\n" + binunicode("1+1") + b"\x85R.")
    w["stack_global_eval.pt"] = lambda p: zip_torch(p, b"\x80\x04" + b"\x8c\x08builtins\x8c\x04eval\x93"
                                                    + b"\x8c\x031+1\x85R.")
    w["main_call.pt"] = lambda p: zip_torch(p, P2 + b"c__main__\nX\n)R.")
    w["inst_os.pt"] = lambda p: zip_torch(p, b"(S'id'\nios\nsystem\n.")
    w["obj_call.pt"] = lambda p: zip_torch(p, P2 + b"(csubprocess\nPopen\n" + binunicode("id") + b"o.")
    w["ext_opcode.pt"] = lambda p: zip_torch(p, P2 + b"\x82\x01.")
    w["deep_marks.pt"] = lambda p: zip_torch(p, P2 + b"(" * 1000000 + b"N.")
    w["deep_lists.pt"] = lambda p: zip_torch(p, P2 + b"]" * 1000000 + b"a" * 999999 + b".")
    w["deep_dicts.pt"] = lambda p: zip_torch(p, P2 + b"}" + (binunicode("k") + b"}") * 200000 + b"s" * 200000 + b".")
    w["memo_get_unset.pt"] = lambda p: zip_torch(p, P2 + b"N\x94h\x05.")
    w["memo_get_huge.pt"] = lambda p: zip_torch(p, P2 + b"j\xff\xff\xff\xff.")
    w["memo_put_huge.pt"] = lambda p: zip_torch(p, P2 + b"Nr\xff\xff\xff\xffj\xfe\xff\xff\xff.")
    w["huge_binunicode.pt"] = lambda p: zip_torch(p, P2 + b"X\xff\xff\xff\x7fabc.")
    w["huge_binbytes8.pt"] = lambda p: zip_torch(p, b"\x80\x04\x8e" + struct.pack("<Q", 2**62) + b"abc.")
    w["huge_long4.pt"] = lambda p: zip_torch(p, P2 + b"\x8b\xff\xff\xff\x7f.")
    w["laughs.pt"] = lambda p: zip_torch(p, P2 + b"]q\x00" + b"0h\x00h\x00\x86q\x00" * 40 + b".")
    w["stack_underflow.pt"] = lambda p: zip_torch(p, P2 + b"R.")
    w["no_stop.pt"] = lambda p: zip_torch(p, P2 + b"N")
    w["build_on_int.pt"] = lambda p: zip_torch(p, P2 + b"K\x01}b.")
    w["storage_too_big_legacy.pt"] = lambda p: legacy_torch(
        p, one_tensor_dict(rebuild("0", 1 << 40, 0, [4], [1])), ["0"],
        struct.pack("<q", 1 << 40) + b"\0" * 16)
    w["storage_count_mismatch_legacy.pt"] = lambda p: legacy_torch(
        p, one_tensor_dict(rebuild("0", 4, 0, [4], [1])), ["0"], struct.pack("<q", 5) + b"\0" * 16)
    w["storage_too_big_zip.pt"] = lambda p: zip_torch(
        p, one_tensor_dict(rebuild("0", 1 << 40, 0, [4], [1])), [("data/0", b"\0" * 16)])
    w["storage_missing_zip.pt"] = lambda p: zip_torch(p, one_tensor_dict(rebuild("7", 4, 0, [4], [1])))
    w["stride_outside.pt"] = lambda p: zip_torch(
        p, one_tensor_dict(rebuild("0", 4, 0, [4, 4], [4, 1])), [("data/0", b"\0" * 16)])
    w["offset_outside.pt"] = lambda p: legacy_torch(
        p, one_tensor_dict(rebuild("0", 4, 3, [2], [1])), ["0"], struct.pack("<q", 4) + b"\0" * 16)
    w["shape_overflow.pt"] = lambda p: zip_torch(
        p, one_tensor_dict(rebuild("0", 4, 0, [2**40, 2**40], [0, 0])), [("data/0", b"\0" * 16)])
    w["expand_bomb.pt"] = lambda p: zip_torch(
        p, one_tensor_dict(rebuild("0", 1, 0, [2**20, 2**20], [0, 0])), [("data/0", b"\0" * 4)])
    w["bad_storage_class.pt"] = lambda p: zip_torch(
        p, one_tensor_dict(rebuild("0", 4, 0, [4], [1], b"ComplexFloatStorage")), [("data/0", b"\0" * 32)])
    w["legacy_bad_magic.pt"] = lambda p: open(p, "wb").write(
        pickle.dumps(0x1950a86a20f9469cfc6d, protocol=2) + MAGIC_PICKLES[len(pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2)):])
    w["legacy_trailing.pt"] = lambda p: legacy_torch(
        p, one_tensor_dict(rebuild("0", 4, 0, [4], [1])), ["0"], struct.pack("<q", 4) + b"\0" * 20)

    xlm = os.path.join(os.environ.get("CK_FIXTURES", ""), "golden/xlm/input/mlm_tiny_enfr.pth")

    def compressed(p):
        src = zipfile.ZipFile(xlm)
        with zipfile.ZipFile(p, "w", zipfile.ZIP_STORED) as z:
            for i in src.infolist():
                ct = zipfile.ZIP_DEFLATED if i.filename.endswith("data.pkl") else zipfile.ZIP_STORED
                z.writestr(i.filename, src.read(i.filename), compress_type=ct)
    w["compressed_record.pt"] = compressed
    w["outside_top_folder.pt"] = lambda p: zip_torch(p, P2 + b"N.", [("/other/x", b"")])
    blob = open(xlm, "rb").read() if os.path.exists(xlm) else b""
    for cut in (10, 100, 5000, 100000, len(blob) - 200, len(blob) - 30, len(blob) - 1):
        w["truncated_zip_%d.pt" % cut] = (lambda c: lambda p: open(p, "wb").write(blob[:c]))(cut)

    def npy(header, data=b"", ver=1, hlen=None):
        h = header.encode()
        if hlen is None:
            hlen = len(h)
        pre = b"\x93NUMPY" + bytes([ver, 0]) + (struct.pack("<H", hlen) if ver == 1 else struct.pack("<I", hlen))
        return pre + h + data
    w["npy_header_beyond.npy"] = lambda p: open(p, "wb").write(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", hlen=0xffff))
    w["npy_header_beyond_v2.npy"] = lambda p: open(p, "wb").write(npy("{}", ver=2, hlen=0xfffffff0))
    w["npy_shape_overflow.npy"] = lambda p: open(p, "wb").write(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }\n"))
    w["npy_truncated_data.npy"] = lambda p: open(p, "wb").write(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (10,), }\n", b"\0" * 12))
    w["npy_trailing_data.npy"] = lambda p: open(p, "wb").write(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", b"\0" * 12))
    w["npy_object.npy"] = lambda p: open(p, "wb").write(npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }\n", b"\0" * 8))
    w["npy_code.npy"] = lambda p: open(p, "wb").write(npy("{'descr': __import__('os').system('id'), 'fortran_order': False, 'shape': (1,), }\n", b"\0" * 4))
    w["npy_extra_key.npy"] = lambda p: open(p, "wb").write(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}\n", b"\0" * 4))
    w["npy_negative_dim.npy"] = lambda p: open(p, "wb").write(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n", b"\0" * 4))
    w["npy_bad_version.npy"] = lambda p: open(p, "wb").write(b"\x93NUMPY\x07\x00\x02\x00{}")
    w["npy_structured.npy"] = lambda p: open(p, "wb").write(npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n", b"\0" * 4))
    # not hostile: read fine, nothing is called
    w["ok_inert_object.pt"] = lambda p: zip_torch(p, P2 + b"c__main__\nNet\n)\x81}" + binunicode("lr") + b"G?\xb9\x99\x99\x99\x99\x99\x9asb.")
    # an old-torch storage view: tensor (offset 1, size 2) of view (offset 2,
    # size 4) of storage 0 = [0..7] -> [3.0, 4.0]
    w["ok_legacy_storage_view.pt"] = lambda p: legacy_torch(
        p, one_tensor_dict(rebuild_view("0", 8, ("1", 2, 4), 1, [2], [1])), ["0"],
        struct.pack("<q", 8) + struct.pack("<8f", *range(8)))
    w["ok_cycle.pt"] = lambda p: zip_torch(p, P2 + b"]q\x00h\x00a.")
    for name, writer in w.items():
        writer(os.path.join(d, name))


def main():
    cmd = sys.argv[1]
    if cmd == "gen-npy":
        gen_npy(sys.argv[2])
    elif cmd == "gen-torch":
        gen_torch(sys.argv[2])
    elif cmd == "gen-hostile":
        gen_hostile(sys.argv[2])
    elif cmd == "check":
        return 1 if check(*sys.argv[2:5]) else 0
    elif cmd == "check-pairs":
        return 1 if sum(check(*line.split()) for line in sys.stdin if line.strip()) else 0
    else:
        sys.exit("unknown command " + cmd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
