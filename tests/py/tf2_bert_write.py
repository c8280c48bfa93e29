"""tf2_bert_write.py LAYOUT PREFIX V H L HEADS F — write a TF2 object-based
checkpoint with real TensorFlow (tf.train.Checkpoint.save: the variables
under their object paths, save_counter and the _CHECKPOINTABLE_OBJECT_GRAPH)
of a BERT whose objects carry the attribute names of
  bert-for-tf2 (LAYOUT=bert_for_tf2): a Keras model whose first weighted layer
      is BertModelLayer (layer_with_weights-0/embeddings_layer/...,
      encoders_layer/encoder_layers/N/...), then the tutorial head
      Dense(H, tanh) + Dense(2) (layer_with_weights-1, -2). The names are those
      of the real checkpoint tests/fixtures/real/bert/arabic_senti_tf2_keras
      plus token_type_embeddings_layer (bert-for-tf2's embeddings.py);
  Model Garden (LAYOUT=model_garden): BertEncoderV2 under encoder/
      (official/nlp/modeling/networks/bert_encoder.py: _embedding_layer,
      _position_embedding_layer, _type_embedding_layer, _embedding_norm_layer,
      _transformer_layers, _pooler_layer; TransformerEncoderBlock's
      _attention_layer (Keras MultiHeadAttention: _query_dense, _key_dense,
      _value_dense, _output_dense, EinsumDense kernels [H, heads, head] and
      [heads, head, H]), _attention_layer_norm, _intermediate_dense,
      _output_dense, _output_layer_norm).
Keras itself is not used: Keras 3 (what TF 2.21 has) names its objects
differently from the tf.keras 2 these checkpoints were made with, so plain
tf.Module objects are given exactly those attribute names."""
import sys

import numpy as np
import tensorflow as tf

layout, prefix = sys.argv[1:3]
V, H, L, NH, F = map(int, sys.argv[3:8])
P, T, D = 32, 2, H // NH
rng = np.random.default_rng(11)


count = [0]


def var(*shape):
    count[0] += 1  # a full name of its own, for ckpt-ls --object-names to show
    return tf.Variable(rng.standard_normal(shape).astype(np.float32) * 0.5, name=f"w{count[0]}")


def obj(**kw):
    m = tf.Module()
    for k, v in kw.items():
        setattr(m, k, v)
    return m


def dense(i, o):
    return obj(kernel=var(i, o), bias=var(o))


def norm():
    return obj(gamma=var(H), beta=var(H))


if layout == "bert_for_tf2":
    emb = obj(word_embeddings_layer=obj(embeddings=var(V, H)),
              token_type_embeddings_layer=obj(embeddings=var(T, H)),
              position_embeddings_layer=obj(embeddings=var(P, H)),
              layer_norm_layer=norm())
    layers = [obj(self_attention_layer=obj(
                      attention_layer=obj(query_layer=dense(H, H), key_layer=dense(H, H),
                                          value_layer=dense(H, H)),
                      attention_projector=obj(dense=dense(H, H), layer_norm=norm())),
                  intermediate_layer=dense(H, F),
                  output_projector=obj(dense=dense(F, H), layer_norm=norm()))
              for _ in range(L)]
    root = tf.Module()
    setattr(root, "layer_with_weights-0", obj(embeddings_layer=emb, encoders_layer=obj(encoder_layers=layers)))
    setattr(root, "layer_with_weights-1", dense(H, H))
    setattr(root, "layer_with_weights-2", dense(H, 2))
    # Adam slots as a Keras 2 model.fit leaves them (.OPTIMIZER_SLOT/optimizer/
    # {m,v}, optimizer/iter ...): TF's own v1 Adam, which tracks slots in the
    # object graph as Keras 2 optimizers did.
    opt = tf.compat.v1.train.AdamOptimizer(0.001)
    vs = root.trainable_variables
    opt.apply_gradients([(tf.ones_like(v), v) for v in vs[:3]])
    ckpt = tf.train.Checkpoint(optimizer=opt, **{
        k: getattr(root, k) for k in ("layer_with_weights-0", "layer_with_weights-1", "layer_with_weights-2")})
else:
    def einsum(*shape_k, bias):
        return obj(kernel=var(*shape_k), bias=var(*bias))
    blocks = [obj(_attention_layer=obj(_query_dense=einsum(H, NH, D, bias=(NH, D)),
                                       _key_dense=einsum(H, NH, D, bias=(NH, D)),
                                       _value_dense=einsum(H, NH, D, bias=(NH, D)),
                                       _output_dense=einsum(NH, D, H, bias=(H,))),
                  _attention_layer_norm=norm(), _intermediate_dense=dense(H, F),
                  _output_dense=dense(F, H), _output_layer_norm=norm())
              for _ in range(L)]
    enc = obj(_embedding_layer=obj(embeddings=var(V, H)),
              _position_embedding_layer=obj(embeddings=var(P, H)),
              _type_embedding_layer=obj(embeddings=var(T, H)),
              _embedding_norm_layer=norm(), _transformer_layers=blocks,
              _pooler_layer=dense(H, H))
    ckpt = tf.train.Checkpoint(encoder=enc)
path = ckpt.save(prefix)
print(path)
