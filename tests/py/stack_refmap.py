"""stack_refmap.py — reference weights for checkpoints no golden case covers, made by hand
from the original tensors (a safetensors file ckpt-extract wrote: original names, raw
values), independently of our rule files. Each mapping is the one Hugging Face's own TF
loaders implement (load_tf_weights_in_bert / _t5 / _xlnet in transformers 4.x): names
from the TF scopes, dense kernels transposed, optimizer slots and step counters left out.
state_dict(KIND, PATH) returns {HF name: tensor}, float32."""
import re

import torch
from safetensors import safe_open

SKIP = re.compile(r"(adam_[mv]|Adam(_1)?|_slot_\w+|global_step|beta[12]_power)$")


def raw(path):
    with safe_open(path, framework="pt") as f:
        return {k: f.get_tensor(k).float() for k in f.keys() if not SKIP.search(k)}


def bert(t):
    """google-research/bert, fine-tuned by run_classifier (root output_weights/bias, [labels,
    hidden] as nn.Linear keeps them) or run_squad (cls/squad/output_weights)."""
    sd = {}
    squad = "cls/squad/output_weights" in t
    for k, v in t.items():
        if squad and k.startswith("bert/pooler/"):
            continue  # BertForQuestionAnswering has no pooler
        if k in ("output_weights", "output_bias"):
            sd["classifier." + ("weight" if k.endswith("weights") else "bias")] = v
            continue
        if k.startswith("cls/squad/"):
            sd["qa_outputs." + ("weight" if k.endswith("weights") else "bias")] = v
            continue
        n = re.sub(r"layer_(\d+)", r"layer.\1", k).replace("/", ".")
        n = re.sub(r"\.gamma$", ".weight", re.sub(r"\.beta$", ".bias", n))
        if n.endswith(".kernel"):
            n, v = n[:-len(".kernel")] + ".weight", v.t()
        elif n.endswith("_embeddings"):
            n += ".weight"
        sd[n] = v.contiguous()
    return sd


def t5(t):
    """Mesh-TF T5 (v1.1: gated wi_0/wi_1, untied decoder/logits); every matrix is [in, out]
    in TF, relative_attention_bias [heads, buckets]."""
    sd = {}
    for k, v in t.items():
        if k == "shared/embedding":
            sd["shared.weight"] = v
            continue
        if k == "decoder/logits/kernel":
            sd["lm_head.weight"] = v.t().contiguous()
            continue
        n = re.sub(r"block_0*(\d+)", r"block.\1", k)
        n = re.sub(r"layer_0*(\d+)", r"layer.\1", n).replace("/", ".")
        n = n.replace("final_layer_norm.scale", "final_layer_norm.weight")
        n = n.replace("layer_norm.scale", "layer_norm.weight")
        if n.endswith(".kernel"):
            n = n[:-len(".kernel")]
        if not n.endswith(".weight"):
            n += ".weight"
        if v.dim() == 2 and not n.endswith("layer_norm.weight"):
            v = v.t()
        sd[n] = v.contiguous()
    for side in ("encoder", "decoder"):
        sd["%s.embed_tokens.weight" % side] = sd["shared.weight"]
    return sd


def xlnet(t):
    """zihangdai/xlnet fine-tuned by run_classifier (regression_*/classification_* logit,
    sequnece_summary) or run_squad (start_logits, end_logits, answer_class)."""
    sd = {}
    P = "model/transformer/"
    n_layer = 1 + max(int(m.group(1)) for k in t for m in [re.match(P + r"layer_(\d+)/", k)] if m)
    for k, v in t.items():
        if k == P + "word_embedding/lookup_table":
            sd["transformer.word_embedding.weight"] = v
        elif k == P + "mask_emb/mask_emb":
            sd["transformer.mask_emb"] = v
        elif k in (P + "r_w_bias", P + "r_r_bias", P + "r_s_bias", P + "seg_embed"):
            for i in range(n_layer):
                sd["transformer.layer.%d.rel_attn.%s" % (i, k[len(P):])] = v[i].contiguous()
        elif k.startswith(P + "layer_"):
            m = re.match(P + r"layer_(\d+)/(.*)$", k)
            i, rest = m.group(1), m.group(2)
            pre = "transformer.layer.%s." % i
            m2 = re.match(r"rel_attn/([qkvor])/kernel$", rest)
            if m2:
                sd[pre + "rel_attn." + m2.group(1)] = v  # [d_model, n_head, d_head] as HF keeps it
            elif rest.startswith("rel_attn/LayerNorm/"):
                sd[pre + "rel_attn.layer_norm." + ("weight" if rest.endswith("gamma") else "bias")] = v
            elif rest.startswith("ff/LayerNorm/"):
                sd[pre + "ff.layer_norm." + ("weight" if rest.endswith("gamma") else "bias")] = v
            else:
                m3 = re.match(r"ff/(layer_[12])/(kernel|bias)$", rest)
                sd[pre + "ff.%s.%s" % (m3.group(1), "weight" if m3.group(2) == "kernel" else "bias")] = \
                    v.t().contiguous() if m3.group(2) == "kernel" else v
        elif k.startswith("model/sequnece_summary/summary/"):
            sd["sequence_summary.summary." + ("weight" if k.endswith("kernel") else "bias")] = \
                v.t().contiguous() if k.endswith("kernel") else v
        elif re.match(r"model/(regression|classification)_[^/]+/logit/", k):
            sd["logits_proj." + ("weight" if k.endswith("kernel") else "bias")] = \
                v.t().contiguous() if k.endswith("kernel") else v
        elif re.match(r"(start_logits|end_logits|answer_class)/", k):
            head, layer, leaf = k.split("/")
            if layer == "LayerNorm":
                sd["%s.LayerNorm.%s" % (head, "weight" if leaf == "gamma" else "bias")] = v
            else:
                sd["%s.%s.%s" % (head, layer, "weight" if leaf == "kernel" else "bias")] = \
                    v.t().contiguous() if leaf == "kernel" else v
        elif k == "model/lm_loss/bias":
            sd["lm_loss.bias"] = v
        else:
            raise KeyError("xlnet reference: no mapping for %s" % k)
    # a fine-tuning graph saves no mask_emb (used only with target_mapping, never by these
    # heads); its placeholder is zeros, [1, 1, d_model]
    sd.setdefault("transformer.mask_emb", torch.zeros(1, 1, sd["transformer.word_embedding.weight"].shape[1]))
    return sd


def state_dict(kind, path):
    return {"bert": bert, "t5": t5, "xlnet": xlnet}[kind](raw(path))
