"""Corrupted and hostile inputs for tests/t_corrupt_*.sh, written from the
formats' definitions (docs/FORMATS.md), independently of the C code. Run with
Debian's /usr/bin/python3.

  tf DIR              crafted TF checkpoints DIR/CASE.index (+ .data-*):
                      entries whose sizes, shapes, shards, offsets, dtypes and
                      slices lie, with correct table checksums
  st DIR              crafted .safetensors files DIR/CASE.safetensors
  pt DIR ZIP          PyTorch zip checkpoints DIR/CASE.pth made from the real
                      archive ZIP: lying end and central records, duplicate
                      records, hostile pickles in place of its data.pkl
  flipfix FILE OFF    flip a bit of byte OFF of a table file and rewrite the
                      checksum of the block holding it (so the reader gets
                      past the CRC to the corrupt contents)
  blocks FILE         print "OFFSET SIZE" of every block of a table file
"""
import json
import os
import struct
import sys

# ---- CRC-32C and varints ----------------------------------------------------
_T = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    _T.append(c)


def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c = _T[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def mask(c):
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def varint(v):
    v &= (1 << 64) - 1  # negative int64 as protobuf writes it
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def get_varint(b, p):
    r = s = 0
    while True:
        x = b[p]
        p += 1
        r |= (x & 0x7F) << s
        s += 7
        if not x & 0x80:
            return r, p


# ---- LevelDB table -------------------------------------------------------------
MAGIC = 0xDB4775248B80FB57


def block(entries):
    out, restarts = bytearray(), []
    for k, v in entries:
        restarts.append(len(out))
        out += varint(0) + varint(len(k)) + varint(len(v)) + k + v
    if not restarts:
        restarts = [0]
    for r in restarts:
        out += struct.pack("<I", r)
    return bytes(out + struct.pack("<I", len(restarts)))


def table(entries):
    """entries in the order given (the caller decides whether they are sorted)."""
    f = bytearray()

    def put(b):
        off = len(f)
        f.extend(b + b"\0" + struct.pack("<I", mask(crc32c(b + b"\0"))))
        return off, len(b)

    data = put(block(entries))
    meta = put(block([]))
    last = entries[-1][0] if entries else b""
    index = put(block([(last, varint(data[0]) + varint(data[1]))]))
    footer = varint(meta[0]) + varint(meta[1]) + varint(index[0]) + varint(index[1])
    f += footer + b"\0" * (40 - len(footer)) + struct.pack("<Q", MAGIC)
    return bytes(f)


def table_blocks(f):
    """(offset, size) of the metaindex, index and every data block."""
    ft = f[-48:]
    p = 0
    h = []
    for _ in range(4):
        v, p = get_varint(ft, p)
        h.append(v)
    blocks = [(h[0], h[1]), (h[2], h[3])]
    ib = f[h[2]:h[2] + h[3]]
    nr = struct.unpack("<I", ib[-4:])[0]
    end = len(ib) - 4 - 4 * nr
    p = 0
    while p < end:
        shared, p = get_varint(ib, p)
        unshared, p = get_varint(ib, p)
        vlen, p = get_varint(ib, p)
        p += unshared
        off, q = get_varint(ib, p)
        size, q = get_varint(ib, q)
        blocks.append((off, size))
        p += vlen
    return sorted(blocks)


def flipfix(path, off):
    f = bytearray(open(path, "rb").read())
    blocks = table_blocks(bytes(f))
    f[off] ^= 0x10
    for b, n in blocks:
        if b <= off < b + n + 1:
            f[b + n + 1:b + n + 5] = struct.pack("<I", mask(crc32c(bytes(f[b:b + n + 1]))))
    open(path, "wb").write(f)


# ---- bundle entries (tensor_bundle.proto) ---------------------------------------
def field_varint(n, v):
    return varint(n << 3) + varint(v)


def field_bytes(n, b):
    return varint(n << 3 | 2) + varint(len(b)) + b


def header(num_shards=1, endian=0):
    return field_varint(1, num_shards) + (field_varint(2, endian) if endian else b"") + \
        field_bytes(3, field_varint(1, 1))


def shape(dims, unknown_rank=False):
    s = b"".join(field_bytes(2, field_varint(1, d)) for d in dims)
    return s + (field_varint(3, 1) if unknown_rank else b"")


def extent(start, length=None):
    e = field_varint(1, start) if start else b""
    return e + (field_varint(2, length) if length is not None else b"")


def entry(dtype=1, dims=(4,), shard=0, offset=0, size=16, crc=None, data=None, slices=(),
          raw_shape=None):
    e = field_varint(1, dtype) + field_bytes(2, raw_shape if raw_shape is not None else shape(dims))
    if shard:
        e += field_varint(3, shard)
    if offset:
        e += field_varint(4, offset)
    if size:
        e += field_varint(5, size)
    if crc is None and data is not None:
        crc = mask(crc32c(data[offset:offset + size]))
    e += varint(6 << 3 | 5) + struct.pack("<I", crc or 0)
    for sl in slices:
        e += field_bytes(7, b"".join(field_bytes(1, extent(*x)) for x in sl))
    return e


def slice_key(name, extents):
    """TF's key of a slice's data entry (EncodeTensorNameSlice): OrderedCode
    of 0, the name, the rank, then each extent's start and length."""
    def unsigned(v):
        b = v.to_bytes((v.bit_length() + 7) // 8, "big")
        return bytes([len(b)]) + b

    def signed(v):  # one byte for -64 <= v < 64
        assert -64 <= v < 64
        return bytes([(0x80 ^ v) & 0xFF])

    def string(s):
        out = bytearray()
        for c in s:
            out += {0: b"\x00\xff", 0xFF: b"\xff\x00"}.get(c, bytes([c]))
        return bytes(out) + b"\x00\x01"
    k = unsigned(0) + string(name.encode()) + unsigned(len(extents))
    for start, length in extents:
        k += signed(start) + signed(-1 if length is None else length)
    return k


def sliced(name, dims, slices, data, missing=()):
    """A partitioned variable: its full entry (no data, the slice extents)
    and one entry per slice, each slice's bytes at consecutive offsets."""
    ents = [(name, entry(dims=dims, size=0, crc=0, slices=slices))]
    off = 0
    for i, sl in enumerate(slices):
        n = 4
        for (start, length), d in zip(sl, dims):
            n *= d if length is None else max(length, 0)
        if i not in missing:
            sdims = [d if length is None else length for (start, length), d in zip(sl, dims)]
            ents.append((slice_key(name, sl), entry(dims=sdims, offset=off, size=n, data=data)))
        off += n
    return ents


def write_bundle(d, case, entries, data=b"\0" * 64, num_shards=1, endian=0, sort=True):
    ents = [(b"", header(num_shards, endian))] + [(k.encode() if isinstance(k, str) else k, v)
                                                  for k, v in entries]
    if sort:
        ents.sort()
    open(os.path.join(d, case + ".index"), "wb").write(table(ents))
    for s in range(max(1, min(num_shards, 2))):
        open(os.path.join(d, "%s.data-%05d-of-%05d" % (case, s, max(num_shards, 1))), "wb").write(data)


def gen_tf(d):
    os.makedirs(d, exist_ok=True)
    data = bytes(range(64))
    W = lambda case, ents, **kw: write_bundle(d, case, ents, **kw)
    W("ok", [("w", entry(data=data))], data=data)
    W("size_beyond_file", [("w", entry(dims=(1 << 20, 1 << 20), size=4 << 40, data=data))], data=data)
    W("offset_beyond_file", [("w", entry(offset=1 << 40, size=16, crc=1))], data=data)
    W("offset_overflow", [("w", entry(offset=(1 << 63) - 8, size=16, crc=1))], data=data)
    W("negative_offset", [("w", entry(offset=-16, size=16, crc=1))], data=data)
    W("negative_size", [("w", entry(size=-16, crc=1))], data=data)
    W("size_not_shape", [("w", entry(dims=(4,), size=12, data=data))], data=data)
    W("shape_overflow", [("w", entry(dims=(1 << 62, 1 << 62), size=16, data=data))], data=data)
    W("shape_overflow_bytes", [("w", entry(dims=(1 << 31, 1 << 31), size=16, data=data))], data=data)
    W("negative_dim", [("w", entry(dims=(-4,), size=16, data=data))], data=data)
    W("too_many_dims", [("w", entry(dims=(1,) * 40, size=4, data=data))], data=data)
    W("unknown_rank", [("w", entry(raw_shape=shape((), unknown_rank=True), size=4, data=data))], data=data)
    W("bad_shard", [("w", entry(shard=5, data=data))], data=data)
    W("negative_shard", [("w", entry(shard=-1, data=data))], data=data)
    W("shards_huge", [("w", entry(data=data))], data=data, num_shards=1 << 30)
    W("shards_negative", [("w", entry(data=data))], data=data, num_shards=-3)
    W("shards_zero", [("w", entry(data=data))], data=data, num_shards=0)
    W("big_endian", [("w", entry(data=data))], data=data, endian=1)
    W("entry_crc", [("w", entry(crc=12345))], data=data)
    W("unknown_dtype", [("w", entry(dtype=99, data=data))], data=data)
    W("truncated_entry", [("w", entry(data=data)[:5])], data=data)
    W("garbage_entry", [("w", b"\xff" * 12)], data=data)
    W("no_header", [], data=data)
    open(os.path.join(d, "no_header.index"), "wb").write(table([(b"w", entry(data=data))]))
    W("bad_header", [], data=data)
    open(os.path.join(d, "bad_header.index"), "wb").write(table([(b"", b"\x0a\xff\xff"), (b"w", entry(data=data))]))
    W("keys_out_of_order", [("b", entry(data=data)), ("a", entry(data=data))], data=data, sort=False)
    W("duplicate_names", [("w", entry(data=data)), ("w", entry(data=data))], data=data, sort=False)
    W("string_lengths_lie", [("s", entry(dtype=7, dims=(2,), size=10,
                                          data=varint(1 << 40) + varint(3) + b"\0\0\0\0abc"))],
      data=varint(1 << 40) + varint(3) + b"\0\0\0\0abc" + b"\0" * 40)
    # Partitioned variables: the full entry has no data, only slices.
    big = bytes(range(256))
    S = lambda case, dims, sl, **kw: W(case, sliced("p", dims, sl, big, **kw), data=big)
    S("slice_ok", (4, 2), [[(0, 2), (0, None)], [(2, 2), (0, None)]])
    S("slice_outside_shape", (4, 2), [[(0, 2), (0, None)], [(3, 5), (0, None)]])
    S("slice_overlap", (4, 2), [[(0, 3), (0, None)], [(2, 2), (0, None)]])
    S("slice_gap", (4, 2), [[(0, 1), (0, None)], [(2, 2), (0, None)]])
    S("slice_missing_entry", (4, 2), [[(0, 2), (0, None)], [(2, 2), (0, None)]], missing=(1,))
    S("slice_wrong_rank", (4, 2), [[(0, 4)]])
    S("slice_negative", (4, 2), [[(-2, 4), (0, None)]])
    S("slice_huge_shape", (1 << 40, 1 << 20), [[(0, None), (0, None)]])


# ---- safetensors ------------------------------------------------------------------
def st(hdr, data=b"", raw=None, hlen=None):
    h = raw if raw is not None else json.dumps(hdr).encode()
    return struct.pack("<Q", len(h) if hlen is None else hlen) + h + data


def gen_st(d):
    os.makedirs(d, exist_ok=True)
    T = lambda dt, shp, a, b: {"dtype": dt, "shape": shp, "data_offsets": [a, b]}
    cases = {
        "header_len_huge": st(None, raw=b"{}", hlen=1 << 63),
        "header_len_beyond_file": st(None, raw=b"{}", hlen=50000000),
        "header_len_short": b"\x10\x00\x00",
        "header_not_json": st(None, raw=b"{\"a\": [1, 2"),
        "header_not_object": st(None, raw=b"[1, 2, 3]"),
        "header_nul": st(None, raw=b"{\"a\x00b\": 1}"),
        "overlap": st({"a": T("F32", [2], 0, 8), "b": T("F32", [2], 4, 12)}, b"\0" * 12),
        "gap": st({"a": T("F32", [2], 0, 8), "b": T("F32", [2], 12, 20)}, b"\0" * 20),
        "offsets_beyond_data": st({"a": T("F32", [2], 0, 8)}, b"\0" * 4),
        "offsets_reversed": st({"a": T("F32", [0], 8, 0)}, b"\0" * 8),
        "offsets_huge": st({"a": T("F32", [2], (1 << 64) - 4, 4)}, b"\0" * 8),
        "size_not_shape": st({"a": T("F32", [3], 0, 8)}, b"\0" * 8),
        "shape_overflow": st({"a": T("F32", [1 << 62, 1 << 62], 0, 8)}, b"\0" * 8),
        "shape_overflow_bytes": st({"a": T("F64", [1 << 31, 1 << 31], 0, 8)}, b"\0" * 8),
        "shape_negative": st({"a": T("F32", [-2], 0, 8)}, b"\0" * 8),
        "shape_float": st({"a": T("F32", [2.0], 0, 8)}, b"\0" * 8),
        "shape_too_many_dims": st({"a": T("F32", [1] * 40, 0, 4)}, b"\0" * 4),
        "dtype_unknown": st({"a": T("F33", [2], 0, 8)}, b"\0" * 8),
        "duplicate_names": st(None, raw=b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, '
                                  b'"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}', data=b"\0" * 8),
        "missing_field": st({"a": {"dtype": "F32", "shape": [2]}}, b"\0" * 8),
        "extra_field": st({"a": dict(T("F32", [2], 0, 8), extra=1)}, b"\0" * 8),
        "metadata_not_string": st({"__metadata__": {"a": 1}, "w": T("F32", [1], 0, 4)}, b"\0" * 4),
        "trailing_bytes": st({"a": T("F32", [2], 0, 8)}, b"\0" * 12),
        "truncated_data": st({"a": T("F32", [1 << 20], 0, 4 << 20)}, b"\0" * 100),
        "deep_json": st(None, raw=b"[" * 100000 + b"]" * 100000),
        "alias_to_missing": st({"__metadata__": {"ckptconv.alias.b": "zz"}, "a": T("F32", [1], 0, 4)}, b"\0" * 4),
    }
    for name, b in cases.items():
        open(os.path.join(d, name + ".safetensors"), "wb").write(b)


# ---- PyTorch zip archives and pickles ----------------------------------------------
def eocd_at(b):
    return b.rindex(b"PK\x05\x06")


def patch(b, off, fmt, v):
    b = bytearray(b)
    struct.pack_into(fmt, b, off, v)
    return bytes(b)


def with_pickle(src, pkl, extra=()):
    """The golden archive with its data.pkl replaced (records stored)."""
    import io
    import zipfile
    z = zipfile.ZipFile(src)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as w:
        for i in z.infolist():
            w.writestr(i.filename, pkl if i.filename.endswith("/data.pkl") else z.read(i.filename))
        for name, data in extra:
            w.writestr(name, data)
    return out.getvalue()


def gen_pt(d, src):
    import warnings
    warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
    os.makedirs(d, exist_ok=True)
    b = open(src, "rb").read()
    e = eocd_at(b)
    z64 = b.rindex(b"PK\x06\x06")
    cd = struct.unpack_from("<I", b, e + 16)[0]
    top = b[cd + 46:cd + 46 + struct.unpack_from("<H", b, cd + 28)[0]].split(b"/")[0].decode()
    P2 = b"\x80\x02"
    cases = {
        # PyTorch writes a ZIP64 end record, whose fields count: lie in both.
        "eocd_count_huge": patch(patch(patch(b, e + 10, "<H", 0xFFFE), z64 + 24, "<Q", 1 << 40), z64 + 32, "<Q", 1 << 40),
        "cdir_size_huge": patch(patch(b, e + 12, "<I", 0xFFFFFFF0), z64 + 40, "<Q", 1 << 50),
        "cdir_offset_beyond": patch(patch(b, e + 16, "<I", len(b) + 100), z64 + 48, "<Q", len(b) + 100),
        "local_offset_beyond": patch(b, cd + 42, "<I", 0x7FFFFFFF),
        "name_len_huge": patch(b, cd + 28, "<H", 0xFFFF),
        "csize_huge": patch(b, cd + 20, "<I", 0xFFFFFFF0),
        "zip64_locator_lies": b[:e] + b"PK\x06\x07" + struct.pack("<IQI", 0, 1 << 60, 1) + b[e:],
        "duplicate_record": with_pickle(src, zipfile_read(src, top + "/data.pkl"),
                                        [(top + "/data.pkl", P2 + b"N.")]),
        "os_system_in_real_zip": with_pickle(src, P2 + b"cos\nsystem\nX\x02\x00\x00\x00id\x85R."),
        "eval_in_real_zip": with_pickle(src, b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93\x8c\x031+1\x85R."),
        "deep_tuples": with_pickle(src, P2 + b"N" + b"\x85" * 200000 + b"."),
        "deep_sets": with_pickle(src, b"\x80\x04" + b"\x8f(" * 5000 + b"\x90" * 5000 + b"."),
        "deep_newobj_state": with_pickle(src, P2 + (b"c__main__\nM\n)\x81") * 3000 + b"b" * 2999 + b"."),
        "dup_bomb": with_pickle(src, P2 + b"N" + b"2" * 9000000 + b"."),
        "memo_flood": with_pickle(src, P2 + b"N" + b"".join(b"r" + struct.pack("<I", i) for i in range(0, 2000000)) + b"."),
    }
    for name, data in cases.items():
        open(os.path.join(d, name + ".pth"), "wb").write(data)


def zipfile_read(path, name):
    import zipfile
    return zipfile.ZipFile(path).read(name)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "tf":
        gen_tf(sys.argv[2])
    elif cmd == "st":
        gen_st(sys.argv[2])
    elif cmd == "pt":
        gen_pt(sys.argv[2], sys.argv[3])
    elif cmd == "flipfix":
        flipfix(sys.argv[2], int(sys.argv[3]))
    elif cmd == "blocks":
        for off, n in table_blocks(open(sys.argv[2], "rb").read()):
            print(off, n)
    else:
        sys.exit("usage: corrupt.py tf|st DIR | flipfix FILE OFF | blocks FILE")
