"""Turn a golden case's expected/model.safetensors (tied copies stored twice)
into a stream that declares the ties instead: every name of a tied group but
the first is dropped and given as metadata "ckptconv.alias.NAME": FIRST, the
convention tensor-remap uses. Checks that each dropped copy equals its first.

usage: tie_stream.py CASE_DIR OUT.safetensors"""
import json
import sys


def main():
    case, out = sys.argv[1], sys.argv[2]
    with open(f"{case}/case.json") as f:
        groups = json.load(f).get("tied_groups", [])
    with open(f"{case}/expected/model.safetensors", "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    hdr = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    meta = hdr.pop("__metadata__", {})
    tensors = sorted(hdr.items(), key=lambda kv: kv[1]["data_offsets"][0])
    body = {k: data[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in tensors}
    drop = {}
    for g in groups:
        present = [name for name in g if name in hdr]
        for name in present[1:]:
            if body[name] != body[present[0]] or hdr[name]["shape"] != hdr[present[0]]["shape"]:
                sys.exit(f"tie_stream: {case}: {name} differs from {present[0]}")
            drop[name] = present[0]
    meta = dict(meta, **{f"ckptconv.alias.{k}": v for k, v in drop.items()})
    out_hdr, blobs, pos = {"__metadata__": meta}, [], 0
    for k, v in tensors:
        if k in drop:
            continue
        out_hdr[k] = {"dtype": v["dtype"], "shape": v["shape"], "data_offsets": [pos, pos + len(body[k])]}
        blobs.append(body[k])
        pos += len(body[k])
    h = json.dumps(out_hdr, separators=(",", ":"), ensure_ascii=False).encode()
    h += b" " * (-len(h) % 8)
    with open(out, "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h + b"".join(blobs))
    print(f"ok - {case.rstrip('/').split('/')[-1]}: {len(drop)} tied copies made aliases")


if __name__ == "__main__":
    main()
