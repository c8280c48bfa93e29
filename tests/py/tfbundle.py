"""An independent reader of TF V2 checkpoints, for tests only.

Written from docs/FORMATS.md without looking at the C code: its own LevelDB-table
parser (with a small snappy decoder), protobuf decoder, CRC-32C, ordered-code
*decoder* for slice keys, and numpy reassembly of partitioned variables.

  tfbundle.py list PREFIX            NAME<TAB>DTYPE<TAB>SHAPE per tensor
  tfbundle.py check PREFIX OUT       verify every tensor of PREFIX against its
                                     CRC and compare OUT (a ckpt-extract
                                     safetensors file) with the data files
"""
import json
import struct
import sys

import numpy as np

# ---- CRC-32C ----------------------------------------------------------------
_T = []
for _b in range(256):
    _c = _b
    for _ in range(8):
        _c = (_c >> 1) ^ (0x82F63B78 if _c & 1 else 0)
    _T.append(_c)


def crc32c(data, crc=0):
    c = crc ^ 0xFFFFFFFF
    t = _T
    for b in bytes(data):
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def mask(c):
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


# ---- varints, snappy ----------------------------------------------------------
def varint(buf, pos):
    r = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        r |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return r, pos


def unsnappy(buf):
    n, pos = varint(buf, 0)
    out = bytearray()
    while pos < len(buf):
        tag = buf[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:
            ln = tag >> 2
            if ln >= 60:
                nb = ln - 59
                ln = int.from_bytes(buf[pos:pos + nb], "little")
                pos += nb
            ln += 1
            out += buf[pos:pos + ln]
            pos += ln
            continue
        if kind == 1:
            ln = ((tag >> 2) & 7) + 4
            off = ((tag >> 5) << 8) | buf[pos]
            pos += 1
        elif kind == 2:
            ln = (tag >> 2) + 1
            off = int.from_bytes(buf[pos:pos + 2], "little")
            pos += 2
        else:
            ln = (tag >> 2) + 1
            off = int.from_bytes(buf[pos:pos + 4], "little")
            pos += 4
        for _ in range(ln):
            out.append(out[-off])
    assert len(out) == n, "snappy length"
    return bytes(out)


# ---- table --------------------------------------------------------------------
def read_block(f, off, size, stats):
    raw = f[off:off + size + 5]
    kind = raw[size]
    stored = struct.unpack("<I", raw[size + 1:size + 5])[0]
    assert mask(crc32c(raw[:size + 1])) == stored, "block crc"
    stats[kind] = stats.get(kind, 0) + 1
    data = raw[:size] if kind == 0 else unsnappy(raw[:size])
    nres = struct.unpack("<I", data[-4:])[0]
    end = len(data) - 4 - 4 * nres
    entries, pos, key = [], 0, b""
    while pos < end:
        shared, pos = varint(data, pos)
        unshared, pos = varint(data, pos)
        vlen, pos = varint(data, pos)
        key = key[:shared] + data[pos:pos + unshared]
        pos += unshared
        entries.append((key, data[pos:pos + vlen]))
        pos += vlen
    return entries


def read_table(path):
    f = open(path, "rb").read()
    foot = f[-48:]
    assert struct.unpack("<Q", foot[40:])[0] == 0xDB4775248B80FB57, "magic"
    _, p = varint(foot, 0)
    _, p = varint(foot, p)
    ioff, p = varint(foot, p)
    isize, p = varint(foot, p)
    stats = {}
    out = []
    for _, handle in read_block(f, ioff, isize, stats):
        off, q = varint(handle, 0)
        size, q = varint(handle, q)
        out += read_block(f, off, size, stats)
    return out


# ---- protobuf -------------------------------------------------------------------
def fields(buf):
    pos, out = 0, []
    while pos < len(buf):
        key, pos = varint(buf, pos)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, pos = varint(buf, pos)
        elif wt == 2:
            n, pos = varint(buf, pos)
            v = buf[pos:pos + n]
            pos += n
        elif wt == 5:
            v = struct.unpack("<I", buf[pos:pos + 4])[0]
            pos += 4
        elif wt == 1:
            v = struct.unpack("<Q", buf[pos:pos + 8])[0]
            pos += 8
        else:
            raise ValueError("wire type %d" % wt)
        out.append((num, v))
    return out


def s64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def parse_entry(buf):
    e = {"dtype": 0, "shape": [], "shard": 0, "offset": 0, "size": 0, "crc": 0, "slices": []}
    for num, v in fields(buf):
        if num == 1:
            e["dtype"] = v % 100 if v >= 100 else v
        elif num == 2:
            for n2, dim in fields(v):
                if n2 == 2:
                    e["shape"].append(dict(fields(dim)).get(1, 0))
        elif num == 3:
            e["shard"] = v
        elif num == 4:
            e["offset"] = v
        elif num == 5:
            e["size"] = v
        elif num == 6:
            e["crc"] = v
        elif num == 7:
            ext = []
            for n2, x in fields(v):
                if n2 == 1:
                    d = dict(fields(x))
                    ext.append((s64(d.get(1, 0)), s64(d[2]) if 2 in d else -1))
            e["slices"].append(ext)
    return e


# ---- ordered code (decoding) ------------------------------------------------------
def oc_num(buf, pos):
    n = buf[pos]
    return int.from_bytes(buf[pos + 1:pos + 1 + n], "big"), pos + 1 + n


def oc_string(buf, pos):
    out = bytearray()
    while True:
        b = buf[pos]
        if b == 0:
            if buf[pos + 1] == 1:
                return bytes(out), pos + 2
            assert buf[pos + 1] == 0xFF
            out.append(0)
            pos += 2
        elif b == 0xFF:
            assert buf[pos + 1] == 0
            out.append(0xFF)
            pos += 2
        else:
            out.append(b)
            pos += 1


def oc_signed(buf, pos):
    # the first bits: a sign bit, then (length - 1) copies of it, then its
    # complement; the rest of the bytes is the two's-complement value
    neg = not buf[pos] & 0x80
    bits = "".join(format(b ^ (0xFF if neg else 0), "08b") for b in buf[pos:pos + 10])
    ln = bits.index("0")  # number of leading ones = length
    raw = int.from_bytes(buf[pos:pos + ln], "big")
    nbits = 8 * ln - ln - 1
    val = raw & ((1 << nbits) - 1)
    if neg:
        val -= 1 << nbits
    return val, pos + ln


def decode_slice_key(key):
    zero, pos = oc_num(key, 0)
    assert zero == 0
    name, pos = oc_string(key, pos)
    ndim, pos = oc_num(key, pos)
    ext = []
    for _ in range(ndim):
        s, pos = oc_signed(key, pos)
        ln, pos = oc_signed(key, pos)
        ext.append((s, ln))
    assert pos == len(key)
    return name, ext


# ---- bundle ----------------------------------------------------------------------
DTYPES = {1: ("F32", "<f4"), 2: ("F64", "<f8"), 3: ("I32", "<i4"), 4: ("U8", "u1"),
          5: ("I16", "<i2"), 6: ("I8", "i1"), 7: ("STRING", None), 9: ("I64", "<i8"),
          10: ("BOOL", "u1"), 14: ("BF16", "<u2"), 17: ("U16", "<u2"), 19: ("F16", "<u2"),
          22: ("U32", "<u4"), 23: ("U64", "<u8")}
OTHER = {8: "DT_COMPLEX64", 11: "DT_QINT8", 12: "DT_QUINT8", 13: "DT_QINT32", 15: "DT_QINT16",
         16: "DT_QUINT16", 18: "DT_COMPLEX128", 20: "DT_RESOURCE", 21: "DT_VARIANT"}


def dtype_name(t):
    return DTYPES[t][0] if t in DTYPES else OTHER.get(t, "DT_UNKNOWN_%d" % t)


class Bundle:
    def __init__(self, prefix):
        self.prefix = prefix
        kv = read_table(prefix + ".index")
        assert kv[0][0] == b"", "header first"
        hdr = dict(fields(kv[0][1]))
        self.num_shards = hdr.get(1, 0)
        self.entries = []
        self.slice_data = {}
        for key, val in kv[1:]:
            e = parse_entry(val)
            if key[0] == 0:
                name, ext = decode_slice_key(key)
                self.slice_data[(name, tuple(ext))] = e
            else:
                e["name"] = key.decode()
                self.entries.append(e)

    def data(self, shard, off, size):
        path = "%s.data-%05d-of-%05d" % (self.prefix, shard, self.num_shards)
        with open(path, "rb") as f:
            f.seek(off)
            b = f.read(size)
        assert len(b) == size, "short data"
        return b

    def check_string(self, e, b):
        n = int(np.prod(e["shape"])) if e["shape"] else 1
        pos, c, lens = 0, 0, []
        for _ in range(n):
            ln, pos = varint(b, pos)
            lens.append(ln)
            c = crc32c(struct.pack("<I", ln), c)
        assert struct.unpack("<I", b[pos:pos + 4])[0] == mask(c), "length checksum"
        c = crc32c(b[pos:pos + 4], c)
        pos += 4
        assert len(b) - pos == sum(lens), "string bytes"
        c = crc32c(b[pos:], c)
        return mask(c) == e["crc"]

    def tensor_bytes(self, e):
        """The verified bytes of an entry (reassembled if partitioned)."""
        name, np_t = DTYPES.get(e["dtype"], ("other", None))
        if not e["slices"]:
            b = self.data(e["shard"], e["offset"], e["size"])
            if name == "STRING":
                assert self.check_string(e, b), "string crc of " + e["name"]
            else:
                assert mask(crc32c(b)) == e["crc"], "crc of " + e["name"]
            return b
        if name == "STRING":  # each slice is a string tensor of its own; nothing to reassemble
            for ext in e["slices"]:
                d = self.slice_data[(e["name"].encode(), tuple(ext))]
                assert self.check_string(d, self.data(d["shard"], d["offset"], d["size"])), \
                    "slice string crc of " + e["name"]
            return b""
        full = np.zeros(e["shape"], dtype=np_t)
        for ext in e["slices"]:
            d = self.slice_data[(e["name"].encode(), tuple(ext))]
            b = self.data(d["shard"], d["offset"], d["size"])
            assert mask(crc32c(b)) == d["crc"], "slice crc of " + e["name"]
            idx = tuple(slice(s, s + ln) if ln >= 0 else slice(None) for s, ln in ext)
            full[idx] = np.frombuffer(b, dtype=np_t).reshape(d["shape"])
        return full.tobytes()


def read_safetensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    hdr = json.loads(b[8:8 + n])
    meta = hdr.pop("__metadata__", {})
    data = b[8 + n:]
    return meta, hdr, data


def cmd_list(prefix):
    for e in Bundle(prefix).entries:
        print("%s\t%s\t%s" % (e["name"], dtype_name(e["dtype"]), ",".join(str(d) for d in e["shape"])))


def cmd_check(prefix, out):
    bd = Bundle(prefix)
    meta, hdr, data = read_safetensors(out)
    names = list(hdr)
    want = [e for e in bd.entries if dtype_name(e["dtype"]) not in OTHER.values()
            and dtype_name(e["dtype"]) != "STRING"]
    assert names == [e["name"] for e in want], "tensor order/selection differs"
    assert meta.get("format") == "pt", "metadata format"
    for e in bd.entries:
        b = bd.tensor_bytes(e)  # verifies every CRC, strings included
        if e not in want:
            continue
        h = hdr[e["name"]]
        assert h["dtype"] == DTYPES[e["dtype"]][0], "dtype of " + e["name"]
        assert h["shape"] == e["shape"], "shape of " + e["name"]
        s, t = h["data_offsets"]
        assert data[s:t] == b, "bytes of " + e["name"]
    print("ok %d tensors, %d compared" % (len(bd.entries), len(want)))


if __name__ == "__main__":
    if sys.argv[1] == "list":
        cmd_list(sys.argv[2])
    elif sys.argv[1] == "check":
        cmd_check(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: tfbundle.py list PREFIX | check PREFIX OUT")
