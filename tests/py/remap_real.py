"""remap_real.py MAPPED.tsv FAMILY CLASS CONFIG.json GOLDEN_DIR — check a dry run of the rules
over a real checkpoint index (tensor-remap --list output) against the parameters of the
Hugging Face class, which are derived from the golden case of that family:

* names: the golden expected key set (a tiny model) with its layers repeated for the real
  layer count of CONFIG;
* shapes: each size of a golden tensor is matched to the config values (times 1..4) that give
  it in the tiny config; the real size must be one of those values in CONFIG.

FAMILY is bert, albert or gpt2. CLASS picks the heads: golden (the golden case's class),
mlm (the golden bert_mlm_only case minus its unfilled keys: no pooler, no NSP head) or
classifier (BertForSequenceClassification: no cls.*, plus classifier.weight/bias [labels, H])."""
import json
import os
import re
import sys

import st

FAMILIES = {
    # golden case, config key(s) of the repeated blocks with the pattern of their index
    "bert": ("bert", [("num_hidden_layers", r"^bert\.encoder\.layer\.(\d+)\.")]),
    "albert": ("albert", [("num_hidden_groups", r"albert_layer_groups\.(\d+)\."),
                          ("inner_group_num", r"albert_layers\.(\d+)\.")]),
    "gpt2": ("gpt2", [("n_layer", r"^h\.(\d+)\.")]),
}


def load_mapped(path):
    out = {}
    with open(path) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            shape = tuple(int(x) for x in fields[2].split(",")) if fields[2] else ()
            out[fields[0]] = (fields[1], shape)
    return out


def expand(names, blocks, tiny, real):
    """Repeat each layer-0 name for every real layer; drop the other tiny layers."""
    for key, pattern in blocks:
        rx = re.compile(pattern)
        seen = {int(m.group(1)) for n in names for m in [rx.search(n)] if m}
        if seen and seen != set(range(tiny[key])):
            sys.exit("golden layers %s do not match %s=%d" % (sorted(seen), key, tiny[key]))
        new = {}
        for n, shape in names.items():
            m = rx.search(n)
            if not m:
                new[n] = shape
            elif m.group(1) == "0":
                for i in range(real[key]):
                    new[n[:m.start(1)] + str(i) + n[m.end(1):]] = shape
        names = new
    return names


def size_ok(tiny_size, real_size, tiny, real):
    options = {real[k] * m for k, v in tiny.items() if isinstance(v, int) and not isinstance(v, bool)
               for m in (1, 2, 3, 4) if v * m == tiny_size and k in real}
    return real_size in options if options else real_size == tiny_size


def main():
    mapped_path, family, cls, config_path, golden_dir = sys.argv[1:6]
    case, blocks = FAMILIES[family]
    if cls == "mlm":
        case = "bert_mlm_only"
    case_dir = os.path.join(golden_dir, case)
    with open(os.path.join(case_dir, "case.json")) as f:
        info = json.load(f)
    with open(config_path) as f:
        real = json.load(f)
    tiny = info["original_config"]
    _, exp, _ = st.read(os.path.join(case_dir, "expected", "model.safetensors"))
    names = {n: (t.dtype, t.shape) for n, t in exp.items() if n not in info["unfilled_keys"]}
    mapped = load_mapped(mapped_path)
    if cls == "classifier":
        names = {n: v for n, v in names.items() if not n.startswith("cls.")}
        labels = mapped.get("classifier.bias", ("F32", (0,)))[1][0]
        names["classifier.weight"] = ("F32", (labels, tiny["hidden_size"]))
        names["classifier.bias"] = ("F32", (labels,))
        tiny = dict(tiny, num_labels=labels)
        real = dict(real, num_labels=labels)
    want = expand(names, blocks, tiny, real)
    problems = []
    for n, (dt, shape) in sorted(want.items()):
        if n not in mapped:
            problems.append("missing %s" % n)
            continue
        gdt, gshape = mapped[n]
        if gdt != dt or len(gshape) != len(shape) or not all(
                size_ok(a, b, tiny, real) for a, b in zip(shape, gshape)):
            problems.append("%s is %s %s; the class wants %s of a tiny %s" % (n, gdt, list(gshape), dt, list(shape)))
    problems += ["%s is not a parameter of the class" % n for n in sorted(set(mapped) - set(want))]
    cls_name = {"mlm": "BertForMaskedLM", "classifier": "BertForSequenceClassification"}.get(
        cls, info["reference_class"])
    label = "real %s as %s" % (os.path.basename(os.path.dirname(config_path)), cls_name)
    for p in problems[:20]:
        print("FAIL - %s: %s" % (label, p))
    if not problems:
        print("ok - %s: all %d parameters of the class produced with the right shapes"
              % (label, len(want)))


main()
