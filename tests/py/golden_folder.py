"""golden_folder.py OUT CASE_DIR [--renamed KEY=HFKEY]...
— check a converted folder against a golden case.

- pytorch_model.bin loads with torch.load(weights_only=True); every expected
  tensor that case.json does not list as unfilled is there with the same
  dtype, shape and bytes, or is left out while a member of its tied group is
  there; tied names that are present share one storage.
- config.json (and generation_config.json when expected) agree with the
  expected file on every key but transformers_version.
--renamed KEY=HFKEY: the expected config's KEY is the config class's alias of
HFKEY (XLM's n_words is XLMConfig's vocab_size): ours has it as HFKEY.
Prints one "ok"/"FAIL" line per check."""
import json
import os
import sys

import torch

import st

out, case_dir = sys.argv[1:3]
rest = sys.argv[3:]
opts = [(rest[i], rest[i + 1]) for i in range(0, len(rest), 2)]
# the reference (4.33) wrote torch_dtype; we write dtype, which 4.56+ read without a warning
renamed = dict([("torch_dtype", "dtype")] + [v.split("=", 1) for k, v in opts if k == "--renamed"])
case = os.path.basename(os.path.normpath(case_dir))
info = json.load(open(os.path.join(case_dir, "case.json")))
_, exp, _ = st.read(os.path.join(case_dir, "expected", "model.safetensors"))
unfilled = set(info["unfilled_keys"])
groups = [set(g) for g in info["tied_groups"]]
group_of = {n: g for g in groups for n in g}


def report(what, problems):
    for p in problems:
        print("FAIL - %s %s: %s" % (case, what, p))
    if not problems:
        print("ok - %s %s" % (case, what))


def check_bin():
    path = os.path.join(out, "pytorch_model.bin")
    try:
        sd = torch.load(path, weights_only=True)
    except Exception as e:  # noqa: BLE001 - any load failure is the finding
        return ["torch.load(weights_only=True) failed: %s" % e]
    problems = []
    for name, want in exp.items():
        if name in unfilled:
            continue
        if name not in sd:
            if not any(m in sd for m in group_of.get(name, ())):
                problems.append("%s missing" % name)
            continue
        got = sd[name].contiguous().numpy() if sd[name].dtype != torch.bfloat16 else \
            sd[name].contiguous().view(torch.int16).numpy().view("uint16")
        if not st.same(got, want.data):
            problems.append("%s differs (%s %s)" % (name, sd[name].dtype, tuple(sd[name].shape)))
    for name in sd:
        if name not in exp:
            problems.append("%s is not in the expected model" % name)
    for g in groups:
        present = [n for n in g if n in sd]
        ptrs = {sd[n].data_ptr() for n in present}
        if len(ptrs) > 1:
            problems.append("tied %s do not share storage" % sorted(present))
    return problems


def check_json(name):
    want = json.load(open(os.path.join(case_dir, "expected", name)))
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return ["%s missing" % name]
    got = json.load(open(path))
    problems = []
    for k, v in want.items():
        if k == "transformers_version":
            continue
        k = renamed.get(k, k)
        if k not in got:
            problems.append("%s: %s missing" % (name, k))
        elif got[k] != v:
            problems.append("%s: %s is %r, expected %r" % (name, k, got[k], v))
    return problems


report("pytorch_model.bin loads with weights_only=True and matches", check_bin())
for f in sorted(os.listdir(os.path.join(case_dir, "expected"))):
    if f.endswith(".json"):
        report("%s matches on every key" % f, check_json(f))
