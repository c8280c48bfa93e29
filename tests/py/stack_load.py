"""stack_load.py CASES.json — load converted folders with the installed transformers (run
with $CK_STACK_HF5 for 5.x, $CK_STACK_TF for 4.57.6) and compare them with reference weights.

CASES.json is a list of {"name", "dir", "class", "ref", "ref_map", "generate"}:
  * every config.json loads with AutoConfig, every .safetensors file is read tensor by tensor
    with safetensors.safe_open, every .bin with torch.load(weights_only=True, mmap=True);
  * CLASS.from_pretrained(dir, output_loading_info=True): no missing, unexpected or
    mismatched key and no error message, and transformers logs no warning and Python
    raises none (a deprecation or "newly initialized" line is a failure);
  * the reference weights are loaded into the same class with the same config, in this
    process: "ref" is a folder (a golden case's expected/, the reference conversion by
    transformers 4.33) when "ref_map" is null; otherwise "ref" is a safetensors stream of
    the original checkpoint's tensors (ckpt-extract CKPT, original names, raw values) and
    stack_refmap.py maps them by hand (ref_map: bert, t5, xlnet);
  * every parameter and buffer equals the reference's (torch.equal), and on fixed input ids
    every output tensor of ours equals the reference's (to 1e-6 relative; the count of those
    equal bit for bit is in the message);
  * "generate": generate() of a few greedy tokens equals the reference's, and
    generation_config.json loads without a warning.
Prints one "ok - …" or "FAIL - …" line per check."""
import glob
import io
import json
import logging
import os
import sys
import warnings

import torch
import transformers
from safetensors import safe_open

import stack_refmap

TAG = "transformers %s" % transformers.__version__


# Warnings that are no finding about our folders: transformers' own notices, the same
# for any folder of the class, and one about the test fixture (each: case prefix, text).
KNOWN = [
    # 4.57.6's deprecated TransfoXL: library notices on every load
    ("transfo_xl", "doesn't directly inherit from `GenerationMixin`"),
    ("transfo_xl", "  - If you"),
    ("transfo_xl", "The output of TransfoXL will be updated in v5"),
    # 5.18's T5Config sets tie_word_embeddings = True whatever config.json says (it keeps
    # the false only as scale_decoder_outputs), then finds v1.1's separate lm_head.weight
    # and keeps it untied, as it must
    ("t5v11", "so we will NOT tie them"),
    # the golden GPT-2 fixture has 96 tokens; every OpenAI release has 50257 and its
    # <|endoftext|>, GPT2Config's default bos/eos, is 50256
    ("gpt2", "must be `None` or an integer within the vocabulary (between 0 and 95), got 50256"),
]


class Capture:
    """Warnings Python raises and records transformers logs at WARNING or above."""

    def __enter__(self):
        self.buf = io.StringIO()
        self.handler = logging.StreamHandler(self.buf)
        self.handler.setLevel(logging.WARNING)
        self.log = logging.getLogger("transformers")
        self.log.addHandler(self.handler)
        self.warn = warnings.catch_warnings(record=True)
        self.caught = self.warn.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        self.warn.__exit__(*exc)
        self.log.removeHandler(self.handler)

    def lines(self, case):
        out = [l for l in self.buf.getvalue().splitlines() if l.strip()]
        out += ["%s: %s" % (w.category.__name__, w.message) for w in self.caught]
        return [l for l in out if not any(case.startswith(c) and t in l for c, t in KNOWN)]


class TypeAsDtype:
    """4.57.6's TransfoXLModel.forward calls tensor.type_as(dtype=...), which torch has
    never accepted (TypeError on any input): let type_as take a dtype while it runs."""

    def __init__(self, on):
        self.on, self.orig = on, torch.Tensor.type_as

    def __enter__(self):
        if self.on:
            orig = self.orig
            torch.Tensor.type_as = lambda t, other=None, dtype=None: t.to(dtype) if other is None else orig(t, other)

    def __exit__(self, *exc):
        torch.Tensor.type_as = self.orig


def report(name, problems):
    if problems:
        for p in problems:
            print("FAIL - %s: %s (%s)" % (name, p, TAG))
    else:
        print("ok - %s (%s)" % (name, TAG))


def read_files(case):
    d, problems, n = case["dir"], [], 0
    for f in sorted(glob.glob(os.path.join(d, "*.safetensors"))):
        try:
            with safe_open(f, framework="pt") as s:
                for k in s.keys():
                    s.get_tensor(k)
                    n += 1
        except Exception as e:  # noqa: BLE001 - any failure to read is the finding
            problems.append("safe_open %s: %s" % (os.path.basename(f), e))
    for f in sorted(glob.glob(os.path.join(d, "*.bin"))):
        try:
            sd = torch.load(f, weights_only=True, mmap=True)
            n += sum(1 for v in sd.values() if v.numel() >= 0)
        except Exception as e:  # noqa: BLE001
            problems.append("torch.load(weights_only=True, mmap=True) %s: %s" % (os.path.basename(f), e))
    if n == 0:
        problems.append("no weight file read")
    report("%s: every weight file reads (safe_open / torch.load mmap)" % case["name"], problems)


def inputs_for(cfg):
    vocab = cfg.vocab_size
    ids = (torch.arange(14).reshape(2, 7) * 7 + 3) % vocab
    x = {"input_ids": ids}
    if getattr(cfg, "is_encoder_decoder", False):
        x["decoder_input_ids"] = (torch.arange(8).reshape(2, 4) * 5 + 1) % vocab
    return x


def tensors_of(out):
    flat = []
    def walk(v):
        if isinstance(v, torch.Tensor):
            flat.append(v)
        elif isinstance(v, (tuple, list)):
            for w in v:
                walk(w)
    walk(out.to_tuple() if hasattr(out, "to_tuple") else out)
    return flat


def reference(case, cls, cfg):
    """The reference model and its problems: keys of the class it leaves unfilled (the
    reference's own extra heads, say BertForPreTraining's NSP head for BertForMaskedLM,
    are not problems)."""
    if not case.get("ref_map"):
        ref, info = cls.from_pretrained(case["ref"], config=cfg, output_loading_info=True)
        return ref, {k: v for k, v in info.items() if k != "unexpected_keys"}
    model = cls(cfg)
    sd = stack_refmap.state_dict(case["ref_map"], case["ref"])
    # assign: the class's own ties (T5 5.x ties lm_head to shared whatever the config)
    # must not mix the checkpoint's separate tensors
    missing, unexpected = model.load_state_dict(sd, strict=False, assign=True)
    return model, {"missing_keys": list(missing), "unexpected_keys": list(unexpected)}


def check_case(case):
    name, d = case["name"], case["dir"]
    with Capture() as c:
        cfg = transformers.AutoConfig.from_pretrained(d)
    report("%s: AutoConfig loads config.json, no warning" % name, c.lines(name))
    read_files(case)
    cls = getattr(transformers, case["class"])
    with Capture() as c:
        model, info = cls.from_pretrained(d, output_loading_info=True)
    problems = ["%s: %s" % (k, sorted(v)) for k, v in info.items() if v] + c.lines(name)
    report("%s: %s.from_pretrained: no missing/unexpected/mismatched key, no warning"
           % (name, case["class"]), problems)
    ref, rinfo = reference(case, cls, model.config)
    report("%s: the reference weights fill the same class" % name,
           ["%s: %s" % (k, sorted(v)) for k, v in rinfo.items() if v])
    model.eval()
    ref.eval()
    rs = ref.state_dict()
    report("%s: every parameter and buffer equals the reference's" % name,
           ["%s differs" % k for k, v in model.state_dict().items() if k not in rs or not torch.equal(v, rs[k])])
    x = inputs_for(model.config)
    with torch.no_grad(), TypeAsDtype(case["class"].startswith("TransfoXL")):
        a, b = tensors_of(model(**x)), tensors_of(ref(**x))
    problems = [] if a else ["no output tensor"]
    if len(a) != len(b):
        problems.append("%d output tensors, the reference has %d" % (len(a), len(b)))
    # with parameters equal bit for bit (above), outputs are equal up to the rounding of
    # kernels whose summation order follows memory alignment (seen once, 1e-12)
    exact = sum(torch.equal(p, q) for p, q in zip(a, b))
    for i, (p, q) in enumerate(zip(a, b)):
        if p.shape != q.shape or not torch.allclose(p, q, rtol=1e-6, atol=1e-9):
            problems.append("output %d %s differs (max |diff| %g)" % (i, tuple(p.shape), (p - q).abs().max()))
    report("%s: outputs on fixed ids equal the reference's (%d tensors, %d bit for bit)"
           % (name, len(a), exact), problems)
    if case.get("generate"):
        with Capture() as c:
            transformers.GenerationConfig.from_pretrained(d)
        report("%s: generation_config.json loads, no warning" % name, c.lines(name))
        with torch.no_grad():
            g = model.generate(x["input_ids"], max_new_tokens=5, do_sample=False)
            h = ref.generate(x["input_ids"], max_new_tokens=5, do_sample=False)
        report("%s: generate() of 5 greedy tokens equals the reference's %s" % (name, h.tolist()),
               [] if torch.equal(g, h) else ["ours %s" % g.tolist()])


def main():
    torch.manual_seed(0)
    transformers.logging.set_verbosity_warning()
    transformers.logging.disable_progress_bar()
    for case in json.load(open(sys.argv[1])):
        try:
            check_case(case)
        except Exception as e:  # noqa: BLE001 - report and go on with the next case
            print("FAIL - %s: %s: %s (%s)" % (case["name"], type(e).__name__, e, TAG))


main()
