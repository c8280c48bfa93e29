"""golden_check.py OURS.safetensors CASE_DIR RULES_NAME
— compare a conversion with a golden case.

Every expected tensor that case.json does not list as unfilled must be in OURS
with the same name, dtype, shape and bytes; a tied copy (case.json tied_groups)
may instead be an alias (ckptconv.alias.*) of a member of its group, or be
omitted if another member is present. OURS may hold nothing else (buffers
the model computes, such as Transformer-XL's pos_emb.inv_freq, are written
and compared too). Prints one "ok"/"FAIL" line per check."""
import json
import os
import sys

import st


def main():
    ours_path, case_dir, rules_name = sys.argv[1:4]
    case = os.path.basename(os.path.normpath(case_dir))
    with open(os.path.join(case_dir, "case.json")) as f:
        info = json.load(f)
    _, exp, _ = st.read(os.path.join(case_dir, "expected", "model.safetensors"))
    meta, ours, _ = st.read(ours_path)
    aliases = {k[len("ckptconv.alias."):]: v for k, v in meta.items() if k.startswith("ckptconv.alias.")}
    unfilled = set(info["unfilled_keys"])
    group_of = {n: set(g) for g in info["tied_groups"] for n in g}
    problems = []
    for name, want in exp.items():
        if name in unfilled:
            continue
        if name in ours:
            if not st.same(ours[name], want):
                problems.append("%s: %s differs from the expected %s" % (name, ours[name], want))
        elif name in aliases:
            target = aliases[name]
            if target not in group_of.get(name, ()):
                problems.append("%s: alias of %s, which is not tied to it" % (name, target))
            elif not st.same(ours[target], want):
                problems.append("%s: alias of %s, whose data differs" % (name, target))
        elif not any(m in ours for m in group_of.get(name, ())):
            problems.append("%s: missing" % name)
    for name in list(ours) + list(aliases):
        if name not in exp:
            problems.append("%s: not in the expected model" % name)
        elif name in unfilled:
            problems.append("%s: the checkpoint has no data for it, yet it is written" % name)
    for p in problems:
        print("FAIL - golden %s: %s" % (case, p))
    filled = len([n for n in exp if n not in unfilled])
    if not problems:
        print("ok - golden %s: %d expected tensors equal, bit for bit (%d written, %d aliases)"
              % (case, filled, len(ours), len(aliases)))
    key = "ckptconv.sha256." + rules_name
    print("%s - golden %s: metadata has %s" % ("ok" if len(meta.get(key, "")) == 64 else "FAIL", case, key))


main()
