"""electra_ref.py [CONFIG CKPT ROLE OURS.safetensors]... — transformers 4.57.6's own
converter (load_tf_weights_in_electra) on the checkpoint; every tensor of its
state dict must equal ours bit for bit, and the names must be the same set.
Prints ok/FAIL lines."""
import contextlib
import io
import sys

import torch
from safetensors.torch import load_file
from transformers import ElectraConfig, ElectraForMaskedLM, ElectraForPreTraining
from transformers.models.electra.modeling_electra import load_tf_weights_in_electra


def one(cfg, ckpt, role, ours):
    config = ElectraConfig.from_json_file(cfg)
    model = (ElectraForMaskedLM if role == "generator" else ElectraForPreTraining)(config)
    with contextlib.redirect_stdout(io.StringIO()):  # it prints every name
        load_tf_weights_in_electra(model, config, ckpt, discriminator_or_generator=role)
    ref = model.state_dict()
    got = load_file(ours)
    # generator_lm_head.weight is tied: the .safetensors stores it once
    names = set(ref) - {"generator_lm_head.weight"}
    tag = f"electra {role} ({config.hidden_size}/{config.embedding_size})"
    if names != set(got):
        print(f"FAIL - {tag}: names differ from load_tf_weights_in_electra's: "
              f"only ours {sorted(set(got) - names)[:5]}, only its {sorted(names - set(got))[:5]}")
        return
    bad = [n for n in sorted(names) if ref[n].dtype != got[n].dtype or ref[n].shape != got[n].shape
           or not torch.equal(ref[n].contiguous().view(-1).view(torch.int32), got[n].contiguous().view(-1).view(torch.int32))]
    if bad:
        print(f"FAIL - {tag}: {len(bad)} tensors differ from load_tf_weights_in_electra's, e.g. {bad[:3]}")
    else:
        print(f"ok - {tag}: all {len(names)} tensors equal load_tf_weights_in_electra's bit for bit")


a = sys.argv[1:]
for i in range(0, len(a), 4):
    one(*a[i:i + 4])
