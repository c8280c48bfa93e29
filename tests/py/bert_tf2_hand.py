"""The TF2 object-path BERT mappings written out by hand (for
hf_load_check.py); layout: bert_for_tf2 or model_garden."""
A = "/.ATTRIBUTES/VARIABLE_VALUE"


def hand(o, layout):
    out = {}
    if layout == "bert_for_tf2":
        e = "layer_with_weights-0/embeddings_layer/"
        for k, tf_k in (("word", "word"), ("position", "position"), ("token_type", "token_type")):
            out[f"bert.embeddings.{k}_embeddings.weight"] = o[f"{e}{tf_k}_embeddings_layer/embeddings{A}"]
        out["bert.embeddings.LayerNorm.weight"] = o[e + "layer_norm_layer/gamma" + A]
        out["bert.embeddings.LayerNorm.bias"] = o[e + "layer_norm_layer/beta" + A]
        i = 0
        while f"layer_with_weights-0/encoders_layer/encoder_layers/{i}/intermediate_layer/bias{A}" in o:
            s, d = f"layer_with_weights-0/encoders_layer/encoder_layers/{i}/", f"bert.encoder.layer.{i}."
            for q in ("query", "key", "value"):
                out[d + f"attention.self.{q}.weight"] = o[s + f"self_attention_layer/attention_layer/{q}_layer/kernel" + A].T
                out[d + f"attention.self.{q}.bias"] = o[s + f"self_attention_layer/attention_layer/{q}_layer/bias" + A]
            ap = s + "self_attention_layer/attention_projector/"
            out[d + "attention.output.dense.weight"] = o[ap + "dense/kernel" + A].T
            out[d + "attention.output.dense.bias"] = o[ap + "dense/bias" + A]
            out[d + "attention.output.LayerNorm.weight"] = o[ap + "layer_norm/gamma" + A]
            out[d + "attention.output.LayerNorm.bias"] = o[ap + "layer_norm/beta" + A]
            out[d + "intermediate.dense.weight"] = o[s + "intermediate_layer/kernel" + A].T
            out[d + "intermediate.dense.bias"] = o[s + "intermediate_layer/bias" + A]
            out[d + "output.dense.weight"] = o[s + "output_projector/dense/kernel" + A].T
            out[d + "output.dense.bias"] = o[s + "output_projector/dense/bias" + A]
            out[d + "output.LayerNorm.weight"] = o[s + "output_projector/layer_norm/gamma" + A]
            out[d + "output.LayerNorm.bias"] = o[s + "output_projector/layer_norm/beta" + A]
            i += 1
        out["bert.pooler.dense.weight"] = o["layer_with_weights-1/kernel" + A].T
        out["bert.pooler.dense.bias"] = o["layer_with_weights-1/bias" + A]
        out["classifier.weight"] = o["layer_with_weights-2/kernel" + A].T
        out["classifier.bias"] = o["layer_with_weights-2/bias" + A]
        return out
    e = "encoder/"
    out["bert.embeddings.word_embeddings.weight"] = o[e + "_embedding_layer/embeddings" + A]
    out["bert.embeddings.position_embeddings.weight"] = o[e + "_position_embedding_layer/embeddings" + A]
    out["bert.embeddings.token_type_embeddings.weight"] = o[e + "_type_embedding_layer/embeddings" + A]
    out["bert.embeddings.LayerNorm.weight"] = o[e + "_embedding_norm_layer/gamma" + A]
    out["bert.embeddings.LayerNorm.bias"] = o[e + "_embedding_norm_layer/beta" + A]
    i = 0
    while f"{e}_transformer_layers/{i}/_output_dense/bias{A}" in o:
        s, d = f"{e}_transformer_layers/{i}/", f"bert.encoder.layer.{i}."
        for q in ("query", "key", "value"):
            k = o[s + f"_attention_layer/_{q}_dense/kernel" + A]          # [H, heads, head]
            out[d + f"attention.self.{q}.weight"] = k.reshape(k.shape[0], -1).T
            out[d + f"attention.self.{q}.bias"] = o[s + f"_attention_layer/_{q}_dense/bias" + A].reshape(-1)
        k = o[s + "_attention_layer/_output_dense/kernel" + A]            # [heads, head, H]
        out[d + "attention.output.dense.weight"] = k.reshape(-1, k.shape[-1]).T
        out[d + "attention.output.dense.bias"] = o[s + "_attention_layer/_output_dense/bias" + A]
        out[d + "attention.output.LayerNorm.weight"] = o[s + "_attention_layer_norm/gamma" + A]
        out[d + "attention.output.LayerNorm.bias"] = o[s + "_attention_layer_norm/beta" + A]
        out[d + "intermediate.dense.weight"] = o[s + "_intermediate_dense/kernel" + A].T
        out[d + "intermediate.dense.bias"] = o[s + "_intermediate_dense/bias" + A]
        out[d + "output.dense.weight"] = o[s + "_output_dense/kernel" + A].T
        out[d + "output.dense.bias"] = o[s + "_output_dense/bias" + A]
        out[d + "output.LayerNorm.weight"] = o[s + "_output_layer_norm/gamma" + A]
        out[d + "output.LayerNorm.bias"] = o[s + "_output_layer_norm/beta" + A]
        i += 1
    out["bert.pooler.dense.weight"] = o[e + "_pooler_layer/kernel" + A].T
    out["bert.pooler.dense.bias"] = o[e + "_pooler_layer/bias" + A]
    return out
