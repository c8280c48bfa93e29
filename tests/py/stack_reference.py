"""stack_reference.py LIST — transformers 4.57.6's own loaders against our conversions.

Run with the pinned stack ($CK_STACK_TF: real TensorFlow, transformers 4.57.6,
torch). LIST has one line per conversion: LABEL<TAB>CASE_DIR<TAB>CKPT<TAB>OURS
(CASE_DIR a golden case, for its case.json and config; CKPT the checkpoint the
reference loads; OURS our model.safetensors, for XLM our output folder).

TF checkpoints and the OpenAI GPT folder: the reference model class of
case.json is built from the case's config, its parameters set to NaN, and the
loader (load_tf_weights_in_<type>) run on CKPT. The parameters it leaves NaN
are the ones it does not fill: they must be exactly case.json's unfilled_keys.
Every other entry of its state dict must be in OURS with the same dtype, shape
and bytes (a tied copy may be an alias, ckptconv.alias.*, or be left to
another member of its tied group), and OURS must hold nothing else (nothing
the reference leaves unfilled either).

XLM: transformers 4.57.6 does not ship its XLM conversion module
(convert_xlm_original_pytorch_checkpoint_to_pytorch; the wheel leaves out the
convert_* scripts), so there is no reference function to run. What is checked
instead: the 4.57.6 XLM class loads our folder with no missing or unexpected
keys, and each of its parameters is bit for bit the .pth's model tensor of that
name (less the "transformer." prefix the HF model puts on the body).
Prints one "ok"/"FAIL" line per conversion."""
import contextlib
import importlib.util
import json
import os
import sys

import numpy as np
import torch
import transformers as hf
from transformers.models.albert.modeling_albert import load_tf_weights_in_albert
from transformers.models.bert.modeling_bert import load_tf_weights_in_bert
from transformers.models.deprecated.transfo_xl.modeling_transfo_xl import load_tf_weights_in_transfo_xl
from transformers.models.gpt2.modeling_gpt2 import load_tf_weights_in_gpt2
from transformers.models.openai.modeling_openai import load_tf_weights_in_openai_gpt
from transformers.models.t5.modeling_t5 import load_tf_weights_in_t5
from transformers.models.xlnet.modeling_xlnet import load_tf_weights_in_xlnet

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402

# model_type: (config class, the original config file it reads, loader)
REFERENCE = {
    "bert": (hf.BertConfig, "bert_config.json", load_tf_weights_in_bert),
    "albert": (hf.AlbertConfig, "albert_config.json", load_tf_weights_in_albert),
    "gpt2": (hf.GPT2Config, "hf_config.json", load_tf_weights_in_gpt2),
    "t5": (hf.T5Config, "hf_config.json", load_tf_weights_in_t5),
    "xlnet": (hf.XLNetConfig, "xlnet_config.json", load_tf_weights_in_xlnet),
    "transfo_xl": (hf.TransfoXLConfig, "hf_config.json", load_tf_weights_in_transfo_xl),
    "gpt": (hf.OpenAIGPTConfig, "hf_config.json", load_tf_weights_in_openai_gpt),
}
# What `transformers convert --model_type xlm` imports; the 4.57.6 wheel lacks it.
XLM_CONVERSION = "transformers.models.xlm.convert_xlm_original_pytorch_checkpoint_to_pytorch"
# Buffers a model computes when it is built; no conversion writes them.
COMPUTED = {"transformer.pos_emb.inv_freq"}


def report(label, problems, summary):
    for p in problems[:8]:
        print("FAIL - %s: %s" % (label, p))
    if len(problems) > 8:
        print("FAIL - %s: and %d more" % (label, len(problems) - 8))
    if not problems:
        print("ok - %s: %s" % (label, summary))


def bits(t):
    """A torch tensor as a numpy array of the same bytes (bfloat16 as uint16)."""
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.uint16).numpy()
    return t.numpy()


def reference_tf(label, info, case_dir, ckpt, ours_path):
    config_class, config_name, loader = REFERENCE[info["model_type"]]
    config = config_class.from_json_file(os.path.join(case_dir, "input", config_name))
    model = getattr(hf, info["reference_class"])(config)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(float("nan"))
    with contextlib.redirect_stdout(sys.stderr):  # some loaders print every variable
        loader(model, config, ckpt)
    reference = model.state_dict()
    never = {n for n, p in model.named_parameters(remove_duplicate=False)
             if p.is_floating_point() and bool(torch.isnan(p).all())}
    problems = []
    if never != set(info["unfilled_keys"]):
        problems.append("the reference leaves %s unfilled, case.json says %s" % (sorted(never), info["unfilled_keys"]))
    meta, ours, _ = st.read(ours_path)
    aliases = {k[len("ckptconv.alias."):]: v for k, v in meta.items() if k.startswith("ckptconv.alias.")}
    group_of = {n: g for g in info["tied_groups"] for n in g}
    compared = 0
    for name, want in reference.items():
        if name in never or name in COMPUTED:
            continue
        source = name if name in ours else aliases.get(name)
        if source is None:
            source = next((m for m in group_of.get(name, ()) if m in ours), None)
        if source is None:
            problems.append("%s: not in our output" % name)
            continue
        got = ours[source].data
        want = bits(want)
        if got.dtype != want.dtype or got.shape != want.shape or got.tobytes() != want.tobytes():
            problems.append("%s (ours: %s): %s %s, reference %s %s%s" % (
                name, source, got.dtype, got.shape, want.dtype, want.shape,
                ", bytes differ" if got.shape == want.shape else ""))
        compared += 1
    for name in list(ours) + list(aliases):
        if name not in reference:
            problems.append("%s: ours, not in the reference's state dict" % name)
        elif name in never:
            problems.append("%s: the reference has no data for it, yet ours has it" % name)
    report(label, problems, "%s's %s state dict = ours, bit for bit (%d entries; unfilled: %s)"
           % (loader.__name__, info["reference_class"], compared, sorted(never) or "none"))


def reference_xlm(label, info, pth, ours_dir):
    problems = []
    if importlib.util.find_spec(XLM_CONVERSION) is not None:
        problems.append("the pinned transformers has %s now: run it as the reference" % XLM_CONVERSION)
    model, loading = getattr(hf, info["reference_class"]).from_pretrained(ours_dir, output_loading_info=True)
    problems += ["%s: %s" % (k, v) for k, v in loading.items() if v]
    # the .pth holds a numpy array and a torch class in its params (a trusted fixture)
    original = torch.load(pth, map_location="cpu", weights_only=False)["model"]
    original = {k[len("module."):] if k.startswith("module.") else k: v for k, v in original.items()}
    compared = 0
    for name, p in model.state_dict().items():
        key = name[len("transformer."):] if name.startswith("transformer.") else name
        if key not in original:
            problems.append("%s: not in the .pth" % name)
        elif not np.array_equal(bits(p).view(np.uint8), bits(original[key]).view(np.uint8)) or p.dtype != original[key].dtype:
            problems.append("%s: differs from the .pth's %s" % (name, key))
        compared += 1
    report(label, problems, "no XLM conversion function in transformers 4.57.6; %s.from_pretrained loads our folder"
           " with no missing or unexpected keys, %d entries bit for bit the .pth's" % (info["reference_class"], compared))


def main():
    with open(sys.argv[1]) as f:
        for line in f:
            label, case_dir, ckpt, ours = line.rstrip("\n").split("\t")
            with open(os.path.join(case_dir, "case.json")) as cf:
                info = json.load(cf)
            if info["model_type"] == "xlm":
                reference_xlm(label, info, ckpt, ours)
            else:
                reference_tf(label, info, case_dir, ckpt, ours)


main()
