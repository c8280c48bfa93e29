"""hf_load_check.py [FOLDER ORIG.npz MAPPING ARG TAG]... — transformers (5.x)
loads FOLDER with from_pretrained: no missing, unexpected or mismatched keys;
the same class built from FOLDER's config.json gets the original arrays by
hand (MAPPING: a Python file defining hand(orig, ARG) -> {hf_name: array},
written independently of the rule files): every parameter must equal the
loaded one bit for bit, and the outputs on the same inputs must be equal.
Prints ok/FAIL lines."""
import json
import runpy
import sys

import numpy as np
import torch
import transformers

torch.set_num_threads(1)  # one summation order for both models


def one(folder, npz, mapping, arg, tag):
    orig = dict(np.load(npz))
    hand = runpy.run_path(mapping)["hand"](orig, arg)
    cls_name = json.load(open(f"{folder}/config.json"))["architectures"][0]
    cls = getattr(transformers, cls_name)
    model, info = cls.from_pretrained(folder, output_loading_info=True)
    problems = {k: v for k, v in info.items() if v}
    if problems:
        print(f"FAIL - {tag}: from_pretrained({cls_name}) reports {problems}")
    else:
        print(f"ok - {tag}: {cls_name}.from_pretrained has no missing/unexpected/mismatched keys")
    byhand = cls(transformers.AutoConfig.from_pretrained(folder))
    sd = byhand.state_dict()
    # a bare model (BertModel) has its parameters without the prefix
    pre = byhand.base_model_prefix + "."
    hand = {k[len(pre):] if k not in sd and k.startswith(pre) else k: v for k, v in hand.items()}
    unset = [k for k in sd if k not in hand and not k.endswith("position_ids")
             and not any(sd[k].data_ptr() == sd[j].data_ptr() for j in hand if j in sd)]
    extra = [k for k in hand if k not in sd]
    if unset or extra:
        print(f"FAIL - {tag}: the hand mapping leaves {unset[:4]} unset, names {extra[:4]} the class lacks")
        return
    with torch.no_grad():
        for k, a in hand.items():
            if sd[k].shape != a.shape:
                print(f"FAIL - {tag}: {k}: by hand {a.shape}, the class {tuple(sd[k].shape)}")
                return
            sd[k].copy_(torch.from_numpy(np.ascontiguousarray(a)))
    loaded = model.state_dict()
    diff = [k for k in sd if not torch.equal(sd[k], loaded[k])]
    if diff:
        print(f"FAIL - {tag}: {len(diff)} parameters differ from the hand-loaded ones, e.g. {diff[:3]}")
    else:
        print(f"ok - {tag}: all {len(sd)} parameters equal the hand-loaded ones")
    # from_pretrained leaves parameters in safetensors' mmap, 8-byte aligned;
    # BLAS picks its kernel (and summation order) by alignment, so they are
    # copied into fresh memory as the hand-loaded ones are.
    with torch.no_grad():
        for p in model.parameters():
            p.data = p.data.clone()
    model.eval(), byhand.eval()
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(0, model.config.vocab_size, (2, 9), generator=g)
    kw = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "token_type_ids": ids % 2}
    with torch.no_grad():
        a, b = model(**kw), byhand(**kw)
    key = "logits" if "logits" in a else "last_hidden_state"
    x, y = a[key], b[key]
    if x.shape == y.shape and torch.equal(x, y) and torch.isfinite(x).all():
        print(f"ok - {tag}: {key} {tuple(x.shape)} equal those of the weights loaded by hand")
    else:
        d = float((x - y).abs().max()) if x.shape == y.shape else "shape"
        print(f"FAIL - {tag}: {key} differ from the hand-loaded model's (max |d| {d})")


a = sys.argv[1:]
for i in range(0, len(a), 5):
    one(*a[i:i + 5])
