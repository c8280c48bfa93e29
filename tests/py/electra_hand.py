"""The ELECTRA mapping written out by hand (for hf_load_check.py), from
google-research/electra's variable names; role: discriminator or generator."""


def hand(o, role):
    enc = "generator" if role == "generator" else "electra"
    out = {}
    for e in ("word", "position", "token_type"):
        out[f"electra.embeddings.{e}_embeddings.weight"] = o[f"electra/embeddings/{e}_embeddings"]
    out["electra.embeddings.LayerNorm.weight"] = o["electra/embeddings/LayerNorm/gamma"]
    out["electra.embeddings.LayerNorm.bias"] = o["electra/embeddings/LayerNorm/beta"]
    if f"{enc}/embeddings_project/kernel" in o:
        out["electra.embeddings_project.weight"] = o[f"{enc}/embeddings_project/kernel"].T
        out["electra.embeddings_project.bias"] = o[f"{enc}/embeddings_project/bias"]
    i = 0
    while f"{enc}/encoder/layer_{i}/output/dense/bias" in o:
        s, d = f"{enc}/encoder/layer_{i}/", f"electra.encoder.layer.{i}."
        for tf_part, hf_part in (("attention/self/query", "attention.self.query"),
                                 ("attention/self/key", "attention.self.key"),
                                 ("attention/self/value", "attention.self.value"),
                                 ("attention/output/dense", "attention.output.dense"),
                                 ("intermediate/dense", "intermediate.dense"),
                                 ("output/dense", "output.dense")):
            out[d + hf_part + ".weight"] = o[s + tf_part + "/kernel"].T
            out[d + hf_part + ".bias"] = o[s + tf_part + "/bias"]
        for tf_part, hf_part in (("attention/output/LayerNorm", "attention.output.LayerNorm"),
                                 ("output/LayerNorm", "output.LayerNorm")):
            out[d + hf_part + ".weight"] = o[s + tf_part + "/gamma"]
            out[d + hf_part + ".bias"] = o[s + tf_part + "/beta"]
        i += 1
    if role == "generator":
        p = "generator_predictions/"
        out["generator_predictions.dense.weight"] = o[p + "dense/kernel"].T
        out["generator_predictions.dense.bias"] = o[p + "dense/bias"]
        out["generator_predictions.LayerNorm.weight"] = o[p + "LayerNorm/gamma"]
        out["generator_predictions.LayerNorm.bias"] = o[p + "LayerNorm/beta"]
        out["generator_lm_head.bias"] = o[p + "output_bias"]
    elif "discriminator_predictions/dense/kernel" in o:
        p = "discriminator_predictions/"
        out["discriminator_predictions.dense.weight"] = o[p + "dense/kernel"].T
        out["discriminator_predictions.dense.bias"] = o[p + "dense/bias"]
        out["discriminator_predictions.dense_prediction.weight"] = o[p + "dense_1/kernel"].T
        out["discriminator_predictions.dense_prediction.bias"] = o[p + "dense_1/bias"]
    return out
