"""stack_originals.py KIND SRC.safetensors FOLDER LABEL — load a converted
folder with transformers and check it against the same weights loaded by
hand.

SRC is what the original checkpoint holds (mkckpt --expect: computed from
mkckpt's generator, not read back by our tools); from it this script builds
the Hugging Face state dict itself, by the original code's names, loads it
into the class of FOLDER's config.json (strict: every key of the model), and
compares with from_pretrained(FOLDER): no missing or unexpected keys, every
parameter bit for bit, the same logits. KIND: t5, xlnet, transfo_xl.
Prints "ok - ..." / "FAIL - ..." lines."""
import json
import re
import sys
import warnings

import numpy as np
import torch
import transformers
from safetensors.numpy import load_file

warnings.filterwarnings("ignore")
transformers.logging.set_verbosity_error()

kind, src_path, folder, label = sys.argv[1:5]
# optimizer slots and counters are not model weights
src = {k: v for k, v in load_file(src_path).items()
       if not re.search(r"(^|/)(adam_[mv]|Adam(_1)?|beta[12]_power|global_step)$|_slot_", k)}
cfg = json.load(open(folder + "/config.json"))
T = lambda a: torch.from_numpy(np.ascontiguousarray(a))


def t5(sd):
    for name, a in src.items():
        if name == "shared/embedding":
            for k in ("shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight"):
                sd[k] = T(a)
        elif name == "decoder/logits/kernel":
            sd["lm_head.weight"] = T(a.T)
        elif m := re.fullmatch(r"(encoder|decoder)/block_(\d+)/layer_(\d+)/(.*)", name):
            stack, b, l, rest = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
            p = "%s.block.%d.layer.%d." % (stack, b, l)
            if rest.endswith("/scale"):  # layer_norm or rms_norm
                sd[p + "layer_norm.weight"] = T(a)
            elif rest.endswith("relative_attention_bias"):  # [heads, buckets]
                sd[p + "SelfAttention.relative_attention_bias.weight"] = T(a.T)
            elif rest.endswith("/kernel"):  # DenseReluDense/wi_0/kernel
                sd[p + rest[: -len("/kernel")].replace("/", ".") + ".weight"] = T(a.T)
            else:  # SelfAttention/q, EncDecAttention/o
                sd[p + rest.replace("/", ".") + ".weight"] = T(a.T)
        elif m := re.fullmatch(r"(encoder|decoder)/(?:final_layer_norm|rms_norm)/scale", name):
            sd[m.group(1) + ".final_layer_norm.weight"] = T(a)
    ids = torch.tensor([[3, 7, 1, 30, 12, 5]])
    return dict(input_ids=ids, decoder_input_ids=torch.tensor([[0, 4, 9, 2]]))


def xlnet(sd):
    n_layer = cfg["n_layer"]
    for name, a in src.items():
        if name == "model/transformer/word_embedding/lookup_table":
            sd["transformer.word_embedding.weight"] = T(a)
            if cfg["architectures"][0] == "XLNetLMHeadModel":  # tied to the embedding
                sd["lm_loss.weight"] = T(a)
        elif name == "model/transformer/mask_emb/mask_emb":
            sd["transformer.mask_emb"] = T(a)
        elif name == "model/lm_loss/bias":
            sd["lm_loss.bias"] = T(a)
        elif m := re.fullmatch(r"model/transformer/(r_r_bias|r_w_bias|r_s_bias|seg_embed)", name):
            for i in range(n_layer):  # untie_r=false: [n_head, d_head] for every layer
                sd["transformer.layer.%d.rel_attn.%s" % (i, m.group(1))] = T(a if a.ndim == 2 else a[i])
        elif m := re.fullmatch(r"model/transformer/layer_(\d+)/(rel_attn|ff)/(.*)", name):
            p = "transformer.layer.%s.%s." % (m.group(1), m.group(2))
            rest = m.group(3)
            if rest.startswith("LayerNorm/"):
                sd[p + "layer_norm." + {"gamma": "weight", "beta": "bias"}[rest[10:]]] = T(a)
            elif m.group(2) == "rel_attn":  # q/kernel: [d_model, n_head, d_head] as stored
                sd[p + rest.split("/")[0]] = T(a)
            else:
                sd[p + rest.replace("/kernel", ".weight").replace("/bias", ".bias")] = T(a.T if a.ndim == 2 else a)
    if "transformer.mask_emb" not in sd:  # a fine-tuned body: none in the checkpoint
        sd["transformer.mask_emb"] = torch.zeros(1, 1, cfg["d_model"])
    return dict(input_ids=torch.tensor([[3, 7, 1, 30, 12, 5]]),
                token_type_ids=torch.tensor([[0, 0, 0, 1, 1, 1]]))


def transfo_xl(sd):
    n_layer, d_embed, d_model = cfg["n_layer"], cfg["d_embed"], cfg["d_model"]
    n_clusters = len(cfg["cutoffs"]) + 1
    projs = {}
    for name, a in src.items():
        if m := re.fullmatch(r"transformer/adaptive_embed/(?:cutoff_(\d+)/)?(lookup_table|proj_W)", name):
            i = int(m.group(1) or 0)
            if m.group(2) == "lookup_table":
                sd["transformer.word_emb.emb_layers.%d.weight" % i] = T(a)
                sd["crit.out_layers.%d.weight" % i] = T(a)
            else:
                projs[i] = T(a.T)
        elif m := re.fullmatch(r"transformer/adaptive_softmax/(?:cutoff_(\d+)/)?(b|bias|proj|cluster_W|cluster_b)", name):
            i, what = int(m.group(1) or 0), m.group(2)
            key = {"b": "crit.out_layers.%d.bias" % i, "bias": "crit.out_layers.0.bias",
                   "proj": "crit.out_projs.%d" % i, "cluster_W": "crit.cluster_weight",
                   "cluster_b": "crit.cluster_bias"}[what]
            sd[key] = T(a.T if what == "proj" else a)
        elif m := re.fullmatch(r"transformer/(r_r_bias|r_w_bias)", name):
            if a.ndim == 2:  # untie_r=false: the model's own, shared by every layer
                sd["transformer." + m.group(1)] = T(a)
            for i in range(n_layer):
                sd["transformer.layers.%d.dec_attn.%s" % (i, m.group(1))] = T(a if a.ndim == 2 else a[i])
        elif m := re.fullmatch(r"transformer/layer_(\d+)/(rel_attn|ff)/(.*)", name):
            p = "transformer.layers.%s.%s." % (m.group(1), "dec_attn" if m.group(2) == "rel_attn" else "pos_ff")
            rest = m.group(3)
            rest = {"LayerNorm/gamma": "layer_norm.weight", "LayerNorm/beta": "layer_norm.bias",
                    "qkv/kernel": "qkv_net.weight", "o/kernel": "o_net.weight", "r/kernel": "r_net.weight",
                    "layer_1/kernel": "CoreNet.0.weight", "layer_1/bias": "CoreNet.0.bias",
                    "layer_2/kernel": "CoreNet.3.weight", "layer_2/bias": "CoreNet.3.bias"}[rest]
            sd[p + rest] = T(a.T if a.ndim == 2 else a)
    # model.py: a missing projection is none at all, i.e. the identity
    # (proj_same_dim=false with d_embed == d_model); div_val=1 has one or none
    if cfg["div_val"] == 1:
        if 0 in projs:
            sd["transformer.word_emb.emb_projs.0"] = projs[0]
            sd.setdefault("crit.out_projs.0", projs[0])
    else:
        for i in range(n_clusters):
            p = projs.get(i, torch.eye(d_model) if i == 0 else None)
            sd["transformer.word_emb.emb_projs.%d" % i] = p
            sd.setdefault("crit.out_projs.%d" % i, p)
    return dict(input_ids=torch.tensor([[3, 7, 1, 30, 12, 5]]))


def run():
    cls = getattr(transformers, cfg["architectures"][0])
    config = transformers.AutoConfig.from_pretrained(folder)
    hand = cls(config).eval()
    sd = {}
    inputs = {"t5": t5, "xlnet": xlnet, "transfo_xl": transfo_xl}[kind](sd)
    if kind == "t5" and "decoder/logits/kernel" in src:
        # T5 v1.1's own output layer; T5Config of transformers 5 always says
        # tie (and unties on loading when both differ): untie by hand too
        hand.lm_head.weight = torch.nn.Parameter(torch.empty_like(hand.lm_head.weight))
    if kind == "transfo_xl":
        # 4.57.6's Transformer-XL calls Tensor.type_as(dtype=...), which torch
        # 2.13 no longer takes: the same conversion, spelled .to(dtype)
        type_as = torch.Tensor.type_as
        torch.Tensor.type_as = lambda self, other=None, dtype=None: (
            self.to(dtype) if other is None else type_as(self, other))
    prefix = cls.base_model_prefix + "."
    if not hasattr(hand, cls.base_model_prefix):  # the bare model: no prefix
        sd = {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in sd.items()}
    for k, v in hand.state_dict().items():  # buffers the model computes itself
        if k.endswith("inv_freq"):
            sd[k] = v
    missing, unexpected = hand.load_state_dict(sd, strict=False)
    if missing or unexpected:
        print("FAIL - %s: the hand-built state dict does not fit %s: missing %s, unexpected %s"
              % (label, cls.__name__, missing[:4], unexpected[:4]))
        return
    conv, info = cls.from_pretrained(folder, output_loading_info=True)
    conv.eval()
    # inv_freq is computed by the model (tests elsewhere name it --computed)
    missing = [k for k in info["missing_keys"] if not k.endswith("pos_emb.inv_freq")]
    if missing or info["unexpected_keys"] or info["mismatched_keys"]:
        print("FAIL - %s: from_pretrained: missing %s, unexpected %s, mismatched %s"
              % (label, missing, info["unexpected_keys"], info["mismatched_keys"]))
        return
    print("ok - %s: from_pretrained (%s, transformers %s) loads every key, no missing or unexpected"
          % (label, cls.__name__, transformers.__version__))
    csd = conv.state_dict()
    diff = [k for k, v in hand.state_dict().items() if not torch.equal(v, csd[k])]
    if diff:
        print("FAIL - %s: %d parameters differ from the hand-built ones: %s" % (label, len(diff), diff[:5]))
    else:
        print("ok - %s: all %d parameters equal the hand-built ones, bit for bit" % (label, len(csd)))
    with torch.no_grad():
        a, b = hand(**inputs), conv(**inputs)
    out = "logits" if "logits" in a else "prediction_scores" if "prediction_scores" in a else "last_hidden_state"
    x, y = a[out], b[out]
    if x.shape == y.shape and torch.equal(x, y) and torch.isfinite(x).all():
        print("ok - %s: %s %s equal those of the hand-loaded model" % (label, out, list(x.shape)))
    else:
        print("FAIL - %s: %s differ (max %s)" % (label, out, (x - y).abs().max().item() if x.shape == y.shape else "shapes"))


run()
